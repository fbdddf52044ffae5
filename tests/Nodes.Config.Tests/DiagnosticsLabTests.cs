using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Nodes.Config.Diagnostics;
using Nodes.Host;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Config.Tests;

/// <summary>
/// Lab runs of the seed lab that end each in one of Network Watcher's verdicts, with the rest of Azure's diagnostics
/// as the simulated Azure gateway gives them at the end of the run.
/// </summary>
public class DiagnosticsLabTests
{
    private static string Seed([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "topology", "azure-s2s-rras.yaml"));

    private static string Mistake(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "topology", "mistakes", name));

    private static (TopologySpec Topology, ScenarioSpec Scenario) Load(string path, string? scenario)
    {
        var t = TopologyLoader.Load(path).Topology!;
        Assert.True(t.TrySelectScenario(scenario, out var s, out var error), error);
        return (t, s!);
    }

    /// <summary>The scenario with its faults changed: a fault that is never undone keeps the tunnel in the state it causes.</summary>
    private static ScenarioSpec Faults(ScenarioSpec s, Func<FaultSpec, FaultSpec> change) => s with { Faults = s.Faults.Select(change).ToImmutableArray() };

    private static async Task<(RunSummary Summary, AzureConnectionDiagnostics Azure)> Run(TopologySpec t, ScenarioSpec s)
    {
        var summary = await LabRunner.RunAsync(t, s, new RunOptions { SerializeAllMessages = true });
        var azure = Assert.Single(summary.Azure ?? []);
        Assert.Equal(("azure-gw", "home-rras"), (azure.Node, azure.Connection));
        return (summary, azure);
    }

    [Fact]
    public async Task A_psk_mismatch_must_give_authentication_and_never_print_a_key()
    {
        var (t, s) = Load(Seed(), "psk-mismatch");
        const string wrong = "Wrong4LabKey9";
        var (summary, azure) = await Run(t, Faults(s, f => f.Kind == FaultKind.PskMismatch ? f with { Parameters = f.Parameters.SetItem("shared-key", wrong) } : f));
        Assert.Equal("NotConnected", azure.ConnectionShow["connectionStatus"]!.GetValue<string>());
        Assert.Equal(VpnTroubleshoot.Authentication, azure.Troubleshoot.Results[0].Id);
        Assert.Equal("UnHealthy", azure.Troubleshoot.Code);
        Assert.Contains("13801(ERROR_IPSEC_IKE_AUTH_FAIL)", azure.Troubleshoot.Logs.IkeErrors);
        Assert.Contains("IkeCleanupMMNegotiation called with error 13801 and flags a", azure.Troubleshoot.Logs.IkeLogs);
        Assert.Contains(azure.Troubleshoot.Logs.IkeLogs, l => l.StartsWith("Remote 203.0.113.10:4500: Local 52.172.171.0:4500: [RECEIVED][SA_AUTH] Received IKE AUTH message", StringComparison.Ordinal));
        Assert.Null(azure.IkeSa);
        // Up before the fault: the tunnel's last connection is still known.
        Assert.NotEqual("", azure.ConnectionShow["tunnelConnectionStatus"]![0]!["lastConnectionEstablishedUtcTime"]!.GetValue<string>());
        var json = summary.ToJson();
        Assert.DoesNotContain(wrong, json);
        Assert.DoesNotContain(t.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections[0].SharedKey, json);
    }

    [Fact]
    public async Task A_proposal_mismatch_must_give_ike_policy_mismatch_with_the_policy_mismatch_notify()
    {
        var (t, s) = Load(Seed(), "proposal-mismatch");
        var (_, azure) = await Run(t, Faults(s, f => f with { Parameters = f.Parameters.Remove("for") }));
        Assert.Equal(VpnTroubleshoot.IkePolicyMismatch, azure.Troubleshoot.Results[0].Id);
        Assert.Contains("NO_PROPOSAL_CHOSEN", azure.Troubleshoot.Results[0].Detail);
        Assert.Contains("Remote 203.0.113.10:500: Local 52.172.171.0:500: [SEND][NOTIFY] Sending Notify Message - Policy Mismatch", azure.Troubleshoot.Logs.IkeLogs);
        Assert.Contains("IkeCleanupMMNegotiation called with error 13868 and flags a", azure.Troubleshoot.Logs.IkeLogs);
    }

    [Fact]
    public async Task An_rras_policy_azure_refuses_must_give_ike_policy_mismatch()
    {
        var (t, s) = Load(Mistake("rras-policy-azure-refuses.yaml"), null);
        var (_, azure) = await Run(t, s);
        Assert.Equal(VpnTroubleshoot.IkePolicyMismatch, azure.Troubleshoot.Results[0].Id);
    }

    [Fact]
    public async Task A_link_down_from_the_start_must_give_peer_reachability()
    {
        // The internet router's links are down before RRAS dials and stay down: nothing reaches the Azure gateway.
        var (t, s) = Load(Seed(), "partition");
        // The partition at 0 s is in place before the first packet: the run starts its traffic only once it is applied.
        var (summary, azure) = await Run(t, Faults(s, f => f with { At = TimeSpan.Zero, Parameters = f.Parameters.Remove("for") }));
        Assert.Equal(0, summary.Pings.Received);
        Assert.Equal(VpnTroubleshoot.PeerReachability, azure.Troubleshoot.Results[0].Id);
        Assert.NotEqual("Connected", azure.ConnectionShow["connectionStatus"]!.GetValue<string>());
        Assert.DoesNotContain(azure.Troubleshoot.Logs.IkeLogs, l => l.Contains("[RECEIVED][SA_AUTH]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connected_tunnel_must_give_no_fault_an_ike_sa_and_azure_named_metrics()
    {
        var measured = new List<(string Instrument, long Value, string? Connection)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == "Nodes" && i.Name is AzureMetricNames.TunnelIngressBytes or AzureMetricNames.QmsaCount) l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
        {
            string? connection = null;
            foreach (var tag in tags) if (tag.Key == AzureMetricNames.ConnectionName) connection = tag.Value as string;
            lock (measured) measured.Add((i.Name, v, connection));
        });
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) =>
        {
            string? connection = null;
            foreach (var tag in tags) if (tag.Key == AzureMetricNames.ConnectionName) connection = tag.Value as string;
            lock (measured) measured.Add((i.Name, v, connection));
        });
        listener.Start();

        var (t, s) = Load(Seed(), null);
        var (summary, azure) = await Run(t, s);
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(VpnTroubleshoot.NoFault, azure.Troubleshoot.Results[0].Id);
        Assert.Equal("Healthy", azure.Troubleshoot.Code);
        var sa = Assert.IsType<IkeSaView>(azure.IkeSa);
        Assert.Equal(("52.172.171.0", "203.0.113.10", 4500, "DHGroup2", 28_800, false), (sa.LocalEndpoint, sa.RemoteEndpoint, sa.LocalUdpEncapsulationPort, sa.DhGroup, sa.LifeTimeSeconds, sa.IsSaInitiator));
        var tunnel = summary.Tunnels.Single(x => x.Node == "azure-gw");
        Assert.Equal(Convert.ToUInt64(tunnel.Ike.InitiatorSpi, 16), sa.InitiatorCookie);
        Assert.NotEmpty(sa.QuickModeSa);
        var show = azure.ConnectionShow;
        Assert.Equal("Connected", show["connectionStatus"]!.GetValue<string>());
        Assert.True(show["ingressBytesTransferred"]!.GetValue<ulong>() > 0);
        Assert.Equal(azure.Metrics.TunnelIngressBytes, (long)show["ingressBytesTransferred"]!.GetValue<ulong>());
        Assert.Equal((1, 1), (azure.Metrics.MmsaCount, azure.Metrics.QmsaCount));

        listener.RecordObservableInstruments();
        lock (measured)
        {
            Assert.Contains(measured, m => m.Instrument == AzureMetricNames.TunnelIngressBytes && m.Connection == "home-rras" && m.Value == azure.Metrics.TunnelIngressBytes);
            Assert.Contains(measured, m => m.Instrument == AzureMetricNames.QmsaCount && m.Connection == "home-rras" && m.Value == 1);
        }
    }
}
