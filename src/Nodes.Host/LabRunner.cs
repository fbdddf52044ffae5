using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Config.Diagnostics;
using Nodes.Messages;
using Nodes.Telemetry;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>How a run differs from what the scenario says.</summary>
public sealed record RunOptions
{
    public int? Count { get; init; }
    public ulong? Seed { get; init; }
    public double? TimeScale { get; init; }
    public string? CaptureDirectory { get; init; }
    /// <summary>Serialize every message as if it crossed a process boundary (Akka's serialize-messages), as tests do.</summary>
    public bool SerializeAllMessages { get; init; }
    /// <summary>
    /// End the run by switching the gateways off: each deletes its IKE SAs, so a real peer on an external interface
    /// learns at once that the tunnel is gone (otherwise it finds out through its liveness check).
    /// </summary>
    public bool DisconnectAtEnd { get; init; }
    /// <summary>Called for every node event, in order, for the terminal.</summary>
    public Action<NodeEvent>? OnEvent { get; init; }
    /// <summary>Traces and metrics of the run (null: none; see <see cref="TelemetrySettings.FromEnvironment"/>).</summary>
    public TelemetrySettings? Telemetry { get; init; }
    /// <summary>
    /// Make the lab reachable from other processes while it runs (<c>nodes run --listen</c>): the actor system
    /// becomes a one-member cluster with a lab actor at <c>/user/lab</c>, so <c>nodes fault</c> can inject faults
    /// into it. Null: the lab is closed to the outside, as usual.
    /// </summary>
    public ListenOptions? Listen { get; init; }
    /// <summary>The run lasts at least this long (from its start), so there is time for faults injected live.</summary>
    public TimeSpan? MinDuration { get; init; }
    /// <summary>
    /// Sees every frame every link carries and the keys of every SA as they happen (the web view), as a capture
    /// does; with no <see cref="CaptureDirectory"/> nothing is written to disk.
    /// </summary>
    public Actors.Lab.ICaptureTap? Tap { get; init; }
    /// <summary>Called for every fault a node or link applied or refused, timeline and live, in order.</summary>
    public Action<FaultApplied>? OnFault { get; init; }
    /// <summary>Called once the lab is built, before its traffic starts, with what an observer needs to query and change it.</summary>
    public Action<RunningLab>? OnStarted { get; init; }
    /// <summary>The run ends only once this completes too (the web view keeps the lab up until Ctrl+C).</summary>
    public Task? HoldOpen { get; init; }
}

/// <summary>A lab while it runs: its actors by name, for status queries and live faults from inside the process.</summary>
/// <param name="Lab">The topology as the scenario changed it.</param>
/// <param name="Epoch">Lab time zero.</param>
public sealed record RunningLab(ActorSystem System, TopologySpec Lab, IReadOnlyDictionary<string, IActorRef> Nodes, IReadOnlyDictionary<string, IActorRef> Links, DateTimeOffset Epoch)
{
    /// <summary>
    /// Injects a fault (origin "live") into every node or link it targets (<see cref="MemberLabActor.Targets"/>) and
    /// returns each target's answer; a target that does not answer within <paramref name="timeout"/> is left out.
    /// </summary>
    public async Task<IReadOnlyList<FaultApplied>> InjectAsync(string fault, string? node, string? link, IReadOnlyDictionary<string, string> parameters, TimeSpan timeout)
    {
        var inject = new InjectFault
        {
            Id = "live-" + Convert.ToHexStringLower(global::System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)),
            Fault = fault, Node = node ?? "", Link = link ?? "", Origin = LiveFaults.Origin,
        };
        foreach (var (k, v) in parameters) inject.Params[k] = v;
        var asks = new List<Task<FaultApplied>>();
        foreach (var (name, isLink) in MemberLabActor.Targets(inject, Lab.Links))
            if ((isLink ? Links : Nodes).GetValueOrDefault(name) is { } target) asks.Add(target.Ask<FaultApplied>(inject, timeout));
        var answers = new List<FaultApplied>();
        foreach (var a in asks)
        {
            try { answers.Add(await a); }
            catch (AskTimeoutException) { }
        }
        return answers;
    }
}

/// <summary>Where a one-process lab listens for live faults (<c>nodes run --listen</c>).</summary>
public sealed record ListenOptions
{
    /// <summary>What the lab binds to. Without TLS only loopback is allowed: anyone who reaches it could inject faults.</summary>
    public string Hostname { get; init; } = "127.0.0.1";
    /// <summary>The TCP port; 0 picks a free one (the address handed to <see cref="OnListening"/> says which).</summary>
    public int Port { get; init; } = 4053;
    public TlsOptions? Tls { get; init; }
    /// <summary>Called once the lab can be reached, with its address (what <c>nodes fault --cluster</c> takes).</summary>
    public Action<string>? OnListening { get; init; }
}

/// <summary>
/// The composition root of a one-process lab: builds the actor system with Nodes' serializer, builds the lab from the
/// topology, runs the scenario's traffic, collects every node's status and checks the scenario's expectations.
/// </summary>
public static class LabRunner
{
    public static Akka.Configuration.Config AkkaConfig(bool serializeAll) =>
        ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.serialize-messages = {{(serializeAll ? "on" : "off")}}
            }
            """).WithFallback(NodesSerializer.Configuration()).WithFallback(LabGuardianStrategy.Configuration).WithFallback(LabMailbox.Configuration);

    public static async Task<RunSummary> RunAsync(TopologySpec topology, ScenarioSpec scenario, RunOptions options, CancellationToken cancel = default)
    {
        var lab = topology.ForScenario(scenario);
        var seed = options.Seed ?? topology.Seed ?? 1;
        var scale = options.TimeScale ?? scenario.TimeScale;
        var clock = Stopwatch.StartNew();
        // Every node is its own service; telemetry is set up before the first actor can record a span.
        using var telemetry = options.Telemetry is { } ts
            ? LabTelemetry.Start(ts, topology.Name, lab.Nodes.Select(n => (n.Name, n.GetType().Name.Replace("Spec", "", StringComparison.Ordinal).ToLowerInvariant())))
            : null;
        using var system = options.Listen is { } listen ? ListeningSystem(lab, listen, options.SerializeAllMessages) : LocalSystem(options.SerializeAllMessages);
        var forward = new EventForward();
        // Azure's diagnostics read the Azure gateways' IKE messages off their links and keep their IKE events.
        var recorder = new IkeActivityRecorder(lab, options.Tap);
        var onEvent = recorder.HasGateways ? e => { options.OnEvent?.Invoke(e); recorder.Event(e); } : options.OnEvent;
        var events = system.ActorOf(Props.Create(() => new EventLog(onEvent, options.OnFault, forward)), "events");
        using var capture = options.CaptureDirectory is not null || options.Tap is not null || recorder.HasGateways
            ? new CaptureSink(options.CaptureDirectory, recorder.HasGateways ? recorder : options.Tap)
            : null;
        var context = new LabContext(system.Scheduler.Now, seed, scale <= 0 ? 1 : scale, events, capture) { Roots = telemetry?.Roots };
        var actors = LabBuilder.Build(system, lab, context);
        if (options.Listen is { } open) await OpenAsync(system, topology, scenario, lab, seed, scale, actors, open, recorder.Snapshot, cancel);
        var azureGateways = actors.Nodes.Where(n => lab.FindNode(n.Key) is AzureVpnGatewaySpec).OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => n.Value).ToList();
        var azureMetrics = new AzureMetricsAccumulator();
        using var stopMetrics = new CancellationTokenSource();
        // With an exporter, the gateways' tunnel metrics are brought up to date every second (Azure's names, AzureTunnelMetricsExport).
        var metricsLoop = telemetry is not null && azureGateways.Count > 0
            ? PollAzureMetrics(azureGateways, azureMetrics, system, stopMetrics.Token)
            : Task.CompletedTask;

        // Faults: the timeline, and what each fault did (live faults reach the conductor through the event log).
        var conductor = system.ActorOf(FaultConductor.Props(PlanFaults(lab, scenario, actors), [.. actors.Nodes.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => n.Value),
            .. actors.Links.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Value)], system.Scheduler.Now), "faults");
        forward.To = conductor;
        options.OnStarted?.Invoke(new RunningLab(system, lab, actors.Nodes, actors.Links, context.Epoch));
        var collector = system.ActorOf(Props.Create(() => new PingCollector(conductor)), "pings");
        // A fault at 0 s is in place before the first packet.
        await conductor.Ask<FaultConductor.Started>(FaultConductor.WhenStarted.Instance, FaultConductor.StartPatience + TimeSpan.FromSeconds(5), cancel);
        var expected = 0;
        foreach (var t in scenario.Traffic.OfType<PingSpec>())
        {
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
            if (!actors.Nodes.TryGetValue(t.From, out var host)) continue;
            if (t.Start > TimeSpan.Zero) system.Scheduler.ScheduleTellOnce(t.Start, host, start, collector);
            else host.Tell(start, collector);
        }
        // UDP flows: the destination host counts what arrives on the port before the sender starts.
        var udpFlows = new List<(UdpSpec Spec, string Receiver, Task<UdpSummary> Done)>();
        var flowsFrom = new Dictionary<string, int>();
        foreach (var u in scenario.Traffic.OfType<UdpSpec>())
        {
            // The n-th flow of a host in the scenario sends from port 49152 + n whenever it starts: flows that start
            // together keep their ports (and the tunnel a flow hash puts them in) from run to run.
            var n = flowsFrom[u.From] = flowsFrom.GetValueOrDefault(u.From) + 1;
            var receiver = lab.Nodes.OfType<HostSpec>().FirstOrDefault(h => h.Interfaces.Any(i => i.Address == u.To))?.Name;
            if (!actors.Nodes.TryGetValue(u.From, out var sender)) continue;
            if (receiver is not null && actors.Nodes.TryGetValue(receiver, out var rx))
                await rx.Ask<UdpCounts>(new ListenUdp { Host = receiver, Port = u.Port }, TimeSpan.FromSeconds(5), cancel);
            var run = new StartUdp { Host = u.From, Destination = u.To.ToString(), Port = u.Port, Packets = (uint)u.Packets, Size = (uint)u.Size, RatePps = u.PacketsPerSecond, Scenario = scenario.Name, SourcePort = (uint)(49152 + n % 16384) };
            var length = u.Start + TimeSpan.FromSeconds(u.Packets / Math.Max(1, u.PacketsPerSecond)) + TimeSpan.FromSeconds(15);
            // Each flow starts at its own time from the start of traffic, not after the flows before it.
            udpFlows.Add((u, receiver ?? "", Task.Delay(u.Start, cancel)
                .ContinueWith(_ => sender.Ask<UdpSummary>(run, length, cancel), cancel, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap()));
        }
        // TCP flows: the destination host listens before the client connects; each flow reports when it ends or at its limit.
        var tcpFlows = new List<(TcpSpec Spec, Task<TcpSummary> Done)>();
        foreach (var t in scenario.Traffic.OfType<TcpSpec>())
        {
            // A destination outside the lab (a real peer beyond an external interface) listens by itself.
            var receiver = lab.Nodes.OfType<HostSpec>().FirstOrDefault(h => h.Interfaces.Any(i => i.Address == t.To))?.Name;
            if (!actors.Nodes.TryGetValue(t.From, out var client)) continue;
            if (receiver is not null && actors.Nodes.TryGetValue(receiver, out var server))
                await server.Ask<TcpListening>(new ListenTcp { Host = receiver, Port = t.Port, RequestSize = (uint)t.RequestSize, ResponseSize = (uint)t.ResponseSize }, TimeSpan.FromSeconds(5), cancel);
            var run = new StartTcp
            {
                Host = t.From, Destination = t.To.ToString(), Port = t.Port, Bytes = (ulong)t.Bytes, Requests = (uint)t.Requests,
                RequestSize = (uint)t.RequestSize, ResponseSize = (uint)t.ResponseSize, LimitMs = (ulong)t.Limit.TotalMilliseconds, Scenario = scenario.Name,
            };
            tcpFlows.Add((t, Task.Delay(t.Start, cancel).ContinueWith(_ => client.Ask<TcpSummary>(run, t.Limit + TimeSpan.FromSeconds(15), cancel), cancel, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap()));
        }
        var longest = scenario.Traffic.OfType<PingSpec>().Select(p => p.Start + p.Interval * (options.Count ?? p.Count) + TimeSpan.FromSeconds(15)).DefaultIfEmpty(TimeSpan.FromSeconds(5)).Max();
        var deadline = scenario.Duration is { } d && d > longest ? d : longest;
        var summaries = await collector.Ask<ImmutableList<PingSummary>>(new PingCollector.WaitFor(expected, deadline), deadline + TimeSpan.FromSeconds(5), cancel);
        // A fault after the last ping still happens, and is watched for a moment.
        if (scenario.Faults.Length > 0)
        {
            var lastFault = scenario.Faults.Max(f => f.At) + TimeSpan.FromSeconds(2);
            var elapsed = system.Scheduler.Now - context.Epoch;
            if (lastFault > elapsed) await Task.Delay(lastFault - elapsed, cancel);
        }
        if (options.MinDuration is { } least && clock.Elapsed < least) await Task.Delay(least - clock.Elapsed, cancel);
        if (options.HoldOpen is { } hold) await hold.WaitAsync(cancel);
        var faults = await conductor.Ask<IReadOnlyList<FaultEffect>>(FaultConductor.Finish.Instance, TimeSpan.FromSeconds(15), cancel);
        var traceIds = await collector.Ask<ImmutableList<string>>(new PingCollector.TraceIds(), TimeSpan.FromSeconds(5), cancel);
        var udp = new List<UdpFlowSummary>();
        foreach (var (spec, receiver, done) in udpFlows)
        {
            var sent = await done;
            await Task.Delay(TimeSpan.FromSeconds(1), cancel); // datagrams still in flight
            var counts = actors.Nodes.TryGetValue(receiver, out var rx)
                ? await rx.Ask<UdpCounts>(new QueryUdp { Host = receiver, Port = spec.Port }, TimeSpan.FromSeconds(5), cancel)
                : new UdpCounts();
            udp.Add(new UdpFlowSummary(spec.From, $"{spec.To}:{spec.Port}", (int)sent.Sent, (int)counts.Distinct, (int)counts.Duplicates, (int)counts.OutOfOrder));
        }
        var tcp = new List<TcpFlowSummary>();
        foreach (var (spec, done) in tcpFlows)
        {
            var r = await done;
            tcp.Add(new TcpFlowSummary(spec.From, $"{spec.To}:{spec.Port}", spec.IsBulk ? "bulk" : "request-response", r.Outcome, (long)r.Bytes, (long)r.BytesAcknowledged,
                (long)r.BytesReceived, (int)r.Requests, (int)r.Exchanges, Math.Round(r.DurationMs, 3), Math.Round(r.ThroughputBytesPerSecond * 8 / 1e6, 3), (int)r.Mss, (int)r.PathMtu,
                (long)r.SegmentsSent, (long)r.Retransmissions, (long)r.Timeouts, (long)r.FastRetransmits, (int)r.Stalls, Math.Round(r.LongestStallMs, 3), Math.Round(r.SrttMs, 3),
                Math.Round(r.RtoMs, 3), Math.Round(r.ExchangeAvgMs, 3), Math.Round(r.ExchangeMaxMs, 3)));
        }
        var statuses = new List<NodeStatus>();
        foreach (var (name, node) in actors.Nodes.OrderBy(n => n.Key, StringComparer.Ordinal))
            statuses.Add(await node.Ask<NodeStatus>(new QueryStatus { Requester = "runner" }, TimeSpan.FromSeconds(5), cancel));
        var linkStatuses = new List<NodeStatus>();
        foreach (var (_, link) in actors.Links.OrderBy(l => l.Key, StringComparer.Ordinal))
            linkStatuses.Add(await link.Ask<NodeStatus>(new QueryStatus { Requester = "runner" }, TimeSpan.FromSeconds(5), cancel));
        await stopMetrics.CancelAsync();
        await metricsLoop;
        var azure = AzureDiagnostics.Build(statuses, n => recorder.Snapshot(n).Records, context.Epoch, system.Scheduler.Now, azureMetrics);
        AzureDiagnostics.Publish(azure.Select(a => a.Metrics));
        if (options.DisconnectAtEnd) await Disconnect(lab, actors, cancel);
        await system.Terminate();
        capture?.Dispose();
        telemetry?.Flush();
        var summary = Summarize(topology, scenario, seed, summaries, statuses, linkStatuses, capture, clock.Elapsed, udp, faults, tcp) with { Azure = azure.Count > 0 ? azure : null };
        return telemetry is { Tracing: true } ? summary with { Traces = new TraceSummary(traceIds.FirstOrDefault(), traceIds, telemetry.DroppedSpans) } : summary;
    }

    private static ActorSystem LocalSystem(bool serializeAll)
    {
        var system = ActorSystem.Create(ClusterSettings.SystemName, AkkaConfig(serializeAll));
        NodesSerializer.VerifyBindings(system);
        return system;
    }

    /// <summary>
    /// The actor system of a lab open to live faults: a cluster of one member with the lab role and every node's
    /// name as a role (as if one <c>nodes host</c> hosted them all), bound to loopback unless TLS protects it.
    /// </summary>
    private static ActorSystem ListeningSystem(TopologySpec lab, ListenOptions listen, bool serializeAll)
    {
        if (listen.Tls is null && !new ClusterSettings { Hostname = listen.Hostname }.BindsLoopbackOnly)
            throw new ArgumentException($"a lab listening on {listen.Hostname} without TLS could be changed by anyone who reaches it: listen on 127.0.0.1, or give a TLS certificate");
        var settings = new ClusterSettings
        {
            Hostname = listen.Hostname,
            Port = listen.Port,
            Roles = [ClusterSettings.LabRole, .. lab.Nodes.Select(n => n.Name)],
            Tls = listen.Tls,
            Overrides = serializeAll ? ConfigurationFactory.ParseString("akka.actor.serialize-messages = on") : null,
        };
        return settings.CreateSystem();
    }

    /// <summary>Puts the lab actor at <c>/user/lab</c>, waits until the one-member cluster is up and says where it is.</summary>
    private static async Task OpenAsync(ActorSystem system, TopologySpec topology, ScenarioSpec scenario, TopologySpec lab, ulong seed, double scale, LabActors actors,
        ListenOptions listen, Func<string, IkeActivityLog> ikeActivity, CancellationToken cancel)
    {
        var info = new MemberInfo("run", lab.Nodes.Select(n => n.Name).ToArray(), lab.Links.Select(l => l.Name).ToArray(), topology.Name, "", scenario.Name, seed, scale <= 0 ? 1 : scale, []);
        system.ActorOf(MemberLabActor.Props(info, null, lab.Links, ikeActivity), MemberLabActor.Name).Tell(new MemberLabActor.Hosted(actors.Nodes, actors.Links));
        var cluster = Akka.Cluster.Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (listen.Port == 0) cluster.Join(cluster.SelfAddress);
        if (await Task.WhenAny(up.Task, Task.Delay(TimeSpan.FromSeconds(20), cancel)) != up.Task)
            throw new InvalidOperationException($"the lab could not form its one-member cluster at {cluster.SelfAddress} within 20 s");
        listen.OnListening?.Invoke(cluster.SelfAddress.ToString());
    }

    /// <summary>Asks the Azure gateways for their tunnels every second and publishes Azure's tunnel metrics, until stopped.</summary>
    private static async Task PollAzureMetrics(IReadOnlyList<IActorRef> gateways, AzureMetricsAccumulator metrics, ActorSystem system, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
                var statuses = await Task.WhenAll(gateways.Select(g => g.Ask<NodeStatus>(new QueryStatus { Requester = "metrics" }, TimeSpan.FromSeconds(2), stop)));
                var now = system.Scheduler.Now;
                AzureDiagnostics.Publish(statuses.SelectMany(s => s.Tunnels.Select(t => metrics.Update(s.Node, AzureDiagnostics.Tunnel(t, []), now))).ToList());
            }
            catch (Exception e) when (e is OperationCanceledException or AskTimeoutException)
            {
                // Stopped, or a gateway busy: the next round publishes.
            }
        }
    }

    /// <summary>
    /// Ends the run the way switching the gateways off would: each deletes its IKE SAs, so a real peer on an external
    /// interface learns at once that the tunnel is gone.
    /// </summary>
    private static async Task Disconnect(TopologySpec lab, LabActors actors, CancellationToken cancel)
    {
        var gateways = lab.Nodes.Where(n => n is RrasSpec or AzureVpnGatewaySpec).Select(n => actors.Nodes.GetValueOrDefault(n.Name)).OfType<IActorRef>();
        try
        {
            await Task.WhenAll(gateways.Select(g => g.Ask<Nodes.Actors.Nodes.GatewayActor.DisconnectDone>(new Nodes.Actors.Nodes.GatewayActor.Disconnect(), TimeSpan.FromSeconds(5), cancel)));
        }
        catch (AskTimeoutException)
        {
            // A gateway that cannot say goodbye within the timeout is switched off all the same.
        }
    }

    internal static RunSummary Summarize(TopologySpec topology, ScenarioSpec scenario, ulong seed, IReadOnlyList<PingSummary> pings,
        IReadOnlyList<NodeStatus> nodes, IReadOnlyList<NodeStatus> links, CaptureSink? capture, TimeSpan elapsed,
        IReadOnlyList<UdpFlowSummary>? udp = null, IReadOnlyList<FaultEffect>? faults = null, IReadOnlyList<TcpFlowSummary>? tcp = null)
    {
        udp ??= [];
        tcp ??= [];
        faults ??= [];
        var sent = pings.Sum(p => (int)p.Sent);
        var received = pings.Sum(p => (int)p.Received);
        var answered = pings.Where(p => p.Received > 0).ToList();
        var rtt = answered.Count == 0
            ? new RttSummary(0, 0, 0)
            : new RttSummary(answered.Min(p => p.RttMinMs), answered.Sum(p => p.RttAvgMs * p.Received) / Math.Max(1, received), answered.Max(p => p.RttMaxMs));
        var tunnels = nodes.SelectMany(n => n.Tunnels.Select(t => new TunnelSummary(n.Node, t.Name, t.State,
            new IkeSummary(t.IkeState, $"{t.InitiatorSpi:x16}", $"{t.ResponderSpi:x16}", t.Initiator, t.NatDetected, t.LocalEndpoint, t.RemoteEndpoint, (int)t.IkeRekeys, (int)t.ChildRekeys, t.Suite),
            t.ChildSas.Select(c => new ChildSaSummary($"0x{c.InboundSpi:x8}", $"0x{c.OutboundSpi:x8}", c.Suite, c.PacketsIn, c.PacketsOut, c.LocalTs, c.RemoteTs, c.Encapsulated)).ToArray(),
            t.Failures.ToArray()))).ToList();
        var byNode = nodes.Concat(links).Where(n => n.Drops.Count > 0)
            .ToDictionary(n => n.Node, n => (IReadOnlyDictionary<string, long>)n.Drops.ToDictionary(d => d.Reason, d => (long)d.Count));
        var byReason = byNode.Values.SelectMany(d => d).GroupBy(d => d.Key).ToDictionary(g => g.Key, g => g.Sum(x => x.Value));
        var drops = new DropSummary(byReason.Values.Sum(), byReason, byNode);

        var bgp = nodes.SelectMany(n => n.BgpPeers.Select(b => new BgpSessionSummary(n.Node, b.Name, b.LocalAddress, b.Neighbor, b.Asn, b.State, b.ConnectedMs,
            b.MessagesSent, b.MessagesReceived, b.RoutesReceived, b.RoutesAdvertised, b.Flaps, b.LastError, b.Tunnel, b.HoldTimeS))).ToList();
        var bgpRoutes = nodes.SelectMany(n => n.BgpRoutes.Select(r => new BgpRouteSummary(n.Node, r.Direction, r.Network, r.NextHop, r.AsPath, r.Origin, r.SourcePeer, r.LocalAddress))).ToList();
        var results = new List<ExpectationResult>();
        var e = scenario.Expect;
        if (e.UdpDelivered is { } ud)
        {
            var udpSent = udp.Sum(f => f.Sent);
            var udpReceived = udp.Sum(f => f.Received);
            results.Add(new ExpectationResult($"udp-delivered: {ud.Text}", ud.IsSatisfiedBy(udpReceived, udpSent) && udpSent > 0, $"{udpReceived} of {udpSent} delivered"));
        }
        if (e.TcpCompleted is { } tc)
        {
            var completed = tcp.Count(f => f.Outcome == "completed");
            results.Add(new ExpectationResult($"tcp-completed: {tc.Text}", tc.IsSatisfiedBy(completed, tcp.Count) && tcp.Count > 0,
                $"{completed} of {tcp.Count} completed" + string.Concat(tcp.Where(f => f.Outcome != "completed").Select(f => $"; {f.From} → {f.To} {f.Outcome} after {f.BytesAcknowledged} bytes, {f.Stalls} stall(s)"))));
        }
        if (e.PingsAnswered is { } pa)
            results.Add(new ExpectationResult($"pings-answered: {pa.Text}", pa.IsSatisfiedBy(received, sent) && sent > 0, $"{received} of {sent} answered"));
        foreach (var te in e.Tunnels)
        {
            var candidates = tunnels.Where(t => te.Name is null || t.Name == te.Name).ToList();
            var want = te.State.ToString();
            bool Holds(TunnelSummary t) => t.State == want && (te.NatDetected is null || t.Ike.NatDetected == te.NatDetected);
            var seen = candidates.Count == 0 ? "no such tunnel" : string.Join("; ", candidates.Select(t => $"{t.Node}/{t.Name} {t.State}, NAT {(t.Ike.NatDetected ? "detected" : "not detected")}"));
            // Every tunnel the expectation names (all tunnels when it names none) must be in the expected state.
            results.Add(new ExpectationResult($"tunnel {te.Name ?? "(every tunnel)"}: {want}{(te.NatDetected is { } nd ? $", nat-detected {nd.ToString().ToLowerInvariant()}" : "")}",
                candidates.Count > 0 && candidates.All(Holds), seen));
        }
        foreach (var be in e.Bgp)
        {
            var sessions = bgp.Where(b => b.Node == be.Node && (be.Peer is null || b.Name == be.Peer)).ToList();
            var chosen = bgpRoutes.Where(r => r.Node == be.Node && r.Direction == "learned").Select(r => r.Network).ToHashSet();
            var missing = be.Learned.Where(p => !chosen.Contains(p.ToString())).ToList();
            var unwanted = be.NotLearned.Where(p => chosen.Contains(p.ToString())).ToList();
            var held = sessions.Count > 0 && sessions.All(b => b.State == be.State && (be.MinRoutesReceived is not { } min || b.RoutesReceived >= min)) && missing.Count == 0 && unwanted.Count == 0;
            var detail = sessions.Count == 0 ? "no such session"
                : string.Join("; ", sessions.Select(b => $"{b.Node}/{b.Name} with {b.Neighbor} {b.State}, {b.RoutesReceived} prefix(es) received{(b.LastError.Length > 0 ? $", last: {b.LastError}" : "")}"))
                + (missing.Count > 0 ? $"; not learned: {string.Join(", ", missing)}" : "") + (unwanted.Count > 0 ? $"; learned but must not be: {string.Join(", ", unwanted)}" : "");
            results.Add(new ExpectationResult($"bgp {be.Node}{(be.Peer is null ? "" : "/" + be.Peer)}: {be.State}{(be.MinRoutesReceived is { } m ? $", at least {m} prefix(es)" : "")}"
                + (be.Learned.Length > 0 ? $", learned {string.Join(" ", be.Learned)}" : "") + (be.NotLearned.Length > 0 ? $", not {string.Join(" ", be.NotLearned)}" : ""), held, detail));
        }
        foreach (var (reason, max) in e.MaxDrops)
        {
            var count = reason == "total" ? drops.Total : drops.ByReason.GetValueOrDefault(reason);
            results.Add(new ExpectationResult($"max-drops {reason}: {max}", count <= max, $"{count} dropped"));
        }
        foreach (var (reason, min) in e.MinDrops)
        {
            var count = reason == "total" ? drops.Total : drops.ByReason.GetValueOrDefault(reason);
            results.Add(new ExpectationResult($"min-drops {reason}: {min}", count >= min, $"{count} dropped"));
        }
        foreach (var f in faults)
        {
            var at = $"{f.Fault} at {f.AtMs / 1000:0.###}s";
            results.Add(new ExpectationResult($"fault {at} applied", f.Applied, f.Detail));
            if (e.Faults is not { } fe) continue;
            var gateways = f.Tunnels.Where(t => t.Before is not null).ToList();
            if (fe.SameIkeSa is { } same)
                results.Add(new ExpectationResult($"fault {at}: same-ike-sa {same.ToString().ToLowerInvariant()}", gateways.Count > 0 && gateways.All(t => t.SameIkeSa == same),
                    string.Join("; ", f.Tunnels.Select(t => $"{t.Node}/{t.Tunnel} IKE {t.Before?.IkeSpis ?? "none"} → {t.After?.IkeSpis ?? "none"}"))));
            if (fe.PeerEndpointChanged is { } moved)
                results.Add(new ExpectationResult($"fault {at}: peer-endpoint-changed {moved.ToString().ToLowerInvariant()}", f.Tunnels.Any(t => t.PeerEndpointChanged) == moved,
                    string.Join("; ", f.Tunnels.Select(t => $"{t.Node}/{t.Tunnel} peer {t.Before?.PeerEndpoint ?? "none"} → {t.After?.PeerEndpoint ?? "none"}"))));
            if (fe.MaxPingsLost is { } maxLost)
                results.Add(new ExpectationResult($"fault {at}: max-pings-lost {maxLost}", f.PingsLost <= maxLost, $"{f.PingsLost} of {f.PingsSent} lost"));
            if (fe.MinPingsLost is { } minLost)
                results.Add(new ExpectationResult($"fault {at}: min-pings-lost {minLost}", f.PingsLost >= minLost, $"{f.PingsLost} of {f.PingsSent} lost"));
            var recovery = f.TimeToRecoverMs is { } ms ? $"answered again after {ms / 1000:0.###} s" : f.PingsSent == 0 ? "no ping was sent after the fault" : "never answered again";
            if (fe.Recovers is { } recovers)
                results.Add(new ExpectationResult($"fault {at}: recovers {recovers.ToString().ToLowerInvariant()}", f.PingsSent > 0 && f.Recovered == recovers, recovery));
            if (fe.RecoveredWithin is { } within)
                results.Add(new ExpectationResult($"fault {at}: recovered-within {within.TotalSeconds:0.###}s", f.TimeToRecoverMs is { } t && t <= within.TotalMilliseconds, recovery));
        }
        var failures = tunnels.SelectMany(t => t.Failures.Select(f => $"{t.Node}/{t.Name}: {f}")).Distinct().ToList();
        CaptureSummary? captures = null;
        if (capture is { Directory: not null })
        {
            var files = capture.Files.OrderBy(f => f, StringComparer.Ordinal).ToList();
            captures = new CaptureSummary(capture.Directory, files,
                $"WIRESHARK_CONFIG_DIR={capture.Directory} tshark -r {files.FirstOrDefault(f => f.Contains("internet", StringComparison.OrdinalIgnoreCase)) ?? files.FirstOrDefault() ?? "FILE"}");
        }
        return new RunSummary
        {
            Ok = results.Count > 0 ? results.All(r => r.Met) : (received == sent && sent > 0) || (udp.Count > 0 && udp.All(f => f.Received == f.Sent)) || (tcp.Count > 0 && tcp.All(f => f.Outcome == "completed")),
            Topology = topology.Name,
            Scenario = scenario.Name,
            Seed = seed,
            Pings = new PingTotals(sent, received, rtt),
            Tunnels = tunnels,
            Drops = drops,
            Expectations = results,
            Failures = failures,
            Captures = captures,
            Udp = udp.Count == 0 ? null : new UdpTotals(udp.Sum(f => f.Sent), udp.Sum(f => f.Received), udp),
            Tcp = tcp.Count == 0 ? null : new TcpTotals(tcp.Count, tcp.Count(f => f.Outcome == "completed"), tcp.Sum(f => f.Retransmissions), tcp.Sum(f => f.Stalls), tcp),
            DurationMs = elapsed.TotalMilliseconds,
            Faults = faults.Count == 0 ? null : faults,
            Bgp = bgp.Count == 0 ? null : bgp,
            BgpRoutes = bgp.Count == 0 ? null : bgpRoutes,
        };
    }

    /// <summary>
    /// The targets of each fault of the timeline: a node's actor, a link's actor, or for a partition of a node every
    /// link the node attaches to.
    /// </summary>
    internal static IReadOnlyList<FaultConductor.Planned> PlanFaults(TopologySpec lab, ScenarioSpec scenario, LabActors actors) =>
        PlanFaults(lab, scenario, n => actors.Nodes.GetValueOrDefault(n), l => actors.Links.GetValueOrDefault(l));

    internal static IReadOnlyList<FaultConductor.Planned> PlanFaults(TopologySpec lab, ScenarioSpec scenario, Func<string, IActorRef?> node, Func<string, IActorRef?> link)
    {
        var plan = new List<FaultConductor.Planned>();
        foreach (var f in scenario.Faults.OrderBy(f => f.At))
        {
            var targets = new List<(string, IActorRef)>();
            if (f.Link is { } l && link(l) is { } la) targets.Add((l, la));
            else if (f.Node is { } n && FaultCatalog.Of(f.Kind).Target == FaultTarget.LinkOrNode)
            {
                foreach (var attached in lab.Links.Where(x => x.Endpoints.Any(e => e.Node == n)))
                    if (link(attached.Name) is { } a) targets.Add((attached.Name, a));
            }
            else if (f.Node is { } n2 && node(n2) is { } na) targets.Add((n2, na));
            plan.Add(new FaultConductor.Planned(f, targets));
        }
        return plan;
    }

    /// <summary>Where the event log passes fault answers and events on to (set once the conductor exists).</summary>
    private sealed class EventForward
    {
        public IActorRef? To { get; set; }
    }

    /// <summary>Receives every node's events and hands them, in order, to the terminal (and to the fault conductor).</summary>
    private sealed class EventLog : ReceiveActor
    {
        public EventLog(Action<NodeEvent>? onEvent, Action<FaultApplied>? onFault, EventForward forward)
        {
            Receive<NodeEvent>(e =>
            {
                onEvent?.Invoke(e);
                forward.To?.Tell(e);
            });
            Receive<FaultApplied>(f =>
            {
                onFault?.Invoke(f);
                forward.To?.Tell(f);
            });
        }
    }
}
