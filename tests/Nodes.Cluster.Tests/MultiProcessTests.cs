using System.Text.Json;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>The seed lab with each of its seven nodes in its own <c>nodes host</c> process, driven by <c>nodes run --cluster</c>.</summary>
public sealed class MultiProcessTests(ITestOutputHelper output)
{
    [Fact]
    public void Seven_members_on_loopback_run_the_seed_ping_and_pass_its_expectations()
    {
        var ports = ClusterLab.FreePorts();
        using var lab = new ClusterLab(output, _ => "127.0.0.1", n => ports[n]);
        lab.StartAll();
        var (code, summary, _) = lab.Drive();

        Assert.Equal(0, code);
        Assert.True(summary.GetProperty("ok").GetBoolean());
        Assert.Equal(4, summary.GetProperty("pings").GetProperty("received").GetInt32());
        Assert.All(summary.GetProperty("expectations").EnumerateArray(), e => Assert.True(e.GetProperty("met").GetBoolean(), e.GetProperty("what").GetString()));
        var members = summary.GetProperty("cluster").GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(7, members.Count);
        // Every node is hosted by the member started for it, each on its own port.
        Assert.Equal(LabCommandLine.Nodes.Order(), members.Select(m => m.GetProperty("nodes")[0].GetString()!).Order());
        Assert.Equal(7, members.Select(m => m.GetProperty("address").GetString()).Distinct().Count());
        foreach (var m in members)
            Assert.EndsWith($":{ports[m.GetProperty("nodes")[0].GetString()!]}", m.GetProperty("address").GetString());
    }

    [Fact]
    public void One_ping_must_be_one_trace_through_the_members_of_five_services()
    {
        var ports = ClusterLab.FreePorts();
        // Every member prints its spans (OpenTelemetry's console exporter, chosen by the standard variable).
        var env = new Dictionary<string, string> { ["OTEL_TRACES_EXPORTER"] = "console", ["OTEL_METRICS_EXPORTER"] = "none" };
        using var lab = new ClusterLab(output, _ => "127.0.0.1", n => ports[n], environment: env);
        lab.StartAll();
        var (code, _, _) = lab.Drive(null, "--count", "1");
        Assert.Equal(0, code);
        Thread.Sleep(2000); // the members' exporters print as spans end
        var tracesBy = lab.Members.ToDictionary(m => m.Key, m => TraceIds(m.Value.StdOut));
        // The one ping's trace id shows up in the members of the client, RRAS, the NAT router, the Azure gateway and the VM.
        var journey = tracesBy["client"].Intersect(tracesBy["vm"]).Intersect(tracesBy["rras"]).Intersect(tracesBy["isp-router"]).Intersect(tracesBy["azure-gw"]).ToList();
        Assert.NotEmpty(journey);
        Assert.All(["client", "rras", "isp-router", "azure-gw", "vm"], n => Assert.Contains($"service.name: {n}", lab.Members[n].StdOut, StringComparison.Ordinal));
    }

    private static HashSet<string> TraceIds(string output) =>
        output.Split('\n').Where(l => l.StartsWith("Activity.TraceId:", StringComparison.Ordinal)).Select(l => l["Activity.TraceId:".Length..].Trim()).ToHashSet();

    [Fact]
    public void Killing_the_azure_gateways_member_mid_run_and_restarting_it_recovers_the_tunnel()
    {
        var ports = ClusterLab.FreePorts();
        // Protocol timers ten times faster: RRAS's liveness check starts after 5 s without inbound traffic and gives up after 15 s.
        using var lab = new ClusterLab(output, _ => "127.0.0.1", n => ports[n], timeScale: 10);
        lab.StartAll();
        // A hundred pings: the restarted member stays silent until the cluster has removed its old incarnation (40 s).
        var driver = new NodesProcess("driver", ["run", LabCommandLine.Topology, "--cluster", lab.SeedAddress, "--json", "--count", "100"]);
        try
        {
            Assert.True(driver.WaitForStdErr("client       ping   reply from 10.0.10.4", TimeSpan.FromSeconds(60)), "no ping was answered before the kill:\n" + driver.StdErr);
            Thread.Sleep(3000);
            lab.Members["azure-gw"].Kill();
            Thread.Sleep(2000);
            var restarted = lab.Start("azure-gw");
            Assert.True(restarted.WaitForOutput("for the cluster to remove that incarnation before joining as incarnation 1", TimeSpan.FromSeconds(30)), restarted.StdOut + restarted.StdErr);
            var code = driver.WaitForExit(TimeSpan.FromSeconds(200));
            output.WriteLine(driver.StdErr);
            output.WriteLine(driver.StdOut);
            var summary = JsonDocument.Parse(driver.StdOut[driver.StdOut.IndexOf('{')..]).RootElement;

            // Some pings were lost while the gateway was away, so "all answered" does not hold: exit code 1, like a one-process run.
            Assert.Equal(1, code);
            var received = summary.GetProperty("pings").GetProperty("received").GetInt32();
            Assert.InRange(received, 10, 99);
            // The tunnel came back: RRAS found the dead peer, dialed again on demand, and the new gateway answered.
            var tunnels = summary.GetProperty("tunnels").EnumerateArray().ToList();
            Assert.Equal(2, tunnels.Count);
            Assert.All(tunnels, t => Assert.Equal("Connected", t.GetProperty("state").GetString()));
            var cluster = summary.GetProperty("cluster");
            var rras = cluster.GetProperty("tunnelDowntime").EnumerateArray().Single(t => t.GetProperty("node").GetString() == "rras");
            Assert.Equal(1, rras.GetProperty("outages").GetInt32());
            Assert.False(rras.GetProperty("downAtEnd").GetBoolean());
            Assert.InRange(rras.GetProperty("downMs").GetDouble(), 1, 60_000);
            var outage = cluster.GetProperty("memberOutages").EnumerateArray().Single();
            Assert.Equal("azure-gw", outage.GetProperty("nodes")[0].GetString());
            Assert.Equal(JsonValueKind.Number, outage.GetProperty("backAfterMs").ValueKind);
            Assert.True(cluster.GetProperty("longestPingOutageMs").GetDouble() > 5_000);
            // RRAS's liveness check found the dead peer; the gateways saw the tunnel down only from then until the redial.
            Assert.Contains("rras         ike    52.172.171.0: giving up: dead peer", driver.StdErr, StringComparison.Ordinal);
            Assert.Contains("dialing 52.172.171.0 (attempt 1)", driver.StdErr[driver.StdErr.IndexOf("giving up: dead peer", StringComparison.Ordinal)..], StringComparison.Ordinal);
        }
        finally
        {
            driver.Dispose();
        }
    }
}
