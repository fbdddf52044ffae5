using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Capture;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Ike;
using Nodes.Telemetry;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Nodes;

// Messages between a gateway and its per-SA actors. They never leave the gateway's process, so they are not
// serialized (INoSerializationVerificationNeeded).

/// <summary>A received IKE message (non-ESP marker already removed) for the IKE SA actor.</summary>
public sealed record IkeIn(byte[] Message, Ipv4Endpoint From, Ipv4Endpoint To) : INoSerializationVerificationNeeded;

/// <summary>Commands for an IKE SA: rekeys, deletes, a liveness check.</summary>
public sealed record IkeCommand(IkeCommandKind Kind, uint ChildSpi = 0) : INoSerializationVerificationNeeded;

public enum IkeCommandKind { RekeyChild, RekeyIke, DeleteChild, DeleteIke, CheckLiveness, NoteInbound, NoteOutbound, SoftLimit, ClockChanged }

/// <summary>An ESP packet of this IKE SA's Child SAs passed its integrity check arriving from <paramref name="From"/> (RFC 7296 section 2.23).</summary>
public sealed record IkePeerSeen(Ipv4Endpoint From) : INoSerializationVerificationNeeded;

/// <summary>What the IKE SA produced, for the gateway to carry out.</summary>
public sealed record IkeOutputs(IActorRef From, IReadOnlyList<IkeOutput> Outputs, IkeSnapshot Snapshot) : INoSerializationVerificationNeeded;

/// <summary>The facts about an IKE SA the gateway shows in its status.</summary>
public sealed record IkeSnapshot(IkeSaState State, ulong InitiatorSpi, ulong ResponderSpi, Ipv4Endpoint Local, Ipv4Endpoint Remote,
    bool LocalBehindNat, bool RemoteBehindNat, bool Encapsulated, string? Suite, int IkeRekeys, int ChildRekeys, bool OriginalInitiator);

/// <summary>
/// When ESP last went out and came in on the Child SAs of one IKE SA, on the node's clock (which a clock-skew fault
/// may move back or forth). The gateway writes it as packets pass, with no message per packet; the IKE SA actor hands
/// every new value to its engine before the engine decides anything (a deadline, a command, an IKE message), so
/// liveness checks and NAT keepalives see the traffic as if told of every packet. Thread-safe.
/// </summary>
public sealed class EspTraffic
{
    private long _inbound = long.MinValue;
    private long _outbound = long.MinValue;

    /// <summary>ESP from the peer was opened at <paramref name="at"/>.</summary>
    public void NoteInbound(DateTimeOffset at) => Volatile.Write(ref _inbound, at.UtcTicks);

    /// <summary>ESP towards the peer was sealed and sent at <paramref name="at"/>.</summary>
    public void NoteOutbound(DateTimeOffset at) => Volatile.Write(ref _outbound, at.UtcTicks);

    /// <summary>UTC ticks of the last inbound ESP on the node's clock, <see cref="long.MinValue"/> before any.</summary>
    public long InboundTicks => Volatile.Read(ref _inbound);

    /// <summary>UTC ticks of the last outbound ESP on the node's clock, <see cref="long.MinValue"/> before any.</summary>
    public long OutboundTicks => Volatile.Read(ref _outbound);
}

/// <summary>
/// One IKE SA as an actor: the pure <see cref="IkeSa"/> engine plus an Akka timer at its next deadline, so the
/// same code runs on virtual time in tests. Stops itself once the SA is closed.
/// </summary>
public sealed class IkeSaActor : ReceiveActor, IWithTimers
{
    private readonly IkeSa _sa;
    private readonly LabContext _lab;
    private readonly IActorRef _gateway;
    private readonly NodeClock _clock;
    private readonly EspTraffic? _traffic;
    private long _inboundSeen = long.MinValue;
    private long _outboundSeen = long.MinValue;

    /// <summary>The engine's deadline has come; <paramref name="At"/> is the time it asked for, so a late delivery does not shift its clock.</summary>
    private sealed record Tick(DateTimeOffset At) : INoSerializationVerificationNeeded;

    /// <summary>Starts the initiator's IKE_SA_INIT once the actor runs.</summary>
    public sealed record Start : INoSerializationVerificationNeeded;

    public IkeSaActor(IkeSa sa, LabContext lab, IActorRef gateway, NodeClock? clock = null, EspTraffic? traffic = null)
    {
        _sa = sa;
        _lab = lab;
        _gateway = gateway;
        _clock = clock ?? new NodeClock();
        _traffic = traffic;
        Receive<Start>(_ => Run(() => _sa.Start(Now)));
        Receive<IkeIn>(m => Run(() => _sa.Receive(m.Message, m.From, m.To, Now)));
        Receive<Tick>(t => Run(() => _sa.Tick(t.At > Now ? Now : t.At)));
        Receive<IkeCommand>(c => Run(() =>
        {
            switch (c.Kind)
            {
                case IkeCommandKind.RekeyChild: _sa.RekeyChild(c.ChildSpi, Now); break;
                case IkeCommandKind.RekeyIke: _sa.RekeyIke(Now); break;
                case IkeCommandKind.DeleteChild: _sa.DeleteChild(c.ChildSpi, Now); break;
                case IkeCommandKind.DeleteIke: _sa.Delete(Now); break;
                case IkeCommandKind.CheckLiveness: _sa.CheckLiveness(Now); break;
                case IkeCommandKind.NoteInbound: _sa.NoteInboundTraffic(Now); break;
                case IkeCommandKind.NoteOutbound: _sa.NoteOutboundTraffic(Now); break;
                case IkeCommandKind.SoftLimit: _sa.ChildSoftLimitReached(c.ChildSpi, "byte lifetime reached", Now); break;
                case IkeCommandKind.ClockChanged: _sa.Tick(Now); break;
            }
        }));
        Receive<IkePeerSeen>(m => Run(() => _sa.AuthenticatedPacketFrom(m.From, Now)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IkeSa sa, LabContext lab, IActorRef gateway, NodeClock? clock = null, EspTraffic? traffic = null) =>
        Akka.Actor.Props.Create(() => new IkeSaActor(sa, lab, gateway, clock, traffic));

    /// <summary>The node's clock (skewed by a clock-skew fault), which the engine's lifetimes and timers run on.</summary>
    private DateTimeOffset Now => _clock.Now(Context.System.Scheduler.Now);

    protected override void PreStart()
    {
        // A responder's IKE SA was created by RespondToInit and already holds its IKE_SA_INIT response.
        Run(() => { });
    }

    private void Run(Action action)
    {
        NoteTraffic();
        action();
        var outputs = _sa.TakeOutputs();
        if (_lab.Capture is { } capture)
        {
            foreach (var o in outputs)
            {
                if (o is IkeStateChange { To: IkeSaState.Established } or IkeSpisChanged && _sa.ExportKeysForCapture() is { } k)
                    capture.AddKeys(new IkeSaKeyEntry(_sa.InitiatorSpi, _sa.ResponderSpi, k.Suite.Cipher, k.Keys.SkEi, k.Keys.SkEr, k.Keys.SkAi, k.Keys.SkAr));
            }
        }
        if (outputs.Count > 0) _gateway.Tell(new IkeOutputs(Self, outputs, Snapshot()));
        if (_sa.State == IkeSaState.Closed)
        {
            Context.Stop(Self);
            return;
        }
        if (_sa.NextDeadline is { } at)
        {
            var delay = _clock.LabDelay(at - Now);
            Timers.StartSingleTimer("deadline", new Tick(at), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
        else
        {
            Timers.Cancel("deadline");
        }
    }

    /// <summary>Tells the engine about ESP that passed since it last looked.</summary>
    private void NoteTraffic()
    {
        if (_traffic is null) return;
        var inbound = _traffic.InboundTicks;
        // A new value, not a later one: after the node's clock was set back, new traffic has an earlier time.
        if (inbound != _inboundSeen)
        {
            _inboundSeen = inbound;
            _sa.NoteInboundTraffic(new DateTimeOffset(inbound, TimeSpan.Zero));
        }
        var outbound = _traffic.OutboundTicks;
        if (outbound != _outboundSeen)
        {
            _outboundSeen = outbound;
            _sa.NoteOutboundTraffic(new DateTimeOffset(outbound, TimeSpan.Zero));
        }
    }

    private IkeSnapshot Snapshot() => new(_sa.State, _sa.InitiatorSpi, _sa.ResponderSpi, _sa.Local, _sa.Remote, _sa.LocalBehindNat, _sa.RemoteBehindNat,
        _sa.Encapsulated, _sa.Suite?.ToString(), _sa.IkeRekeys, _sa.ChildRekeys, _sa.IsOriginalInitiator);

    protected override void PostStop() => _sa.Dispose();
}

/// <summary>Seal an inner IPv4 packet on this Child SA.</summary>
public sealed record SealInner(byte[] Inner, string Traceparent) : INoSerializationVerificationNeeded;

/// <summary>Open an ESP packet (UDP payload or IP payload) received for this Child SA; the bytes are the Child SA's to decrypt in place.</summary>
public sealed record OpenEsp(ArraySegment<byte> Esp, Ipv4Endpoint From, string Traceparent) : INoSerializationVerificationNeeded;

/// <summary>
/// A sealed ESP packet. It ends its array and is preceded there by room for the outer IPv4 header (and the UDP header
/// when the SA is UDP-encapsulated), which the gateway writes in place.
/// </summary>
public sealed record Sealed(uint InboundSpi, uint OutboundSpi, ArraySegment<byte> Esp, ulong Sequence, string Traceparent) : INoSerializationVerificationNeeded;

public sealed record Opened(uint InboundSpi, byte[] Inner, ulong Sequence, Ipv4Endpoint From, string Traceparent) : INoSerializationVerificationNeeded;

public sealed record EspDropped(uint InboundSpi, EspDropReason Reason, string Traceparent) : INoSerializationVerificationNeeded;

/// <summary>The Child SA reached a soft limit (bytes, or sequence numbers running out): the IKE SA should rekey it.</summary>
public sealed record ChildSoftLimit(uint InboundSpi) : INoSerializationVerificationNeeded;

/// <summary>Ask a Child SA actor for its counters.</summary>
public sealed record ChildCountersQuery : INoSerializationVerificationNeeded;

public sealed record ChildCounters(uint InboundSpi, long PacketsIn, long BytesIn, long PacketsOut, long BytesOut, long Dropped) : INoSerializationVerificationNeeded;

/// <summary>
/// One Child SA as an actor: the outbound sequence counter and the inbound anti-replay window live here, and every
/// ESP packet of the SA passes through it. Drops (replay, too old, integrity, padding) are answered, never thrown.
/// </summary>
public sealed class ChildSaActor : ReceiveActor
{
    private readonly EspInboundSa _in;
    private readonly EspOutboundSa _out;
    private readonly long _softBytes;
    private bool _softReported;
    private readonly string _node;
    private readonly string _inSpi;
    private readonly string _outSpi;
    private readonly KeyValuePair<string, object?>[] _inTags;
    private readonly KeyValuePair<string, object?>[] _outTags;

    public ChildSaActor(ChildSaInfo info, IRandomSource random, long softLimitBytes, string node = "")
    {
        _node = node;
        _inSpi = Spans.Spi(info.InboundSpi);
        _outSpi = Spans.Spi(info.OutboundSpi);
        _inTags = [NodesTelemetry.NodeTag(node), new(Attr.EspSpi, _inSpi), new(Attr.EspDirection, "in")];
        _outTags = [NodesTelemetry.NodeTag(node), new(Attr.EspSpi, _outSpi), new(Attr.EspDirection, "out")];
        var encapsulation = info.Encapsulated ? "udp" : "none";
        // Room in front of the ESP packet for the headers the gateway puts around it.
        var headroom = info.Encapsulated ? Ipv4PacketWriter.UdpPayloadOffset : Ipv4Header.MinLength;
        _in = new EspInboundSa(info.InboundSpi, info.Suite.Cipher, info.InboundEncryptionKey, info.InboundIntegrityKey, info.Suite.Esn, info.ReplayWindow);
        _out = new EspOutboundSa(info.OutboundSpi, info.Suite.Cipher, info.OutboundEncryptionKey, info.OutboundIntegrityKey, info.Suite.Esn, random);
        _softBytes = softLimitBytes;
        Receive<SealInner>(m =>
        {
            using var span = Spans.Continue(_node, SpanNames.EspEncap, m.Traceparent);
            var buffer = new byte[headroom + _out.SealedLength(m.Inner.Length)];
            var status = _out.Seal(m.Inner, buffer.AsSpan(headroom), out var written);
            if (status != EspSealStatus.Sealed)
            {
                Spans.Dropped(span, "esp-" + status.ToString().ToLowerInvariant());
                Sender.Tell(new EspDropped(_in.Spi, EspDropReason.Malformed, m.Traceparent));
                ReportSoft();
                return;
            }
            if (span is not null)
            {
                span.SetTag(Attr.EspSpi, _outSpi);
                span.SetTag(Attr.EspSequence, (long)_out.LastSequence);
                span.SetTag(Attr.EspDirection, "out");
                span.SetTag(Attr.EspEncapsulation, encapsulation);
                Spans.TagInnerAddresses(span, m.Inner);
            }
            if (NodesTelemetry.SaBytes.Enabled) NodesTelemetry.SaBytes.Add(m.Inner.Length, _outTags);
            var esp = headroom + written == buffer.Length ? new ArraySegment<byte>(buffer, headroom, written) : new ArraySegment<byte>(buffer.AsSpan(headroom, written).ToArray());
            Sender.Tell(new Sealed(_in.Spi, _out.Spi, esp, _out.LastSequence, Spans.Context(span, m.Traceparent)));
            if (_out.RemainingSequences < 1024 || _out.Counters.Bytes + _in.Counters.Bytes >= _softBytes) ReportSoft();
        });
        Receive<OpenEsp>(m =>
        {
            using var span = Spans.Continue(_node, SpanNames.EspDecap, m.Traceparent);
            if (span is not null)
            {
                span.SetTag(Attr.EspSpi, _inSpi);
                span.SetTag(Attr.EspDirection, "in");
                span.SetTag(Attr.EspEncapsulation, encapsulation);
                if (m.Esp.Count >= 8) span.SetTag(Attr.EspSequence, (long)(uint)(m.Esp[4] << 24 | m.Esp[5] << 16 | m.Esp[6] << 8 | m.Esp[7]));
            }
            if (_in.TryOpen(m.Esp, out var opened, out var reason))
            {
                var inner = opened.Slice(m.Esp).ToArray();
                if (span is not null)
                {
                    span.SetTag(Attr.EspSequence, (long)opened.Sequence);
                    span.SetTag(Attr.EspReplay, "ok");
                    Spans.TagInnerAddresses(span, inner);
                }
                if (NodesTelemetry.SaBytes.Enabled) NodesTelemetry.SaBytes.Add(inner.Length, _inTags);
                Sender.Tell(new Opened(_in.Spi, inner, opened.Sequence, m.From, Spans.Context(span, m.Traceparent)));
                if (_out.Counters.Bytes + _in.Counters.Bytes >= _softBytes) ReportSoft();
            }
            else
            {
                var why = "esp-" + reason.ToString().ToLowerInvariant();
                span?.SetTag(Attr.EspReplay, reason.ToString().ToLowerInvariant());
                Spans.Dropped(span, why);
                Sender.Tell(new EspDropped(_in.Spi, reason, m.Traceparent));
            }
        });
        Receive<ChildCountersQuery>(_ => Sender.Tell(new ChildCounters(_in.Spi, _in.Counters.Packets, _in.Counters.Bytes, _out.Counters.Packets, _out.Counters.Bytes, _in.Counters.TotalDrops)));
    }

    public static Props Props(ChildSaInfo info, IRandomSource random, long softLimitBytes, string node = "") =>
        Akka.Actor.Props.Create(() => new ChildSaActor(info, random, softLimitBytes, node));

    private void ReportSoft()
    {
        if (_softReported) return;
        _softReported = true;
        Context.Parent.Tell(new ChildSoftLimit(_in.Spi));
    }

    protected override void PostStop()
    {
        _in.Dispose();
        _out.Dispose();
    }
}
