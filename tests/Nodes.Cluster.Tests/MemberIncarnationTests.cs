using Nodes.Host;

namespace Nodes.Cluster.Tests;

public sealed class MemberIncarnationTests : IDisposable
{
    private const string Address = "akka.ssl.tcp://nodes@azure-gw:4053";
    private static readonly TimeSpan Removal = TimeSpan.FromSeconds(40);
    private readonly string _dir = Directory.CreateTempSubdirectory("nodes-incarnation-").FullName;

    [Fact]
    public void A_first_run_is_incarnation_zero_and_does_not_wait()
    {
        using var first = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir);
        Assert.Equal((0, TimeSpan.Zero), (first.Number, first.Wait));
    }

    [Fact]
    public void A_run_after_a_crash_waits_until_the_cluster_must_have_removed_the_old_incarnation()
    {
        using (var crashed = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir)) crashed.StartBeating();
        // Restarted five seconds after its last sign of life: 35 s more before the old one is surely gone.
        using var next = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5), _dir);
        Assert.Equal(1, next.Number);
        Assert.InRange(next.Wait.TotalSeconds, 33, 35.01);
        // Long after, nothing of it is left to wait for, but it is still a new incarnation.
        using var later = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5), _dir);
        Assert.Equal((1, TimeSpan.Zero), (later.Number, later.Wait));
    }

    [Fact]
    public void A_run_after_a_graceful_leave_does_not_wait_and_the_numbers_go_on()
    {
        using (var run = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir))
        {
            run.StartBeating();
            run.Left();
        }
        using var next = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir);
        Assert.Equal((1, TimeSpan.Zero), (next.Number, next.Wait));
        next.StartBeating();
        using var third = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir);
        Assert.Equal(2, third.Number);
    }

    [Fact]
    public void Each_address_has_its_own_record_and_a_damaged_record_counts_as_none()
    {
        using (var run = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir)) run.StartBeating();
        using (var other = MemberIncarnation.Begin("akka.ssl.tcp://nodes@vm:4053", Removal, DateTimeOffset.UtcNow, _dir)) Assert.Equal(0, other.Number);
        File.WriteAllText(MemberIncarnation.FileFor(Address, _dir), "incarnation 7\nlast-al");
        using var next = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir);
        Assert.Equal((0, TimeSpan.Zero), (next.Number, next.Wait));
    }

    [Fact]
    public void A_record_from_the_future_holds_the_member_back_no_longer_than_the_removal_time()
    {
        File.WriteAllText(MemberIncarnation.FileFor(Address, _dir), $"incarnation 3\nlast-alive {DateTimeOffset.UtcNow.AddYears(1).ToUnixTimeMilliseconds()}\nleft no\n");
        using var next = MemberIncarnation.Begin(Address, Removal, DateTimeOffset.UtcNow, _dir);
        Assert.Equal((4, Removal), (next.Number, next.Wait));
    }

    [Fact]
    public void A_member_on_port_zero_keeps_no_record()
    {
        using (var run = MemberIncarnation.Unrecorded())
        {
            run.StartBeating();
            Assert.Equal((0, TimeSpan.Zero), (run.Number, run.Wait));
        }
        Assert.Empty(Directory.GetFiles(_dir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
