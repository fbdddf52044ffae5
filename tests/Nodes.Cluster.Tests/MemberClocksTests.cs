using Akka.Actor;
using Nodes.Host;

namespace Nodes.Cluster.Tests;

public class MemberClocksTests
{
    private static readonly Address Home = new("akka.tcp", "nodes", "rras", 4053);
    private static readonly Address Azure = new("akka.tcp", "nodes", "azure-gw", 4053);
    private const long T0 = 1_764_000_000_000_000;

    [Fact]
    public void A_member_whose_clock_is_behind_must_have_its_frames_moved_onto_this_clock_by_the_fastest_batch()
    {
        var clocks = new MemberClocks();
        // Azure's member runs 250 ms behind; its batches take 1 to 40 ms to arrive.
        foreach (var (sent, delay) in new[] { (0L, 40_000L), (50_000, 1_000), (100_000, 12_000) })
            clocks.Observe(Azure, T0 + sent - 250_000, T0 + sent + delay);
        Assert.Equal(251_000, clocks.OffsetUs(Azure));

        // RRAS (this machine's clock) sent the ESP packet at T0 + 10 ms; the Azure gateway, on its skewed clock, handed
        // the decrypted ping to the VNet 8 ms later. Stamped as they are, the later hop sorts first.
        var rrasHop = T0 + 10_000;
        var azureHop = T0 + 18_000 - 250_000;
        Assert.True(azureHop < rrasHop);
        Assert.True(clocks.Correct(Azure, azureHop) > clocks.Correct(Home, rrasHop));
    }

    [Fact]
    public void Members_on_this_clock_or_without_send_times_must_be_left_as_they_are()
    {
        var clocks = new MemberClocks();
        foreach (var delay in new[] { 3_000L, 800, 2_500 }) clocks.Observe(Home, T0, T0 + delay);
        Assert.Equal(0, clocks.OffsetUs(Home));
        clocks.Observe(Azure, 0, T0);
        Assert.Equal(T0 + 5, clocks.Correct(Azure, T0 + 5));
    }

    [Fact]
    public void A_member_whose_clock_is_set_must_be_followed_once_the_old_batches_leave_the_window()
    {
        var clocks = new MemberClocks();
        for (var i = 0; i < MemberClocks.Window; i++) clocks.Observe(Azure, T0 + i * 50_000 - 500_000, T0 + i * 50_000 + 1_000);
        Assert.Equal(501_000, clocks.OffsetUs(Azure));
        // Its clock is set right (NTP caught up): within one window the offset follows.
        var start = T0 + MemberClocks.Window * 50_000;
        for (var i = 0; i < MemberClocks.Window; i++) clocks.Observe(Azure, start + i * 50_000, start + i * 50_000 + 1_000);
        Assert.Equal(0, clocks.OffsetUs(Azure));
    }
}
