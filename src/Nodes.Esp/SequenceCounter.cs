namespace Nodes.Esp;

/// <summary>
/// The sender's ESP sequence counter (RFC 4303 section 3.3.3). The first packet carries 1; the counter never
/// cycles: once the last value (2^32-1, or 2^64-1 with extended sequence numbers) is used,
/// <see cref="TryNext"/> fails so the owner rekeys instead of repeating a number (and, for GCM, a nonce).
/// Not thread-safe: owned by one Child SA.
/// </summary>
public sealed class SequenceCounter
{
    private ulong _last;

    public SequenceCounter(bool extendedSequenceNumbers) : this(extendedSequenceNumbers, 0) { }

    /// <summary>A counter whose last issued number is <paramref name="last"/> (a test or a restored SA).</summary>
    public SequenceCounter(bool extendedSequenceNumbers, ulong last)
    {
        ExtendedSequenceNumbers = extendedSequenceNumbers;
        Limit = extendedSequenceNumbers ? ulong.MaxValue : uint.MaxValue;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, Limit);
        _last = last;
    }

    public bool ExtendedSequenceNumbers { get; }

    /// <summary>The highest number this counter will ever issue.</summary>
    public ulong Limit { get; }

    /// <summary>The last number issued; 0 before the first packet.</summary>
    public ulong Last => _last;

    /// <summary>How many numbers are still available.</summary>
    public ulong Remaining => Limit - _last;

    /// <summary>Takes the next number; false, leaving the counter as it is, when the space is used up.</summary>
    public bool TryNext(out ulong sequence)
    {
        // RFC 4303 section 3.3.3: the counter must not cycle; a new SA is needed before it would.
        if (_last == Limit)
        {
            sequence = 0;
            return false;
        }
        sequence = ++_last;
        return true;
    }

    public override string ToString() => $"seq {_last}/{Limit}";
}
