using System.Security.Cryptography;
using Akka.Actor;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Telemetry;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>What a member hosts and how it builds its part of the lab.</summary>
public sealed record MemberOptions
{
    /// <summary>The nodes this member hosts; they become its cluster roles.</summary>
    public required IReadOnlyList<string> Nodes { get; init; }
    /// <summary>The member's name in messages: the placement process name, or the node names joined.</summary>
    public required string Process { get; init; }
    public required string Fingerprint { get; init; }
    public ulong? Seed { get; init; }
    public double? TimeScale { get; init; }
    public Action<NodeEvent>? OnEvent { get; init; }
    public Action<string>? OnMessage { get; init; }
    /// <summary>Where the member's spans and metrics go; by default the standard OTEL_* environment variables decide.</summary>
    public TelemetrySettings? Telemetry { get; init; }
    /// <summary>How many times the member has started at its address before (<see cref="MemberIncarnation"/>).</summary>
    public int Incarnation { get; init; }
}

/// <summary>
/// One member of a multi-process lab (<c>nodes host</c>): an Akka.Cluster member hosting some nodes of the topology.
/// It builds its nodes, the links whose first endpoint it hosts, and a <see cref="RemotePort"/> for every peer in
/// another member, at once; the ports find their peers as the other members come up. Traffic is started by a driver
/// once every node of the topology is up. Faults injected live (<c>nodes fault</c>) reach the member's lab actor, which
/// hands them to the node and link actors built here.
/// </summary>
public sealed class ClusterMember : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly LabTelemetry? _telemetry;

    private ClusterMember(ActorSystem system, LabActors actors, IActorRef lab, LabTelemetry? telemetry)
    {
        _system = system;
        _telemetry = telemetry;
        Actors = actors;
        Lab = lab;
        // The member's spans leave with it: flush and stop the exporters when the actor system ends, however it ends.
        _system.WhenTerminated.ContinueWith(_ =>
        {
            _telemetry?.Flush();
            _telemetry?.Dispose();
        }, TaskScheduler.Default);
    }

    public LabActors Actors { get; }
    public IActorRef Lab { get; }
    public ActorSystem System => _system;
    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(_system);

    /// <summary>Completes when the member's actor system has stopped (Ctrl+C, SIGTERM, or downed by the split-brain resolver).</summary>
    public Task WhenTerminated => _system.WhenTerminated;

    /// <summary>A digest of the topology file's text: members of one lab must all load the same file.</summary>
    public static string FingerprintOf(string topologyText) =>
        Convert.ToHexStringLower(SHA256.HashData(global::System.Text.Encoding.UTF8.GetBytes(topologyText.ReplaceLineEndings("\n"))))[..16];

    /// <summary>
    /// The nodes a member hosts: the ones named, or those the topology's placement gives <paramref name="process"/>.
    /// Throws with a sentence when a name is unknown or the process is not in the placement.
    /// </summary>
    public static IReadOnlyList<string> NodesFor(TopologySpec topology, IReadOnlyList<string> nodes, string? process)
    {
        var result = new List<string>(nodes);
        if (process is not null)
        {
            var placed = topology.Placement?.Processes.FirstOrDefault(p => p.Name == process)
                ?? throw new ArgumentException(topology.Placement is null
                    ? $"topology '{topology.Name}' has no placement block; name the nodes with --node"
                    : $"topology '{topology.Name}' places no process '{process}' (it places: {string.Join(", ", topology.Placement.Processes.Select(p => p.Name))})");
            result.AddRange(placed.Nodes);
        }
        if (result.Count == 0) throw new ArgumentException("name the nodes to host with --node NAME or --process NAME");
        var unknown = result.Where(n => topology.FindNode(n) is null).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"topology '{topology.Name}' has no node {string.Join(", ", unknown.Select(u => $"'{u}'"))} (it has: {string.Join(", ", topology.Nodes.Select(n => n.Name))})");
        return result.Distinct().ToList();
    }

    public static ClusterMember Start(TopologySpec topology, ScenarioSpec scenario, ClusterSettings settings, MemberOptions options)
    {
        var hosted = options.Nodes.ToHashSet(StringComparer.Ordinal);
        // Each hosted node is its own service, as in a one-process lab; the trace context in every frame joins the
        // spans of all members into one trace per journey.
        var settings2 = options.Telemetry ?? TelemetrySettings.FromEnvironment();
        var telemetry = settings2.TracingOn
            ? LabTelemetry.Start(settings2, topology.Name, topology.Nodes.Where(n => hosted.Contains(n.Name))
                .Select(n => (n.Name, n.GetType().Name.Replace("Spec", "", StringComparison.Ordinal).ToLowerInvariant())))
            : null;
        // The member joins once its part of the lab is built: a peer that sees it Up finds every actor it looks for at
        // the first try, instead of asking again and again while tens of thousands of nodes are still being made.
        var joinWhenBuilt = settings.JoinAtStart;
        settings = settings with { Roles = [ClusterSettings.LabRole, .. LabBuilder.MemberRoles(topology, hosted), .. settings.Roles], JoinAtStart = false };
        var system = settings.CreateSystem();
        var lab = topology.ForScenario(scenario);
        var seed = options.Seed ?? topology.Seed ?? 1;
        var scale = options.TimeScale ?? scenario.TimeScale;
        var linksHere = lab.Links.Where(l => hosted.Contains(LabBuilder.LinkOwner(l))).Select(l => l.Name).ToArray();
        var info = new MemberInfo(options.Process, options.Nodes.ToArray(), linksHere, topology.Name, options.Fingerprint, scenario.Name, seed, scale <= 0 ? 1 : scale, []);
        // Azure's diagnostics (nodes status): this member keeps the IKE messages of the Azure gateways on the links it
        // owns and the events of the gateways it hosts.
        // A driver's web view (nodes run --cluster --web) subscribes to the frames of the links this member owns.
        var feed = new CaptureFeedTap();
        var recorder = new IkeActivityRecorder(lab, feed);
        var onEvent = recorder.HasGateways ? e => { options.OnEvent?.Invoke(e); recorder.Event(e); } : options.OnEvent;
        var labActor = system.ActorOf(MemberLabActor.Props(info, onEvent, lab.Links, recorder.Snapshot), MemberLabActor.Name);
        system.ActorOf(CaptureFeedActor.Props(feed), CaptureFeedActor.Name);
        var capture = new CaptureSink(null, recorder);
        // What the member holds before its nodes exist (the runtime, the topology it loaded): a scale run subtracts it.
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long residentBefore;
        using (var self = global::System.Diagnostics.Process.GetCurrentProcess()) residentBefore = self.WorkingSet64;
        var building = global::System.Diagnostics.Stopwatch.StartNew();
        var context = new LabContext(system.Scheduler.Now, seed, scale <= 0 ? 1 : scale, labActor, capture) { Roots = telemetry?.Roots, MemberIncarnation = options.Incarnation };
        var peers = system.ActorOf(PeerDirectory.Props(), PeerDirectory.Name);
        var actors = LabBuilder.Build(system, lab, context, hosted.Contains,
            peer => system.ActorOf(RemotePort.Props(peer.PortName, peer.Role, peer.ActorName, labActor, peer.ProcessRole, peers), peer.PortName));
        building.Stop();
        labActor.Tell(new MemberLabActor.ExpectPorts(actors.Ports!.Keys.ToArray()));
        labActor.Tell(new MemberLabActor.Hosted(actors.Nodes, actors.Links)
        {
            Pings = scenario.Traffic.OfType<PingSpec>().ToList(),
            Gateways = lab.Nodes.OfType<AzureVpnGatewaySpec>().Select(n => n.Name).Where(hosted.Contains).ToList(),
        });
        labActor.Tell(new MemberLabActor.Built(managedBefore, residentBefore, building.Elapsed.TotalMilliseconds));
        if (joinWhenBuilt) settings.JoinNow(system);
        return new ClusterMember(system, actors, labActor, telemetry);
    }

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async Task LeaveAsync()
    {
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await _system.WhenTerminated;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_system.WhenTerminated.IsCompleted) await LeaveAsync();
    }
}
