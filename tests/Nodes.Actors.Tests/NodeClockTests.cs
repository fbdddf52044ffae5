using Nodes.Actors.Nodes;

namespace Nodes.Actors.Tests;

/// <summary>A node's clock under a clock-skew fault: jumps and rates, and how long the lab waits for the node's time.</summary>
public class NodeClockTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_unskewed_clock_must_be_the_labs()
    {
        var c = new NodeClock();
        Assert.Equal(T0, c.Now(T0));
        Assert.Equal(TimeSpan.FromSeconds(3), c.LabDelay(TimeSpan.FromSeconds(3)));
        Assert.Equal(1, c.Rate);
    }

    [Fact]
    public void A_jump_must_move_the_clock_and_keep_its_pace()
    {
        var c = new NodeClock();
        c.Change(T0, TimeSpan.FromHours(7.5), 1);
        Assert.Equal(T0.AddHours(7.5), c.Now(T0));
        Assert.Equal(T0.AddHours(7.5).AddSeconds(10), c.Now(T0.AddSeconds(10)));
        Assert.Equal(TimeSpan.FromHours(7.5), c.Difference(T0.AddMinutes(1)));
    }

    [Fact]
    public void A_fast_clock_must_run_ahead_and_its_timers_must_fire_sooner_in_lab_time()
    {
        var c = new NodeClock();
        c.Change(T0, TimeSpan.Zero, 2);
        Assert.Equal(T0.AddSeconds(20), c.Now(T0.AddSeconds(10)));
        // 30 s of the node's time pass in 15 s of the lab's.
        Assert.Equal(TimeSpan.FromSeconds(15), c.LabDelay(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Changes_must_compose_from_where_the_clock_is()
    {
        var c = new NodeClock();
        c.Change(T0, TimeSpan.FromMinutes(-30), 2);
        // 10 s later the node's clock shows -30 min + 20 s; a second jump starts from there, at normal pace.
        c.Change(T0.AddSeconds(10), TimeSpan.FromMinutes(30), 1);
        Assert.Equal(T0.AddSeconds(20), c.Now(T0.AddSeconds(10)));
        Assert.Equal(T0.AddSeconds(30), c.Now(T0.AddSeconds(20)));
    }
}
