namespace Nodes.Esp;

/// <summary>Why an inbound ESP packet was not delivered. Every drop is counted under one of these.</summary>
public enum EspDropReason : byte
{
    /// <summary>The packet was delivered.</summary>
    None = 0,
    /// <summary>Shorter than header, IV, trailer and ICV, or an encrypted part that is not a whole number of cipher blocks.</summary>
    Malformed,
    /// <summary>SPI 0..255, which no sender may use (RFC 4303 section 2.1).</summary>
    ReservedSpi,
    /// <summary>An SPI that is not this SA's.</summary>
    UnknownSpi,
    /// <summary>A sequence number already received (RFC 4303 section 3.4.3).</summary>
    Replay,
    /// <summary>A sequence number left of the replay window, or one that no ESN high half can make valid.</summary>
    TooOld,
    /// <summary>The ICV did not verify: corrupted, forged, or keyed differently.</summary>
    Integrity,
    /// <summary>Authentic, but the pad length or the padding bytes are wrong (RFC 4303 section 2.4).</summary>
    BadPadding,
    /// <summary>An authentic dummy packet, next header 59, discarded as RFC 4303 section 2.6 requires.</summary>
    Dummy,
}

/// <summary>
/// Packet and byte counts of one direction of an SA, for lifetimes (RFC 4301 section 4.4.2.1) and for
/// inspection. Bytes count the inner packets, not the ESP overhead. Not thread-safe: owned by one SA.
/// </summary>
public sealed class EspCounters
{
    private static readonly int Reasons = Enum.GetValues<EspDropReason>().Length;

    // Made at the first drop: every SA has counters, few ever drop.
    private long[]? _drops;

    /// <summary>Packets sealed or delivered.</summary>
    public long Packets { get; private set; }

    /// <summary>Inner bytes sealed or delivered.</summary>
    public long Bytes { get; private set; }

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long Drops(EspDropReason reason) => _drops?[(int)reason] ?? 0;

    /// <summary>Packets dropped for any reason.</summary>
    public long TotalDrops
    {
        get
        {
            long total = 0;
            foreach (var n in _drops ?? []) total += n;
            return total;
        }
    }

    internal void Count(int innerBytes)
    {
        Packets++;
        Bytes += innerBytes;
    }

    internal EspDropReason Drop(EspDropReason reason)
    {
        (_drops ??= new long[Reasons])[(int)reason]++;
        return reason;
    }

    public override string ToString() => $"{Packets} packets, {Bytes} bytes, {TotalDrops} dropped";
}
