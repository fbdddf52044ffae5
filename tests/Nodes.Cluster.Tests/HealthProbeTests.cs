using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// <c>nodes host --health-port</c> and <c>nodes probe</c>, the health check of the image and the probes of the
/// Kubernetes manifests: live when the member's node actors answer, ready when the member is also Up.
/// </summary>
public sealed class HealthProbeTests(ITestOutputHelper output)
{
    private (int Code, string Text) Probe(int port, bool ready)
    {
        using var probe = new NodesProcess("probe", ready ? ["probe", "--port", $"{port}", "--ready"] : ["probe", "--port", $"{port}"]);
        var code = probe.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine($"probe {port}{(ready ? " --ready" : "")}: {code} {probe.StdOut}{probe.StdErr}");
        return (code, probe.StdOut + probe.StdErr);
    }

    private (int Code, string Text) ProbeUntil(int port, bool ready, int code, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var r = Probe(port, ready);
            if (r.Code == code || DateTime.UtcNow > until) return r;
            Thread.Sleep(500);
        }
    }

    [Fact]
    public void A_member_that_formed_its_cluster_is_live_and_ready_and_one_whose_seed_is_nowhere_is_live_but_not_ready()
    {
        var ports = ClusterLab.FreePorts().Values.ToList();
        var (member, health, nowhere, lonelyMember, lonelyHealth) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
        using var up = new NodesProcess("up", ["host", LabCommandLine.Topology, "--node", "client", "--port", $"{member}", "--health-port", $"{health}", "--quiet"]);
        Assert.True(up.WaitForOutput($"health probes on port {health}", TimeSpan.FromSeconds(60)), up.StdOut + up.StdErr);
        var ready = ProbeUntil(health, ready: true, 0, TimeSpan.FromSeconds(30));
        Assert.Equal(0, ready.Code);
        Assert.Contains("ok: member Up; node actors all answered", ready.Text, StringComparison.Ordinal);
        Assert.Equal(0, Probe(health, ready: false).Code);

        // Its only seed is a port nobody listens on: the member never joins, yet its node actors answer.
        using var lonely = new NodesProcess("lonely", ["host", LabCommandLine.Topology, "--node", "vm", "--port", $"{lonelyMember}",
            "--seed-nodes", LabCommandLine.Address("127.0.0.1", nowhere), "--health-port", $"{lonelyHealth}", "--quiet"]);
        Assert.True(lonely.WaitForOutput($"health probes on port {lonelyHealth}", TimeSpan.FromSeconds(60)), lonely.StdOut + lonely.StdErr);
        Assert.Equal(0, ProbeUntil(lonelyHealth, ready: false, 0, TimeSpan.FromSeconds(30)).Code);
        var notReady = Probe(lonelyHealth, ready: true);
        Assert.Equal(1, notReady.Code);
        Assert.Contains("not ready: member ", notReady.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("member Up", notReady.Text, StringComparison.Ordinal);

        // Nothing there: exit code 3; not a port: 2.
        Assert.Equal(3, Probe(nowhere, ready: true).Code);
        using var bad = new NodesProcess("bad", ["probe", "--port", "http"]);
        Assert.Equal(2, bad.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("--port 'http' is not a TCP port", bad.StdErr, StringComparison.Ordinal);
    }
}
