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

// Messages between a gateway and its Child SA actors. They never leave the gateway's process, so they are not
// serialized (INoSerializationVerificationNeeded).

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
