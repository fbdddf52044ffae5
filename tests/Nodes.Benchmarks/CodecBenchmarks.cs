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
/// Parsing and emitting the headers a tunnel packet passes through, on packets Nodes itself produced: ESP-in-UDP
/// datagrams (RFC 3948) each carrying a 1400-byte inner packet sealed with AES-GCM-16-256, and IKE_SA_INIT
/// requests with Windows RRAS' default proposals. A header parse takes a nanosecond or two, below what one call
/// can be timed at, so every benchmark walks a pool of <see cref="Count"/> distinct packets (own sequence numbers,
/// identifications, SPIs and nonces, so no result can be computed once and reused) and reports the time per
/// packet. Each category has its own baseline: for IPv4, UDP and ESP, reading the same fields with
/// <see cref="BinaryPrimitives"/> and no checks (the floor a validating parser is compared with); for IKE, the
/// header-only parse next to the whole-message parse that builds a record per payload. The Allocated column is
/// the point of the header parses: they must allocate nothing.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CodecBenchmarks
{
    /// <summary>Distinct packets per invocation: 64 datagrams of ~1.4 kB stay in the L2 cache.</summary>
    private const int Count = 64;

    private const int InnerLength = 1400;

    private readonly byte[][] _esp = new byte[Count][];
    private readonly byte[][] _espDatagrams = new byte[Count][];
    private readonly byte[][] _checksummedDatagrams = new byte[Count][];
    private readonly byte[][] _udp = new byte[Count][];
    private readonly byte[][] _udpPayloads = new byte[Count][];
    private readonly byte[][] _ikeInit = new byte[Count][];
    private readonly IkeMessage[] _ikeInitMessages = new IkeMessage[Count];
    private readonly Ipv4Template[] _templates = new Ipv4Template[Count];
    private readonly Ipv4Header[] _ipHeaders = new Ipv4Header[Count];
    private readonly UdpHeader[] _udpHeaders = new UdpHeader[Count];
    private readonly EspHeader[] _espHeaders = new EspHeader[Count];
    private readonly IkeHeader[] _ikeHeaders = new IkeHeader[Count];
    private readonly byte[] _output = new byte[2048];

    [GlobalSetup]
    public void Setup()
    {
        // Real ESP packets, as the data plane sends them, each with its own sequence number.
        var suite = new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None);
        using var sa = EspSuites.Outbound(suite, new EspSuites.Keys(suite, seed: 1));
        var inner = new byte[InnerLength];
        new SeededRandomSource(2, "inner").Fill(inner);
        var handshake = new IkeHandshake(DeviceDefaults.WindowsIke, DeviceDefaults.WindowsEsp, IkeEnvironment.System);
        for (var i = 0; i < Count; i++)
        {
            _esp[i] = new byte[sa.SealedLength(InnerLength)];
            if (sa.Seal(inner, _esp[i], out _) != EspSealStatus.Sealed) throw new InvalidOperationException("seal failed");
            _templates[i] = new Ipv4Template(IkeHandshake.InitiatorEndpoint.Address, IkeHandshake.ResponderEndpoint.Address,
                Identification: (ushort)(0x1c46 + i), TimeToLive: 64);
            // RFC 3948 section 2.1: ESP-in-UDP on port 4500 with a zero UDP checksum.
            _espDatagrams[i] = Datagram(_templates[i], _esp[i], UdpChecksumMode.Zero);
            _checksummedDatagrams[i] = Datagram(_templates[i], _esp[i], UdpChecksumMode.Compute);
            _udp[i] = _espDatagrams[i][Ipv4PacketWriter.TransportOffset..];
            _udpPayloads[i] = _espDatagrams[i][Ipv4PacketWriter.UdpPayloadOffset..];
            _ikeInit[i] = handshake.InitRequest();
            _ikeInitMessages[i] = IkeMessage.TryParse(_ikeInit[i], out var message, out var error) ? message! : throw new InvalidOperationException($"IKE_SA_INIT: {error}");
            if (!_ikeInitMessages[i].ToArray().AsSpan().SequenceEqual(_ikeInit[i])) throw new InvalidOperationException("IKE_SA_INIT does not re-encode byte for byte");
            if (!Ipv4Header.TryParse(_espDatagrams[i], out _ipHeaders[i], out _, out _, out var e1)) throw new InvalidOperationException($"IPv4: {e1}");
            if (!UdpHeader.TryParse(_udp[i], out _udpHeaders[i], out _, out var e2)) throw new InvalidOperationException($"UDP: {e2}");
            if (!EspHeader.TryParse(_esp[i], out _espHeaders[i], out _, out var e3)) throw new InvalidOperationException($"ESP: {e3}");
            if (!IkeHeader.TryParse(_ikeInit[i], out _ikeHeaders[i], out var e4)) throw new InvalidOperationException($"IKE: {e4}");
        }
    }

    private static byte[] Datagram(in Ipv4Template ip, ReadOnlySpan<byte> payload, UdpChecksumMode checksum)
    {
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, ip, UdpPorts.IkeNatTraversal, UdpPorts.IkeNatTraversal, payload, checksum);
        return datagram;
    }

    // ----- IPv4 ---------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, OperationsPerInvoke = Count, Description = "IPv4: raw field reads")]
    [BenchmarkCategory("IPv4")]
    public ulong Ipv4Raw()
    {
        ulong sum = 0;
        foreach (var datagram in _espDatagrams)
        {
            ReadOnlySpan<byte> d = datagram;
            sum += (uint)(d[0] & 0x0f) + BinaryPrimitives.ReadUInt16BigEndian(d[2..]) + BinaryPrimitives.ReadUInt16BigEndian(d[4..]) + d[9]
                + BinaryPrimitives.ReadUInt32BigEndian(d[12..]) + BinaryPrimitives.ReadUInt32BigEndian(d[16..]);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Ipv4Header.TryParse (checksum verified)")]
    [BenchmarkCategory("IPv4")]
    public long Ipv4Parse()
    {
        long sum = 0;
        foreach (var datagram in _espDatagrams)
        {
            if (!Ipv4Header.TryParse(datagram, out var header, out _, out var payload, out var error)) throw new InvalidOperationException(error.ToString());
            sum += header.Identification + payload.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Ipv4Packet.TryParse")]
    [BenchmarkCategory("IPv4")]
    public long Ipv4PacketParse()
    {
        long sum = 0;
        foreach (var datagram in _espDatagrams)
        {
            if (!Ipv4Packet.TryParse(datagram, out var packet, out var error)) throw new InvalidOperationException(error.ToString());
            sum += packet.Header.Identification + packet.Payload.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Ipv4Header.Encode (checksum computed)")]
    [BenchmarkCategory("IPv4")]
    public long Ipv4Encode()
    {
        long sum = 0;
        foreach (var header in _ipHeaders) sum += header.Encode(_output) + _output[Ipv4Header.Field.Checksum];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Ipv4PacketWriter.WriteUdp, ESP-in-UDP, 1400 B inner")]
    [BenchmarkCategory("IPv4")]
    public long Ipv4WriteUdp()
    {
        long sum = 0;
        for (var i = 0; i < Count; i++)
            sum += Ipv4PacketWriter.WriteUdp(_output, _templates[i], UdpPorts.IkeNatTraversal, UdpPorts.IkeNatTraversal, _esp[i], UdpChecksumMode.Zero);
        return sum;
    }

    // ----- UDP ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, OperationsPerInvoke = Count, Description = "UDP: raw field reads")]
    [BenchmarkCategory("UDP")]
    public ulong UdpRaw()
    {
        ulong sum = 0;
        foreach (var datagram in _udp)
        {
            ReadOnlySpan<byte> d = datagram;
            sum += (uint)BinaryPrimitives.ReadUInt16BigEndian(d) + BinaryPrimitives.ReadUInt16BigEndian(d[2..])
                + BinaryPrimitives.ReadUInt16BigEndian(d[4..]) + BinaryPrimitives.ReadUInt16BigEndian(d[6..]);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "UdpHeader.TryParse")]
    [BenchmarkCategory("UDP")]
    public long UdpParse()
    {
        long sum = 0;
        foreach (var datagram in _udp)
        {
            if (!UdpHeader.TryParse(datagram, out var header, out var payload, out var error)) throw new InvalidOperationException(error.ToString());
            sum += header.Length + payload.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "UdpHeader.TryParse, checksum verified over 1436 B")]
    [BenchmarkCategory("UDP")]
    public long UdpParseChecksum()
    {
        long sum = 0;
        for (var i = 0; i < Count; i++)
        {
            var ip = _templates[i];
            if (!UdpHeader.TryParse(_checksummedDatagrams[i].AsSpan(Ipv4PacketWriter.TransportOffset), ip.Source, ip.Destination, out var header, out _, out var error))
                throw new InvalidOperationException(error.ToString());
            sum += header.Checksum;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "UdpHeader.Encode")]
    [BenchmarkCategory("UDP")]
    public long UdpEncode()
    {
        long sum = 0;
        foreach (var header in _udpHeaders) sum += header.Encode(_output) + _output[UdpHeader.Field.Length + 1];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "UdpEncapsulation.TryClassify (ESP)")]
    [BenchmarkCategory("UDP")]
    public long UdpClassify()
    {
        long sum = 0;
        foreach (var payload in _udpPayloads)
        {
            if (!UdpEncapsulation.TryClassify(payload, out var kind, out var content, out var error)) throw new InvalidOperationException(error.ToString());
            sum += (int)kind + content.Length;
        }
        return sum;
    }

    // ----- ESP ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, OperationsPerInvoke = Count, Description = "ESP: raw field reads")]
    [BenchmarkCategory("ESP")]
    public ulong EspRaw()
    {
        ulong sum = 0;
        foreach (var packet in _esp)
        {
            ReadOnlySpan<byte> d = packet;
            sum += BinaryPrimitives.ReadUInt32BigEndian(d) + BinaryPrimitives.ReadUInt32BigEndian(d[4..]);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "EspHeader.TryParse")]
    [BenchmarkCategory("ESP")]
    public ulong EspParse()
    {
        ulong sum = 0;
        foreach (var packet in _esp)
        {
            if (!EspHeader.TryParse(packet, out var header, out _, out var error)) throw new InvalidOperationException(error.ToString());
            sum += header.Spi + header.SequenceNumber;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "EspPacket.TryCreate")]
    [BenchmarkCategory("ESP")]
    public ulong EspPacketCreate()
    {
        ulong sum = 0;
        foreach (var bytes in _esp)
        {
            if (!EspPacket.TryCreate(bytes, out var packet, out var error)) throw new InvalidOperationException(error.ToString());
            sum += packet.Spi + packet.SequenceNumber;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "EspHeader.Encode")]
    [BenchmarkCategory("ESP")]
    public long EspEncode()
    {
        long sum = 0;
        foreach (var header in _espHeaders) sum += header.Encode(_output) + _output[EspHeader.Field.SequenceNumber + 3];
        return sum;
    }

    // ----- IKE ----------------------------------------------------------------------------------------------

    [Benchmark(Baseline = true, OperationsPerInvoke = Count, Description = "IkeHeader.TryParse, header only")]
    [BenchmarkCategory("IKE")]
    public ulong IkeHeaderParse()
    {
        ulong sum = 0;
        foreach (var datagram in _ikeInit)
        {
            if (!IkeHeader.TryParse(datagram, out var header, out var error)) throw new InvalidOperationException(error.ToString());
            sum += header.InitiatorSpi + header.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "IkeMessage.TryParse, whole IKE_SA_INIT")]
    [BenchmarkCategory("IKE")]
    public long IkeMessageParse()
    {
        long sum = 0;
        foreach (var datagram in _ikeInit)
        {
            if (!IkeMessage.TryParse(datagram, out var message, out var error)) throw new InvalidOperationException(error.ToString());
            sum += message!.Payloads.Count;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "IkeHeader.Encode")]
    [BenchmarkCategory("IKE")]
    public long IkeHeaderEncode()
    {
        long sum = 0;
        foreach (var header in _ikeHeaders) sum += header.Encode(_output) + _output[IkeHeader.Field.InitiatorSpi + 7];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "IkeMessage.Encode, whole IKE_SA_INIT")]
    [BenchmarkCategory("IKE")]
    public long IkeMessageEncode()
    {
        long sum = 0;
        foreach (var message in _ikeInitMessages) sum += message.Encode(_output);
        return sum;
    }
}
