using BenchmarkDotNet.Attributes;
using Nodes.Crypto;
using Nodes.Esp;

namespace Nodes.Benchmarks;

/// <summary>
/// <see cref="EspInboundSa.TryOpen"/> alone. A batch of packets with sequence numbers 1..N is sealed once; before
/// every iteration the inbound SA is created anew (empty replay window) and the batch is restored from a pristine
/// copy, since opening decrypts in place; the iteration then opens the whole batch in order, every packet
/// checked against the window and committed, exactly as it arrives on a tunnel. Time is reported per packet.
/// The baseline is the bare .NET verify-and-decrypt of an equal batch (<see cref="RawEspCrypto.Open"/>).
/// </summary>
[MemoryDiagnoser]
[BatchJob]
public class EspOpenBenchmarks
{
    /// <summary>Packets per iteration: enough for several milliseconds of work even at 64 bytes.</summary>
    private const int Batch = 8192;

    [ParamsSource(nameof(Suites))]
    public CipherSuite Suite { get; set; }

    [Params(64, 1400)]
    public int Size { get; set; }

    public static IEnumerable<CipherSuite> Suites() => EspSuites.All();

    private EspSuites.Keys _keys = null!;
    private EspInboundSa? _in;
    private RawEspCrypto? _raw;
    private int _packetLength;
    private byte[] _pristine = [];
    private byte[] _work = [];

    [GlobalSetup(Target = nameof(NodesOpen))]
    public void SetupNodes()
    {
        _keys = new EspSuites.Keys(Suite, seed: 1);
        using var sender = EspSuites.Outbound(Suite, _keys);
        _packetLength = sender.SealedLength(Size);
        _pristine = new byte[Batch * _packetLength];
        var inner = new byte[Size];
        new SeededRandomSource(2, "inner").Fill(inner);
        for (var i = 0; i < Batch; i++)
        {
            if (sender.Seal(inner, _pristine.AsSpan(i * _packetLength, _packetLength), out _) != EspSealStatus.Sealed)
                throw new InvalidOperationException("seal failed");
        }
        _work = new byte[_pristine.Length];
    }

    [GlobalSetup(Target = nameof(RawOpen))]
    public void SetupRaw()
    {
        _keys = new EspSuites.Keys(Suite, seed: 1);
        using var shape = EspSuites.Outbound(Suite, _keys);
        _packetLength = shape.SealedLength(Size);
        var plaintext = new byte[EspSuites.BodyLength(shape, Size)];
        new SeededRandomSource(3, "body").Fill(plaintext);
        _raw = new RawEspCrypto(EspSuites.Spi, Suite, _keys.Encryption, _keys.Integrity);
        _pristine = new byte[Batch * _packetLength];
        for (var i = 0; i < Batch; i++) _raw.Seal(plaintext, _pristine.AsSpan(i * _packetLength, _packetLength));
        _work = new byte[_pristine.Length];
    }

    [IterationSetup(Target = nameof(NodesOpen))]
    public void FreshInboundSa()
    {
        _in?.Dispose();
        _in = EspSuites.Inbound(Suite, _keys);
        _pristine.CopyTo(_work, 0);
    }

    [IterationSetup(Target = nameof(RawOpen))]
    public void FreshRawBatch() => _pristine.CopyTo(_work, 0);

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "raw .NET open")]
    public int RawOpen()
    {
        var raw = _raw!;
        var opened = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (!raw.Open(_work.AsSpan(i * _packetLength, _packetLength))) throw new InvalidOperationException($"raw open of packet {i} failed");
            opened++;
        }
        return opened;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "EspInboundSa.TryOpen")]
    public int NodesOpen()
    {
        var sa = _in!;
        var opened = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (!sa.TryOpen(_work.AsSpan(i * _packetLength, _packetLength), out _, out var reason))
                throw new InvalidOperationException($"open of packet {i} failed: {reason}");
            opened++;
        }
        return opened;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _in?.Dispose();
        _raw?.Dispose();
    }
}
