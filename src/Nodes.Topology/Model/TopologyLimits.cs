namespace Nodes.Topology.Model;

/// <summary>
/// The bounds of what a topology file may ask for, checked once by the loader (and by the command line for the
/// flags that override a file's values), so that a run never meets a value the loader accepted but a lab cannot
/// carry out: a timer longer than a scheduler takes, a flood larger than memory, a file that never ends.
/// </summary>
public static class TopologyLimits
{
    /// <summary>The largest topology file read: the shipped labs are about 16 KB.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>
    /// The deepest nesting of mappings and lists; the shipped labs reach 7. Checked before each step down, since a
    /// stack overflow ends the process whatever catches it.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>The longest a scenario, a traffic item, a timer or a fault parameter may last: a day.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The shortest ping interval: the frames carry it in whole milliseconds.</summary>
    public static readonly TimeSpan MinPingInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>The most pings one ping item (or <c>--count</c>) sends.</summary>
    public const int MaxPingCount = 1_000_000;

    /// <summary>The fastest UDP flow in datagrams per second; a host sends them in batches on a 10 ms tick.</summary>
    public const double MaxUdpRate = 100_000;

    /// <summary>
    /// The most bytes per second a UDP flow may send (a gigabit per second): each 10 ms batch is built in memory, so
    /// the parser's maxima together (65,507-byte datagrams at 100,000 per second) would need gigabytes at once.
    /// </summary>
    public const double MaxUdpBytesPerSecond = 125_000_000;

    /// <summary>"1 day" as the messages say it.</summary>
    public const string MaxDurationText = "24h";

    /// <summary>How long a ping item lasts from the scenario's start, without overflowing for any count and interval.</summary>
    public static TimeSpan PingLength(TimeSpan start, TimeSpan interval, int count)
    {
        var ticks = start.Ticks + (double)interval.Ticks * count;
        return ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)ticks);
    }
}
