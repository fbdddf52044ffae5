using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Telemetry;

namespace Nodes.Actors.Nodes;

/// <summary>
/// What every node actor does: knows its links, sends frames, counts what it receives and drops, reports events
/// and answers status queries. Subclasses are thin: they hand frames to a pure model (host stack, router, NAT,
/// IKE and ESP engines) and carry out what the model returns.
/// </summary>
public abstract class NodeActor : ReceiveActor, IWithTimers
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
        Receive<QueryStatus>(OnQueryStatus);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected string Name { get; }
    protected string Kind { get; }
    protected LabContext Lab { get; }
    /// <summary>Drops by reason name ("link-loss", "esp-replay", ...).</summary>
    protected Dictionary<string, long> Drops { get; } = [];
    protected ulong FramesIn { get; set; }
    protected ulong FramesOut { get; set; }

    /// <summary>The node's tag for metrics.</summary>
    protected KeyValuePair<string, object?> NodeTag => _nodeTag;

    /// <summary>Counts a received frame (status and the nodes.packets.in metric).</summary>
    protected void CountIn()
    {
        FramesIn++;
        if (NodesTelemetry.PacketsIn.Enabled) NodesTelemetry.PacketsIn.Add(1, _nodeTag);
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
        a.LinkActor.Tell(t.ToFrame(Name, a, traceparent, ++_sequence));
    }

    protected void Send(IEnumerable<Transmission> transmissions, string traceparent = "")
    {
        foreach (var t in transmissions) Send(t, traceparent);
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
