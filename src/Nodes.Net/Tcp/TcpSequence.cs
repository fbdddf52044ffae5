namespace Nodes.Net.Tcp;

/// <summary>
/// Comparisons of 32-bit sequence numbers modulo 2^32 (RFC 9293 §3.4: "all arithmetic dealing with
/// sequence numbers must be performed modulo 2**32"): a is before b when b - a, as a signed 32-bit
/// value, is positive.
/// </summary>
public static class TcpSequence
{
    /// <summary>a &lt; b.</summary>
    public static bool Lt(uint a, uint b) => (int)(a - b) < 0;

    /// <summary>a &lt;= b.</summary>
    public static bool Le(uint a, uint b) => (int)(a - b) <= 0;

    /// <summary>a &gt; b.</summary>
    public static bool Gt(uint a, uint b) => (int)(a - b) > 0;

    /// <summary>a &gt;= b.</summary>
    public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;

    /// <summary>The later of a and b.</summary>
    public static uint Max(uint a, uint b) => Gt(a, b) ? a : b;

    /// <summary>low &lt;= x &lt; low + length.</summary>
    public static bool InWindow(uint x, uint low, uint length) => x - low < length;
}

/// <summary>The connection states of RFC 9293 §3.3.2.</summary>
public enum TcpState : byte
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// <summary>Why a connection reached CLOSED.</summary>
public enum TcpCloseReason : byte
{
    /// <summary>Still open.</summary>
    None,
    /// <summary>Both sides closed (FIN exchanged and acknowledged).</summary>
    Closed,
    /// <summary>The peer reset it (an acceptable RST arrived).</summary>
    Reset,
    /// <summary>Retransmissions ran out (RFC 9293 §3.8.3, R2).</summary>
    TimedOut,
    /// <summary>This side aborted it (RST sent).</summary>
    Aborted,
    /// <summary>The SYN was refused with a RST ("connection refused").</summary>
    Refused,
}

/// <summary>A segment to send: the header (checksum still zero) and its data.</summary>
public sealed record TcpSegment(Wire.Tcp.TcpHeader Header, byte[] Payload);

/// <summary>
/// The retransmission timeout of RFC 6298: SRTT and RTTVAR from round-trip samples (§2), RTO at
/// least <see cref="Minimum"/> (§2.4) and at most <see cref="Maximum"/> (§2.5), doubled on each
/// expiry (§5.5). Samples come only from segments sent once (Karn's algorithm, §3). Not thread-safe.
/// </summary>
public sealed class RetransmissionTimeout(TimeSpan initial, TimeSpan minimum, TimeSpan maximum)
{
    // RFC 6298 §2: alpha = 1/8, beta = 1/4, K = 4; G is the clock granularity (1 ms here).
    private static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(1);

    /// <summary>An estimator with RFC 6298's values: initial 1 s, minimum 1 s, maximum 60 s.</summary>
    public RetransmissionTimeout()
        : this(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60))
    {
    }

    /// <summary>The lower bound.</summary>
    public TimeSpan Minimum { get; } = minimum;

    /// <summary>The upper bound.</summary>
    public TimeSpan Maximum { get; } = maximum;

    /// <summary>The smoothed round-trip time, or null before the first sample.</summary>
    public TimeSpan? SmoothedRtt { get; private set; }

    /// <summary>The round-trip time variation, or null before the first sample.</summary>
    public TimeSpan? RttVariation { get; private set; }

    /// <summary>The current timeout, backed off by any expiries since the last sample.</summary>
    public TimeSpan Current { get; private set; } = Clamp(initial, minimum, maximum);

    /// <summary>Takes one round-trip measurement (RFC 6298 §2.2 and §2.3).</summary>
    public void Sample(TimeSpan rtt)
    {
        if (rtt < TimeSpan.Zero) rtt = TimeSpan.Zero;
        if (SmoothedRtt is not { } srtt || RttVariation is not { } rttvar)
        {
            SmoothedRtt = rtt;
            RttVariation = rtt / 2;
        }
        else
        {
            var deviation = srtt > rtt ? srtt - rtt : rtt - srtt;
            RttVariation = (rttvar * 3 / 4) + (deviation / 4);
            SmoothedRtt = (srtt * 7 / 8) + (rtt / 8);
        }

        var variation = RttVariation.Value * 4;
        Current = Clamp(SmoothedRtt.Value + (variation > Granularity ? variation : Granularity), Minimum, Maximum);
    }

    /// <summary>The timer expired: RTO = RTO * 2, up to the maximum (RFC 6298 §5.5).</summary>
    public void BackOff() => Current = Clamp(Current * 2, Minimum, Maximum);

    /// <summary>
    /// RFC 6298 §5.7: when the SYN was retransmitted and no sample was taken, RTO is reset to 3 s
    /// once data transmission begins.
    /// </summary>
    public void ResetAfterSynRetransmission()
    {
        if (SmoothedRtt is null) Current = Clamp(TimeSpan.FromSeconds(3), Minimum, Maximum);
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan minimum, TimeSpan maximum) =>
        value < minimum ? minimum : value > maximum ? maximum : value;
}
