using Akka.Actor;
using Google.Protobuf;
using Nodes.Actors.Nodes;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Links;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Lab;

/// <summary>
/// One link of the lab (point-to-point or a shared segment) over the pure <see cref="LinkModel"/>: applies the
/// netem-style impairments from a seeded generator and delivers each frame after its delay. On a segment a frame goes
/// to the interface that owns its next hop (what ARP does on a real LAN). While the link delivers everything at once
/// and unchanged and nothing captures it, the nodes pass frames through its <see cref="LinkShortcut"/> instead, and
/// the link only counts them; the model's own per-direction counters see only the frames that went through it.
/// Its messages are taken in one <see cref="Receive"/> switch, as a node's are (see <see cref="NodeActor"/>).
/// </summary>
public sealed class LinkActor : ActorBase, IWithUnboundedStash, IWithTimers
{
    private readonly LinkSpec _spec;
    private readonly LabContext _lab;
    private readonly string _name;
    private LinkModel? _model;
    private Dictionary<string, (IActorRef Node, string NodeName, string Interface, Ipv4Address Address)> _ends = [];
    private Dictionary<string, long>? _drops; // made at the first drop: most links of a big lab never drop
    private long _carried;
    private readonly LinkShortcut? _shortcut;

    public sealed record End(string Attachment, string NodeName, string Interface, Ipv4Address Address, IActorRef Node);

    public LinkActor(LinkSpec spec, LabContext lab, LinkShortcut? shortcut = null)
    {
        _lab = lab;
        _spec = spec;
        _shortcut = shortcut;
        _name = spec.Name;
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case Connect m:
                OnConnect(m.Ends);
                break;
            case OpenShortcut:
                if (ShortcutAllowed()) _shortcut!.Open(new LinkShortcut.Route(ShortcutEnds(), _model!.Kind == LinkKind.Segment, Self));
                break;
            case Frame f:
                if (_model is null) Stash.Stash(); // a node spoke before the link knew its ends
                else OnFrame(f);
                break;
            case QueryStatus:
                var s = new NodeStatus { Node = _name, Kind = "link", FramesIn = (ulong)(_carried + (_shortcut?.Carried ?? 0)), LinkState = State() };
                foreach (var (r, c) in _drops ?? []) s.Drops.Add(new DropCount { Reason = r, Count = (ulong)c });
                Sender.Tell(s);
                break;
            case SetLinkUp m:
                _model?.SetUp(m.Up);
                break;
            case InjectFault f:
                OnInjectFault(f);
                break;
            case Undo u:
                if (_model is null) break;
                foreach (var (attachment, impairments) in u.Previous) _model.Egress(attachment).Impairments = impairments;
                Report($"{u.Fault} over: the link is as before");
                break;
            case Replay:
                ReplayRecorded();
                break;
            default:
                return false;
        }
        return true;
    }

    private void OnConnect(IReadOnlyList<End> ends)
    {
        _ends = ends.ToDictionary(e => e.Attachment, e => (e.Node, e.NodeName, e.Interface, e.Address));
        var impairments = ToModel(_spec.Impairments, _spec.Mtu);
        var seed = DeterministicRandom.Derive(_lab.Seed, _spec.Name);
        _model = _spec.Segment is not null || ends.Count != 2
            ? LinkModel.Segment(_spec.Name, ends.Select(e => e.Attachment), seed, impairments)
            : LinkModel.PointToPoint(_spec.Name, ends[0].Attachment, ends[1].Attachment, seed, impairments, impairments);
        Stash.UnstashAll();
        Self.Tell(OpenShortcut.Instance); // after the frames that waited for the ends
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    // -------------------------------------------------------------------------------------------------------
    // Faults

    /// <summary>The end of a fault's "for": every direction's impairments as they were.</summary>
    private sealed record Undo(string Fault, IReadOnlyList<(string Attachment, LinkImpairments Impairments)> Previous) : INoSerializationVerificationNeeded;

    private sealed record Replay : INoSerializationVerificationNeeded;

    /// <summary>An adversary's recording: frames still to record, then how often to send each again and when.</summary>
    private (int Remaining, int Times, TimeSpan After, List<Frame> Frames)? _recording;

    private void OnInjectFault(InjectFault f)
    {
        var (ok, detail) = Apply(f);
        var applied = new FaultApplied { Id = f.Id, Fault = f.Fault, Target = _name, Ok = ok, Detail = detail, AtUnixMs = Context.System.Scheduler.Now.ToUnixTimeMilliseconds(), Origin = f.Origin, Params = { f.Params } };
        if (!Sender.IsNobody()) Sender.Tell(applied);
        _lab.Events.Tell(applied);
        Report($"{f.Fault}{(ok ? "" : " refused")}: {detail}");
        if (Spans.Listening)
        {
            // A link is not a service of its own: its fault span belongs to the node at its first end, tagged with the link.
            var span = Spans.StartRoot(_spec.Endpoints[0].Node, "fault " + f.Fault);
            span?.SetTag(Attr.Link, _name);
            span?.SetTag(Attr.FaultName, f.Fault);
            span?.SetTag(Attr.FaultDetail, detail);
            if (!ok) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, detail);
            Spans.StopDetached(span);
        }
    }

    private (bool Ok, string Detail) Apply(InjectFault f)
    {
        var info = FaultCatalog.Find(f.Fault);
        if (info is null) return (false, $"unknown fault '{f.Fault}' (faults: {string.Join(", ", FaultCatalog.Names)})");
        if (FaultValues.Check(info.Kind, f.Params).FirstOrDefault() is { Problem: { } problem } bad) return (false, $"{problem} ({bad.Hint})");
        if (_model is null) return (false, "the link is not connected yet");
        var previous = _model.Attachments.Select(a => (a, _model.Egress(a).Impairments)).ToList();
        var undoAfter = FaultValues.Get(f.Params, info.Kind, "for") is { } fv && FaultValues.TryDuration(fv, out var d) ? d : (TimeSpan?)null;
        string detail;
        switch (info.Kind)
        {
            case FaultKind.LinkDown or FaultKind.Partition:
                _model.SetUp(false);
                detail = "the link is down: every frame on it is lost";
                break;
            case FaultKind.LinkUp or FaultKind.Heal:
                _model.SetUp(true);
                Timers.Cancel("undo");
                return (true, "the link is up");
            case FaultKind.LinkImpair:
                var netem = Netem(f.Params);
                foreach (var a in _model.Attachments)
                {
                    var channel = _model.Egress(a);
                    channel.Impairments = netem with { Mtu = channel.Impairments.Mtu, Up = channel.Impairments.Up };
                }
                detail = $"impairments now: {Describe(netem)}";
                break;
            case FaultKind.MtuBlackhole:
                var mtu = int.Parse(FaultValues.Get(f.Params, info.Kind, "mtu")!, System.Globalization.CultureInfo.InvariantCulture);
                foreach (var a in _model.Attachments)
                {
                    var channel = _model.Egress(a);
                    channel.Impairments = channel.Impairments with { Mtu = mtu };
                }
                detail = $"frames above {mtu} bytes vanish on this link and no ICMP fragmentation-needed tells their sender (a filtered path MTU)";
                break;
            case FaultKind.ReplayAttack:
                var frames = int.Parse(FaultValues.Get(f.Params, info.Kind, "frames")!, System.Globalization.CultureInfo.InvariantCulture);
                var times = int.Parse(FaultValues.Get(f.Params, info.Kind, "times")!, System.Globalization.CultureInfo.InvariantCulture);
                FaultValues.TryDuration(FaultValues.Get(f.Params, info.Kind, "after")!, out var after);
                _recording = (frames, times, after, []);
                return (true, $"an adversary records the next {frames} ESP/IKE frame(s) on this link and sends each {times} more time(s) {after.TotalSeconds:0.###} s after the last");
            case FaultKind.IkeMitm or FaultKind.ForgedInitError:
            {
                var count = int.Parse(FaultValues.Get(f.Params, info.Kind, "count")!, System.Globalization.CultureInfo.InvariantCulture);
                var random = new SeededRandomSource(_lab.Seed, $"{_name}/adversary/{++_adversaries}");
                _adversary?.Dispose();
                if (info.Kind == FaultKind.IkeMitm)
                {
                    _adversary = PathAdversary.ManInTheMiddle(random, count);
                    return (true, $"a man in the middle without the shared key answers the next {count} IKE_SA_INIT exchange(s) on this link itself, then their IKE_AUTH");
                }
                var notify = FaultValues.Get(f.Params, info.Kind, "notify") == "invalid-syntax" ? NotifyType.InvalidSyntax : NotifyType.NoProposalChosen;
                _adversary = PathAdversary.ForgedInitError(random, notify, count);
                return (true, $"an attacker answers the next {count} IKE_SA_INIT request(s) on this link with an unprotected {NotifyNames.Of(notify)}");
            }
            default:
                return (false, $"a link cannot take '{f.Fault}' ({FaultCatalog.TargetText(info.Target)} can)");
        }
        if (undoAfter is { } length)
        {
            Timers.StartSingleTimer("undo", new Undo(f.Fault, previous), length);
            detail += $"; undone after {length.TotalSeconds:0.###} s";
        }
        return (true, detail);
    }

    /// <summary>The link-impair parameters as the link model's impairments (what is not given is off).</summary>
    private static LinkImpairments Netem(IReadOnlyDictionary<string, string> p)
    {
        static double Percent(IReadOnlyDictionary<string, string> p, string k) => p.TryGetValue(k, out var v) && FaultValues.TryPercent(v, out var x) ? x : 0;
        static TimeSpan Time(IReadOnlyDictionary<string, string> p, string k) => p.TryGetValue(k, out var v) && FaultValues.TryDuration(v, out var x) ? x : TimeSpan.Zero;
        return new LinkImpairments
        {
            Delay = Time(p, "delay"),
            Jitter = Time(p, "jitter"),
            Loss = Percent(p, "loss"),
            LossCorrelation = Percent(p, "correlation"),
            Duplicate = Percent(p, "duplicate"),
            Reorder = Percent(p, "reorder"),
            Corrupt = Percent(p, "corrupt"),
            RateBitsPerSecond = p.TryGetValue("rate", out var r) ? LinkImpairments.ParseRate(r) : 0,
        };
    }

    private static string Describe(LinkImpairments i)
    {
        var parts = new List<string>();
        var c = System.Globalization.CultureInfo.InvariantCulture;
        if (i.Delay > TimeSpan.Zero) parts.Add(string.Create(c, $"delay {i.Delay.TotalMilliseconds:0.###}ms{(i.Jitter > TimeSpan.Zero ? $" {i.Jitter.TotalMilliseconds:0.###}ms" : "")}"));
        if (i.Loss > 0) parts.Add(string.Create(c, $"loss {i.Loss:0.###}%{(i.LossCorrelation > 0 ? $" {i.LossCorrelation:0.###}%" : "")}"));
        if (i.Duplicate > 0) parts.Add(string.Create(c, $"duplicate {i.Duplicate:0.###}%"));
        if (i.Reorder > 0) parts.Add(string.Create(c, $"reorder {i.Reorder:0.###}%"));
        if (i.Corrupt > 0) parts.Add(string.Create(c, $"corrupt {i.Corrupt:0.###}%"));
        if (i.RateBitsPerSecond > 0) parts.Add(string.Create(c, $"rate {i.RateBitsPerSecond}bit"));
        return parts.Count == 0 ? "none" : string.Join(" ", parts);
    }

    /// <summary>ESP (protocol 50 or in UDP 4500) or IKE (UDP 500, or 4500 with the non-ESP marker): what an adversary replays.</summary>
    private static bool IsIpsec(ReadOnlySpan<byte> packet)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out _) || ip.FragmentOffset != 0) return false;
        if (ip.Protocol == IpProtocol.Esp) return true;
        if (ip.Protocol != IpProtocol.Udp || payload.Length < 9) return false;
        var src = payload[0] << 8 | payload[1];
        var dst = payload[2] << 8 | payload[3];
        if (src == 500 || dst == 500) return true;
        return (src == 4500 || dst == 4500) && payload.Length > 9; // a keepalive is one byte after the UDP header
    }

    /// <summary>An attacker on the link (ike-mitm, forged-init-error), or null.</summary>
    private PathAdversary? _adversary;
    private int _adversaries;

    /// <summary>The adversary's answers to a frame go straight back to the end that sent it, ahead of the real answer.</summary>
    private void Intercept(Frame frame, string from, DateTimeOffset now)
    {
        var answers = _adversary!.Observe(frame.Packet.Span);
        if (answers.Count == 0) return;
        var sender = _ends[from];
        var other = _ends.FirstOrDefault(kv => kv.Key != from).Value;
        foreach (var answer in answers)
        {
            _lab.Capture?.Record(_name, now, answer, other.NodeName ?? sender.NodeName, other.Interface ?? sender.Interface, sender.Address);
            sender.Node.Tell(new Frame { Link = _name, Node = sender.NodeName, Interface = sender.Interface, Packet = ByteString.CopyFrom(answer), NextHop = sender.Address.Value }, Self);
        }
        if (!_adversary.Done) return;
        Report($"{(_adversary.AuthAnswers > 0 ? "ike-mitm" : "forged-init-error")} over: {_adversary.Answers} forged answer(s) sent, {_adversary.AuthAnswers} IKE_AUTH answered with a guessed key");
        _adversary.Dispose();
        _adversary = null;
    }

    protected override void PostStop() => _adversary?.Dispose();

    private void Record(Frame frame)
    {
        // Recording ends with the frame that completes it; until the replay, what passes is not recorded.
        if (_recording is not { Remaining: > 0 } r || !IsIpsec(frame.Packet.Span)) return;
        // The adversary keeps its own copy: what was on the wire, byte for byte.
        r.Frames.Add(frame.Clone());
        r.Remaining--;
        _recording = r;
        if (r.Remaining == 0) Timers.StartSingleTimer("replay", new Replay(), r.After);
    }

    private void ReplayRecorded()
    {
        if (_recording is not { } r) return;
        _recording = null;
        var esp = 0;
        foreach (var frame in r.Frames)
        {
            if (!IsIke(frame.Packet.Span)) esp++;
            for (var i = 0; i < r.Times; i++)
            {
                OnFrame(frame);
            }
        }
        Report($"replay-attack: sent {r.Frames.Count * r.Times} recorded frame(s) again ({esp} ESP, {r.Frames.Count - esp} IKE, each {r.Times} time(s))");
    }

    private static bool IsIke(ReadOnlySpan<byte> packet)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out _) || ip.Protocol != IpProtocol.Udp || payload.Length < 12) return false;
        var dst = payload[2] << 8 | payload[3];
        var src = payload[0] << 8 | payload[1];
        if (dst == 500 || src == 500) return true;
        return payload[8] == 0 && payload[9] == 0 && payload[10] == 0 && payload[11] == 0; // the non-ESP marker
    }

    private void Report(string text) =>
        _lab.Events.Tell(new NodeEvent { Node = _name, Kind = "fault", Text = text, AtUnixMs = Context.System.Scheduler.Now.ToUnixTimeMilliseconds() });

    public static Props Props(LinkSpec spec, LabContext lab, LinkShortcut? shortcut = null) => Akka.Actor.Props.Create(() => new LinkActor(spec, lab, shortcut));

    /// <summary>Opens the shortcut once the frames queued before it have been passed on.</summary>
    private sealed class OpenShortcut : INoSerializationVerificationNeeded
    {
        public static readonly OpenShortcut Instance = new();
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        // Whatever else the link is told may change its impairments or state (a fault): the shortcut closes at once and
        // opens again, behind the frames already queued here, only if the link still delivers everything unchanged.
        if (_shortcut is not null && message is not (Frame or QueryStatus or OpenShortcut))
        {
            if (!ShortcutAllowed()) _shortcut.Close();
            else if (!_shortcut.IsOpen) Self.Tell(OpenShortcut.Instance);
        }
        return handled;
    }

    // A recording adversary (replay-attack) or one on the path (ike-mitm) must see every frame, so it keeps the shortcut closed too.
    private bool ShortcutAllowed() => _shortcut is not null && _model is { DeliversUnchanged: true } && _lab.Capture is null && _recording is null && _adversary is null;

    private LinkShortcut.End[] ShortcutEnds() => _ends
        .Select(kv => new LinkShortcut.End(kv.Value.NodeName, kv.Value.Interface, kv.Value.Address, kv.Value.Node, _model!.Egress(kv.Key).Impairments.Mtu))
        .ToArray();

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
        if (_recording is not null) Record(frame);
        if (_adversary is not null) Intercept(frame, from, now);
        _lab.Capture?.Record(_name, now, frame.Packet.Span, frame.Node, frame.Interface, new Ipv4Address(frame.NextHop));
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

    /// <summary>"down" when a direction drops everything, "impaired" when one loses, duplicates, reorders, corrupts or has a lower MTU than the topology's.</summary>
    private string State()
    {
        if (_model is null) return "down";
        var channels = _model.Attachments.Select(a => _model.Egress(a).Impairments).ToList();
        if (channels.Any(i => !i.Up)) return "down";
        return channels.Any(i => i.Loss > 0 || i.Duplicate > 0 || i.Reorder > 0 || i.Corrupt > 0 || (i.Mtu is { } m && m < (_spec.Mtu ?? int.MaxValue)))
            ? "impaired" : "up";
    }

    private void Count(string reason)
    {
        _drops ??= [];
        _drops[reason] = _drops.GetValueOrDefault(reason) + 1;
    }

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
