using System.Diagnostics;
using OpenTelemetry;

namespace Nodes.Telemetry;

/// <summary>
/// The one batch stage between a lab's finished spans and its exporters: a bounded queue that any thread adds to
/// without a lock, and one export thread that drains it, splits what it took by the <c>nodes.node</c> attribute and
/// hands each node's part, in the order the spans ended, to that node's exporters (each carries the node's resource).
/// <para>
/// Why not OpenTelemetry's batch processor per node: that is a thread and a queue per node (a thousand of each for a
/// thousand-branch hub), and it signals its thread on every span added while a batch is waiting (a system call per
/// span under load). Here the thread is signalled once per batch, and a span waits in the queue no longer than it
/// takes the thread to come round, so it rarely outlives the garbage collector's youngest generation.
/// </para>
/// When the queue is full a span is dropped and counted (<see cref="Dropped"/>); nothing blocks the nodes.
/// </summary>
public sealed class ExportStage : BaseProcessor<Activity>
{
    /// <summary>Spans per export call and the queue length that wakes the export thread.</summary>
    public const int BatchSize = 512;

    private readonly Activity?[] _slots;
    private readonly long _mask;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly BaseExporter<Activity>[][] _exporters;
    private readonly Activity[][] _parts;
    private readonly int[] _counts;
    private readonly int _fallback;
    private readonly int _delayMs;
    private readonly AutoResetEvent _wake = new(false);
    private readonly object _drained = new();
    private readonly Thread _thread;
    private long _reserved;
    private long _taken;
    private long _exported;
    private long _dropped;
    private long _failedExports;
    private int _signalled;
    private volatile bool _stopping;

    /// <param name="exporters">Each node's exporters; spans of an unknown node go to <paramref name="fallback"/>'s, if any.</param>
    /// <param name="capacity">Spans the queue holds (rounded up to a power of two).</param>
    /// <param name="delayMs">How long a span may wait when fewer than a batch are queued.</param>
    public ExportStage(IReadOnlyDictionary<string, BaseExporter<Activity>[]> exporters, string? fallback = null, int capacity = 16_384, int delayMs = 1000)
    {
        _slots = new Activity?[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, BatchSize))];
        _mask = _slots.Length - 1;
        _exporters = new BaseExporter<Activity>[exporters.Count][];
        var i = 0;
        foreach (var (node, e) in exporters)
        {
            _index[node] = i;
            _exporters[i++] = e;
        }
        _fallback = fallback is not null && _index.TryGetValue(fallback, out var f) ? f : -1;
        _parts = new Activity[_exporters.Length][];
        for (var j = 0; j < _parts.Length; j++) _parts[j] = new Activity[BatchSize];
        _counts = new int[_exporters.Length];
        _delayMs = delayMs;
        _thread = new Thread(Run) { IsBackground = true, Name = "nodes-span-export" };
        _thread.Start();
    }

    /// <summary>Spans dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Export calls that an exporter reported as failed.</summary>
    public long FailedExports => Interlocked.Read(ref _failedExports);

    /// <summary>Spans waiting in the queue.</summary>
    public long Queued => Volatile.Read(ref _reserved) - Volatile.Read(ref _taken);

    public override void OnEnd(Activity data)
    {
        if (!data.Recorded || _stopping) return;
        long at;
        while (true)
        {
            at = Volatile.Read(ref _reserved);
            if (at - Volatile.Read(ref _taken) >= _slots.Length)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            if (Interlocked.CompareExchange(ref _reserved, at + 1, at) == at) break;
        }
        Volatile.Write(ref _slots[at & _mask], data);
        // One signal per batch: the first producer to see a full batch wakes the thread; the thread re-arms the signal.
        if (at + 1 - Volatile.Read(ref _taken) >= BatchSize && Interlocked.Exchange(ref _signalled, 1) == 0) _wake.Set();
    }

    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        var target = Volatile.Read(ref _reserved);
        var clock = Stopwatch.StartNew();
        lock (_drained)
        {
            // Spans taken off the queue may still be in an export call: wait until they have been handed over.
            while (Volatile.Read(ref _exported) < target)
            {
                if (!_thread.IsAlive) return false;
                _wake.Set();
                var left = timeoutMilliseconds < 0 ? 100 : Math.Min(100, timeoutMilliseconds - (int)clock.ElapsedMilliseconds);
                if (left <= 0) return false;
                Monitor.Wait(_drained, left);
            }
        }
        var ok = true;
        foreach (var node in _exporters)
        {
            foreach (var e in node) ok &= e.ForceFlush(timeoutMilliseconds < 0 ? timeoutMilliseconds : Math.Max(0, timeoutMilliseconds - (int)clock.ElapsedMilliseconds));
        }
        return ok;
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        _stopping = true;
        _wake.Set();
        return timeoutMilliseconds < 0 ? _thread.Join(Timeout.Infinite) : _thread.Join(timeoutMilliseconds);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_thread.IsAlive) _wake.Dispose();
        base.Dispose(disposing);
    }

    private void Run()
    {
        while (true)
        {
            var stopping = _stopping;
            if (!stopping && Queued < BatchSize) _wake.WaitOne(_delayMs);
            Volatile.Write(ref _signalled, 0);
            Drain();
            lock (_drained) Monitor.PulseAll(_drained);
            if (stopping) return;
        }
    }

    /// <summary>Exports every span added before the call, in batches of at most <see cref="BatchSize"/> per node.</summary>
    private void Drain()
    {
        var end = Volatile.Read(ref _reserved);
        var taken = Volatile.Read(ref _taken);
        while (taken < end)
        {
            ref var slot = ref _slots[taken & _mask];
            var span = Volatile.Read(ref slot);
            if (span is null)
            {
                // Reserved but not yet written: the producer is between its two steps.
                var wait = new SpinWait();
                while ((span = Volatile.Read(ref slot)) is null) wait.SpinOnce();
            }
            slot = null;
            Volatile.Write(ref _taken, ++taken);
            var at = span.GetTagItem(Attr.Node) is string node && _index.TryGetValue(node, out var n) ? n : _fallback;
            if (at < 0) continue;
            _parts[at][_counts[at]++] = span;
            if (_counts[at] == BatchSize) Send(at);
        }
        for (var i = 0; i < _parts.Length; i++)
        {
            if (_counts[i] > 0) Send(i);
        }
        Volatile.Write(ref _exported, taken);
    }

    private void Send(int at)
    {
        foreach (var e in _exporters[at])
        {
            try
            {
                if (e.Export(new Batch<Activity>(_parts[at], _counts[at])) != ExportResult.Success) Interlocked.Increment(ref _failedExports);
            }
            catch (Exception)
            {
                // An exporter that throws loses its batch, never the export thread.
                Interlocked.Increment(ref _failedExports);
            }
        }
        Array.Clear(_parts[at], 0, _counts[at]);
        _counts[at] = 0;
    }
}
