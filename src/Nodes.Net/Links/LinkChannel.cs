namespace Nodes.Net.Links;

/// <summary>One copy of a frame the link will hand over at <see cref="DeliverAt"/>.</summary>
/// <param name="DeliverAt">When the frame arrives at the far end, on the caller's clock.</param>
/// <param name="Frame">The bytes (a copy, owned by the receiver; differs from what was sent when corrupted).</param>
/// <param name="IsDuplicate">This is the extra copy made by the duplicate impairment.</param>
/// <param name="IsCorrupted">One bit of this copy was flipped by the corrupt impairment.</param>
public sealed record FrameDelivery(TimeSpan DeliverAt, byte[] Frame, bool IsDuplicate, bool IsCorrupted);

/// <summary>What a link direction did with one frame: zero, one or two deliveries, and the drop reason when none.</summary>
public sealed record ChannelOutcome(IReadOnlyList<FrameDelivery> Deliveries, DropReason Drop);

/// <summary>Counts of one link direction.</summary>
public sealed class ChannelCounters
{
    /// <summary>Frames offered.</summary>
    public long Offered { get; internal set; }

    /// <summary>Copies scheduled for delivery (duplicates included).</summary>
    public long Delivered { get; internal set; }

    /// <summary>Extra copies made by duplicate.</summary>
    public long Duplicated { get; internal set; }

    /// <summary>Copies with a flipped bit.</summary>
    public long Corrupted { get; internal set; }

    /// <summary>Frames sent ahead of the queue by reorder.</summary>
    public long Reordered { get; internal set; }

    /// <summary>Drops by reason (link-down, link-mtu, link-loss, link-queue-full).</summary>
    public DropCounters Drops { get; } = new();
}

/// <summary>
/// One direction of a link with tc-netem style impairments, as a pure function of the frames
/// offered, the caller's clock and a seed: the same seed and the same calls yield the same drops,
/// delays, duplicates and flipped bits. The per-frame steps follow netem_enqueue in Linux
/// net/sched/sch_netem.c: duplicate and loss are drawn first (a lost frame whose duplicate was
/// drawn still goes through once), the duplicate copy is offered again without duplication, then
/// corrupt, the queue limit, and the delay or the reorder shortcut. Correlated draws use netem's
/// "correlated uniform" rule: next = (1 − ρ)·random + ρ·previous. Jitter is uniform within
/// delay ± jitter (netem without a distribution table).
/// Rate differs from netem's bookkeeping on purpose, to be exact and simple: frames serialize one
/// after another, each starting when the previous one finished (or when offered), taking
/// length × 8 / rate, and arrive after the delay on top of that. A reordered frame skips both the
/// rate queue and the delay, as in netem where it is put at the head of the queue.
/// Not thread-safe; owned by one link.
/// </summary>
public sealed class LinkChannel
{
    private readonly DeterministicRandom _random;
    private PriorityQueue<TimeSpan, TimeSpan>? _held; // made when a frame is first delayed: most channels deliver at once
    private double _lastDelay;
    private double _lastLoss;
    private double _lastReorder;
    private int _reorderCounter;
    private TimeSpan _busyUntil;

    /// <summary>Creates a direction with its impairments and seed.</summary>
    public LinkChannel(LinkImpairments impairments, ulong seed)
    {
        Impairments = impairments;
        _random = new DeterministicRandom(seed);
    }

    /// <summary>The impairments; replace them at any time to inject or clear a fault (queue state is kept).</summary>
    public LinkImpairments Impairments { get; set; }

    /// <summary>Counts of this direction.</summary>
    public ChannelCounters Counters { get; } = new();

    /// <summary>Frames held by the link at the last call (serializing or in flight), which <see cref="LinkImpairments.Limit"/> bounds.</summary>
    public int Held => _held?.Count ?? 0;

    /// <summary>Offers a frame at <paramref name="now"/>; never throws for any bytes.</summary>
    public ChannelOutcome Transmit(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        var impairments = Impairments;
        Counters.Offered++;
        if (!impairments.Up) return Drop(DropReason.LinkDown);
        if (impairments.Mtu is { } mtu && frame.Length > mtu) return Drop(DropReason.LinkMtu);
        while (_held is { } held && held.TryPeek(out _, out var at) && at <= now) held.Dequeue();

        var count = 1;
        if (impairments.Duplicate > 0 && _random.NextDouble() * 100 < impairments.Duplicate) count++;
        if (impairments.Loss > 0 && Correlated(ref _lastLoss, impairments.LossCorrelation) * 100 < impairments.Loss) count--;
        if (count == 0) return Drop(DropReason.LinkLoss);

        var deliveries = new List<FrameDelivery>(count);
        if (count > 1)
        {
            // netem offers the clone again with duplication off: it has its own loss, corrupt and delay.
            var lost = impairments.Loss > 0 && Correlated(ref _lastLoss, impairments.LossCorrelation) * 100 < impairments.Loss;
            if (!lost && Schedule(frame, now, isDuplicate: true) is { } copy)
            {
                Counters.Duplicated++;
                deliveries.Add(copy);
            }
        }

        var reason = DropReason.None;
        if (Schedule(frame, now, isDuplicate: false) is { } original)
        {
            deliveries.Add(original);
        }
        else
        {
            reason = DropReason.LinkQueueFull;
            Counters.Drops.Add(reason);
        }

        Counters.Delivered += deliveries.Count;
        return new ChannelOutcome(deliveries, deliveries.Count == 0 ? reason : DropReason.None);
    }

    /// <summary>Serialization time of <paramref name="length"/> octets at <paramref name="bitsPerSecond"/>, rounded up to a tick.</summary>
    public static TimeSpan SerializationTime(int length, long bitsPerSecond)
    {
        var bits = (Int128)length * 8 * TimeSpan.TicksPerSecond;
        var ticks = (bits + bitsPerSecond - 1) / bitsPerSecond;
        return TimeSpan.FromTicks((long)ticks);
    }

    private FrameDelivery? Schedule(ReadOnlySpan<byte> frame, TimeSpan now, bool isDuplicate)
    {
        var impairments = Impairments;
        var bytes = frame.ToArray();
        var corrupted = false;
        if (impairments.Corrupt > 0 && _random.NextDouble() * 100 < impairments.Corrupt && bytes.Length > 0)
        {
            // A single flipped bit, "the most likely, and the hardest to detect" error (smoltcp FaultInjector).
            bytes[_random.NextInt(bytes.Length)] ^= (byte)(1 << _random.NextInt(8));
            corrupted = true;
            Counters.Corrupted++;
        }

        if (Held >= impairments.Limit) return null;

        // netem: "gap == 0 || counter < gap - 1 || reorder < random" keeps the normal path.
        var normal = impairments.Reorder <= 0
            || impairments.ReorderGap == 0
            || _reorderCounter < impairments.ReorderGap - 1
            || Correlated(ref _lastReorder, impairments.ReorderCorrelation) * 100 >= impairments.Reorder;
        if (!normal)
        {
            _reorderCounter = 0;
            Counters.Reordered++;
            return new FrameDelivery(now, bytes, isDuplicate, corrupted);
        }

        _reorderCounter++;
        var sent = now;
        if (impairments.RateBitsPerSecond > 0)
        {
            var start = _busyUntil > now ? _busyUntil : now;
            sent = start + SerializationTime(bytes.Length, impairments.RateBitsPerSecond);
            _busyUntil = sent;
        }

        var deliverAt = sent + DrawDelay(impairments);
        (_held ??= new()).Enqueue(deliverAt, deliverAt);
        return new FrameDelivery(deliverAt, bytes, isDuplicate, corrupted);
    }

    private TimeSpan DrawDelay(LinkImpairments impairments)
    {
        if (impairments.Jitter <= TimeSpan.Zero) return impairments.Delay;
        var u = Correlated(ref _lastDelay, impairments.DelayCorrelation);
        var ticks = impairments.Delay.Ticks + (long)Math.Floor(((2 * u) - 1) * impairments.Jitter.Ticks);
        return TimeSpan.FromTicks(Math.Max(0, ticks));
    }

    private double Correlated(ref double last, double correlationPercent)
    {
        var r = _random.NextDouble();
        if (correlationPercent <= 0) return r;
        var rho = correlationPercent / 100;
        last = ((1 - rho) * r) + (rho * last);
        return last;
    }

    private ChannelOutcome Drop(DropReason reason)
    {
        Counters.Drops.Add(reason);
        return new ChannelOutcome([], reason);
    }
}
