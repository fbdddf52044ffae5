using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Ike;
using Nodes.Telemetry;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

/// <summary>
/// One Child SA's data plane: the outbound sequence counter and the inbound anti-replay window, with the traffic
/// selectors every packet in or out must match. Sealing leaves room in front of the ESP packet for the outer
/// headers, which the gateway then writes in place. Not thread-safe; the gateway engine owns it.
/// </summary>
public sealed class ChildSa : IDisposable
{
    private readonly EspInboundSa _in;
    private readonly EspOutboundSa _out;
    private readonly long _softBytes;
    private readonly int _headroom;
    private readonly KeyValuePair<string, object?>[] _inTags;
    private readonly KeyValuePair<string, object?>[] _outTags;

    /// <param name="softLimitBytes">Bytes in and out after which the SA asks for a rekey (<see cref="AtSoftLimit"/>).</param>
    public ChildSa(ChildSaInfo info, IRandomSource random, long softLimitBytes, string node = "")
    {
        Info = info;
        _softBytes = softLimitBytes;
        // Room in front of the ESP packet for the headers the gateway puts around it.
        _headroom = info.Encapsulated ? Ipv4PacketWriter.UdpPayloadOffset : Ipv4Header.MinLength;
        _in = new EspInboundSa(info.InboundSpi, info.Suite.Cipher, info.InboundEncryptionKey, info.InboundIntegrityKey, info.Suite.Esn, info.ReplayWindow);
        _out = new EspOutboundSa(info.OutboundSpi, info.Suite.Cipher, info.OutboundEncryptionKey, info.OutboundIntegrityKey, info.Suite.Esn, random);
        InSpiText = Spans.Spi(info.InboundSpi);
        OutSpiText = Spans.Spi(info.OutboundSpi);
        _inTags = [NodesTelemetry.NodeTag(node), new(Attr.EspSpi, InSpiText), new(Attr.EspDirection, "in")];
        _outTags = [NodesTelemetry.NodeTag(node), new(Attr.EspSpi, OutSpiText), new(Attr.EspDirection, "out")];
    }

    public ChildSaInfo Info { get; }
    internal IkeLink Ike { get; init; } = null!;
    /// <summary>True for the SA of the IKE SA that new outbound packets take (the newest after a rekey).</summary>
    public bool OutboundActive { get; internal set; }
    internal string InSpiText { get; }
    internal string OutSpiText { get; }
    /// <summary>The soft volume limit was reported to IKE (once).</summary>
    internal bool SoftReported { get; set; }

    public long PacketsIn => _in.Counters.Packets;
    public long BytesIn => _in.Counters.Bytes;
    public long PacketsOut => _out.Counters.Packets;
    public long BytesOut => _out.Counters.Bytes;
    public long Dropped => _in.Counters.TotalDrops;
    public ulong LastSequenceOut => _out.LastSequence;

    /// <summary>True when both selectors hold the packet's addresses, outbound (local source, remote destination).</summary>
    public bool CoversOutbound(Ipv4Address source, Ipv4Address destination) => Covers(Info.LocalTs, source) && Covers(Info.RemoteTs, destination);

    /// <summary>True when what came out of the SA matches its selectors (RFC 4301 section 5.2).</summary>
    public bool CoversInbound(Ipv4Address source, Ipv4Address destination) => Covers(Info.RemoteTs, source) && Covers(Info.LocalTs, destination);

    /// <summary>
    /// Seals <paramref name="inner"/>: the ESP packet ends its array, with room for the outer headers before it. The
    /// status is not <see cref="EspSealStatus.Sealed"/> when the sequence numbers ran out.
    /// </summary>
    public EspSealStatus Seal(byte[] inner, out ArraySegment<byte> esp)
    {
        var buffer = new byte[_headroom + _out.SealedLength(inner.Length)];
        var status = _out.Seal(inner, buffer.AsSpan(_headroom), out var written);
        if (status != EspSealStatus.Sealed)
        {
            esp = default;
            return status;
        }
        if (NodesTelemetry.SaBytes.Enabled) NodesTelemetry.SaBytes.Add(inner.Length, _outTags);
        esp = _headroom + written == buffer.Length ? new ArraySegment<byte>(buffer, _headroom, written) : new ArraySegment<byte>(buffer.AsSpan(_headroom, written).ToArray());
        return status;
    }

    /// <summary>Authenticates, checks against the replay window and decrypts <paramref name="esp"/> in place; the inner datagram is a copy.</summary>
    public bool TryOpen(ArraySegment<byte> esp, out byte[] inner, out ulong sequence, out EspDropReason reason)
    {
        if (!_in.TryOpen(esp, out var opened, out reason))
        {
            inner = [];
            sequence = 0;
            return false;
        }
        inner = opened.Slice(esp).ToArray();
        sequence = opened.Sequence;
        if (NodesTelemetry.SaBytes.Enabled) NodesTelemetry.SaBytes.Add(inner.Length, _inTags);
        return true;
    }

    /// <summary>True when the SA should be rekeyed now: sequence numbers running out or the volume lifetime reached.</summary>
    public bool AtSoftLimit => _out.RemainingSequences < 1024 || _out.Counters.Bytes + _in.Counters.Bytes >= _softBytes;

    private static bool Covers(ImmutableArray<TsRange> selectors, Ipv4Address address)
    {
        foreach (var r in selectors)
            if (r.Contains(address)) return true;
        return false;
    }

    public void Dispose()
    {
        _in.Dispose();
        _out.Dispose();
    }
}
