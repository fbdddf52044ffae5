using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Nodes.Crypto;
using Nodes.Esp;

namespace Nodes.Benchmarks;

/// <summary>
/// ESP's data plane per packet, for every transform at a ping-sized (64 B) and a full-MTU (1400 B) inner
/// packet: <see cref="EspOutboundSa.Seal"/> alone, and a seal followed by <see cref="EspInboundSa.TryOpen"/> of
/// that fresh packet (each open sees the next sequence number, so the replay window accepts it as on a real
/// tunnel). The baseline of each category is <see cref="RawEspCrypto"/>: the bare .NET calls for the same bytes.
/// The ratio is what Nodes' packet handling (header, IV, padding, replay window, trailer checks) adds.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EspBenchmarks
{
    [ParamsSource(nameof(Suites))]
    public CipherSuite Suite { get; set; }

    [Params(64, 1400)]
    public int Size { get; set; }

    public static IEnumerable<CipherSuite> Suites() => EspSuites.All();

    private EspOutboundSa _out = null!;
    private EspInboundSa _in = null!;
    private RawEspCrypto _raw = null!;
    private byte[] _inner = [];
    private byte[] _packet = [];
    private byte[] _rawPlaintext = [];
    private byte[] _rawPacket = [];

    [GlobalSetup]
    public void Setup()
    {
        var keys = new EspSuites.Keys(Suite, seed: 1);
        _out = EspSuites.Outbound(Suite, keys);
        _in = EspSuites.Inbound(Suite, keys);
        _raw = new RawEspCrypto(EspSuites.Spi, Suite, keys.Encryption, keys.Integrity);
        _inner = new byte[Size];
        new SeededRandomSource(2, "inner").Fill(_inner);
        _packet = new byte[_out.SealedLength(Size)];
        _rawPlaintext = new byte[EspSuites.BodyLength(_out, Size)];
        new SeededRandomSource(3, "body").Fill(_rawPlaintext);
        _rawPacket = new byte[_packet.Length];

        // Both paths must really round-trip before they are timed.
        var opened = NodesSealOpen();
        if (!_packet.AsSpan(opened, Size).SequenceEqual(_inner)) throw new InvalidOperationException($"{Suite}: the opened packet differs from the sealed one");
        if (!RawSealOpen()) throw new InvalidOperationException($"{Suite}: the raw calls did not round-trip");
        if (_rawPacket.Length != _packet.Length) throw new InvalidOperationException("raw and Nodes packets differ in length");
    }

    [Benchmark(Baseline = true, Description = "raw .NET seal")]
    [BenchmarkCategory("Seal")]
    public void RawSeal() => _raw.Seal(_rawPlaintext, _rawPacket);

    [Benchmark(Description = "EspOutboundSa.Seal")]
    [BenchmarkCategory("Seal")]
    public int NodesSeal()
    {
        if (_out.Seal(_inner, _packet, out var written) != EspSealStatus.Sealed) throw new InvalidOperationException("seal failed");
        return written;
    }

    [Benchmark(Baseline = true, Description = "raw .NET seal + open")]
    [BenchmarkCategory("Seal+Open")]
    public bool RawSealOpen()
    {
        _raw.Seal(_rawPlaintext, _rawPacket);
        return _raw.Open(_rawPacket);
    }

    [Benchmark(Description = "EspOutboundSa.Seal + EspInboundSa.TryOpen")]
    [BenchmarkCategory("Seal+Open")]
    public int NodesSealOpen()
    {
        if (_out.Seal(_inner, _packet, out var written) != EspSealStatus.Sealed) throw new InvalidOperationException("seal failed");
        if (!_in.TryOpen(_packet.AsSpan(0, written), out var opened, out var reason)) throw new InvalidOperationException($"open failed: {reason}");
        return opened.Offset;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _out.Dispose();
        _in.Dispose();
        _raw.Dispose();
    }
}
