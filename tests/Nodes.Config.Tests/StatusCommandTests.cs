using System.CommandLine;
using System.Text.Json;
using Nodes.Cli;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Loading;

namespace Nodes.Config.Tests;

/// <summary><c>nodes status</c>: Azure's diagnostics read from a lab running with --listen, the way nodes fault reaches it.</summary>
public class StatusCommandTests
{
    private static string Seed([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "topology", "azure-s2s-rras.yaml"));

    private static async Task<(int Code, string Out, string Err)> Nodes(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await NodesCommand.InvokeAsync(args, new InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("--show", "everything", "--show 'everything' is not a part of the diagnostics")]
    [InlineData("--wait", "0", "--wait 0 is not a number of seconds from 0 to 600")]
    [InlineData("--cluster", "nodes@127.0.0.1", "'nodes@127.0.0.1' is not a member address like akka.tcp://nodes@127.0.0.1:4053")]
    public async Task A_bad_flag_must_be_refused_with_one_sentence_and_exit_code_2(string flag, string value, string words)
    {
        var (code, o, e) = await Nodes("status", flag, value);
        Assert.Equal(2, code);
        Assert.Contains(words, e);
        Assert.Equal("", o);
    }

    [Fact]
    public async Task Nodes_status_must_give_the_verdict_of_a_running_lab_with_a_psk_mismatch()
    {
        var topology = TopologyLoader.Load(Seed()).Topology!;
        Assert.True(topology.TrySelectScenario("psk-mismatch", out var scenario, out _));
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refusals = 0;
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = LabRunner.RunAsync(topology, scenario!, new RunOptions
        {
            MinDuration = TimeSpan.FromSeconds(40),
            Listen = new ListenOptions { Port = 0, OnListening = a => listening.TrySetResult(a) },
            OnEvent = (NodeEvent ev) =>
            {
                // RRAS dials three times (number-of-tries 3) a second apart, then waits its 60 s retry interval: after the
                // third refusal the connection stays NotConnected while status is read (after the second, a slow
                // machine could read it while the third try is under way, Connecting).
                if (ev.Node == "azure-gw" && ev.Text.Contains("AUTHENTICATION_FAILED: ", StringComparison.Ordinal) && Interlocked.Increment(ref refusals) == 3) refused.TrySetResult();
            },
        });
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await refused.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var (code, o, e) = await Nodes("status", "--cluster", address, "--json", "--wait", "10");
        Assert.True(code == 0, e + o);
        var c = Assert.Single(JsonDocument.Parse(o).RootElement.EnumerateArray().ToList());
        Assert.Equal("azure-gw", c.GetProperty("node").GetString());
        Assert.Equal("NotConnected", c.GetProperty("connectionShow").GetProperty("connectionStatus").GetString());
        var verdict = c.GetProperty("troubleshoot");
        Assert.Equal("UnHealthy", verdict.GetProperty("code").GetString());
        Assert.Equal("Authentication", verdict.GetProperty("results")[0].GetProperty("id").GetString());
        // The IKE log comes from the member that owns the gateway's links, with the cleanup line of each refusal.
        var log = verdict.GetProperty("logs").GetProperty("ikeLogs").EnumerateArray().Select(l => l.GetString()).ToList();
        Assert.Contains(log, l => l!.Contains("[RECEIVED][SA_AUTH] Received IKE AUTH message", StringComparison.Ordinal));
        Assert.Contains("IkeCleanupMMNegotiation called with error 13801 and flags a", log);
        Assert.DoesNotContain(topology.Nodes.OfType<Nodes.Topology.Model.AzureVpnGatewaySpec>().Single().Connections[0].SharedKey, o);

        var text = await Nodes("status", "--cluster", address, "--node", "azure-gw", "--show", "troubleshoot");
        Assert.Equal(0, text.Code);
        Assert.Contains("-- Network Watcher VPN troubleshoot: UnHealthy", text.Out);
        Assert.Contains("Authentication: Preshared key mismatch", text.Out);
        Assert.DoesNotContain("-- IKElogs.txt", text.Out);

        var none = await Nodes("status", "--cluster", address, "--node", "rras");
        Assert.Equal(1, none.Code);
        Assert.Contains("node 'rras' is no Azure VPN gateway", none.Err);
        await run;
    }

    [Fact]
    public async Task Nodes_status_must_show_a_running_gateways_bgp_as_azures_cmdlets_print_it()
    {
        var topology = TopologyLoader.Load(Seed().Replace("azure-s2s-rras.yaml", "azure-s2s-bgp.yaml", StringComparison.Ordinal)).Topology!;
        Assert.True(topology.TrySelectScenario(null, out var scenario, out _));
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var learned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = LabRunner.RunAsync(topology, scenario!, new RunOptions
        {
            MinDuration = TimeSpan.FromSeconds(20),
            Listen = new ListenOptions { Port = 0, OnListening = a => listening.TrySetResult(a) },
            OnEvent = (NodeEvent ev) =>
            {
                if (ev.Node == "azure-gw" && ev.Text.Contains("UPDATE from 192.168.29.52", StringComparison.Ordinal)) learned.TrySetResult();
            },
        });
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await learned.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var text = await Nodes("status", "--cluster", address, "--node", "azure-gw", "--show", "bgp", "--wait", "10");
        Assert.True(text.Code == 0, text.Err + text.Out);
        Assert.Contains("Get-AzVirtualNetworkGatewayBgpPeerStatus", text.Out);
        Assert.Matches(@"Neighbor\s+: 192\.168\.29\.52", text.Out);
        Assert.Matches(@"State\s+: Connected", text.Out);
        Assert.Matches(@"Network\s+: 192\.168\.29\.0/24\nNextHop\s+: 192\.168\.29\.52\nOrigin\s+: EBgp", text.Out);
        Assert.DoesNotContain("-- az network vpn-connection show", text.Out);
        await run;
    }
}
