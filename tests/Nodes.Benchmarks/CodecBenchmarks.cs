using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Esp;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Benchmarks;

/// <summary>
/// Parsing and emitting the headers a tunnel packet passes through, on packets Nodes itself produced: an
/// ESP-in-UDP datagram (RFC 3948) carrying a 1400-byte inner packet sealed with AES-GCM-16-256, and the
/// IKE_SA_INIT request of Windows RRAS' default proposals. Each category has its own baseline: for IPv4, UDP
/// and ESP, reading the same fields with <see cref="BinaryPrimitives"/> and no checks (the floor a validating
/// parser is compared with); for IKE, the header-only parse next to the whole message parse that builds a
/// record per payload. The Allocated column is the point of the header parses: they must allocate nothing.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CodecBenchmarks
{
    private const int InnerLength = 1400;

    private static readonly Ipv4Template Outer = new(
        IkeHandshake.InitiatorEndpoint.Address, IkeHandshake.ResponderEndpoint.Address, Identification: 0x1c46, TimeToLive: 64);

    private byte[] _esp = [];
    private byte[] _espDatagram = [];
    private byte[] _checksummedDatagram = [];
    private byte[] _udp = [];
    private byte[] _udpPayload = [];
    private byte[] _ikeInit = [];
    private IkeMessage _ikeInitMessage = null!;
    private Ipv4Header _ipHeader;
    private UdpHeader _udpHeader;
    private EspHeader _espHeader;
    private IkeHeader _ikeHeader;
    private readonly byte[] _output = new byte[2048];

    [GlobalSetup]
    public void Setup()
    {
        // A real ESP packet, as the data plane sends it.
        var keys = new EspSuites.Keys(new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None), seed: 1);
        using var sa = EspSuites.Outbound(new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None), keys);
        var inner = new byte[InnerLength];
        new SeededRandomSource(2, "inner").Fill(inner);
        _esp = new byte[sa.SealedLength(InnerLength)];
        if (sa.Seal(inner, _esp, out _) != EspSealStatus.Sealed) throw new InvalidOperationException("seal failed");

        // RFC 3948 section 2.1: ESP-in-UDP on port 4500 with a zero UDP checksum.
        _espDatagram = Datagram(_esp, UdpChecksumMode.Zero);
        _checksummedDatagram = Datagram(_esp, UdpChecksumMode.Compute);
        _udp = _espDatagram[Ipv4PacketWriter.TransportOffset..];
        _udpPayload = _espDatagram[Ipv4PacketWriter.UdpPayloadOffset..];

        _ikeInit = new IkeHandshake(DeviceDefaults.WindowsIke, DeviceDefaults.WindowsEsp, IkeEnvironment.System).InitRequest();
        _ikeInitMessage = Parse(_ikeInit);
        if (!Ipv4Header.TryParse(_espDatagram, out _ipHeader, out _, out _, out var e1)) throw new InvalidOperationException($"IPv4: {e1}");
        if (!UdpHeader.TryParse(_udp, out _udpHeader, out _, out var e2)) throw new InvalidOperationException($"UDP: {e2}");
        if (!EspHeader.TryParse(_esp, out _espHeader, out _, out var e3)) throw new InvalidOperationException($"ESP: {e3}");
        if (!IkeHeader.TryParse(_ikeInit, out _ikeHeader, out var e4)) throw new InvalidOperationException($"IKE: {e4}");
        if (!_ikeInitMessage.ToArray().AsSpan().SequenceEqual(_ikeInit)) throw new InvalidOperationException("IKE_SA_INIT does not re-encode byte for byte");
    }

    private static byte[] Datagram(ReadOnlySpan<byte> payload, UdpChecksumMode checksum)
    {
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, Outer, UdpPorts.IkeNatTraversal, UdpPorts.IkeNatTraversal, payload, checksum);
        return datagram;
    }

    private static IkeMessage Parse(byte[] datagram) =>
        IkeMessage.TryParse(datagram, out var message, out var error) ? message! : throw new InvalidOperationException($"IKE_SA_INIT: {error}");

    // ----- IPv4 ---------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, Description = "IPv4: raw field reads")]
    [BenchmarkCategory("IPv4")]
    public uint Ipv4Raw()
    {
        ReadOnlySpan<byte> d = _espDatagram;
        return (uint)(d[0] & 0x0f) + BinaryPrimitives.ReadUInt16BigEndian(d[2..]) + d[9]
            + BinaryPrimitives.ReadUInt32BigEndian(d[12..]) + BinaryPrimitives.ReadUInt32BigEndian(d[16..]);
    }

    [Benchmark(Description = "Ipv4Header.TryParse (checksum verified)")]
    [BenchmarkCategory("IPv4")]
    public int Ipv4Parse() =>
        Ipv4Header.TryParse(_espDatagram, out var header, out _, out var payload, out _) ? header.TotalLength + payload.Length : -1;

    [Benchmark(Description = "Ipv4Packet.TryParse")]
    [BenchmarkCategory("IPv4")]
    public int Ipv4PacketParse() =>
        Ipv4Packet.TryParse(_espDatagram, out var packet, out _) ? packet.Payload.Length : -1;

    [Benchmark(Description = "Ipv4Header.Encode (checksum computed)")]
    [BenchmarkCategory("IPv4")]
    public int Ipv4Encode() => _ipHeader.Encode(_output);

    [Benchmark(Description = "Ipv4PacketWriter.WriteUdp, ESP-in-UDP, 1400 B inner")]
    [BenchmarkCategory("IPv4")]
    public int Ipv4WriteUdp() =>
        Ipv4PacketWriter.WriteUdp(_output, Outer, UdpPorts.IkeNatTraversal, UdpPorts.IkeNatTraversal, _esp, UdpChecksumMode.Zero);

    // ----- UDP ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, Description = "UDP: raw field reads")]
    [BenchmarkCategory("UDP")]
    public uint UdpRaw()
    {
        ReadOnlySpan<byte> d = _udp;
        return (uint)BinaryPrimitives.ReadUInt16BigEndian(d) + BinaryPrimitives.ReadUInt16BigEndian(d[2..])
            + BinaryPrimitives.ReadUInt16BigEndian(d[4..]) + BinaryPrimitives.ReadUInt16BigEndian(d[6..]);
    }

    [Benchmark(Description = "UdpHeader.TryParse")]
    [BenchmarkCategory("UDP")]
    public int UdpParse() => UdpHeader.TryParse(_udp, out var header, out var payload, out _) ? header.Length + payload.Length : -1;

    [Benchmark(Description = "UdpHeader.TryParse, checksum verified over 1436 B")]
    [BenchmarkCategory("UDP")]
    public int UdpParseChecksum() =>
        UdpHeader.TryParse(_checksummedDatagram.AsSpan(Ipv4PacketWriter.TransportOffset), Outer.Source, Outer.Destination, out var header, out _, out _)
            ? header.Checksum : -1;

    [Benchmark(Description = "UdpHeader.Encode")]
    [BenchmarkCategory("UDP")]
    public int UdpEncode() => _udpHeader.Encode(_output);

    [Benchmark(Description = "UdpEncapsulation.TryClassify (ESP)")]
    [BenchmarkCategory("UDP")]
    public int UdpClassify() =>
        UdpEncapsulation.TryClassify(_udpPayload, out var kind, out var content, out _) ? (int)kind + content.Length : -1;

    // ----- ESP ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, Description = "ESP: raw field reads")]
    [BenchmarkCategory("ESP")]
    public uint EspRaw()
    {
        ReadOnlySpan<byte> d = _esp;
        return BinaryPrimitives.ReadUInt32BigEndian(d) + BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
    }

    [Benchmark(Description = "EspHeader.TryParse")]
    [BenchmarkCategory("ESP")]
    public uint EspParse() => EspHeader.TryParse(_esp, out var header, out _, out _) ? header.Spi + header.SequenceNumber : 0;

    [Benchmark(Description = "EspPacket.TryCreate")]
    [BenchmarkCategory("ESP")]
    public uint EspPacketCreate() => EspPacket.TryCreate(_esp, out var packet, out _) ? packet.Spi + packet.SequenceNumber : 0;

    [Benchmark(Description = "EspHeader.Encode")]
    [BenchmarkCategory("ESP")]
    public int EspEncode() => _espHeader.Encode(_output);

    // ----- IKE ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, Description = "IkeHeader.TryParse, header only")]
    [BenchmarkCategory("IKE")]
    public uint IkeHeaderParse() => IkeHeader.TryParse(_ikeInit, out var header, out _) ? header.Length + header.MessageId : 0;

    [Benchmark(Description = "IkeMessage.TryParse, whole IKE_SA_INIT")]
    [BenchmarkCategory("IKE")]
    public int IkeMessageParse() => IkeMessage.TryParse(_ikeInit, out var message, out _) ? message!.Payloads.Count : -1;

    [Benchmark(Description = "IkeHeader.Encode")]
    [BenchmarkCategory("IKE")]
    public int IkeHeaderEncode() => _ikeHeader.Encode(_output);

    [Benchmark(Description = "IkeMessage.Encode, whole IKE_SA_INIT")]
    [BenchmarkCategory("IKE")]
    public int IkeMessageEncode() => _ikeInitMessage.Encode(_output);
}
