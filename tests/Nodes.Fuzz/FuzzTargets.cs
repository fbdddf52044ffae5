using System.Text;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Net.Fragmentation;
using Nodes.Net.Nat;
using Nodes.Topology.Loading;
using Nodes.Wire;
using Nodes.Wire.Esp;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Fuzz;

/// <summary>One entry point that hostile bytes reach, as a fuzz target: it must return, whatever the input.</summary>
public sealed record FuzzTarget(string Name, string Reaches, Action<byte[]> Run);

/// <summary>
/// The entry points bytes from a peer, a link or a file reach, each driven the way the lab drives it. A target
/// returns for every input; an exception or a hang is a finding (afl-fuzz records it as a crash or a timeout).
/// Keys are fixed, so that a target which seals its input first (the SK and ESP "sealed" targets) reaches the
/// parsing behind authentication, where only a peer holding the keys could send bytes. A target is one entry of
/// <see cref="All"/>: the corpus folder of the same name seeds it, and the replay test runs it.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("ike-parse", "IkeMessage.TryParse: an IKE datagram as received on UDP 500 or behind the non-ESP marker", IkeParse),
        new("ike-sk-open", "SkMessage.TryLocate, the SK payload's integrity check and inner parse with fixed keys", IkeSkOpen),
        new("ike-sk-sealed", "SkMessage.TryOpenInner after authentication: the input (first byte: first inner payload type) sealed with the fixed keys, then opened", IkeSkSealed),
        new("esp-open", "EspInboundSa.TryOpen with fixed keys (AES-GCM-16-256): header, replay window, ICV", EspOpen),
        new("esp-sealed", "EspInboundSa.TryOpen after authentication: the input (first byte: next header) sealed by the peer's SA with AES-CBC/HMAC-SHA1, then opened (trailer, padding)", EspSealed),
        new("udp-encap-classify", "UdpEncapsulation.TryClassify: a UDP 4500 payload (keepalive, non-ESP marker + IKE, ESP)", UdpEncapClassify),
        new("ipv4-parse", "Ipv4Packet.TryParse and the ICMP or UDP inside, with the quoted datagram of an ICMP error", Ipv4Parse),
        new("ipv4-reassembly", "Ipv4Reassembler.Accept over a sequence of fragments (frames), each with a correct header checksum", Ipv4Reassembly),
        new("nat-table", "NatTable.TranslateOutbound/TranslateInbound over a sequence of datagrams (frames: tag bit 0 = inbound)", NatTableTarget),
        new("gateway-engine", "GatewayEngine.Receive and Tick, both seed-lab gateways with the tunnel up: frames sealed with the established IKE and ESP keys (an authenticated peer), and raw frames from anyone (GatewayTarget)", GatewayTarget.Run),
        new("topology-load", "TopologyLoader.LoadFromString: a topology file's text (UTF-8)", TopologyLoad),
        new("bgp-parse", "BgpCodec.TryFrame and TryParse: a BGP message as a neighbour's stream holds it (first byte: 4-octet AS numbers or not)", BgpParse),
        new("bgp-session", "BgpSpeaker over a real TcpConnection: a neighbour's byte stream, after a valid OPEN and KEEPALIVE when the first byte is odd (BgpTarget)", BgpTarget.Run),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    // Nothing of Nodes runs before afl-fuzz's loop starts: instrumented code touched earlier writes to a coverage map
    // that does not exist yet. The suites and keys are made on the first input.
    private static CipherSuite IkeCipher => new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha256_128);
    private static CipherSuite EspGcm => new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None);
    private static CipherSuite EspCbc => new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha1_96);

    /// <summary>Key bytes 1, 2, 3, ... offset by <paramref name="salt"/>: fixed, so that a finding replays.</summary>
    private static SecretKey Key(int length, byte salt)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)(i + 1 + salt);
        return SecretKey.Own(bytes);
    }

    private static readonly Lazy<PayloadProtection> SkProtection = new(() => IkeCipher.CreateProtection(Key(IkeCipher.EncryptionKeyLength, 0), Key(IkeCipher.IntegrityKeyLength, 64)));

    private static PayloadProtection Sk => SkProtection.Value;

    private static void IkeParse(byte[] input) => IkeMessage.TryParse(input, out _, out _, out _);

    private static void BgpParse(byte[] input)
    {
        if (input.Length == 0) return;
        var stream = input.AsSpan(1);
        while (Nodes.Wire.Bgp.BgpCodec.TryFrame(stream, out var length, out _))
        {
            Nodes.Wire.Bgp.BgpCodec.TryParse(stream[..length], (input[0] & 1) == 1, out _, out _);
            stream = stream[length..];
        }
    }

    private static void IkeSkOpen(byte[] input) => Open(input);

    /// <summary>The path of a received SK message; true when it authenticated (whether or not its payloads then parsed).</summary>
    private static bool Open(byte[] datagram)
    {
        var c = IkeCipher;
        if (!SkMessage.TryLocate(datagram, c.IvLength, c.BlockSize, c.IcvLength, out var s, out _)) return false;
        if (!Sk.Open(s.Aad, s.Iv, s.Body, s.Icv)) return false;
        SkMessage.TryOpenInner(s.Body, s.FirstInnerType, out _, out _, out _);
        return true;
    }

    private static void IkeSkSealed(byte[] input)
    {
        if (input.Length == 0) return;
        var c = IkeCipher;
        var inner = input.AsSpan(1);
        var buffer = new byte[SkMessage.SealedLength(inner.Length, c.IvLength, c.BlockSize, c.IcvLength)];
        if (!SkMessage.TryLayout(0x0102030405060708, 0x1112131415161718, ExchangeType.IkeAuth, IkeFlags.Initiator, 1, (IkePayloadType)input[0], inner,
                c.IvLength, c.BlockSize, c.IcvLength, buffer, out var s, out _, out _)) return;
        Sk.Seal(s.Aad, s.Iv, s.Body, s.Icv);
        if (!Open(buffer)) throw new InvalidOperationException("a message sealed with the SA's own keys did not authenticate");
    }

    private const uint Spi = 0xc0ffee01;

    private static void EspOpen(byte[] input)
    {
        using var sa = new EspInboundSa(Spi, EspGcm, Key(EspGcm.EncryptionKeyLength, 0), null, extendedSequenceNumbers: false);
        sa.TryOpen(input, out _, out _);
    }

    private static void EspSealed(byte[] input)
    {
        if (input.Length == 0) return;
        using var outbound = new EspOutboundSa(Spi, EspCbc, Key(EspCbc.EncryptionKeyLength, 0), Key(EspCbc.IntegrityKeyLength, 64), false, new SeededRandomSource(1));
        using var inbound = new EspInboundSa(Spi, EspCbc, Key(EspCbc.EncryptionKeyLength, 0), Key(EspCbc.IntegrityKeyLength, 64), extendedSequenceNumbers: false);
        var inner = input.AsSpan(1);
        var packet = new byte[outbound.SealedLength(inner.Length)];
        if (outbound.Seal(inner, packet, out var written, input[0]) != EspSealStatus.Sealed) return;
        var ok = inbound.TryOpen(packet.AsSpan(0, written), out var opened, out var reason);
        // Next header 59 marks a dummy packet, which RFC 4303 section 2.6 has the receiver discard.
        if (input[0] == EspNextHeader.NoNextHeader && reason == EspDropReason.Dummy) return;
        if (!ok)
            throw new InvalidOperationException($"a packet sealed by the peer's SA was dropped: {reason}");
        if (opened.NextHeader != input[0] || !opened.Slice(packet).SequenceEqual(inner))
            throw new InvalidOperationException("the opened packet differs from what was sealed");
    }

    private static void UdpEncapClassify(byte[] input)
    {
        if (!UdpEncapsulation.TryClassify(input, out var kind, out var content, out _)) return;
        if (kind == EncapsulatedKind.Ike) IkeMessage.TryParse(content, out _, out _, out _);
    }

    private static void Ipv4Parse(byte[] input)
    {
        if (!Ipv4Packet.TryParse(input, out var packet, out _)) return;
        var h = packet.Header;
        switch (h.Protocol)
        {
            case IpProtocol.Icmp:
                if (Icmpv4Header.TryParse(packet.Payload, out var icmp, out var data, out _) && icmp.IsError)
                    Icmpv4Header.TryParseQuotedDatagram(data, out _, out _, out _);
                break;
            case IpProtocol.Udp:
                if (UdpHeader.TryParse(packet.Payload, h.Source, h.Destination, out _, out var payload, out _))
                    UdpEncapsulation.TryClassify(payload, out _, out _, out _);
                break;
        }
    }

    private static void Ipv4Reassembly(byte[] input)
    {
        var reassembler = new Ipv4Reassembler(new ReassemblyOptions { Timeout = TimeSpan.FromSeconds(30) });
        var now = TimeSpan.Zero;
        foreach (var (tag, bytes) in Frames.Split(input))
        {
            // The tag's top bits move the clock, so that timeouts are reached too.
            now += TimeSpan.FromSeconds(tag >> 4);
            Frames.FixIpv4Checksum(bytes);
            reassembler.Accept(bytes, now);
            reassembler.Expire(now);
        }
    }

    private static void NatTableTarget(byte[] input)
    {
        var nat = new NatTable(new NatOptions { OutsideAddress = Ipv4Address.Parse("203.0.113.10"), Seed = 7 });
        var now = TimeSpan.Zero;
        foreach (var (tag, bytes) in Frames.Split(input))
        {
            now += TimeSpan.FromSeconds(tag >> 4);
            Frames.FixIpv4Checksum(bytes);
            if ((tag & 1) == 0) nat.TranslateOutbound(bytes, now);
            else nat.TranslateInbound(bytes, now);
            if ((tag & 2) != 0) nat.ExpireIdle(now);
            if ((tag & 4) != 0) nat.Rebind(now);
            nat.TakeEvents();
        }
    }

    private static void TopologyLoad(byte[] input) => TopologyLoader.LoadFromString(Encoding.UTF8.GetString(input), "fuzz.yaml");
}
