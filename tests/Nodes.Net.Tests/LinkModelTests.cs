using Nodes.Net.Links;

namespace Nodes.Net.Tests;

public class LinkModelTests
{
    private static readonly byte[] Frame = new byte[100];

    private static List<ChannelOutcome> Run(LinkImpairments impairments, ulong seed, int frames, TimeSpan spacing)
    {
        var channel = new LinkChannel(impairments, seed);
        return Enumerable.Range(0, frames).Select(i => channel.Transmit(Frame, spacing * i)).ToList();
    }

    [Theory]
    [InlineData(30.0, 0.0)]
    [InlineData(30.0, 50.0)]
    [InlineData(1.0, 0.0)]
    public void LinkChannel_must_lose_the_configured_share_within_two_points(double loss, double correlation)
    {
        var outcomes = Run(new LinkImpairments { Loss = loss, LossCorrelation = correlation }, 42, 10_000, TimeSpan.FromMilliseconds(1));
        var lost = outcomes.Count(o => o.Drop == DropReason.LinkLoss) / 100.0;
        if (correlation == 0) Assert.InRange(lost, loss - 2, loss + 2);
        else Assert.InRange(lost, 1, 99);
    }

    [Fact]
    public void LinkChannel_must_repeat_exactly_with_the_same_seed()
    {
        var impairments = LinkImpairments.Parse("delay 50ms 10ms 25% loss 10% duplicate 5% reorder 10% corrupt 5%");
        string Trace(ulong seed) => string.Join(";", Run(impairments, seed, 2000, TimeSpan.FromMilliseconds(1))
            .Select(o => o.Drop + ":" + string.Join(",", o.Deliveries.Select(d => $"{d.DeliverAt.Ticks}/{d.IsDuplicate}/{Convert.ToHexString(d.Frame)}"))));
        Assert.Equal(Trace(9), Trace(9));
        Assert.NotEqual(Trace(9), Trace(10));
    }

    [Fact]
    public void LinkChannel_must_duplicate_and_corrupt_at_the_configured_rates()
    {
        var outcomes = Run(new LinkImpairments { Duplicate = 10, Corrupt = 20 }, 5, 10_000, TimeSpan.FromMilliseconds(1));
        var copies = outcomes.SelectMany(o => o.Deliveries).ToList();
        Assert.InRange(copies.Count(d => d.IsDuplicate), 800, 1200);
        var corrupted = copies.Where(d => d.IsCorrupted).ToList();
        Assert.InRange(corrupted.Count / (double)copies.Count, 0.18, 0.22);

        // Exactly one bit differs from the frame sent.
        Assert.All(corrupted, d => Assert.Equal(1, d.Frame.Sum(b => System.Numerics.BitOperations.PopCount(b))));
        Assert.All(copies.Where(d => !d.IsCorrupted), d => Assert.All(d.Frame, b => Assert.Equal(0, b)));
    }

    [Fact]
    public void LinkChannel_must_send_reordered_frames_ahead_of_the_delay_respecting_the_gap()
    {
        var outcomes = Run(new LinkImpairments { Delay = TimeSpan.FromMilliseconds(10), Reorder = 100, ReorderGap = 5 }, 1, 20, TimeSpan.FromMilliseconds(1));
        var immediate = outcomes.Select((o, i) => o.Deliveries[0].DeliverAt == TimeSpan.FromMilliseconds(i)).ToList();

        // netem gap 5: four frames delayed, the fifth sent at once, and so on.
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 5 == 4), immediate);
    }

    [Fact]
    public void LinkChannel_must_queue_frames_behind_the_rate_exactly()
    {
        // 1500 octets at 1 Mbit/s serialize in 12 ms; three frames offered at once leave at 12, 24, 36 ms, plus 5 ms delay.
        var channel = new LinkChannel(new LinkImpairments { RateBitsPerSecond = LinkImpairments.ParseRate("1mbit"), Delay = TimeSpan.FromMilliseconds(5), Limit = 3 }, 1);
        var frame = new byte[1500];
        var at = Enumerable.Range(0, 3).Select(_ => channel.Transmit(frame, TimeSpan.Zero).Deliveries[0].DeliverAt).ToList();
        Assert.Equal([TimeSpan.FromMilliseconds(17), TimeSpan.FromMilliseconds(29), TimeSpan.FromMilliseconds(41)], at);
        Assert.Equal(DropReason.LinkQueueFull, channel.Transmit(frame, TimeSpan.Zero).Drop);

        // Once the queue drained, a frame starts at once.
        Assert.Equal(TimeSpan.FromMilliseconds(117), channel.Transmit(frame, TimeSpan.FromMilliseconds(100)).Deliveries[0].DeliverAt);
        Assert.Equal(TimeSpan.FromTicks(1), LinkChannel.SerializationTime(1, 100_000_000));
    }

    [Fact]
    public void LinkChannel_must_keep_jitter_within_delay_plus_minus_jitter()
    {
        var outcomes = Run(LinkImpairments.Parse("delay 50ms 10ms"), 3, 5000, TimeSpan.FromMilliseconds(100));
        var delays = outcomes.Select((o, i) => o.Deliveries[0].DeliverAt.TotalMilliseconds - (100 * i)).ToList();
        Assert.All(delays, d => Assert.InRange(d, 40, 60));
        Assert.InRange(delays.Average(), 49.5, 50.5);
    }

    [Fact]
    public void LinkModel_must_drop_above_mtu_and_when_down()
    {
        var link = LinkModel.PointToPoint("wan", "home/wan", "isp/cpe", 1, new LinkImpairments { Mtu = 1500 });
        Assert.Equal(DropReason.LinkMtu, link.Transmit("home/wan", new byte[1501], TimeSpan.Zero).Drop);
        Assert.Equal("isp/cpe", Assert.Single(link.Transmit("home/wan", new byte[1500], TimeSpan.Zero).Deliveries).To);
        link.SetUp(false);
        Assert.Equal(DropReason.LinkDown, link.Transmit("isp/cpe", new byte[10], TimeSpan.Zero).Drop);
        Assert.Equal(1, link.Egress("home/wan").Counters.Drops[DropReason.LinkMtu]);
    }

    [Fact]
    public void LinkModel_segment_must_deliver_to_every_other_attachment()
    {
        var lan = LinkModel.Segment("lan", ["client/eth0", "rras/lan", "home/lan"], 1);
        var result = lan.Transmit("client/eth0", [1, 2, 3], TimeSpan.Zero);
        Assert.Equal(["rras/lan", "home/lan"], result.Deliveries.Select(d => d.To));
        Assert.NotSame(result.Deliveries[0].Frame, result.Deliveries[1].Frame);
    }

    [Theory]
    [InlineData("50ms", 500_000L)]
    [InlineData("1.5s", 15_000_000L)]
    [InlineData("250us", 2_500L)]
    [InlineData("100", 1_000L)]
    public void LinkImpairments_must_parse_tc_times(string text, long ticks) =>
        Assert.Equal(TimeSpan.FromTicks(ticks), LinkImpairments.ParseTime(text));

    [Theory]
    [InlineData("100mbit", 100_000_000L)]
    [InlineData("1.5kbit", 1_500L)]
    [InlineData("1mibit", 1_048_576L)]
    [InlineData("10kbps", 80_000L)]
    [InlineData("9600", 9_600L)]
    public void LinkImpairments_must_parse_tc_rates(string text, long bits) =>
        Assert.Equal(bits, LinkImpairments.ParseRate(text));

    [Fact]
    public void LinkImpairments_must_parse_a_netem_argument_list_and_refuse_unknown_words()
    {
        var parsed = LinkImpairments.Parse("delay 100ms 20ms 25% loss random 1% 30% reorder 25% 50% gap 5 rate 100mbit limit 50 mtu 1400");
        Assert.Equal(new LinkImpairments
        {
            Delay = TimeSpan.FromMilliseconds(100), Jitter = TimeSpan.FromMilliseconds(20), DelayCorrelation = 25,
            Loss = 1, LossCorrelation = 30, Reorder = 25, ReorderCorrelation = 50, ReorderGap = 5,
            RateBitsPerSecond = 100_000_000, Limit = 50, Mtu = 1400,
        }, parsed);
        Assert.Equal(10, LinkImpairments.ParsePercent("10%"));
        Assert.Throws<FormatException>(() => LinkImpairments.Parse("delay 10ms teleport"));
        Assert.Throws<FormatException>(() => LinkImpairments.ParsePercent("10"));
    }

    [Fact]
    public void DropReason_names_must_be_unique_kebab_case_and_parse_back()
    {
        var names = Enum.GetValues<DropReason>().Select(r => r.ToName()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches("^[a-z]+(-[a-z]+)*$", n));
        Assert.All(Enum.GetValues<DropReason>(), r => Assert.True(DropReasonNames.TryParse(r.ToName(), out var back) && back == r));
    }
}
