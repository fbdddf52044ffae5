using Nodes.Esp;

namespace Nodes.Esp.Tests;

public class SequenceCounterTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SequenceCounter_must_start_at_one(bool esn)
    {
        var counter = new SequenceCounter(esn);
        Assert.Equal(0ul, counter.Last);
        Assert.True(counter.TryNext(out var first));
        Assert.True(counter.TryNext(out var second));
        Assert.Equal(1ul, first);
        Assert.Equal(2ul, second);
        Assert.Equal(2ul, counter.Last);
    }

    [Fact]
    public void SequenceCounter_must_stop_at_two_to_the_32_minus_one_without_esn()
    {
        var counter = new SequenceCounter(false, uint.MaxValue - 2);
        Assert.Equal(2ul, counter.Remaining);
        Assert.True(counter.TryNext(out var a));
        Assert.True(counter.TryNext(out var b));
        Assert.Equal(0xffff_fffeul, a);
        Assert.Equal(0xffff_fffful, b);
        Assert.Equal(0ul, counter.Remaining);
        Assert.False(counter.TryNext(out var c));
        Assert.Equal(0ul, c);
        Assert.False(counter.TryNext(out _));
        Assert.Equal(0xffff_fffful, counter.Last);
    }

    [Fact]
    public void SequenceCounter_must_cross_two_to_the_32_with_esn_and_stop_at_two_to_the_64_minus_one()
    {
        var counter = new SequenceCounter(true, uint.MaxValue);
        Assert.True(counter.TryNext(out var crossed));
        Assert.Equal(0x1_0000_0000ul, crossed);

        var nearEnd = new SequenceCounter(true, ulong.MaxValue - 1);
        Assert.True(nearEnd.TryNext(out var last));
        Assert.Equal(ulong.MaxValue, last);
        Assert.False(nearEnd.TryNext(out _));
        Assert.Equal(ulong.MaxValue, nearEnd.Last);
    }

    [Fact]
    public void SequenceCounter_must_refuse_a_start_beyond_its_space() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceCounter(false, 0x1_0000_0000ul));
}
