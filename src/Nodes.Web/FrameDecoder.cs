using System.Buffers.Binary;
using System.Globalization;
using Nodes.Capture;
using Nodes.Esp;
using Nodes.Wire;
using Nodes.Wire.Esp;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;
using Nodes.Wire.Bgp;
using Nodes.Wire.Tcp;

namespace Nodes.Web;

/// <summary>The keys the decoder may use: what the lab exported for Wireshark, looked up by SPI.</summary>
public interface IKeyRing
{
    EspSaKeyEntry? Esp(uint spi);

    IkeSaKeyEntry? Ike(ulong initiatorSpi, ulong responderSpi);
}

/// <summary>A run of bytes the fields point into: the frame itself, or a buffer decrypted from it.</summary>
public sealed record ByteBlock(string Name, string Hex);

/// <summary>One field of a layer: its name, its value as text, and where it sits (block, offset, length).</summary>
public sealed record Field(string Name, string Value, int Block, int Offset, int Length);

/// <summary>One protocol layer, as Wireshark's packet tree shows it; <see cref="Depth"/> nests decrypted layers.</summary>
public sealed record Layer(string Name, int Depth, int Block, int Offset, int Length, IReadOnlyList<Field> Fields);

/// <summary>A frame decoded layer by layer, with the byte blocks the fields point into.</summary>
public sealed record DecodedFrame(IReadOnlyList<ByteBlock> Blocks, IReadOnlyList<Layer> Layers);

/// <summary>
/// Decodes a frame the way Wireshark's packet tree shows it, with Nodes' own codecs: IPv4, ICMP, UDP, TCP (with
/// the BGP messages a segment to or from port 179 carries), the NAT-T non-ESP marker and keepalive, IKE header and
/// payloads (the SK payload opened with the IKE SA's keys), ESP with SPI and sequence (the inner packet opened with
/// the SA's keys, and the ICV verdict). Malformed input ends the
/// tree with the codec's reason; it never throws.
/// </summary>
public sealed class FrameDecoder
{
    private readonly IKeyRing _keys;
    private readonly List<ByteBlock> _blocks = [];
    private readonly List<Layer> _layers = [];

    private FrameDecoder(IKeyRing keys) => _keys = keys;

    public static DecodedFrame Decode(byte[] packet, IKeyRing keys)
    {
        var d = new FrameDecoder(keys);
        d.Ipv4(d.AddBlock("Frame", packet), packet, 0, packet.Length, 0);
        return new DecodedFrame(d._blocks, d._layers);
    }

    private int AddBlock(string name, byte[] bytes)
    {
        _blocks.Add(new ByteBlock(name, Convert.ToHexStringLower(bytes)));
        return _blocks.Count - 1;
    }

    private sealed class LayerBuilder(int block, int offset)
    {
        public List<Field> Fields { get; } = [];

        public void Add(string name, string value, int at, int length) => Fields.Add(new Field(name, value, block, offset + at, length));
    }

    private LayerBuilder Begin(string name, int depth, int block, int offset, int length)
    {
        var b = new LayerBuilder(block, offset);
        _layers.Add(new Layer(name, depth, block, offset, length, b.Fields));
        return b;
    }

    private static string U(long v) => v.ToString(CultureInfo.InvariantCulture);

    private void Ipv4(int block, byte[] buf, int offset, int length, int depth)
    {
        var span = buf.AsSpan(offset, length);
        if (!Ipv4Header.TryParse(span, out var ip, out _, out _, out var error))
        {
            Begin($"Malformed IPv4 ({error})", depth, block, offset, length, []).Add("Reason", error.ToString(), 0, length);
            return;
        }
        var l = Begin($"Internet Protocol Version 4, Src: {ip.Source}, Dst: {ip.Destination}", depth, block, offset, ip.HeaderLength);
        l.Add("Version / header length", $"4 / {ip.HeaderLength} bytes", 0, 1);
        l.Add("Differentiated services", $"DSCP {ip.Dscp}, ECN {ip.Ecn}", 1, 1);
        l.Add("Total length", U(ip.TotalLength), 2, 2);
        l.Add("Identification", $"0x{ip.Identification:x4} ({ip.Identification})", 4, 2);
        l.Add("Flags / fragment offset", $"{(ip.DontFragment ? "DF " : "")}{(ip.MoreFragments ? "MF " : "")}offset {ip.FragmentByteOffset}", 6, 2);
        l.Add("Time to live", U(ip.TimeToLive), 8, 1);
        l.Add("Protocol", $"{ip.Protocol} ({(byte)ip.Protocol})", 9, 1);
        l.Add("Header checksum", $"0x{ip.Checksum:x4} [verified]", 10, 2);
        l.Add("Source address", ip.Source.ToString(), 12, 4);
        l.Add("Destination address", ip.Destination.ToString(), 16, 4);
        var start = offset + ip.HeaderLength;
        var payloadLength = ip.TotalLength - ip.HeaderLength;
        if (ip.FragmentOffset != 0)
        {
            Begin($"Fragment data ({payloadLength} bytes at offset {ip.FragmentByteOffset})", depth, block, start, payloadLength, []);
            return;
        }
        switch (ip.Protocol)
        {
            case IpProtocol.Udp: Udp(block, buf, start, payloadLength, depth, ip); break;
            case IpProtocol.Esp: Esp(block, buf, start, payloadLength, depth); break;
            case IpProtocol.Icmp: Icmp(block, buf, start, payloadLength, depth); break;
            case IpProtocol.Tcp: Tcp(block, buf, start, payloadLength, depth, ip); break;
            default: Begin($"Data ({payloadLength} bytes)", depth, block, start, payloadLength, []); break;
        }
    }

    private LayerBuilder Begin(string name, int depth, int block, int offset, int length, IReadOnlyList<Field> _) => Begin(name, depth, block, offset, length);

    private void Tcp(int block, byte[] buf, int offset, int length, int depth, Ipv4Header ip)
    {
        if (!TcpHeader.TryParse(buf.AsSpan(offset, length), out var tcp, out var payload, out var error))
        {
            Begin($"Malformed TCP ({error})", depth, block, offset, length, []).Add("Reason", error.ToString(), 0, length);
            return;
        }
        var headerLength = length - payload.Length;
        var flags = string.Join(",", new[] { (TcpFlags.Syn, "SYN"), (TcpFlags.Fin, "FIN"), (TcpFlags.Rst, "RST"), (TcpFlags.Psh, "PSH"), (TcpFlags.Ack, "ACK"), (TcpFlags.Urg, "URG"), (TcpFlags.Ece, "ECE"), (TcpFlags.Cwr, "CWR") }
            .Where(f => tcp.Has(f.Item1)).Select(f => f.Item2));
        var l = Begin($"Transmission Control Protocol, Src Port: {tcp.SourcePort}, Dst Port: {tcp.DestinationPort}, Seq: {tcp.SequenceNumber}, Len: {payload.Length} [{flags}]", depth, block, offset, headerLength);
        l.Add("Source port", U(tcp.SourcePort), 0, 2);
        l.Add("Destination port", U(tcp.DestinationPort), 2, 2);
        l.Add("Sequence number", U(tcp.SequenceNumber), 4, 4);
        l.Add("Acknowledgment number", tcp.Has(TcpFlags.Ack) ? U(tcp.AcknowledgmentNumber) : "(not set)", 8, 4);
        l.Add("Header length / flags", $"{headerLength} bytes / {flags}", 12, 2);
        l.Add("Window", U(tcp.Window), 14, 2);
        l.Add("Checksum", $"0x{tcp.Checksum:x4} [{(TcpHeader.VerifyChecksum(buf.AsSpan(offset, length), ip.Source, ip.Destination) ? "verified" : "WRONG")}]", 16, 2);
        if (headerLength > TcpHeader.MinLength)
        {
            var o = tcp.Options;
            var text = string.Join(", ", new[]
            {
                o.MaximumSegmentSize is { } mss ? $"MSS {mss}" : null,
                o.WindowScale is { } ws ? $"window scale {ws}" : null,
                o.SackPermitted ? "SACK permitted" : null,
                o.Timestamps is { } ts ? $"timestamps {ts.Value}/{ts.EchoReply}" : null,
            }.OfType<string>());
            l.Add("Options", text.Length > 0 ? text : "(none Nodes interprets)", TcpHeader.MinLength, headerLength - TcpHeader.MinLength);
        }
        if (payload.IsEmpty) return;
        var start = offset + headerLength;
        if (tcp.SourcePort == BgpPort || tcp.DestinationPort == BgpPort) Bgp(block, buf, start, payload.Length, depth + 1);
        else Begin($"Data ({payload.Length} bytes)", depth + 1, block, start, payload.Length, []);
    }

    private const ushort BgpPort = 179;

    /// <summary>The BGP messages a segment carries whole; bytes of a message that started in another segment as a continuation.</summary>
    private void Bgp(int block, byte[] buf, int offset, int length, int depth)
    {
        var at = 0;
        while (at < length)
        {
            var rest = buf.AsSpan(offset + at, length - at);
            if (!BgpCodec.TryFrame(rest, out var size, out var error))
            {
                Begin(error.IsNone ? $"BGP: part of a message continued in the next segment ({rest.Length} bytes)" : $"BGP: not a message here ({error.Text}; a continuation of an earlier segment, or a stream out of step)",
                    depth, block, offset + at, rest.Length, []);
                return;
            }
            BgpCodec.TryParse(rest[..size], fourOctetAs: true, out var m, out error);
            var type = (BgpMessageType)rest[BgpCodec.MarkerLength + 2];
            var l = Begin($"Border Gateway Protocol - {BgpName(type)} Message{(m is null ? $" (refused: {error.Text})" : "")}", depth, block, offset + at, size);
            l.Add("Marker", "16 bytes of 0xff", 0, BgpCodec.MarkerLength);
            l.Add("Length", U(size), BgpCodec.MarkerLength, 2);
            l.Add("Type", $"{BgpName(type)} ({(byte)type})", BgpCodec.MarkerLength + 2, 1);
            var body = BgpCodec.HeaderLength;
            switch (m)
            {
                case BgpOpen o:
                    l.Add("Version", U(BgpOpen.Version), body, 1);
                    l.Add("My AS", U(o.MyAs), body + 1, 2);
                    l.Add("Hold time", $"{o.HoldTimeSeconds} s", body + 3, 2);
                    l.Add("BGP identifier", o.Identifier.ToString(), body + 5, 4);
                    l.Add("Capabilities", string.Join(", ", o.Capabilities.Select(c => c.Code switch
                    {
                        BgpCapability.Multiprotocol => "multiprotocol IPv4 unicast",
                        BgpCapability.RouteRefresh => "route refresh",
                        BgpCapability.FourOctetAs => $"4-octet AS {o.Asn}",
                        _ => $"code {c.Code}",
                    })), body + 9, size - body - 9);
                    break;
                case BgpUpdate u:
                    l.Add("Withdrawn routes", u.Withdrawn.IsEmpty ? "(none)" : string.Join(", ", u.Withdrawn), body, 2);
                    if (u.Attributes is { } a)
                        l.Add("Path attributes", $"ORIGIN {a.Origin}, AS_PATH {a.AsPathText}, NEXT_HOP {a.NextHop}{(a.MultiExitDisc is { } med ? $", MED {med}" : "")}", body + 2, 2);
                    l.Add("Network layer reachability", u.Nlri.IsEmpty ? (u.IsEndOfRib ? "(none: End-of-RIB)" : "(none)") : string.Join(", ", u.Nlri), body, size - body);
                    break;
                case BgpNotification n:
                    l.Add("Error", $"{n.Error.Text} ({(byte)n.Error.Code}/{n.Error.Subcode})", body, 2);
                    break;
            }
            at += size;
        }
    }

    internal static string BgpName(BgpMessageType t) => t switch
    {
        BgpMessageType.Open => "OPEN",
        BgpMessageType.Update => "UPDATE",
        BgpMessageType.Notification => "NOTIFICATION",
        BgpMessageType.Keepalive => "KEEPALIVE",
        BgpMessageType.RouteRefresh => "ROUTE-REFRESH",
        _ => $"type {(byte)t}",
    };

    private void Icmp(int block, byte[] buf, int offset, int length, int depth)
    {
        if (!Icmpv4Header.TryParse(buf.AsSpan(offset, length), out var icmp, out var data, out var error))
        {
            Begin($"Malformed ICMP ({error})", depth, block, offset, length);
            return;
        }
        var echo = icmp.Type is Icmpv4Type.EchoRequest or Icmpv4Type.EchoReply;
        var l = Begin($"Internet Control Message Protocol, {Name(icmp.Type)}{(echo ? $" id=0x{icmp.Identifier:x4}, seq={icmp.SequenceNumber}" : "")}", depth, block, offset, length);
        l.Add("Type", $"{(byte)icmp.Type} ({Name(icmp.Type)})", 0, 1);
        l.Add("Code", U(icmp.Code), 1, 1);
        l.Add("Checksum", $"0x{icmp.Checksum:x4}", 2, 2);
        if (echo)
        {
            l.Add("Identifier", $"0x{icmp.Identifier:x4}", 4, 2);
            l.Add("Sequence number", U(icmp.SequenceNumber), 6, 2);
        }
        else l.Add("Rest of header", $"0x{icmp.RestOfHeader:x8}", 4, 4);
        if (data.Length > 0) l.Add(icmp.IsError ? "Quoted datagram" : "Data", $"{data.Length} bytes", 8, data.Length);
    }

    private static string Name(Icmpv4Type t) => t switch
    {
        Icmpv4Type.EchoRequest => "Echo (ping) request",
        Icmpv4Type.EchoReply => "Echo (ping) reply",
        Icmpv4Type.DestinationUnreachable => "Destination unreachable",
        Icmpv4Type.TimeExceeded => "Time exceeded",
        _ => t.ToString(),
    };

    private void Udp(int block, byte[] buf, int offset, int length, int depth, Ipv4Header ip)
    {
        if (!UdpHeader.TryParse(buf.AsSpan(offset, length), out var udp, out var payload, out var error))
        {
            Begin($"Malformed UDP ({error})", depth, block, offset, length);
            return;
        }
        var l = Begin($"User Datagram Protocol, Src Port: {udp.SourcePort}, Dst Port: {udp.DestinationPort}", depth, block, offset, UdpHeader.HeaderLength);
        l.Add("Source port", U(udp.SourcePort), 0, 2);
        l.Add("Destination port", U(udp.DestinationPort), 2, 2);
        l.Add("Length", U(udp.Length), 4, 2);
        var verified = udp.Checksum == UdpHeader.NoChecksum ? "none" : UdpHeader.VerifyChecksum(buf.AsSpan(offset, udp.Length), ip.Source, ip.Destination) ? "verified" : "WRONG";
        l.Add("Checksum", $"0x{udp.Checksum:x4} [{verified}]", 6, 2);
        var start = offset + UdpHeader.HeaderLength;
        if (udp.SourcePort == UdpPorts.Ike || udp.DestinationPort == UdpPorts.Ike)
        {
            Ike(block, buf, start, payload.Length, depth);
            return;
        }
        if (udp.SourcePort != UdpPorts.IkeNatTraversal && udp.DestinationPort != UdpPorts.IkeNatTraversal)
        {
            if (payload.Length > 0) Begin($"Data ({payload.Length} bytes)", depth, block, start, payload.Length);
            return;
        }
        if (!UdpEncapsulation.TryClassify(payload, out var kind, out _, out error))
        {
            Begin($"Malformed UDP-encapsulated IPsec ({error})", depth, block, start, payload.Length);
            return;
        }
        switch (kind)
        {
            case EncapsulatedKind.Keepalive:
                Begin("NAT-Keepalive (RFC 3948)", depth, block, start, 1).Add("Keepalive octet", "0xff", 0, 1);
                break;
            case EncapsulatedKind.Ike:
                Begin("Non-ESP marker (RFC 3948): IKE follows", depth, block, start, UdpEncapsulation.NonEspMarkerLength)
                    .Add("Non-ESP marker", "0x00000000", 0, UdpEncapsulation.NonEspMarkerLength);
                Ike(block, buf, start + UdpEncapsulation.NonEspMarkerLength, payload.Length - UdpEncapsulation.NonEspMarkerLength, depth);
                break;
            default:
                Esp(block, buf, start, payload.Length, depth);
                break;
        }
    }

    private void Esp(int block, byte[] buf, int offset, int length, int depth)
    {
        if (!EspHeader.TryParse(buf.AsSpan(offset, length), out var esp, out _, out var error))
        {
            Begin($"Malformed ESP ({error})", depth, block, offset, length);
            return;
        }
        var l = Begin($"Encapsulating Security Payload, SPI: 0x{esp.Spi:x8}, Seq: {esp.SequenceNumber}", depth, block, offset, length);
        l.Add("SPI", $"0x{esp.Spi:x8}", 0, 4);
        l.Add("Sequence", U(esp.SequenceNumber), 4, 4);
        if (_keys.Esp(esp.Spi) is not { } key)
        {
            l.Add("Encrypted data", $"{length - EspHeader.Length} bytes (no key for this SPI yet)", 8, length - EspHeader.Length);
            return;
        }
        var suite = key.Suite;
        var copy = buf.AsSpan(offset, length).ToArray();
        using var sa = new EspInboundSa(esp.Spi, suite, key.EncryptionKey, key.IntegrityKey, extendedSequenceNumbers: false);
        var ivLength = suite.IvLength;
        l.Add("IV", $"{ivLength} bytes", 8, ivLength);
        var icvAt = length - suite.IcvLength;
        if (!sa.TryOpen(copy, out var opened, out var reason))
        {
            l.Add("Encrypted data", $"{Math.Max(0, icvAt - 8 - ivLength)} bytes", 8 + ivLength, Math.Max(0, icvAt - 8 - ivLength));
            l.Add("ICV", $"{suite.IcvLength} bytes [FAILED: {reason}]", Math.Max(0, icvAt), suite.IcvLength);
            return;
        }
        l.Add("Encrypted data", $"{icvAt - 8 - ivLength} bytes ({suite})", 8 + ivLength, icvAt - 8 - ivLength);
        l.Add("ICV", $"{suite.IcvLength} bytes [verified]", icvAt, suite.IcvLength);
        var inner = AddBlock($"Decrypted ESP 0x{esp.Spi:x8}", copy);
        var trailerAt = opened.Offset + opened.Length;
        var t = Begin("ESP payload (decrypted)", depth + 1, inner, 0, copy.Length);
        t.Add("Inner packet", $"{opened.Length} bytes", opened.Offset, opened.Length);
        var padLength = copy[icvAt - 2];
        t.Add("Padding", $"{padLength} bytes", trailerAt, padLength);
        t.Add("Pad length", U(padLength), icvAt - 2, 1);
        t.Add("Next header", opened.NextHeader == EspNextHeader.Ipv4 ? "IPIP (4)" : U(opened.NextHeader), icvAt - 1, 1);
        if (opened.NextHeader == EspNextHeader.Ipv4) Ipv4(inner, copy, opened.Offset, opened.Length, depth + 1);
    }

    private void Ike(int block, byte[] buf, int offset, int length, int depth)
    {
        var span = buf.AsSpan(offset, length);
        if (!IkeHeader.TryParse(span, out var h, out var error))
        {
            Begin($"Malformed IKE ({error})", depth, block, offset, length);
            return;
        }
        var kind = h.IsResponse ? "response" : "request";
        var l = Begin($"Internet Security Association and Key Management Protocol, {ExchangeName(h.Exchange)} MID={h.MessageId} {(h.IsFromOriginalInitiator ? "Initiator" : "Responder")} {kind}",
            depth, block, offset, IkeHeader.Size);
        l.Add("Initiator SPI", $"{h.InitiatorSpi:x16}", 0, 8);
        l.Add("Responder SPI", $"{h.ResponderSpi:x16}", 8, 8);
        l.Add("Next payload", PayloadName(h.NextPayload), 16, 1);
        l.Add("Version", "2.0", 17, 1);
        l.Add("Exchange type", $"{ExchangeName(h.Exchange)} ({(byte)h.Exchange})", 18, 1);
        l.Add("Flags", $"0x{(byte)h.Flags:x2} ({(h.IsFromOriginalInitiator ? "Initiator" : "Responder")}, {kind})", 19, 1);
        l.Add("Message ID", $"0x{h.MessageId:x8}", 20, 4);
        l.Add("Length", U(h.Length), 24, 4);
        Payloads(block, buf, offset + IkeHeader.Size, (int)Math.Min(h.Length, (uint)length) - IkeHeader.Size, h.NextPayload, depth, IkeChainOptions.None, (buf, offset, length, h));
    }

    private void Payloads(int block, byte[] buf, int chainStart, int chainLength, IkePayloadType first, int depth, IkeChainOptions options, (byte[] Buf, int Offset, int Length, IkeHeader Header) message)
    {
        if (chainLength <= 0) return;
        var reader = new IkePayloadReader(buf.AsSpan(chainStart, chainLength), first, options);
        var views = new List<(IkePayloadType Type, IkePayloadHeader Header, int Offset, int Length)>();
        while (reader.TryRead(out var v)) views.Add((v.Type, v.Header, v.Offset, v.Payload.Length));
        foreach (var (type, header, at, plen) in views)
        {
            var start = chainStart + at;
            var body = buf.AsSpan(start + IkePayloadHeader.Size, plen - IkePayloadHeader.Size);
            IkePayload.TryParse(type, header.NextPayload, body, out var parsed, out _);
            var l = Begin($"Payload: {PayloadName(type)}{Brief(parsed)}", depth + 1, block, start, plen);
            l.Add("Next payload", PayloadName(header.NextPayload), 0, 1);
            l.Add("Critical", header.Critical ? "yes" : "no", 1, 1);
            l.Add("Payload length", U(header.PayloadLength), 2, 2);
            if (type == IkePayloadType.Encrypted) Sk(l, block, message, start, plen, header.NextPayload, depth + 1);
            else foreach (var (name, value) in Describe(parsed)) l.Add(name, value, IkePayloadHeader.Size, plen - IkePayloadHeader.Size);
        }
        if (reader.Error != WireError.None) Begin($"Malformed payload chain ({reader.Error})", depth + 1, block, chainStart, chainLength);
    }

    private void Sk(LayerBuilder l, int block, (byte[] Buf, int Offset, int Length, IkeHeader Header) m, int skStart, int skLength, IkePayloadType firstInner, int depth)
    {
        if (_keys.Ike(m.Header.InitiatorSpi, m.Header.ResponderSpi) is not { } key)
        {
            l.Add("Encrypted data", $"{skLength - IkePayloadHeader.Size} bytes (no key for this IKE SA yet)", IkePayloadHeader.Size, skLength - IkePayloadHeader.Size);
            return;
        }
        var c = key.Suite;
        var skBody = skStart - m.Offset + IkePayloadHeader.Size; // relative to the IKE message
        var encryptedLength = skLength - IkePayloadHeader.Size - c.IvLength - c.IcvLength;
        l.Add("Initialization vector", $"{c.IvLength} bytes", IkePayloadHeader.Size, c.IvLength);
        l.Add("Encrypted data", $"{encryptedLength} bytes ({c})", IkePayloadHeader.Size + c.IvLength, Math.Max(0, encryptedLength));
        var copy = m.Buf.AsSpan(m.Offset, m.Length).ToArray();
        if (!SkMessage.TryLocate(copy, c.IvLength, c.BlockSize, c.IcvLength, out var s, out var error))
        {
            l.Add("Integrity checksum", $"[not checked: {error}]", skLength - c.IcvLength, c.IcvLength);
            return;
        }
        var fromInitiator = m.Header.IsFromOriginalInitiator;
        using var protection = c.CreateProtection(fromInitiator ? key.SkEi : key.SkEr, fromInitiator ? key.SkAi : key.SkAr);
        if (!protection.Open(s.Aad, s.Iv, s.Body, s.Icv))
        {
            l.Add("Integrity checksum", $"{c.IcvLength} bytes [FAILED]", skLength - c.IcvLength, c.IcvLength);
            return;
        }
        l.Add("Integrity checksum", $"{c.IcvLength} bytes [verified]", skLength - c.IcvLength, c.IcvLength);
        var bodyLength = s.Body.Length;
        if (!SkMessage.TryRemovePadding(s.Body, out var chain, out error))
        {
            l.Add("Decrypted data", $"[bad padding: {error}]", skBody - (skStart - m.Offset), bodyLength);
            return;
        }
        var innerLength = chain.Length;
        var inner = AddBlock($"Decrypted SK {m.Header.InitiatorSpi:x16}/{m.Header.ResponderSpi:x16} MID {m.Header.MessageId}", copy);
        var bodyAt = skBody + c.IvLength;
        var d = Begin("Decrypted SK payload", depth, inner, bodyAt, bodyLength);
        d.Add("Inner payloads", $"{innerLength} bytes", 0, innerLength);
        d.Add("Pad length", U(copy[bodyAt + bodyLength - 1]), bodyLength - 1, 1);
        Payloads(inner, copy, bodyAt, innerLength, firstInner, depth, IkeChainOptions.Inner, (copy, 0, copy.Length, m.Header));
    }

    public static string ExchangeName(ExchangeType t) => t switch
    {
        ExchangeType.IkeSaInit => "IKE_SA_INIT",
        ExchangeType.IkeAuth => "IKE_AUTH",
        ExchangeType.CreateChildSa => "CREATE_CHILD_SA",
        ExchangeType.Informational => "INFORMATIONAL",
        _ => U((byte)t),
    };

    public static string PayloadName(IkePayloadType t) => t switch
    {
        IkePayloadType.None => "NONE",
        IkePayloadType.SecurityAssociation => "SA",
        IkePayloadType.KeyExchange => "KE",
        IkePayloadType.IdentificationInitiator => "IDi",
        IkePayloadType.IdentificationResponder => "IDr",
        IkePayloadType.Certificate => "CERT",
        IkePayloadType.CertificateRequest => "CERTREQ",
        IkePayloadType.Authentication => "AUTH",
        IkePayloadType.Nonce => "Nonce",
        IkePayloadType.Notify => "N",
        IkePayloadType.Delete => "D",
        IkePayloadType.VendorId => "V",
        IkePayloadType.TrafficSelectorInitiator => "TSi",
        IkePayloadType.TrafficSelectorResponder => "TSr",
        IkePayloadType.Encrypted => "SK",
        IkePayloadType.Configuration => "CP",
        IkePayloadType.Eap => "EAP",
        IkePayloadType.EncryptedFragment => "SKF",
        _ => U((byte)t),
    };

    /// <summary>What goes beside the payload's name in the tree (a notify's type, an SA's first proposal).</summary>
    public static string Brief(IkePayload? p) => p switch
    {
        NotifyPayload n => $"({n.NotifyType})",
        KeyExchangePayload k => $" group {k.Group}",
        DeletePayload d => $" {d.Protocol}",
        _ => "",
    };

    private static IEnumerable<(string Name, string Value)> Describe(IkePayload? p)
    {
        switch (p)
        {
            case SecurityAssociationPayload sa:
                foreach (var pr in sa.Proposals)
                    yield return ($"Proposal #{pr.Number}", $"{pr.Protocol}{(pr.Spi.Length > 0 ? $" SPI 0x{Convert.ToHexStringLower(pr.Spi.Span)}" : "")}: {string.Join(", ", pr.Transforms.Select(TransformName))}");
                break;
            case KeyExchangePayload ke:
                yield return ("DH group", U(ke.Group));
                yield return ("Key exchange data", $"{ke.Data.Length} bytes");
                break;
            case NoncePayload n:
                yield return ("Nonce", $"{n.Nonce.Length} bytes");
                break;
            case NotifyPayload n:
                yield return ("Notify message type", $"{n.NotifyType} ({(ushort)n.NotifyType})");
                if (n.Spi.Length > 0) yield return ("SPI", "0x" + Convert.ToHexStringLower(n.Spi.Span));
                if (n.Data.Length > 0) yield return ("Notification data", n.Data.Length <= 20 ? Convert.ToHexStringLower(n.Data.Span) : $"{n.Data.Length} bytes");
                break;
            case IdentificationPayload id:
                yield return ("ID type", id.IdType.ToString());
                yield return ("Identification data", id.IdType == IdType.Ipv4Address && id.Data.Length == 4
                    ? new Ipv4Address(BinaryPrimitives.ReadUInt32BigEndian(id.Data.Span)).ToString()
                    : System.Text.Encoding.UTF8.GetString(id.Data.Span));
                break;
            case AuthenticationPayload a:
                yield return ("Auth method", a.Method.ToString());
                yield return ("Authentication data", $"{a.Data.Length} bytes");
                break;
            case TrafficSelectorPayload ts:
                foreach (var s in ts.Selectors)
                    yield return ("Traffic selector", $"{s.StartAddress}-{s.EndAddress} proto {s.IpProtocol} ports {s.StartPort}-{s.EndPort}");
                break;
            case DeletePayload d:
                yield return ("Protocol", d.Protocol.ToString());
                foreach (var spi in d.Spis) yield return ("SPI", $"0x{spi:x8}");
                break;
            case ConfigurationPayload cp:
                yield return ("Type", cp.CfgType.ToString());
                foreach (var at in cp.Attributes) yield return ("Attribute", $"{at.AttributeType} ({at.Value.Length} bytes)");
                break;
            case VendorIdPayload v:
                yield return ("Vendor ID", Convert.ToHexStringLower(v.VendorId.Span));
                break;
        }
    }

    /// <summary>A transform as IANA names it (RFC 7296 section 3.3.2 and the IKEv2 registry), e.g. "ENCR_AES_GCM_16 (256)".</summary>
    public static string TransformName(Transform t)
    {
        var keyLength = t.Attributes.FirstOrDefault(a => a.AttributeType == 14 && a.IsTv).TvValue;
        var name = (t.TransformType, t.Id) switch
        {
            (TransformType.Encryption, 3) => "ENCR_3DES",
            (TransformType.Encryption, 12) => "ENCR_AES_CBC",
            (TransformType.Encryption, 18) => "ENCR_AES_GCM_8",
            (TransformType.Encryption, 19) => "ENCR_AES_GCM_12",
            (TransformType.Encryption, 20) => "ENCR_AES_GCM_16",
            (TransformType.Encryption, 11) => "ENCR_NULL",
            (TransformType.PseudorandomFunction, 2) => "PRF_HMAC_SHA1",
            (TransformType.PseudorandomFunction, 5) => "PRF_HMAC_SHA2_256",
            (TransformType.PseudorandomFunction, 6) => "PRF_HMAC_SHA2_384",
            (TransformType.PseudorandomFunction, 7) => "PRF_HMAC_SHA2_512",
            (TransformType.Integrity, 2) => "AUTH_HMAC_SHA1_96",
            (TransformType.Integrity, 12) => "AUTH_HMAC_SHA2_256_128",
            (TransformType.Integrity, 13) => "AUTH_HMAC_SHA2_384_192",
            (TransformType.Integrity, 14) => "AUTH_HMAC_SHA2_512_256",
            (TransformType.Integrity, 0) => "NONE",
            (TransformType.ExtendedSequenceNumbers, 0) => "No ESN",
            (TransformType.ExtendedSequenceNumbers, 1) => "ESN",
            (TransformType.Encryption or TransformType.PseudorandomFunction or TransformType.Integrity, var id) => $"{t.TransformType} {id}",
            (_, var id) => $"DH group {id}",
        };
        return keyLength > 0 ? $"{name} ({keyLength})" : name;
    }
}

/// <summary>Small looks into a frame that need no tree: its ESP inner packet, and what survives routing and NAT.</summary>
public static class FrameFacts
{
    /// <summary>The IPv4 packet inside an ESP frame (protocol 50 or ESP in UDP 4500), opened with its SA's keys.</summary>
    public static bool TryOpenEsp(byte[] packet, IKeyRing keys, out byte[] inner, out uint spi, out uint sequence)
    {
        inner = [];
        spi = 0;
        sequence = 0;
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out _) || ip.FragmentOffset != 0) return false;
        var espAt = ip.HeaderLength;
        var length = payload.Length;
        if (ip.Protocol == IpProtocol.Udp)
        {
            if (!UdpHeader.TryParse(payload, out _, out var udpPayload, out _) || !UdpEncapsulation.TryClassify(udpPayload, out var kind, out _, out _) || kind != EncapsulatedKind.Esp) return false;
            espAt += UdpHeader.HeaderLength;
            length = udpPayload.Length;
        }
        else if (ip.Protocol != IpProtocol.Esp) return false;
        if (!EspHeader.TryParse(packet.AsSpan(espAt, length), out var esp, out _, out _) || keys.Esp(esp.Spi) is not { } key) return false;
        spi = esp.Spi;
        sequence = esp.SequenceNumber;
        var copy = packet.AsSpan(espAt, length).ToArray();
        using var sa = new EspInboundSa(esp.Spi, key.Suite, key.EncryptionKey, key.IntegrityKey, extendedSequenceNumbers: false);
        if (!sa.TryOpen(copy, out var opened, out _) || opened.NextHeader != EspNextHeader.Ipv4) return false;
        inner = copy.AsSpan(opened.Offset, opened.Length).ToArray();
        return true;
    }

    /// <summary>
    /// What routing and NAT leave alone: the IP identification, protocol and length and the bytes after the transport
    /// header (NAT rewrites addresses, ports, ICMP identifiers and checksums; a router the TTL). Null for a non-IPv4 frame.
    /// </summary>
    public static string? Fingerprint(byte[] packet)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out _)) return null;
        var skip = ip.FragmentOffset == 0 && ip.Protocol is IpProtocol.Udp or IpProtocol.Icmp ? Math.Min(8, payload.Length) : 0;
        return $"{ip.Identification}/{(byte)ip.Protocol}/{ip.TotalLength}/{ip.FragmentOffset}/{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload[skip..]))}";
    }
}
