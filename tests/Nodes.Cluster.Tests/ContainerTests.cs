using System.Diagnostics;
using System.Text.Json;
using Nodes.Telemetry;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// The seed lab in seven containers (<see cref="ContainerLab"/>), driven from containers joined to it: the compose
/// driver's run, a live fault, a member killed under the engine, the traces in a receiver on the same network. Needs
/// rootful podman and the image deploy/podman/setup.sh builds; skipped with the reason elsewhere, failed when CI is set.
/// </summary>
[TestCaseOrderer("Nodes.Cluster.Tests.StepOrder", "Nodes.Cluster.Tests")]
public sealed class ContainerTests(ContainerLab lab, ITestOutputHelper output) : IClassFixture<ContainerLab>, IDisposable
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromSeconds(180);

    private static readonly string[] Driver = ["run", LabCommandLine.Topology, "--cluster", ContainerLab.SeedAddress, "--json", .. ContainerLab.Tls];

    [SkippableFact, Step(1)]
    public void The_compose_driver_gets_every_ping_answered_by_seven_member_containers_over_TLS_and_each_ping_is_one_trace_across_seven_services()
    {
        lab.Up();
        // The first ping dials the tunnel (demand-dial), and on a loaded machine the dial can outlast the ping's
        // timeout of a few seconds: a first run dials it, and one of its pings must be answered.
        var started = Stopwatch.StartNew();
        using (var dial = lab.RunInLab("dial", [.. Driver, "--count", "4"]))
        {
            var dialed = dial.WaitForStdErr("client       ping   reply from 10.0.10.4", DriverTimeout);
            output.WriteLine($"first answered ping {started.Elapsed.TotalSeconds:0.0} s after the first driver started");
            dial.WaitForExit(DriverTimeout);
            output.WriteLine(dial.StdErr);
            Assert.True(dialed, "the first driver's ping was never answered");
        }

        // The README's command line for podman: the compose file's driver, run against the members already up.
        using var driver = NodesProcess.Through("driver", [lab.PodmanCompose, "-p", lab.Project, "-f", lab.ComposeFile, "run", "--rm", "-T", "--no-deps", "driver"], []);
        var code = driver.WaitForExit(DriverTimeout);
        output.WriteLine(driver.StdErr);
        var summary = ContainerLab.Summary(driver);
        output.WriteLine(summary.ToString());
        output.WriteLine($"members up {lab.MembersStartedAfter.TotalSeconds:0.0} s after podman-compose up");

        Assert.Equal(0, code);
        Assert.True(summary.GetProperty("ok").GetBoolean());
        var pings = summary.GetProperty("pings");
        Assert.Equal(pings.GetProperty("sent").GetInt32(), pings.GetProperty("received").GetInt32());
        Assert.True(pings.GetProperty("received").GetInt32() >= 4);
        Assert.All(summary.GetProperty("expectations").EnumerateArray(), e => Assert.True(e.GetProperty("met").GetBoolean(), e.GetProperty("what").GetString()));
        var members = summary.GetProperty("cluster").GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(LabCommandLine.Nodes.Order(), members.Select(m => m.GetProperty("nodes")[0].GetString()!).Order());
        // Each member in its own container, reached by its service name over TLS.
        foreach (var m in members)
            Assert.Equal(LabCommandLine.Address(m.GetProperty("nodes")[0].GetString()!, 4053, tls: true), m.GetProperty("address").GetString());
        foreach (var node in LabCommandLine.Nodes)
        {
            Assert.Contains("TLS on: Akka.Remote uses certificate CN=nodes-lab", lab.Logs(node), StringComparison.Ordinal);
            // The compose file's health check: the member is Up and its node actors answer.
            var health = lab.Run(lab.Podman, ["healthcheck", "run", lab.Container(node)]);
            Assert.True(health.ExitCode == 0, $"{node}'s health check failed: {health.StdOut}{health.StdErr}");
        }

        // The seven containers exported to the dashboard's OTLP endpoint; its API gives back one trace per ping, through every node and back.
        var received = pings.GetProperty("received").GetInt32();
        List<string> journeys = [];
        IReadOnlyList<SpanRecord> spans = [];
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            spans = lab.Spans();
            journeys = spans.Select(s => s.TraceId).Distinct()
                .Where(t => Ladder.Visits(spans, t).Select(v => v.Node).SequenceEqual(SeedLab.PingVisits)).ToList();
            if (journeys.Count >= received) break;
            Thread.Sleep(1000);
        }
        Assert.True(journeys.Count >= received, $"{journeys.Count} ping traces in the dashboard for {received} answered pings; services seen: {string.Join(", ", spans.Select(s => s.Service).Distinct())}");
        foreach (var trace in journeys)
            Assert.Equal(LabCommandLine.Nodes.Order(), spans.Where(s => s.TraceId == trace).Select(s => s.Service).Distinct().Order());
    }

    [SkippableFact, Step(2)]
    public void Nat_rebind_injected_from_a_container_moves_the_peer_endpoint_and_keeps_the_SAs_in_the_drivers_summary()
    {
        lab.Up();
        using var driver = lab.RunInLab("fault-driver", [.. Driver, "--count", "20"]);
        Assert.True(driver.WaitForStdErr("client       ping   reply from 10.0.10.4", DriverTimeout), "no ping was answered:\n" + driver.StdErr);
        Thread.Sleep(2000); // a few pings through the tunnel first

        // Through the home side's member, from a container of its own that joins the cluster for the fault.
        using var fault = lab.RunInLab("fault", ["fault", "nat-rebind", "--node", "isp-router", "--cluster", LabCommandLine.Address("rras", 4053, tls: true), .. ContainerLab.Tls]);
        var faultCode = fault.WaitForExit(TimeSpan.FromSeconds(90));
        output.WriteLine(fault.StdOut + fault.StdErr);
        Assert.Equal(0, faultCode);
        Assert.Contains("isp-router: applied:", fault.StdOut, StringComparison.Ordinal);

        var code = driver.WaitForExit(DriverTimeout);
        output.WriteLine(driver.StdErr);
        var summary = ContainerLab.Summary(driver);
        output.WriteLine(summary.ToString());
        var pings = summary.GetProperty("pings");
        Assert.True(pings.GetProperty("received").GetInt32() >= pings.GetProperty("sent").GetInt32() - 1, summary.GetProperty("pings").ToString());
        var live = Assert.Single(summary.GetProperty("faults").EnumerateArray().ToList());
        Assert.Equal(("nat-rebind", "live", true), (live.GetProperty("fault").GetString(), live.GetProperty("origin").GetString(), live.GetProperty("applied").GetBoolean()));
        Assert.Equal(["isp-router"], live.GetProperty("targets").EnumerateArray().Select(t => t.GetString()));
        var azure = live.GetProperty("tunnels").EnumerateArray().Single(t => t.GetProperty("node").GetString() == "azure-gw");
        Assert.True(azure.GetProperty("peerEndpointChanged").GetBoolean(), azure.ToString());
        Assert.True(azure.GetProperty("sameIkeSa").GetBoolean(), azure.ToString());
        Assert.InRange(code, 0, 1);
    }

    // Last: the lab it leaves has been through a crash.
    [SkippableFact, Step(3)]
    public void A_member_container_killed_is_restarted_by_the_engine_rejoins_and_the_tunnel_comes_back_through_DPD_and_demand_dial()
    {
        // The restarted member stays silent until the cluster has removed its old incarnation (40 s after its last sign
        // of life): heard earlier, the removal's quarantine of the old UID cut the members that had reached the new one.
        lab.Up();
        var gateway = lab.Container("azure-gw");
        Assert.Equal("unless-stopped", lab.Run(lab.Podman, ["inspect", "--format", "{{ .HostConfig.RestartPolicy.Name }}", gateway]).StdOut.Trim());
        var restarts = RestartCount(gateway);
        using var driver = lab.RunInLab("kill-driver", [.. Driver, "--count", "100"]);
        Assert.True(driver.WaitForStdErr("client       ping   reply from 10.0.10.4", DriverTimeout), "no ping was answered before the kill:\n" + driver.StdErr);
        Thread.Sleep(3000);

        // A crash, not a stop: the member's process dies from outside, and the engine's restart policy brings it back.
        var pid = int.Parse(lab.Run(lab.Podman, ["inspect", "--format", "{{ .State.Pid }}", gateway]).StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        var killed = Stopwatch.StartNew();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (RestartCount(gateway) == restarts && DateTime.UtcNow < until) Thread.Sleep(200);
        Assert.True(RestartCount(gateway) > restarts, $"the engine did not restart {gateway}:\n{lab.Logs("azure-gw")}");
        output.WriteLine($"{gateway} restarted by the engine {killed.Elapsed.TotalSeconds:0.0} s after the kill");

        var code = driver.WaitForExit(DriverTimeout);
        output.WriteLine(driver.StdErr);
        output.WriteLine($"--- {gateway}, restarted {RestartCount(gateway) - restarts} time(s):\n{lab.Logs("azure-gw")}");
        var summary = ContainerLab.Summary(driver);
        output.WriteLine(summary.ToString());
        // Pings were lost while the gateway was away: "all answered" does not hold, so exit code 1.
        Assert.Equal(1, code);
        Assert.InRange(summary.GetProperty("pings").GetProperty("received").GetInt32(), 10, 99);
        Assert.Contains("for the cluster to remove that incarnation before joining as incarnation 1", lab.Logs("azure-gw"), StringComparison.Ordinal);
        Assert.All(summary.GetProperty("tunnels").EnumerateArray(), t => Assert.Equal("Connected", t.GetProperty("state").GetString()));
        var cluster = summary.GetProperty("cluster");
        var rras = cluster.GetProperty("tunnelDowntime").EnumerateArray().Single(t => t.GetProperty("node").GetString() == "rras");
        // On a loaded machine a starved member (the restarted one while it starts, or another) may be downed too and
        // restarted by the engine in turn: the killed member's outage is there, and the tunnel is up at the end.
        Assert.InRange(rras.GetProperty("outages").GetInt32(), 1, 5);
        Assert.False(rras.GetProperty("downAtEnd").GetBoolean());
        var outages = cluster.GetProperty("memberOutages").EnumerateArray().ToList();
        var outage = outages.First(o => o.GetProperty("nodes")[0].GetString() == "azure-gw");
        Assert.Equal(JsonValueKind.Number, outage.GetProperty("backAfterMs").ValueKind);
        foreach (var other in outages.Where(o => o.GetProperty("nodes")[0].GetString() != "azure-gw"))
            output.WriteLine($"also down for a while (a starved member downed by the split-brain resolver): {other}");
        output.WriteLine($"outage: member back after {outage.GetProperty("backAfterMs").GetDouble():0} ms, tunnel down {rras.GetProperty("downMs").GetDouble():0} ms, longest ping outage {cluster.GetProperty("longestPingOutageMs").GetDouble():0} ms");
        Assert.Contains("rras         ike    52.172.171.0: giving up: dead peer", driver.StdErr, StringComparison.Ordinal);
        Assert.Contains("dialing 52.172.171.0 (attempt 1)", driver.StdErr[driver.StdErr.IndexOf("giving up: dead peer", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    private int RestartCount(string container) =>
        int.TryParse(lab.Run(lab.Podman, ["inspect", "--format", "{{ .RestartCount }}", container]).StdOut.Trim(), out var n) ? n : -1;

    public void Dispose() => output.WriteLine(lab.Log);
}

/// <summary>The place of a test in its class, for classes whose tests share one expensive fixture and must run in order.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int number) : Attribute
{
    public int Number { get; } = number;
}

/// <summary>Runs a class's tests by their <see cref="StepAttribute"/>.</summary>
public sealed class StepOrder : Xunit.Sdk.ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : Xunit.Abstractions.ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(StepAttribute).AssemblyQualifiedName).FirstOrDefault()?.GetConstructorArguments().FirstOrDefault() as int? ?? int.MaxValue);
}
