using BenchmarkDotNet.Attributes;
using Nodes.Esp;

namespace Nodes.Benchmarks;

/// <summary>
/// The anti-replay decision per received packet: <see cref="ReplayWindow.Check"/> then
/// <see cref="ReplayWindow.Commit"/>, as <see cref="EspInboundSa"/> calls them around the ICV check. Sequence
/// numbers run on across invocations, so the window keeps sliding as on a long-lived tunnel. "Reordered" feeds
/// each run of eight numbers in the order 2,1,4,3,7,5,8,6 (late packets within the window, never a replay);
/// "with replays" repeats every fourth packet, which must be refused. The baseline is the classic single
/// 64-bit shift register of RFC 4303 appendix A, the least a 64-packet window can do.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
public class ReplayWindowBenchmarks
{
    private const int Batch = 1024;

    // Offsets within each run of eight: every number 1..8 once, some arriving after a higher one.
    private static readonly int[] Reorder = [2, 1, 4, 3, 7, 5, 8, 6];

    private readonly ulong[] _inOrder = new ulong[Batch];
    private readonly ulong[] _reordered = new ulong[Batch];
    private readonly ulong[] _withReplays = new ulong[Batch];
    private ReplayWindow _window = null!;
    private ReplayWindow _esnWindow = null!;
    private ShiftRegisterWindow _shift;
    private ulong _base;

    [GlobalSetup]
    public void Setup()
    {
        ulong next = 0;
        for (var i = 0; i < Batch; i++)
        {
            _inOrder[i] = (ulong)i + 1;
            _reordered[i] = (ulong)(i / 8 * 8 + Reorder[i % 8]);
            // Every fourth packet repeats the number before it; the others take the next one.
            _withReplays[i] = i % 4 == 3 ? next : ++next;
        }
        _window = new ReplayWindow(ReplayWindow.DefaultSize);
        _esnWindow = new ReplayWindow(ReplayWindow.DefaultSize, extendedSequenceNumbers: true);
        _shift = new ShiftRegisterWindow();
        _base = 0;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "64-bit shift register, in order")]
    public int ShiftRegisterInOrder()
    {
        var accepted = 0;
        var b = _base;
        foreach (var s in _inOrder)
        {
            if (_shift.CheckAndUpdate(b + s)) accepted++;
        }
        _base = b + Batch;
        return accepted;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "ReplayWindow Check+Commit, in order")]
    public int InOrder() => Run(_window, _inOrder, Batch);

    [Benchmark(OperationsPerInvoke = Batch, Description = "ReplayWindow Check+Commit, reordered")]
    public int Reordered() => Run(_window, _reordered, Batch);

    [Benchmark(OperationsPerInvoke = Batch, Description = "ReplayWindow Check+Commit, 1 in 4 replayed")]
    public int WithReplays() => Run(_window, _withReplays, Batch - Batch / 4);

    /// <summary>With ESN the receiver first rebuilds the 64-bit number from the 32 bits on the wire.</summary>
    [Benchmark(OperationsPerInvoke = Batch, Description = "ESN: TryInferSequence+Check+Commit, reordered")]
    public int EsnReordered()
    {
        var accepted = 0;
        var b = _base;
        var window = _esnWindow;
        foreach (var s in _reordered)
        {
            if (window.TryInferSequence((uint)(b + s), out var sequence) && window.Check(sequence) == ReplayVerdict.Accept)
            {
                window.Commit(sequence);
                accepted++;
            }
        }
        _base = b + Batch;
        return accepted;
    }

    private int Run(ReplayWindow window, ulong[] sequence, int advance)
    {
        var accepted = 0;
        var b = _base;
        foreach (var s in sequence)
        {
            if (window.Check(b + s) == ReplayVerdict.Accept)
            {
                window.Commit(b + s);
                accepted++;
            }
        }
        _base = b + (ulong)advance;
        return accepted;
    }

    /// <summary>RFC 4303 appendix A's 64-packet window as one bitmap shifted on every new highest number.</summary>
    private struct ShiftRegisterWindow
    {
        private ulong _top;
        private ulong _bitmap;

        public bool CheckAndUpdate(ulong sequence)
        {
            if (sequence == 0) return false;
            if (sequence > _top)
            {
                var shift = sequence - _top;
                _bitmap = shift >= 64 ? 1UL : _bitmap << (int)shift | 1UL;
                _top = sequence;
                return true;
            }
            var offset = _top - sequence;
            if (offset >= 64) return false;
            var bit = 1UL << (int)offset;
            if ((_bitmap & bit) != 0) return false;
            _bitmap |= bit;
            return true;
        }
    }
}
