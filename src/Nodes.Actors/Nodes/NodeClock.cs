namespace Nodes.Actors.Nodes;

/// <summary>
/// A node's own clock as its protocol engines see it: the lab's time, unless a clock-skew fault moved it (a jump) or
/// made it run fast or slow. Set by the node's actor, read by its SA actors on other threads: the state is one
/// immutable value swapped atomically.
/// </summary>
public sealed class NodeClock
{
    private sealed record Skew(DateTimeOffset Origin, TimeSpan Offset, double Rate);

    private Skew? _skew;

    /// <summary>The node's time at the lab's <paramref name="labNow"/>.</summary>
    public DateTimeOffset Now(DateTimeOffset labNow)
    {
        var s = Volatile.Read(ref _skew);
        if (s is null) return labNow;
        var elapsed = labNow - s.Origin;
        return s.Origin + s.Offset + TimeSpan.FromTicks((long)(elapsed.Ticks * s.Rate));
    }

    /// <summary>How long the lab waits for <paramref name="nodeTime"/> of this clock to pass.</summary>
    public TimeSpan LabDelay(TimeSpan nodeTime)
    {
        var s = Volatile.Read(ref _skew);
        return s is null || s.Rate == 1 ? nodeTime : TimeSpan.FromTicks((long)(nodeTime.Ticks / s.Rate));
    }

    /// <summary>Jumps by <paramref name="offset"/> at <paramref name="labNow"/> and runs at <paramref name="rate"/> from then on.</summary>
    public void Change(DateTimeOffset labNow, TimeSpan offset, double rate)
    {
        var current = Now(labNow);
        Volatile.Write(ref _skew, new Skew(labNow, current - labNow + offset, rate));
    }

    /// <summary>How far the clock is from the lab's at <paramref name="labNow"/>.</summary>
    public TimeSpan Difference(DateTimeOffset labNow) => Now(labNow) - labNow;

    public double Rate => Volatile.Read(ref _skew)?.Rate ?? 1;
}
