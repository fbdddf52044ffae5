using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>How a driver joins a running lab.</summary>
public sealed record DriverOptions
{
    /// <summary>A member's address, akka.tcp://nodes@host:port: the driver joins the cluster through it.</summary>
    public required string ClusterAddress { get; init; }
    /// <summary>The fingerprint of the topology file the driver loaded; members must have loaded the same file.</summary>
    public required string Fingerprint { get; init; }
    public int? Count { get; init; }
    /// <summary>How long every node of the topology has to be up before the driver gives up.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public TlsOptions? Tls { get; init; }
    /// <summary>What the driver binds to; by default the local address on the route to the cluster address.</summary>
    public string? Hostname { get; init; }
    public Action<NodeEvent>? OnEvent { get; init; }
    /// <summary>The run lasts at least this long (from the start of traffic), so there is time for faults injected live.</summary>
    public TimeSpan? MinDuration { get; init; }
    /// <summary>
    /// Sees every frame the links of every member carry and the keys of every SA (the web view), streamed from the
    /// members' capture feeds with bounded buffers: what a view too slow to keep up misses is counted, not waited for.
    /// </summary>
    public Actors.Lab.ICaptureTap? Tap { get; init; }
    /// <summary>Called for every fault a node or link applied or refused, timeline and live, in order.</summary>
    public Action<FaultApplied>? OnFault { get; init; }
    /// <summary>Called once every node is up, before traffic starts, with the lab's actors (wherever they live) by name.</summary>
    public Action<RunningLab>? OnStarted { get; init; }
    /// <summary>The run ends only once this completes too (the web view keeps the lab up until Ctrl+C).</summary>
    public Task? HoldOpen { get; init; }
}

/// <summary>The lab did not become complete in time, or the driver could not join it.</summary>
public sealed class LabNotReadyException(string message) : Exception(message);

/// <summary>A tunnel's time down during the run, from its gateways' events ("tunnel down" until the next Child SA).</summary>
public sealed record TunnelDowntime(string Node, string Tunnel, int Outages, double DownMs, bool DownAtEnd);

/// <summary>A member that became unreachable during the run, and when a member with its roles was up again.</summary>
public sealed record MemberOutage(string Address, IReadOnlyList<string> Nodes, double UnreachableAtMs, double? BackAfterMs);

public sealed record ClusterMemberSummary(string Address, string Process, IReadOnlyList<string> Nodes);

/// <summary>What a multi-process run adds to the summary.</summary>
public sealed record ClusterSummary(string Driver, double JoinMs, double ReadyMs, IReadOnlyList<ClusterMemberSummary> Members,
    IReadOnlyList<TunnelDowntime> TunnelDowntime, IReadOnlyList<MemberOutage> MemberOutages, double LongestPingOutageMs);

/// <summary>A run across processes: the same summary as a one-process run, plus the cluster's part.</summary>
public sealed record ClusterRunResult(RunSummary Summary, ClusterSummary Cluster)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The one-process summary's JSON with a "cluster" object added.</summary>
    public string ToJson()
    {
        var root = JsonNode.Parse(Summary.ToJson())!.AsObject();
        root["cluster"] = JsonSerializer.SerializeToNode(Cluster, Json);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The lines a terminal shows after the one-process summary.</summary>
    public void PrintCluster(TextWriter o)
    {
        o.WriteLine($"Cluster: {Cluster.Members.Count} members; driver {Cluster.Driver} joined in {Cluster.JoinMs:0} ms, every node up after {Cluster.ReadyMs:0} ms");
        foreach (var m in Cluster.Members) o.WriteLine($"  {m.Address}  {m.Process}: {string.Join(", ", m.Nodes)}");
        foreach (var m in Cluster.MemberOutages)
            o.WriteLine($"  member {m.Address} ({string.Join(", ", m.Nodes)}) unreachable at {m.UnreachableAtMs / 1000:0.0} s, {(m.BackAfterMs is { } b ? $"back after {b / 1000:0.0} s" : "not back")}");
        foreach (var t in Cluster.TunnelDowntime)
            o.WriteLine($"  tunnel {t.Node}/{t.Tunnel}: down {t.Outages} time(s), {t.DownMs / 1000:0.0} s in all{(t.DownAtEnd ? ", still down at the end" : "")}");
        if (Cluster.LongestPingOutageMs > 0) o.WriteLine($"  longest gap between answered pings: {Cluster.LongestPingOutageMs / 1000:0.0} s");
    }
}

/// <summary>
/// Drives a lab whose nodes run in other processes (<c>nodes run FILE --cluster ADDRESS</c>): joins the cluster with
/// the role "driver" and no node, waits until every node of the topology is up and every member's ports have found
/// their peers (the readiness barrier), starts the scenario's traffic on the hosts and its fault timeline, collects the
/// ping summaries, every fault's effect (also of faults injected live) and every node's and link's status, and builds
/// the same <see cref="RunSummary"/> as a one-process run.
/// </summary>
public static class ClusterDriver
{
    public static async Task<ClusterRunResult> RunAsync(TopologySpec topology, ScenarioSpec scenario, DriverOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var (host, _) = ClusterSettings.ParseAddress(options.ClusterAddress);
        var settings = new ClusterSettings
        {
            Hostname = options.Hostname ?? ClusterSettings.LocalAddressTowards(host),
            Port = 0,
            SeedNodes = [options.ClusterAddress],
            Roles = [ClusterSettings.DriverRole],
            Tls = options.Tls,
        };
        var system = settings.CreateSystem();
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            var joinLimit = TimeSpan.FromSeconds(Math.Min(30, options.ReadyTimeout.TotalSeconds));
            if (await Task.WhenAny(up.Task, Task.Delay(joinLimit, cancel)) != up.Task)
                throw new LabNotReadyException($"could not join the lab at {options.ClusterAddress} within {joinLimit.TotalSeconds:0} s: is a member running there (nodes host ...), with the same TLS settings?");
            var joined = clock.Elapsed;
            var watch = system.ActorOf(Props.Create(() => new RunWatch(clock, options.OnEvent, options.OnFault)), "watch");
            // Subscribed before readiness, so that the view sees the lab from its first frame on.
            if (options.Tap is { } tap) system.ActorOf(CaptureFeedReceiver.Props(tap, options.OnEvent), "capture");
            var ready = await WaitUntilReadyAsync(system, topology, scenario, options, cancel);
            var readyAt = clock.Elapsed;
            options.OnStarted?.Invoke(new RunningLab(system, topology.ForScenario(scenario), ready.Nodes, ready.Links, system.Scheduler.Now));

            // Faults: the scenario's timeline against the actors found, measured like a one-process run; the watch hands
            // the conductor every ping result, node event and fault answer (live faults arrive only that way).
            var lab = topology.ForScenario(scenario);
            var observed = ready.Nodes.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => n.Value)
                .Concat(ready.Links.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Value)).ToList();
            var trafficStart = system.Scheduler.Now;
            var conductor = system.ActorOf(FaultConductor.Props(
                LabRunner.PlanFaults(lab, scenario, n => ready.Nodes.GetValueOrDefault(n), l => ready.Links.GetValueOrDefault(l)), observed, trafficStart), "faults");
            watch.Tell(new RunWatch.ForwardTo(conductor));
            var collector = system.ActorOf(Props.Create(() => new PingCollector(watch)), "pings");
            // A fault at 0 s is in place before the first packet.
            await conductor.Ask<FaultConductor.Started>(FaultConductor.WhenStarted.Instance, FaultConductor.StartPatience + TimeSpan.FromSeconds(5), cancel);
            var expected = 0;
            foreach (var t in scenario.Traffic.OfType<PingSpec>())
            {
                if (!ready.Nodes.TryGetValue(t.From, out var from)) continue;
                expected++;
                var start = new StartPing
                {
                    Host = t.From,
                    Destination = t.To.ToString(),
                    Count = (uint)(options.Count ?? t.Count),
                    IntervalMs = (uint)t.Interval.TotalMilliseconds,
                    Size = (uint)t.Size,
                    DontFragment = t.DontFragment,
                    Scenario = scenario.Name,
                };
                if (t.Start > TimeSpan.Zero) system.Scheduler.ScheduleTellOnce(t.Start, from, start, collector);
                else from.Tell(start, collector);
            }
            var longest = scenario.Traffic.OfType<PingSpec>().Select(p => p.Start + p.Interval * (options.Count ?? p.Count) + TimeSpan.FromSeconds(15)).DefaultIfEmpty(TimeSpan.FromSeconds(5)).Max();
            var deadline = scenario.Duration is { } d && d > longest ? d : longest;
            var summaries = await collector.Ask<ImmutableList<PingSummary>>(new PingCollector.WaitFor(expected, deadline), deadline + TimeSpan.FromSeconds(5), cancel);
            // A fault after the last ping still happens, and is watched for a moment.
            var ran = system.Scheduler.Now - trafficStart;
            var until = scenario.Faults.Length > 0 ? scenario.Faults.Max(f => f.At) + TimeSpan.FromSeconds(2) : TimeSpan.Zero;
            if (options.MinDuration is { } least && least > until) until = least;
            if (until > ran) await Task.Delay(until - ran, cancel);
            if (options.HoldOpen is { } hold) await hold.WaitAsync(cancel);
            // The conductor answers within its patience whatever the members do; the margin is for a starved machine.
            var faults = await conductor.Ask<IReadOnlyList<FaultEffect>>(FaultConductor.Finish.Instance, FaultConductor.FinishPatience + TimeSpan.FromSeconds(20), cancel);
            var (final, statuses, links) = await FinalStatusAsync(system, topology, scenario, FinalPatience, cancel);
            var report = await watch.Ask<RunWatch.Report>(RunWatch.Finish.Instance, TimeSpan.FromSeconds(5), cancel);
            var seed = ready.Infos.Values.First().Seed;
            var summary = LabRunner.Summarize(topology, scenario, seed, summaries, statuses, links, null, clock.Elapsed, faults: faults);
            var gateways = statuses.Where(s => s.Kind == AzureDiagnostics.GatewayKind).Select(s => s.Node).ToList();
            if (gateways.Count > 0)
            {
                var activity = await LiveStatus.GatherAsync(system, final.Infos.Keys.ToList(), gateways, TimeSpan.FromSeconds(5), cancel);
                var now = system.Scheduler.Now;
                var azure = AzureDiagnostics.Build(statuses, n => activity.GetValueOrDefault(n) ?? [], now - clock.Elapsed, now);
                summary = summary with { Azure = azure };
            }
            var members = final.Infos.Select(kv => new ClusterMemberSummary(kv.Key.ToString(), kv.Value.Process, kv.Value.Nodes)).OrderBy(m => m.Address, StringComparer.Ordinal).ToList();
            var clusterSummary = new ClusterSummary(cluster.SelfAddress.ToString(), joined.TotalMilliseconds, readyAt.TotalMilliseconds, members,
                report.Downtime, report.Outages, report.LongestPingOutage.TotalMilliseconds);
            return new ClusterRunResult(summary, clusterSummary);
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Every member's info, node actor and link actor, as found through the cluster.</summary>
    private sealed record LabView(
        ImmutableDictionary<Address, MemberInfo> Infos,
        ImmutableDictionary<string, IActorRef> Nodes,
        ImmutableDictionary<string, IActorRef> Links);

    /// <summary>
    /// The readiness barrier: every node of the topology hosted by an Up member, every member's ports connected to
    /// their peers, every node and link actor answering. Throws <see cref="LabNotReadyException"/> naming what is
    /// missing and where it was expected.
    /// </summary>
    private static async Task<LabView> WaitUntilReadyAsync(ActorSystem system, TopologySpec topology, ScenarioSpec scenario, DriverOptions options, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + options.ReadyTimeout;
        string problem;
        while (true)
        {
            (var view, problem) = await TryResolveAsync(system, topology, scenario, options.Fingerprint, cancel);
            if (view is not null) return view;
            if (DateTime.UtcNow >= deadline) break;
            await Task.Delay(300, cancel);
        }
        throw new LabNotReadyException($"the lab is not complete after {options.ReadyTimeout.TotalSeconds:0} s, no traffic was started: {problem}");
    }

    /// <summary>How long the end of a run waits for every node and link to be found and to answer again.</summary>
    public static readonly TimeSpan FinalPatience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Every node's and link's final status. Members may have restarted during the run (the engine's restart policy
    /// brings a crashed one back, and a busy machine can take tens of seconds to start it, or to let a starved member
    /// answer): the lab is looked up again, and asked again, until everything answers or <paramref name="patience"/> ends.
    /// </summary>
    private static async Task<(LabView View, List<NodeStatus> Nodes, List<NodeStatus> Links)> FinalStatusAsync(ActorSystem system, TopologySpec topology,
        ScenarioSpec scenario, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var (view, problem) = await TryResolveAsync(system, topology, scenario, null, cancel, requireConnected: false);
            if (view is not null)
            {
                var nodes = await AskAll(view.Nodes, cancel);
                var links = await AskAll(view.Links, cancel);
                var silent = nodes.Concat(links).Where(a => a.Status is null).Select(a => a.Name).ToList();
                if (silent.Count == 0) return (view, nodes.Select(a => a.Status!).ToList(), links.Select(a => a.Status!).ToList());
                problem = "no status from " + string.Join(", ", silent);
            }
            if (DateTime.UtcNow >= deadline)
                throw new LabNotReadyException($"the lab did not answer for its final status within {patience.TotalSeconds:0} s: {problem}");
            await Task.Delay(1000, cancel);
        }
    }

    /// <summary>Each actor's status in name order, asked all at once; null for one that did not answer in 5 s.</summary>
    private static Task<(string Name, NodeStatus? Status)[]> AskAll(ImmutableDictionary<string, IActorRef> actors, CancellationToken cancel) =>
        Task.WhenAll(actors.OrderBy(a => a.Key, StringComparer.Ordinal).Select(async a =>
        {
            try
            {
                return (a.Key, (NodeStatus?)await a.Value.Ask<NodeStatus>(new QueryStatus { Requester = "driver" }, TimeSpan.FromSeconds(5), cancel));
            }
            catch (Exception x) when (x is AskTimeoutException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                return (a.Key, null);
            }
        }));

    private static async Task<(LabView? View, string Problem)> TryResolveAsync(ActorSystem system, TopologySpec topology, ScenarioSpec scenario,
        string? fingerprint, CancellationToken cancel, bool requireConnected = true)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var members = cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterSettings.LabRole)).ToList();
        var infos = ImmutableDictionary.CreateBuilder<Address, MemberInfo>();
        var silent = new List<string>();
        foreach (var m in members)
        {
            try
            {
                infos[m.Address] = await system.ActorSelection(new RootActorPath(m.Address) / "user" / MemberLabActor.Name)
                    .Ask<MemberInfo>(MemberInfoRequest.Instance, TimeSpan.FromSeconds(2), cancel);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                silent.Add(m.Address.ToString());
            }
        }
        foreach (var (address, info) in infos)
        {
            if (fingerprint is not null && info.Fingerprint != fingerprint)
                throw new LabNotReadyException($"member {address} ({info.Process}) runs a different topology file ({info.Topology}, fingerprint {info.Fingerprint}; this one is {fingerprint}): start every member and the driver with the same file");
            if (info.Scenario != scenario.Name)
                throw new LabNotReadyException($"member {address} ({info.Process}) was started for scenario '{info.Scenario}', not '{scenario.Name}': start the members with --scenario {scenario.Name}");
        }
        var where = new Dictionary<string, Address>(StringComparer.Ordinal);
        foreach (var (address, info) in infos)
            foreach (var n in info.Nodes) where.TryAdd(n, address);
        var missing = topology.Nodes.Select(n => n.Name).Where(n => !where.ContainsKey(n)).ToList();
        var waiting = infos.Where(kv => !kv.Value.Connected).Select(kv => $"{kv.Value.Process} at {kv.Key} waits for {string.Join(", ", kv.Value.Waiting)}").ToList();
        if (missing.Count > 0 || (requireConnected && (waiting.Count > 0 || silent.Count > 0)))
        {
            var parts = new List<string>();
            if (missing.Count > 0)
                parts.Add("missing " + string.Join("; ", missing.Select(n => $"{n} (expected on {Expected(topology, n)})")));
            if (waiting.Count > 0) parts.Add("not connected: " + string.Join("; ", waiting));
            if (silent.Count > 0) parts.Add("not answering: " + string.Join(", ", silent));
            var seen = string.Join("; ", cluster.State.Members.Where(m => !m.HasRole(ClusterSettings.DriverRole))
                .Select(m => $"{m.Address} {m.Status} [{string.Join(", ", m.Roles.Where(r => r != ClusterSettings.LabRole).Order(StringComparer.Ordinal))}]"));
            parts.Add($"members seen: {(seen.Length == 0 ? "none" : seen)}");
            return (null, string.Join(". ", parts));
        }
        var lab = topology.ForScenario(scenario);
        var nodes = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        var links = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        var unanswered = new List<string>();
        foreach (var n in lab.Nodes)
        {
            var a = await TryResolve(system, where[n.Name], LabBuilder.NodeActorName(n.Name), cancel);
            if (a is null) unanswered.Add($"node {n.Name} on {where[n.Name]}");
            else nodes[n.Name] = a;
        }
        foreach (var l in lab.Links)
        {
            var owner = where[LabBuilder.LinkOwner(l)];
            var a = await TryResolve(system, owner, LabBuilder.LinkActorName(lab, l), cancel);
            if (a is null) unanswered.Add($"link {l.Name} on {owner}");
            else links[l.Name] = a;
        }
        if (unanswered.Count > 0) return (null, "not answering: " + string.Join("; ", unanswered));
        return (new LabView(infos.ToImmutable(), nodes.ToImmutable(), links.ToImmutable()), "");
    }

    private static string Expected(TopologySpec topology, string node) =>
        topology.Placement?.ProcessOf(node) is { } p
            ? $"process '{p}' of the placement (nodes host FILE --process {p}), a member with role {LabBuilder.ProcessRole(p)} or {node}"
            : $"a member with role {node} (nodes host FILE --node {node})";

    private static async Task<IActorRef?> TryResolve(ActorSystem system, Address member, string name, CancellationToken cancel)
    {
        try
        {
            var a = await system.ActorSelection(new RootActorPath(member) / "user" / name).ResolveOne(TimeSpan.FromSeconds(2), cancel);
            // The actor answers status queries: it is running, not only named.
            await a.Ask<NodeStatus>(new QueryStatus { Requester = "driver" }, TimeSpan.FromSeconds(3), cancel);
            return a;
        }
        catch (Exception e) when (e is ActorNotFoundException or AskTimeoutException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Watches the run from the driver: subscribes to every lab member's events (also members that come back after a
    /// restart), passes them to the terminal, and measures tunnel downtime, member outages and gaps between pings.
    /// </summary>
    private sealed class RunWatch : ReceiveActor
    {
        public sealed record Finish : INoSerializationVerificationNeeded
        {
            public static readonly Finish Instance = new();
        }

        public sealed record Report(IReadOnlyList<TunnelDowntime> Downtime, IReadOnlyList<MemberOutage> Outages, TimeSpan LongestPingOutage) : INoSerializationVerificationNeeded;

        /// <summary>From now on, pass every ping result, node event and fault answer on to this actor too (the fault conductor).</summary>
        public sealed record ForwardTo(IActorRef Target) : INoSerializationVerificationNeeded;

        private readonly Stopwatch _clock;
        private readonly Dictionary<(string Node, string Tunnel), (int Outages, TimeSpan Down, DateTimeOffset? Since)> _tunnels = [];
        private readonly Dictionary<UniqueAddress, (Member Member, TimeSpan At)> _unreachable = [];
        private readonly List<MemberOutage> _outages = [];
        private DateTimeOffset? _lastAnswered;
        private DateTimeOffset? _firstMissSinceAnswer;
        private TimeSpan _longestGap;
        private IActorRef? _forward;

        public RunWatch(Stopwatch clock, Action<NodeEvent>? onEvent, Action<FaultApplied>? onFault)
        {
            _clock = clock;
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
            Receive<ClusterEvent.MemberUp>(m =>
            {
                if (!m.Member.HasRole(ClusterSettings.LabRole)) return;
                Context.ActorSelection(new RootActorPath(m.Member.Address) / "user" / MemberLabActor.Name).Tell(SubscribeEvents.Instance);
                foreach (var (k, v) in _unreachable.Where(u => u.Value.Member.Roles.Where(r => r != ClusterSettings.LabRole).All(m.Member.HasRole)).ToList())
                {
                    _outages.Add(Outage(v.Member, v.At, _clock.Elapsed - v.At));
                    _unreachable.Remove(k);
                }
            });
            Receive<ClusterEvent.UnreachableMember>(m =>
            {
                if (m.Member.HasRole(ClusterSettings.LabRole)) _unreachable.TryAdd(m.Member.UniqueAddress, (m.Member, _clock.Elapsed));
            });
            Receive<ClusterEvent.ReachableMember>(m =>
            {
                if (_unreachable.Remove(m.Member.UniqueAddress, out var v)) _outages.Add(Outage(v.Member, v.At, _clock.Elapsed - v.At));
            });
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Receive<ForwardTo>(f => _forward = f.Target);
            Receive<NodeEvent>(e =>
            {
                onEvent?.Invoke(e);
                Track(e);
                _forward?.Tell(e);
            });
            Receive<FaultApplied>(f =>
            {
                onFault?.Invoke(f);
                _forward?.Tell(f);
            });
            Receive<PingResult>(r =>
            {
                _forward?.Tell(r);
                var now = DateTimeOffset.UtcNow;
                if (r.Answered)
                {
                    if (_firstMissSinceAnswer is not null && _lastAnswered is { } last && now - last > _longestGap) _longestGap = now - last;
                    _lastAnswered = now;
                    _firstMissSinceAnswer = null;
                }
                else _firstMissSinceAnswer ??= now;
            });
            Receive<Finish>(_ =>
            {
                var end = DateTimeOffset.UtcNow;
                var downtime = _tunnels.OrderBy(t => t.Key.Node, StringComparer.Ordinal).ThenBy(t => t.Key.Tunnel, StringComparer.Ordinal)
                    .Select(t => new TunnelDowntime(t.Key.Node, t.Key.Tunnel, t.Value.Outages,
                        (t.Value.Down + (t.Value.Since is { } s ? end - s : TimeSpan.Zero)).TotalMilliseconds, t.Value.Since is not null))
                    .ToList();
                var outages = _outages.Concat(_unreachable.Values.Select(v => Outage(v.Member, v.At, null))).ToList();
                Sender.Tell(new Report(downtime, outages, _longestGap));
            });
        }

        private static MemberOutage Outage(Member m, TimeSpan at, TimeSpan? back) =>
            new(m.Address.ToString(), m.Roles.Where(r => r != ClusterSettings.LabRole).Order(StringComparer.Ordinal).ToList(), at.TotalMilliseconds, back?.TotalMilliseconds);

        // The gateways report "NAME: tunnel down (reason)" when a tunnel's IKE SA goes and "NAME: Child SA up: ..."
        // when traffic can flow again.
        private void Track(NodeEvent e)
        {
            var colon = e.Text.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0) return;
            var tunnel = e.Text[..colon];
            var rest = e.Text[(colon + 2)..];
            var at = DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs);
            var key = (e.Node, tunnel);
            if (e.Kind == "ike" && rest.StartsWith("tunnel down", StringComparison.Ordinal))
            {
                var t = _tunnels.GetValueOrDefault(key);
                if (t.Since is null) _tunnels[key] = (t.Outages + 1, t.Down, at);
            }
            else if (e.Kind == "ipsec" && rest.StartsWith("Child SA up", StringComparison.Ordinal) && _tunnels.TryGetValue(key, out var t) && t.Since is { } since)
                _tunnels[key] = (t.Outages, t.Down + (at - since), null);
        }

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
