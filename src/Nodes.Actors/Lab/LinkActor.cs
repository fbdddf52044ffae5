using Akka.Actor;
using Google.Protobuf;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Links;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Lab;

/// <summary>
/// One link of the lab (point-to-point or a shared segment) over the pure <see cref="LinkModel"/>: applies the
/// netem-style impairments from a seeded generator and delivers each frame after its delay. On a segment a frame goes
/// to the interface that owns its next hop (what ARP does on a real LAN).
/// </summary>
public sealed class LinkActor : ReceiveActor, IWithUnboundedStash
{
    private readonly LinkSpec _spec;
    private readonly LabContext _lab;
    private readonly string _name;
    private LinkModel? _model;
    private Dictionary<string, (IActorRef Node, string NodeName, string Interface, Ipv4Address Address)> _ends = [];
    private readonly Dictionary<string, long> _drops = [];
    private long _carried;

    public sealed record End(string Attachment, string NodeName, string Interface, Ipv4Address Address, IActorRef Node);

    public LinkActor(LinkSpec spec, LabContext lab)
    {
        _lab = lab;
        _spec = spec;
        _name = spec.Name;
        Receive<Connect>(m =>
        {
            var ends = m.Ends;
            _ends = ends.ToDictionary(e => e.Attachment, e => (e.Node, e.NodeName, e.Interface, e.Address));
            var impairments = ToModel(_spec.Impairments, _spec.Mtu);
            var seed = DeterministicRandom.Derive(_lab.Seed, _spec.Name);
            _model = _spec.Segment is not null || ends.Count != 2
                ? LinkModel.Segment(_spec.Name, ends.Select(e => e.Attachment), seed, impairments)
                : LinkModel.PointToPoint(_spec.Name, ends[0].Attachment, ends[1].Attachment, seed, impairments, impairments);
            Stash.UnstashAll();
        });
        Receive<Frame>(f =>
        {
            if (_model is null) Stash.Stash(); // a node spoke before the link knew its ends
            else OnFrame(f);
        });
        Receive<QueryStatus>(_ =>
        {
            var s = new NodeStatus { Node = _name, Kind = "link", FramesIn = (ulong)_carried };
            foreach (var (r, c) in _drops) s.Drops.Add(new DropCount { Reason = r, Count = (ulong)c });
            Sender.Tell(s);
        });
        Receive<SetLinkUp>(m => _model?.SetUp(m.Up));
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(LinkSpec spec, LabContext lab) => Akka.Actor.Props.Create(() => new LinkActor(spec, lab));

    /// <summary>Tells the link which node actors sit at its ends (sent once, right after the nodes exist).</summary>
    public sealed record Connect(IReadOnlyList<End> Ends) : INoSerializationVerificationNeeded;

    /// <summary>Brings the link up or down (a fault).</summary>
    public sealed record SetLinkUp(bool Up) : INoSerializationVerificationNeeded;

    public static string AttachmentName(string node, string iface) => $"{node}:{iface}";

    private void OnFrame(Frame frame)
    {
        var from = AttachmentName(frame.Node, frame.Interface);
        if (!_ends.ContainsKey(from)) return;
        var now = Context.System.Scheduler.Now;
        _carried++;
        _lab.Capture?.Record(_name, now, frame.Packet.Span);
        var result = _model!.Transmit(from, frame.Packet.Span, _lab.Since(now));
        if (result.Drop != DropReason.None)
        {
            Count(result.Drop.ToName());
            if (NodesTelemetry.PacketsDropped.Enabled)
                NodesTelemetry.PacketsDropped.Add(1, NodesTelemetry.NodeTag(frame.Node), new(Attr.DropReason, result.Drop.ToName()), new(Attr.Link, _name));
            // Only a lost frame gets a span here (under the sending node): the journey's trace ends with the reason.
            if (result.Deliveries.Count == 0)
            {
                using var span = Spans.Continue(frame.Node, "link transmit", frame.Traceparent);
                span?.SetTag(Attr.Link, _name);
                Spans.Dropped(span, result.Drop.ToName());
            }
        }
        var nextHop = new Ipv4Address(frame.NextHop);
        foreach (var d in result.Deliveries)
        {
            var end = _ends[d.To];
            // On a shared segment only the owner of the next hop takes the frame (broadcast goes to all).
            if (_model!.Kind == LinkKind.Segment && nextHop != Ipv4Address.Broadcast && end.Address != nextHop) continue;
            var delivered = new Frame
            {
                Link = _name,
                Node = end.NodeName,
                Interface = end.Interface,
                Packet = UnsafeByteOperations.UnsafeWrap(d.Frame),
                Traceparent = frame.Traceparent,
                Tracestate = frame.Tracestate,
                Sequence = frame.Sequence,
                NextHop = frame.NextHop,
            };
            var delay = d.DeliverAt - _lab.Since(now);
            if (delay <= TimeSpan.Zero) end.Node.Tell(delivered, Self);
            else Context.System.Scheduler.ScheduleTellOnce(delay, end.Node, delivered, Self);
        }
    }

    private void Count(string reason) => _drops[reason] = _drops.GetValueOrDefault(reason) + 1;

    /// <summary>The topology's netem values as the link model's parameters.</summary>
    public static LinkImpairments ToModel(ImpairmentSpec s, int? mtu) => new()
    {
        Delay = s.Delay?.Value ?? TimeSpan.Zero,
        Jitter = s.Jitter?.Value ?? TimeSpan.Zero,
        Loss = s.Loss?.Percent ?? 0,
        LossCorrelation = s.Correlation?.Percent ?? 0,
        Duplicate = s.Duplicate?.Percent ?? 0,
        Reorder = s.Reorder?.Percent ?? 0,
        Corrupt = s.Corrupt?.Percent ?? 0,
        RateBitsPerSecond = s.Rate?.BitsPerSecond ?? 0,
        Mtu = mtu,
    };
}
