using System.CommandLine;
using System.Text.Json;
using Akka.Actor;
using Nodes.Actors.Cluster;
using Nodes.Cli;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// Faults across processes: the catalog as <c>nodes fault list</c> prints it, faults injected live into a lab of
/// members and into <c>nodes run --listen</c>, and a scenario's fault timeline driven through the cluster.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private static readonly string TopologyPath = Path.Combine(AppContext.BaseDirectory, LabCommandLine.Topology);

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static (TopologySpec Topology, ScenarioSpec Scenario, string Fingerprint) Load(string? scenario)
    {
        var topology = TopologyLoader.Load(TopologyPath).Topology!;
        Assert.True(topology.TrySelectScenario(scenario, out var chosen, out var error), error);
        return (topology, chosen!, ClusterMember.FingerprintOf(File.ReadAllText(TopologyPath)));
    }

    /// <summary>The seed lab as its placement says: three members (home, internet, azure) in this process.</summary>
    private static List<(string Process, ClusterMember Member, string Address)> StartPlacement(TopologySpec topology, ScenarioSpec scenario, string fingerprint)
    {
        var members = new List<(string, ClusterMember, string)>();
        string? seed = null;
        foreach (var process in new[] { "home", "internet", "azure" })
        {
            var port = FreePort();
            var address = LabCommandLine.Address("127.0.0.1", port);
            seed ??= address;
            var member = ClusterMember.Start(topology, scenario, new ClusterSettings { Port = port, SeedNodes = [seed] },
                new MemberOptions { Nodes = ClusterMember.NodesFor(topology, [], process), Process = process, Fingerprint = fingerprint });
            members.Add((process, member, address));
        }
        return members;
    }

    private static async Task<(int Code, string Out, string Err)> RunNodes(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await NodesCommand.Root().Parse(args).InvokeAsync(new InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    private static async Task<TunnelStatus?> AzureTunnel(ClusterMember azure)
    {
        var s = await azure.Actors.Nodes["azure-gw"].Ask<NodeStatus>(new QueryStatus { Requester = "test" }, TimeSpan.FromSeconds(5));
        return s.Tunnels.FirstOrDefault(t => t.Name == "home-rras");
    }

    private static async Task<T> Until<T>(Func<Task<T?>> probe, Func<T, bool> done, TimeSpan timeout, string what) where T : class
    {
        var until = DateTime.UtcNow + timeout;
        T? last = null;
        while (DateTime.UtcNow < until)
        {
            last = await probe();
            if (last is not null && done(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{what} within {timeout.TotalSeconds:0} s (last seen: {last})");
    }

    [Fact]
    public async Task Fault_list_prints_every_fault_with_its_target_summary_and_parameters_as_text_and_as_JSON()
    {
        Assert.Equal(27, FaultCatalog.All.Length);
        var (code, text, err) = await RunNodes("fault", "list");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.StartsWith("27 faults.", text);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var f in FaultCatalog.All)
        {
            var head = lines.FindIndex(l => l.StartsWith($"{f.Name}  (acts on {FaultCatalog.TargetText(f.Target)}", StringComparison.Ordinal));
            Assert.True(head >= 0, $"no heading for {f.Name}:\n{text}");
            var next = lines.FindIndex(head + 1, l => l.Length > 0 && !l.StartsWith(' '));
            var block = string.Join(" ", lines[(head + 1)..(next < 0 ? lines.Count : next)].Select(l => l.Trim()));
            Assert.Contains(f.Summary, block);
            foreach (var p in f.Parameters)
            {
                var line = lines[(head + 1)..(next < 0 ? lines.Count : next)].SingleOrDefault(l => l.TrimStart().StartsWith(p.Name + " ", StringComparison.Ordinal));
                Assert.True(line is not null, $"{f.Name}: no line for parameter {p.Name}:\n{block}");
                Assert.Contains(p.Description, line);
                if (p.Default is { } d) Assert.Contains($"(default {d})", line);
            }
            if (f.Parameters.IsEmpty) Assert.Contains("no parameters", block);
        }

        var (jcode, json, _) = await RunNodes("fault", "list", "--json");
        Assert.Equal(0, jcode);
        var entries = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        Assert.Equal(FaultCatalog.All.Select(f => f.Name), entries.Select(e => e.GetProperty("name").GetString()));
        foreach (var (f, e) in FaultCatalog.All.Zip(entries))
        {
            Assert.Equal(f.Summary, e.GetProperty("summary").GetString());
            Assert.Equal(FaultCatalog.TargetText(f.Target), e.GetProperty("acts").GetString());
            var ps = e.GetProperty("parameters").EnumerateArray().ToList();
            Assert.Equal(f.Parameters.Select(p => p.Name), ps.Select(p => p.GetProperty("name").GetString()));
            foreach (var (p, j) in f.Parameters.Zip(ps))
            {
                Assert.Equal(p.Description, j.GetProperty("description").GetString());
                Assert.Equal(p.Default, j.TryGetProperty("default", out var d) ? d.GetString() : null);
                Assert.False(string.IsNullOrEmpty(j.GetProperty("type").GetString()));
            }
        }
        Assert.Equal(["child", "ike"], entries.Single(e => e.GetProperty("name").GetString() == "force-rekey").GetProperty("parameters")[0]
            .GetProperty("choices").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Bad_faults_are_refused_before_the_lab_is_contacted_with_a_hint_and_exit_code_2()
    {
        // A port nothing listens on: a check that reached the cluster would take seconds and give exit code 3.
        var nowhere = LabCommandLine.Address("127.0.0.1", FreePort());
        var (code, _, err) = await RunNodes("fault", "nat-rebind", "--node", "isp-router", "--param", "adress=203.0.113.12", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("fault 'nat-rebind' has no parameter 'adress': did you mean 'address'?", err);
        (code, _, err) = await RunNodes("fault", "nat-expire", "--node", "isp-router", "--param", "udp-timeout=soon", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("'soon' is not a duration: write e.g. 500ms", err);
        (code, _, err) = await RunNodes("fault", "nat-rebnd", "--node", "isp-router", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("did you mean 'nat-rebind'?", err);
        (code, _, err) = await RunNodes("fault", "link-down", "--node", "rras", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("needs a link", err);
        (code, _, err) = await RunNodes("fault", "partition", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("needs either a link or a node", err);
        (code, _, err) = await RunNodes("fault", "heal", "--node", "rras", "--param", "novalue", "--cluster", nowhere);
        Assert.Equal(2, code);
        Assert.Contains("is not key=value", err);
        (code, _, err) = await RunNodes("fault", "heal", "--node", "rras", "--cluster", "http://127.0.0.1:4053");
        Assert.Equal(2, code);
        Assert.Contains("is not a member address", err);
    }

    [Theory]
    [InlineData("5000")]
    [InlineData("0")]
    [InlineData("-2")]
    public async Task A_time_scale_outside_a_scenarios_bounds_is_refused_before_anything_starts(string scale)
    {
        var (code, _, err) = await RunNodes("run", TopologyPath, "--time-scale", scale);
        Assert.Equal(2, code);
        Assert.Contains($"--time-scale {scale}: must be between 0.001 and 1000", err);
        (code, _, err) = await RunNodes("host", TopologyPath, "--node", "vm", "--port", "0", "--time-scale", scale);
        Assert.Equal(2, code);
        Assert.Contains("nothing was started", err);
    }

    [Fact]
    public async Task A_members_fault_routing_answer_round_trips_through_the_control_serializer()
    {
        var system = new ClusterSettings { Port = FreePort() }.CreateSystem();
        try
        {
            var routed = new FaultRouted("live-0123456789ab", "home", ["isp-router:wan--internet:home", "home-lan"]);
            var s = Assert.IsType<ClusterControlSerializer>(system.Serialization.FindSerializerFor(routed));
            var back = Assert.IsType<FaultRouted>(s.FromBinary(s.ToBinary(routed), s.Manifest(routed)));
            Assert.Equal((routed.Id, routed.Process), (back.Id, back.Process));
            Assert.Equal(routed.Targets, back.Targets);
            Assert.Empty(((FaultRouted)s.FromBinary(s.ToBinary(routed with { Targets = [] }), "fr")).Targets);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void A_members_lab_actor_finds_a_faults_targets_by_link_name_link_end_and_node()
    {
        var (topology, _, _) = Load(null);
        var links = topology.Links;
        static InjectFault F(string fault, string node = "", string link = "") => new() { Fault = fault, Node = node, Link = link };
        var wan = links.Single(l => l.Endpoints.Any(e => e.ToString() == "isp-router:wan"));
        Assert.Equal([(wan.Name, true)], MemberLabActor.Targets(F("link-down", link: "isp-router:wan"), links));
        Assert.Equal([(wan.Name, true)], MemberLabActor.Targets(F("link-down", link: wan.Name), links));
        Assert.Empty(MemberLabActor.Targets(F("link-down", link: "isp-router:nowhere"), links));
        Assert.Equal([("isp-router", false)], MemberLabActor.Targets(F("nat-rebind", node: "isp-router"), links));
        var ofRouter = links.Where(l => l.Endpoints.Any(e => e.Node == "isp-router")).Select(l => (l.Name, true)).ToList();
        Assert.True(ofRouter.Count >= 2);
        Assert.Equal(ofRouter, MemberLabActor.Targets(F("partition", node: "isp-router"), links));
    }

    [Fact]
    public async Task A_fault_injected_live_into_members_rebinds_the_NAT_the_Azure_gateway_follows_and_pings_keep_being_answered()
    {
        var (topology, scenario, fingerprint) = Load(null);
        var members = StartPlacement(topology, scenario, fingerprint);
        try
        {
            var azure = members.Single(m => m.Process == "azure").Member;
            var drive = ClusterDriver.RunAsync(topology, scenario, new DriverOptions { ClusterAddress = members[0].Address, Fingerprint = fingerprint, Count = 16 });
            var before = await Until(() => AzureTunnel(azure), t => t.State == "Connected" && t.RemoteEndpoint.Length > 0 && t.ChildSas.Count > 0,
                TimeSpan.FromSeconds(40), "the tunnel was not up");
            await Task.Delay(1500); // a few pings through the tunnel first

            // Through the home member (not the seed): any member leads to every other.
            var home = members.Single(m => m.Process == "home").Address;
            var result = await LiveFaults.InjectAsync(new LiveFaultRequest { ClusterAddress = home, Fault = "nat-rebind", Node = "isp-router" });
            output.WriteLine($"{result.Outcome}: {result.Message}");
            Assert.Equal(LiveFaultOutcome.Applied, result.Outcome);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(3, result.Members.Count);
            var answer = Assert.Single(result.Answers);
            Assert.Equal("isp-router", answer.Target);
            Assert.True(answer.Ok, answer.Detail);
            Assert.Equal(LiveFaults.Origin, answer.Origin);
            Assert.Contains("forgotten", answer.Detail);

            // RRAS's next ESP packet leaves with a new external port, and Azure moves the SAs there.
            var after = await Until(() => AzureTunnel(azure), t => t.RemoteEndpoint != before.RemoteEndpoint, TimeSpan.FromSeconds(10),
                $"the Azure gateway's peer endpoint stayed {before.RemoteEndpoint}");
            Assert.Equal((before.InitiatorSpi, before.ResponderSpi), (after.InitiatorSpi, after.ResponderSpi));
            Assert.Equal(before.RemoteEndpoint.Split(':')[0], after.RemoteEndpoint.Split(':')[0]);

            // A node nobody hosts: every member answers that it has no such target.
            var ghost = await LiveFaults.InjectAsync(new LiveFaultRequest { ClusterAddress = home, Fault = "node-crash", Node = "branch-gw" });
            Assert.Equal(LiveFaultOutcome.NotReachable, ghost.Outcome);
            Assert.Equal(3, ghost.ExitCode);
            Assert.Contains("node 'branch-gw' is not reachable", ghost.Message);
            Assert.Empty(ghost.SilentMembers);

            var run = await drive;
            output.WriteLine(run.ToJson());
            Assert.True(run.Summary.Pings.Received >= run.Summary.Pings.Sent - 1, $"{run.Summary.Pings.Received} of {run.Summary.Pings.Sent} answered");
            var fault = Assert.Single(run.Summary.Faults ?? []);
            Assert.Equal(("nat-rebind", "live", true), (fault.Fault, fault.Origin, fault.Applied));
            Assert.Equal(["isp-router"], fault.Targets);
            Assert.Contains(fault.Tunnels, t => t.Node == "azure-gw" && t.PeerEndpointChanged && t.SameIkeSa);
        }
        finally
        {
            foreach (var (_, m, _) in members) await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_nat_rebind_scenario_driven_through_the_cluster_runs_its_fault_timeline_and_measures_the_fault()
    {
        var (topology, scenario, fingerprint) = Load("nat-rebind");
        var members = StartPlacement(topology, scenario, fingerprint);
        try
        {
            var run = await ClusterDriver.RunAsync(topology, scenario, new DriverOptions { ClusterAddress = members[0].Address, Fingerprint = fingerprint });
            output.WriteLine(run.ToJson());
            var fault = Assert.Single(run.Summary.Faults ?? []);
            Assert.Equal(("nat-rebind", "timeline", true), (fault.Fault, fault.Origin, fault.Applied));
            Assert.InRange(fault.AtMs, 5_500, 8_000);
            var azure = Assert.Single(fault.Tunnels, t => t.Node == "azure-gw");
            Assert.True(azure.SameIkeSa, $"IKE {azure.Before?.IkeSpis} → {azure.After?.IkeSpis}");
            Assert.True(azure.PeerEndpointChanged, $"peer {azure.Before?.PeerEndpoint} → {azure.After?.PeerEndpoint}");
            Assert.True(fault.PingsSent > 0);
            // The scenario's own fault expectations, evaluated as in a one-process run.
            Assert.Contains(run.Summary.Expectations, e => e.What.Contains("same-ike-sa true", StringComparison.Ordinal) && e.Met);
            Assert.Contains(run.Summary.Expectations, e => e.What.Contains("peer-endpoint-changed true", StringComparison.Ordinal) && e.Met);
            Assert.True(run.Summary.Ok, string.Join("\n", run.Summary.Expectations.Select(e => $"{e.Met} {e.What} ({e.Detail})")));
            // Azure's diagnostics at the end: the IKE log gathered from the members, the NAT's new port in its last lines.
            var diagnostics = Assert.Single(run.Summary.Azure ?? []);
            Assert.Equal("NoFault", diagnostics.Troubleshoot.Results[0].Id);
            Assert.Contains(diagnostics.Troubleshoot.Logs.IkeLogs, l => l.Contains("[RECEIVED][SA_AUTH] Received IKE AUTH message", StringComparison.Ordinal));
            Assert.Equal(azure.After?.PeerEndpoint, diagnostics.IkeSa?.RemoteEndpoint + ":" + diagnostics.IkeSa?.RemoteUdpEncapsulationPort);
        }
        finally
        {
            foreach (var (_, m, _) in members) await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_fault_sent_by_nodes_fault_to_nodes_run_listen_appears_in_the_runs_summary()
    {
        using var run = new NodesProcess("run", ["run", LabCommandLine.Topology, "--listen", "0", "--count", "12", "--duration", "16s", "--json"]);
        string? address = null;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (DateTime.UtcNow < until && !run.Process.HasExited)
        {
            var err = run.StdErr;
            var at = err.IndexOf("Listening at ", StringComparison.Ordinal);
            if (at >= 0 && err.Contains("reply from 10.0.10.4", StringComparison.Ordinal))
            {
                address = err[(at + "Listening at ".Length)..].Split(' ')[0];
                break;
            }
            await Task.Delay(100);
        }
        Assert.True(address is not null, $"the run did not listen or no ping was answered:\n{run.StdErr}");
        Assert.StartsWith("akka.tcp://nodes@127.0.0.1:", address);

        using var fault = new NodesProcess("fault", ["fault", "nat-rebind", "--node", "isp-router", "--cluster", address]);
        var faultCode = fault.WaitForExit(TimeSpan.FromSeconds(40));
        output.WriteLine(fault.StdOut + fault.StdErr);
        Assert.Equal(0, faultCode);
        Assert.Contains("isp-router: applied:", fault.StdOut);

        var code = run.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(run.StdErr);
        output.WriteLine(run.StdOut);
        var summary = JsonDocument.Parse(run.StdOut[run.StdOut.IndexOf('{')..]).RootElement;
        // A live fault lands at whatever moment the command arrives: an echo reply crossing the NAT just as its
        // mappings are forgotten is lost, as on a real NAT. One such ping may fail the run's pings-answered expectation;
        // nothing else may.
        if (code != 0)
        {
            Assert.Equal(1, code);
            var unmet = summary.GetProperty("expectations").EnumerateArray().Where(e => !e.GetProperty("met").GetBoolean()).Select(e => e.GetProperty("what").GetString()!).ToList();
            Assert.Equal(["pings-answered: all"], unmet);
            var pings = summary.GetProperty("pings");
            Assert.Equal(pings.GetProperty("sent").GetInt32() - 1, pings.GetProperty("received").GetInt32());
        }
        var live = Assert.Single(summary.GetProperty("faults").EnumerateArray().ToList());
        Assert.Equal("nat-rebind", live.GetProperty("fault").GetString());
        Assert.Equal("live", live.GetProperty("origin").GetString());
        Assert.True(live.GetProperty("applied").GetBoolean());
        Assert.Contains(live.GetProperty("tunnels").EnumerateArray(), t => t.GetProperty("node").GetString() == "azure-gw" && t.GetProperty("peerEndpointChanged").GetBoolean());
        Assert.True(summary.GetProperty("durationMs").GetDouble() >= 16_000);
    }
}
