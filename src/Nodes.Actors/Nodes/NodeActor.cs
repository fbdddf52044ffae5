using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Telemetry;
using Nodes.Topology.Model;

namespace Nodes.Actors.Nodes;

/// <summary>
/// What every node actor does: knows its links, sends frames, counts what it receives and drops, reports events
/// and answers status queries. Subclasses are thin: they hand frames to a pure model (host stack, router, NAT,
/// IKE and ESP engines) and carry out what the model returns.
/// <para>
/// A node takes its messages in one <see cref="Receive"/> switch (and a subclass in <see cref="OnMessage"/>) rather than
/// through Akka's typed handler tables: those cost an object and a delegate a handler in every actor, about 1 KB a node,
/// and a generated hub has three nodes a branch.
/// </para>
/// </summary>
public abstract class NodeActor : ActorBase, IWithTimers
{
    private readonly Dictionary<string, Attachment> _attachments;
    private ulong _sequence;
    private readonly KeyValuePair<string, object?> _nodeTag;

    protected NodeActor(string name, string kind, IEnumerable<Attachment> attachments, LabContext lab)
    {
        Name = name;
        Kind = kind;
        Lab = lab;
        _attachments = attachments.ToDictionary(a => a.Interface);
        _nodeTag = NodesTelemetry.NodeTag(name);
        if (lab.Carried.TryRemove(name, out var carried))
        {
            FramesIn = carried.FramesIn;
            FramesOut = carried.FramesOut;
            foreach (var (reason, count) in carried.Drops) Drops[reason] = count;
            Incarnation = carried.Incarnation;
        }
    }

    protected sealed override bool Receive(object message)
    {
        switch (message)
        {
            case QueryStatus query:
                OnQueryStatus(query);
                return true;
            case InjectFault fault:
                OnInjectFault(fault);
                return true;
            case RestartNode:
                Restart("restarting after the crash", null);
                return true;
            default:
                return OnMessage(message);
        }
    }

    /// <summary>A message for this kind of node; false when it is none of its (Akka then treats it as unhandled).</summary>
    protected abstract bool OnMessage(object message);

    // -------------------------------------------------------------------------------------------------------
    // Faults

    /// <summary>What a node did with a fault: applied (with what changed) or refused (with why).</summary>
    protected readonly record struct FaultOutcome(bool Ok, string Detail)
    {
        public static FaultOutcome Applied(string detail) => new(true, detail);

        public static FaultOutcome Refused(string why) => new(false, why);
    }

    /// <summary>The node restarts itself: Akka's supervisor builds it anew from its configuration, state gone.</summary>
    public sealed class NodeRestartRequested(string node) : Exception($"node {node} restarts (a node-restart fault)");

    private sealed record RestartNode : INoSerializationVerificationNeeded;

    private void OnInjectFault(InjectFault f)
    {
        var info = FaultCatalog.Find(f.Fault);
        FaultOutcome outcome;
        if (info is null) outcome = FaultOutcome.Refused($"unknown fault '{f.Fault}' (faults: {string.Join(", ", FaultCatalog.Names)})");
        else if (FaultValues.Check(info.Kind, f.Params).FirstOrDefault() is { Problem: { } problem } bad) outcome = FaultOutcome.Refused($"{problem} ({bad.Hint})");
        else outcome = info.Kind switch
        {
            FaultKind.NodeCrash => Crash(f),
            FaultKind.NodeRestart => Restart("restarting", f),
            _ => OnFault(info.Kind, f),
        };
        if (info?.Kind == FaultKind.NodeRestart && outcome.Ok) return; // answered before the restart
        Answer(f, outcome);
    }

    private void Answer(InjectFault f, FaultOutcome outcome)
    {
        var applied = new FaultApplied { Id = f.Id, Fault = f.Fault, Target = Name, Ok = outcome.Ok, Detail = outcome.Detail, AtUnixMs = Now.ToUnixTimeMilliseconds(), Origin = f.Origin, Params = { f.Params } };
        if (!Sender.IsNobody()) Sender.Tell(applied);
        Lab.Events.Tell(applied); // whoever watches the lab's events (a run's summary) learns of faults injected live too
        Report("fault", $"{f.Fault}{(outcome.Ok ? "" : " refused")}: {outcome.Detail}");
        if (Spans.Listening)
        {
            // A fault is an event in the lab's life: a span of its own under the node, with what it changed.
            var span = Spans.StartRoot(Name, "fault " + f.Fault);
            span?.SetTag(Attr.FaultName, f.Fault);
            span?.SetTag(Attr.FaultDetail, outcome.Detail);
            if (!outcome.Ok) span?.SetStatus(ActivityStatusCode.Error, outcome.Detail);
            Spans.StopDetached(span);
        }
    }

    /// <summary>A fault for this kind of node (everything but crash and restart, which every node takes).</summary>
    protected virtual FaultOutcome OnFault(FaultKind kind, InjectFault f) =>
        FaultOutcome.Refused($"a {Kind} node cannot take '{f.Fault}' ({FaultCatalog.TargetText(FaultCatalog.Of(kind).Target)} can)");

    /// <summary>Reads a duration parameter (or its default); null when absent.</summary>
    protected static TimeSpan? DurationParam(InjectFault f, FaultKind kind, string name) =>
        FaultValues.Get(f.Params, kind, name) is { } v && FaultValues.TryDuration(v, out var d) ? d : null;

    private FaultOutcome Crash(InjectFault f)
    {
        var restartAfter = DurationParam(f, FaultKind.NodeCrash, "for");
        foreach (var child in Context.GetChildren()) Context.Stop(child);
        Timers.CancelAll();
        OnCrash();
        if (restartAfter is { } after) Timers.StartSingleTimer("restart", new RestartNode(), after);
        Become(Crashed);
        return FaultOutcome.Applied($"{Name} is down: every frame it receives is lost and its state is gone{(restartAfter is { } a ? $"; it restarts in {a.TotalSeconds:0.###} s" : "")}");
    }

    /// <summary>Called when the node crashes, before it stops answering: let go of what the node holds outside itself.</summary>
    protected virtual void OnCrash()
    {
    }

    private bool Crashed(object message)
    {
        switch (message)
        {
            case Frame:
                Drops["node-down"] = Drops.GetValueOrDefault("node-down") + 1;
                break;
            case QueryStatus:
                var s = new NodeStatus { Node = Name, Kind = Kind, FramesIn = FramesIn, FramesOut = FramesOut };
                foreach (var (reason, count) in Drops.OrderBy(d => d.Key, StringComparer.Ordinal)) s.Drops.Add(new DropCount { Reason = reason, Count = (ulong)count });
                Sender.Tell(s);
                break;
            case InjectFault f:
                if (f.Fault == FaultCatalog.Of(FaultKind.NodeRestart).Name) Restart("restarting", f);
                else Answer(f, FaultOutcome.Refused($"{Name} is down (crashed); restart it first"));
                break;
            case RestartNode:
                Restart("restarting after the crash", null);
                break;
        }
        return true; // timers of the old state, SA actors' last words: a crashed node hears nothing
    }

    private FaultOutcome Restart(string what, InjectFault? f)
    {
        var outcome = FaultOutcome.Applied($"{Name} {what}: configuration kept, every SA, mapping and queue gone");
        if (f is not null) Answer(f, outcome);
        else Report("fault", $"node-restart: {outcome.Detail}");
        Lab.Carried[Name] = new NodeCountersCarried(FramesIn, FramesOut, new Dictionary<string, long>(Drops), Incarnation + 1);
        throw new NodeRestartRequested(Name);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected string Name { get; }
    protected string Kind { get; }
    protected LabContext Lab { get; }
    /// <summary>Drops by reason name ("link-loss", "esp-replay", ...).</summary>
    protected Dictionary<string, long> Drops => _drops ??= []; // made at the first drop or status: most nodes of a big lab never drop
    private Dictionary<string, long>? _drops;
    protected ulong FramesIn { get; set; }
    protected ulong FramesOut { get; set; }
    /// <summary>0 for the node as built, then one more per restart: part of the names of its seeded random streams.</summary>
    protected int Incarnation { get; }

    /// <summary>The node's tag for metrics.</summary>
    protected KeyValuePair<string, object?> NodeTag => _nodeTag;

    /// <summary>Counts a received frame (status and the nodes.packets.in metric).</summary>
    protected void CountIn()
    {
        FramesIn++;
        if (NodesTelemetry.PacketsIn.Enabled) NodesTelemetry.PacketsIn.Add(1, _nodeTag);
    }

    /// <summary>The span of a frame's step through this node ("forward"), continuing the frame's trace; null when nobody listens.</summary>
    protected Activity? ForwardSpan(Frame frame)
    {
        var span = Spans.Continue(Name, SpanNames.Forward, frame.Traceparent);
        if (span is null) return null;
        span.SetTag(Attr.Link, frame.Link);
        span.SetTag(Attr.IngressInterface, frame.Interface);
        Spans.TagPacket(span, frame.Packet.Span);
        return span;
    }

    /// <summary>Now, as the scheduler sees it (virtual under a test scheduler).</summary>
    protected DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>Now as lab time, for the network models.</summary>
    protected TimeSpan LabNow => Lab.Since(Now);

    /// <summary>Puts a datagram on the link of its egress interface.</summary>
    protected void Send(Transmission t, string traceparent = "")
    {
        if (!_attachments.TryGetValue(t.Interface, out var a))
        {
            Drop(DropReason.UnknownInterface.ToName());
            return;
        }
        FramesOut++;
        if (NodesTelemetry.PacketsOut.Enabled) NodesTelemetry.PacketsOut.Add(1, _nodeTag);
        var sequence = ++_sequence;
        if (a.Shortcut is { } shortcut && shortcut.TrySend(Name, t, traceparent, sequence)) return;
        a.LinkActor.Tell(t.ToFrame(Name, a, traceparent, sequence));
    }

    protected void Send(IReadOnlyList<Transmission> transmissions, string traceparent = "")
    {
        for (var i = 0; i < transmissions.Count; i++) Send(transmissions[i], traceparent);
    }

    protected void Drop(DropReason reason, string? detail = null) => Drop(reason.ToName(), detail);

    protected void Drop(string reason, string? detail = null)
    {
        Drops[reason] = Drops.GetValueOrDefault(reason) + 1;
        if (NodesTelemetry.PacketsDropped.Enabled) NodesTelemetry.PacketsDropped.Add(1, _nodeTag, new KeyValuePair<string, object?>(Attr.DropReason, reason));
        // The span of the step that dropped the packet (open while the handler runs) fails with the reason.
        if (Spans.Listening && Activity.Current is { } span && span.Source == NodesTelemetry.Source) Spans.Dropped(span, reason, detail);
        if (detail is not null) Report("drop", $"{reason}: {detail}");
    }

    /// <summary>A line for the terminal and the run summary.</summary>
    protected void Report(string kind, string text, string traceparent = "") =>
        Lab.Events.Tell(new NodeEvent { Node = Name, Kind = kind, Text = text, AtUnixMs = Now.ToUnixTimeMilliseconds(), Traceparent = traceparent });

    /// <summary>Answers a status query; a node whose status needs its children's counters first overrides this.</summary>
    protected virtual void OnQueryStatus(QueryStatus query) => Sender.Tell(Status());

    /// <summary>The node's status; gateways add their tunnels.</summary>
    protected virtual NodeStatus Status()
    {
        var s = new NodeStatus { Node = Name, Kind = Kind, FramesIn = FramesIn, FramesOut = FramesOut };
        foreach (var (reason, count) in Drops.OrderBy(d => d.Key, StringComparer.Ordinal)) s.Drops.Add(new DropCount { Reason = reason, Count = (ulong)count });
        return s;
    }
}
