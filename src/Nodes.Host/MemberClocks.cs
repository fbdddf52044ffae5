using Akka.Actor;

namespace Nodes.Host;

/// <summary>
/// How far each member's clock is from this process's, as far as the batches it sends tell: a batch that left the
/// member at its time s and arrived here at our time r says offset + delay = r − s, with a delay that is never
/// negative, so the smallest r − s seen is the best bound (the way NTP and Cristian's algorithm use the fastest
/// exchange). The smallest of the last <see cref="Window"/> batches is used, so that a member whose clock drifts or is
/// set is followed. Frames stamped by a member are put on this process's time line by adding its offset: a hop through
/// members whose clocks differ by more than the hop takes then still follows the hop before it. The bound includes the
/// fastest batch's delay, so a difference below <see cref="Tolerance"/> is taken as none: on one machine (one clock)
/// the stamps are exact and are left alone. A member whose batches carry no send time is taken as it is. Pure: the
/// times are inputs.
/// </summary>
public sealed class MemberClocks
{
    /// <summary>Batches per member over which the smallest difference is taken.</summary>
    public const int Window = 64;

    /// <summary>Differences smaller than this are the batches' own delay as much as a clock's: not corrected.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(5);

    private readonly Dictionary<Address, Queue<long>> _samples = [];
    private readonly Dictionary<Address, long> _offset = [];

    /// <summary>A batch the member stamped <paramref name="sentAtUs"/> arrived here at <paramref name="receivedAtUs"/> (µs since the Unix epoch).</summary>
    public void Observe(Address member, long sentAtUs, long receivedAtUs)
    {
        if (sentAtUs == 0) return;
        if (!_samples.TryGetValue(member, out var q)) _samples[member] = q = new Queue<long>();
        q.Enqueue(receivedAtUs - sentAtUs);
        if (q.Count > Window) q.Dequeue();
        var min = q.Min();
        _offset[member] = Math.Abs(min) < Tolerance.Ticks / 10 ? 0 : min;
    }

    /// <summary>What to add to a time the member stamped to have it on this process's clock (0 until its first stamped batch).</summary>
    public long OffsetUs(Address member) => _offset.GetValueOrDefault(member);

    /// <summary>A time the member stamped, on this process's clock.</summary>
    public long Correct(Address member, long atUs) => atUs + OffsetUs(member);
}
