using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>A tunnel as one gateway saw it at one moment: what a fault's effect compares before and after.</summary>
public sealed record FaultTunnelView(string State, string IkeSpis, IReadOnlyList<string> ChildSpis, string LocalEndpoint, string PeerEndpoint, int Outages, double DownMs);

/// <summary>What a fault did to one tunnel of one gateway.</summary>
public sealed record FaultTunnelEffect(string Node, string Tunnel, FaultTunnelView? Before, FaultTunnelView? After, bool SameIkeSa, bool SameChildSas,
    bool PeerEndpointChanged, int Outages, double TunnelDownMs);

/// <summary>
/// One injected fault and what followed it, from the moment it was applied until the next fault (or the end of the
/// run): pings sent and lost in that window, when pings were answered again, each tunnel's SPIs and peer endpoint
/// before and after, every drop by reason, and what the nodes said.
/// </summary>
public sealed record FaultEffect(
    string Fault,
    IReadOnlyList<string> Targets,
    string Origin,
    double AtMs,
    bool Applied,
    string Detail,
    IReadOnlyDictionary<string, string> Params,
    int PingsSent,
    int PingsLost,
    bool Recovered,
    double? TimeToRecoverMs,
    IReadOnlyList<FaultTunnelEffect> Tunnels,
    IReadOnlyDictionary<string, long> Drops,
    IReadOnlyList<string> Events);

/// <summary>
/// Runs a scenario's fault timeline and measures every fault's effect, in one process or from a cluster driver:
/// at each fault's time it snapshots every node and link (status and drops), injects the fault into its targets,
/// and records the answers; faults injected live (<c>nodes fault</c>) arrive as <see cref="FaultApplied"/> through
/// the lab's events and are measured the same way. Ping results come from the ping collector, node events from the
/// event log.
/// </summary>
public sealed class FaultConductor : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>One fault of the timeline and the actors it goes to (a partition of a node goes to each of its links).</summary>
    public sealed record Planned(FaultSpec Spec, IReadOnlyList<(string Target, IActorRef Actor)> Targets);

    /// <summary>Ends the run's measurements; answered with the effects, in the order the faults happened.</summary>
    public sealed record Finish : INoSerializationVerificationNeeded
    {
        public static readonly Finish Instance = new();
    }

    /// <summary>
    /// Asked before traffic starts: answered with <see cref="Started"/> once every fault at 0 s has been applied by each
    /// of its targets (they are part of the lab from its first packet), or after <see cref="StartPatience"/>.
    /// </summary>
    public sealed record WhenStarted : INoSerializationVerificationNeeded
    {
        public static readonly WhenStarted Instance = new();
    }

    public sealed record Started : INoSerializationVerificationNeeded
    {
        public static readonly Started Instance = new();
    }

    /// <summary>How long <see cref="WhenStarted"/> waits for the targets of the faults at 0 s to answer.</summary>
    public static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(10);

    private sealed record StartDue : INoSerializationVerificationNeeded
    {
        public static readonly StartDue Instance = new();
    }

    private readonly List<IActorRef> _waitingForStart = [];

    private sealed record Due(int Index) : INoSerializationVerificationNeeded;

    private sealed record Snapshot(Injection Injection, IReadOnlyList<NodeStatus> Statuses) : INoSerializationVerificationNeeded;

    private sealed record FinalSnapshot(IActorRef ReplyTo, IReadOnlyList<NodeStatus> Statuses) : INoSerializationVerificationNeeded;

    private sealed class Injection(string id, string fault, string origin, IReadOnlyDictionary<string, string> parameters)
    {
        public string Id { get; } = id;
        public string Fault { get; } = fault;
        public string Origin { get; } = origin;
        public IReadOnlyDictionary<string, string> Params { get; } = parameters;
        public DateTimeOffset At { get; set; }
        public IReadOnlyList<NodeStatus> Before { get; set; } = [];
        public List<FaultApplied> Answers { get; } = [];
        public List<string> Targets { get; } = [];
    }

    private readonly IReadOnlyList<Planned> _plan;
    private readonly IReadOnlyList<IActorRef> _observed;
    private readonly DateTimeOffset _start;
    private readonly List<Injection> _injections = [];
    private readonly List<PingResult> _pings = [];
    private readonly List<NodeEvent> _events = [];
    private readonly Dictionary<string, Injection> _live = [];
    private int _inFlight;
    private IActorRef? _finishing;
    private bool _answered;

    /// <summary>How long <see cref="Finish"/> waits for snapshots still being taken before it answers with what it has.</summary>
    public static readonly TimeSpan FinishPatience = TimeSpan.FromSeconds(10);

    private sealed record FinishDue(IActorRef ReplyTo) : INoSerializationVerificationNeeded;
    private bool _timelineBusy;
    private readonly Queue<Due> _due = new();

    public FaultConductor(IReadOnlyList<Planned> plan, IReadOnlyList<IActorRef> observed, DateTimeOffset start)
    {
        _plan = plan;
        _observed = observed;
        _start = start;
        Receive<Due>(d =>
        {
            // Faults happen in timeline order: one whose snapshot is still being taken goes first.
            if (_timelineBusy)
            {
                _due.Enqueue(d);
                return;
            }
            _timelineBusy = true;
            var p = _plan[d.Index];
            var injection = new Injection($"f{d.Index + 1}", p.Spec.Name, "timeline", p.Spec.Parameters);
            injection.Targets.AddRange(p.Targets.Select(t => t.Target));
            TakeSnapshot(injection);
        });
        Receive<Snapshot>(s =>
        {
            _inFlight--;
            _live.Remove(s.Injection.Id);
            s.Injection.Before = s.Statuses;
            s.Injection.At = Context.System.Scheduler.Now;
            _injections.Add(s.Injection);
            if (_inFlight == 0 && _finishing is { } waiting)
            {
                _finishing = null;
                Statuses().PipeTo(Self, success: st => new FinalSnapshot(waiting, st));
            }
            if (s.Injection.Origin != "timeline") return;
            _timelineBusy = false;
            if (_due.Count > 0) Self.Tell(_due.Dequeue());
            var p = _plan[int.Parse(s.Injection.Id[1..], System.Globalization.CultureInfo.InvariantCulture) - 1];
            foreach (var (target, actor) in p.Targets)
            {
                var inject = new InjectFault { Id = s.Injection.Id, Fault = p.Spec.Name, Origin = "timeline" };
                if (p.Spec.Node is { } n) inject.Node = n;
                if (p.Spec.Link is { } l) inject.Link = l;
                inject.Params.Add(p.Spec.Parameters);
                actor.Tell(inject, Self);
            }
        });
        Receive<FaultApplied>(a =>
        {
            if (a.Origin == "timeline")
            {
                // The answer to our own injection (it also comes through the events: keep one).
                var mine = _injections.FirstOrDefault(i => i.Id == a.Id);
                if (mine is not null && !mine.Answers.Any(x => x.Target == a.Target)) mine.Answers.Add(a);
                if (_waitingForStart.Count > 0 && StartFaultsApplied) AnswerStart();
                return;
            }
            // A fault injected live: measured from now, against the state right after it. A fault with several targets
            // (a partition of a node) answers once per target: one injection, however the answers interleave with its snapshot.
            var live = _injections.FirstOrDefault(i => i.Origin != "timeline" && i.Id == a.Id) ?? _live.GetValueOrDefault(a.Id);
            if (live is not null)
            {
                if (!live.Answers.Any(x => x.Target == a.Target))
                {
                    live.Answers.Add(a);
                    live.Targets.Add(a.Target);
                }
                return;
            }
            var injection = new Injection(a.Id, a.Fault, a.Origin.Length > 0 ? a.Origin : "live", a.Params.ToDictionary());
            injection.Targets.Add(a.Target);
            injection.Answers.Add(a);
            _live[a.Id] = injection;
            TakeSnapshot(injection);
        });
        Receive<WhenStarted>(_ =>
        {
            if (StartFaultsApplied)
            {
                Sender.Tell(Started.Instance);
                return;
            }
            _waitingForStart.Add(Sender);
            if (!Timers.IsTimerActive("start")) Timers.StartSingleTimer("start", StartDue.Instance, StartPatience);
        });
        Receive<StartDue>(_ => AnswerStart());
        Receive<PingResult>(_pings.Add);
        Receive<NodeEvent>(e =>
        {
            if (_events.Count < 20_000) _events.Add(e);
        });
        Receive<Finish>(_ =>
        {
            var replyTo = Sender;
            // A fault whose snapshot is still being taken is waited for, so that a late live fault is in the summary;
            // but not for ever: a member that restarted (or a machine that is starved) must not cost the run its summary.
            Timers.StartSingleTimer("finish", new FinishDue(replyTo), FinishPatience);
            if (_inFlight > 0) _finishing = replyTo;
            else Statuses().PipeTo(Self, success: s => new FinalSnapshot(replyTo, s));
        });
        Receive<FinalSnapshot>(f =>
        {
            if (_answered) return;
            _answered = true;
            Timers.Cancel("finish");
            f.ReplyTo.Tell(Effects(f.Statuses));
        });
        Receive<FinishDue>(f =>
        {
            if (_answered) return;
            // The effects with what is known: each fault against the snapshot of the next, the last one without a final
            // status; a live fault whose snapshot never came is counted from now, with no state before it.
            _answered = true;
            _finishing = null;
            foreach (var waiting in _live.Values)
            {
                waiting.At = Context.System.Scheduler.Now;
                _injections.Add(waiting);
            }
            _live.Clear();
            f.ReplyTo.Tell(Effects([]));
        });
    }

    public static Props Props(IReadOnlyList<Planned> plan, IReadOnlyList<IActorRef> observed, DateTimeOffset start) =>
        Akka.Actor.Props.Create(() => new FaultConductor(plan, observed, start));

    protected override void PreStart()
    {
        for (var i = 0; i < _plan.Count; i++)
        {
            if (_plan[i].Spec.At <= TimeSpan.Zero)
            {
                // A fault at 0 s is part of the lab from the start: injected before any traffic, nothing to measure before it.
                var injection = new Injection($"f{i + 1}", _plan[i].Spec.Name, "timeline", _plan[i].Spec.Parameters);
                injection.Targets.AddRange(_plan[i].Targets.Select(t => t.Target));
                _inFlight++;
                Self.Tell(new Snapshot(injection, []));
                continue;
            }
            var delay = _plan[i].Spec.At - (Context.System.Scheduler.Now - _start);
            Timers.StartSingleTimer($"fault-{i}", new Due(i), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
    }

    /// <summary>Every target of every fault at 0 s has answered its injection.</summary>
    private bool StartFaultsApplied =>
        _plan.Select((p, i) => (Plan: p, Id: $"f{i + 1}")).Where(x => x.Plan.Spec.At <= TimeSpan.Zero)
            .All(x => _injections.FirstOrDefault(j => j.Id == x.Id) is { } injection && x.Plan.Targets.All(t => injection.Answers.Any(a => a.Target == t.Target)));

    private void AnswerStart()
    {
        Timers.Cancel("start");
        foreach (var w in _waitingForStart) w.Tell(Started.Instance);
        _waitingForStart.Clear();
    }

    private void TakeSnapshot(Injection injection)
    {
        _inFlight++;
        Statuses().PipeTo(Self, success: s => new Snapshot(injection, s));
    }

    /// <summary>Every node's and link's status now; one that does not answer in time is left out.</summary>
    private async Task<IReadOnlyList<NodeStatus>> Statuses()
    {
        var asks = _observed.Select(async a =>
        {
            try
            {
                return await a.Ask<NodeStatus>(new QueryStatus { Requester = "faults" }, TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return null;
            }
        }).ToArray();
        var all = await Task.WhenAll(asks);
        return all.OfType<NodeStatus>().ToArray();
    }

    private IReadOnlyList<FaultEffect> Effects(IReadOnlyList<NodeStatus> final)
    {
        var ordered = _injections.OrderBy(i => i.At).ToList();
        var effects = new List<FaultEffect>();
        for (var k = 0; k < ordered.Count; k++)
        {
            var i = ordered[k];
            var next = k + 1 < ordered.Count ? ordered[k + 1] : null;
            var after = next?.Before ?? final;
            var from = i.At.ToUnixTimeMilliseconds();
            var until = next?.At.ToUnixTimeMilliseconds() ?? long.MaxValue;
            var window = _pings.Where(p => p.SentAtUnixMs >= from && p.SentAtUnixMs < until).OrderBy(p => p.SentAtUnixMs).ToList();
            var lost = window.Where(p => !p.Answered).ToList();
            bool recovered;
            double? recoverMs;
            if (lost.Count == 0)
            {
                recovered = window.Count > 0;
                recoverMs = window.Count > 0 ? 0 : null;
            }
            else
            {
                var lastLost = lost[^1].SentAtUnixMs;
                var back = window.FirstOrDefault(p => p.Answered && p.SentAtUnixMs > lastLost);
                recovered = back is not null;
                recoverMs = back is null ? null : back.SentAtUnixMs + back.RttMs - from;
            }
            var events = _events.Where(e => e.AtUnixMs >= from && e.AtUnixMs < until && e.Kind is "ike" or "ipsec" or "nat" or "fault")
                .Take(40).Select(e => $"+{(e.AtUnixMs - from) / 1000.0:0.000}s {e.Node}: {e.Text}").ToList();
            var answers = i.Answers;
            effects.Add(new FaultEffect(
                i.Fault,
                i.Targets.Count > 0 ? i.Targets : answers.Select(a => a.Target).ToList(),
                i.Origin,
                (i.At - _start).TotalMilliseconds,
                answers.Count > 0 && answers.All(a => a.Ok),
                answers.Count == 0 ? "no answer from the target" : string.Join(" | ", answers.Select(a => answers.Count > 1 ? $"{a.Target}: {a.Detail}" : a.Detail)),
                FaultValues.Redact(i.Fault, i.Params),
                window.Count,
                lost.Count,
                recovered,
                recoverMs,
                TunnelEffects(i.Before, after),
                DropDelta(i.Before, after),
                events));
        }
        return effects;
    }

    private static FaultTunnelView View(TunnelStatus t) => new(
        t.State,
        $"{t.InitiatorSpi:x16}/{t.ResponderSpi:x16}",
        t.ChildSas.Select(c => $"0x{c.InboundSpi:x8}/0x{c.OutboundSpi:x8}").ToArray(),
        t.LocalEndpoint,
        t.RemoteEndpoint,
        (int)t.Outages,
        t.DownMs);

    private static IReadOnlyList<FaultTunnelEffect> TunnelEffects(IReadOnlyList<NodeStatus> before, IReadOnlyList<NodeStatus> after)
    {
        static Dictionary<(string, string), FaultTunnelView> Index(IReadOnlyList<NodeStatus> s) =>
            s.SelectMany(n => n.Tunnels.Select(t => ((n.Node, t.Name), View(t)))).ToDictionary(x => x.Item1, x => x.Item2);
        var b = Index(before);
        var a = Index(after);
        return b.Keys.Union(a.Keys).OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal).Select(k =>
        {
            var x = b.GetValueOrDefault(k);
            var y = a.GetValueOrDefault(k);
            var sameIke = x is not null && y is not null && x.IkeSpis == y.IkeSpis && x.IkeSpis != $"{0:x16}/{0:x16}";
            var sameChild = x is not null && y is not null && x.ChildSpis.Count > 0 && x.ChildSpis.SequenceEqual(y.ChildSpis);
            var moved = x is not null && y is not null && x.PeerEndpoint.Length > 0 && y.PeerEndpoint.Length > 0 && x.PeerEndpoint != y.PeerEndpoint;
            return new FaultTunnelEffect(k.Item1, k.Item2, x, y, sameIke, sameChild, moved,
                (y?.Outages ?? 0) - (x?.Outages ?? 0), Math.Max(0, (y?.DownMs ?? 0) - (x?.DownMs ?? 0)));
        }).ToList();
    }

    private static IReadOnlyDictionary<string, long> DropDelta(IReadOnlyList<NodeStatus> before, IReadOnlyList<NodeStatus> after)
    {
        static Dictionary<string, long> Sum(IReadOnlyList<NodeStatus> s) =>
            s.SelectMany(n => n.Drops).GroupBy(d => d.Reason).ToDictionary(g => g.Key, g => g.Sum(d => (long)d.Count));
        var b = Sum(before);
        var a = Sum(after);
        return a.Select(kv => (kv.Key, Delta: kv.Value - b.GetValueOrDefault(kv.Key))).Where(x => x.Delta > 0)
            .OrderBy(x => x.Key, StringComparer.Ordinal).ToImmutableSortedDictionary(x => x.Key, x => x.Delta, StringComparer.Ordinal);
    }
}
