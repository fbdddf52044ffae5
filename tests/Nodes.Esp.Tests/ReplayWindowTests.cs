using Nodes.Esp;

namespace Nodes.Esp.Tests;

public class ReplayWindowTests
{
    // Each row feeds one sequence number to a 64-packet window: check, and commit when accepted (as after a
    // verified ICV). Rows run in order and are numbered in the comments.

    private static readonly (ulong Seq, ReplayVerdict Expected)[] Window64Rows =
    [
        (0, ReplayVerdict.TooOld),     /*  1: 0 is never sent */
        (1, ReplayVerdict.Accept),     /*  2: first packet */
        (1, ReplayVerdict.Replay),     /*  3: duplicate */
        (2, ReplayVerdict.Accept),     /*  4: in order */
        (3, ReplayVerdict.Accept),     /*  5 */
        (5, ReplayVerdict.Accept),     /*  6: gap */
        (4, ReplayVerdict.Accept),     /*  7: reordered inside the window */
        (4, ReplayVerdict.Replay),     /*  8: reordered duplicate */
        (64, ReplayVerdict.Accept),    /*  9: top = 64, window [1, 64] */
        (1, ReplayVerdict.Replay),     /* 10: left edge, seen */
        (6, ReplayVerdict.Accept),     /* 11: unseen, inside */
        (65, ReplayVerdict.Accept),    /* 12: slide by one: window [2, 65] */
        (1, ReplayVerdict.TooOld),     /* 13: just fell out */
        (7, ReplayVerdict.Accept),     /* 14 */
        (128, ReplayVerdict.Accept),   /* 15: top = 128, window [65, 128] */
        (64, ReplayVerdict.TooOld),    /* 16: one left of the window */
        (65, ReplayVerdict.Replay),    /* 17: left edge, seen */
        (66, ReplayVerdict.Accept),    /* 18: left edge + 1, unseen */
        (127, ReplayVerdict.Accept),   /* 19 */
        (127, ReplayVerdict.Replay),   /* 20 */
        (1000, ReplayVerdict.Accept),  /* 21: jump far larger than the window */
        (937, ReplayVerdict.Accept),   /* 22: left edge of [937, 1000], cleared by the jump */
        (936, ReplayVerdict.TooOld),   /* 23 */
        (999, ReplayVerdict.Accept),   /* 24 */
        (1000, ReplayVerdict.Replay),  /* 25 */
        (129, ReplayVerdict.TooOld),   /* 26: a stale block's bit must not matter */
        (1001, ReplayVerdict.Accept),  /* 27 */
        (937, ReplayVerdict.TooOld),   /* 28: slid out by one */
    ];

    [Fact]
    public void ReplayWindow_must_follow_the_numbered_table_for_a_64_packet_window()
    {
        var window = new ReplayWindow();
        Assert.Equal(64, window.Size);
        for (var row = 0; row < Window64Rows.Length; row++)
        {
            var (seq, expected) = Window64Rows[row];
            var verdict = window.Check(seq);
            Assert.True(expected == verdict, $"row {row + 1}: seq {seq} expected {expected}, got {verdict}");
            if (verdict == ReplayVerdict.Accept) window.Commit(seq);
        }
        Assert.Equal(1001ul, window.Highest);
    }

    [Fact]
    public void ReplayWindow_check_must_not_change_anything()
    {
        var window = new ReplayWindow();
        for (var i = 0; i < 3; i++) Assert.Equal(ReplayVerdict.Accept, window.Check(10));
        Assert.Equal(0ul, window.Highest);
        window.Commit(10);
        Assert.Equal(ReplayVerdict.Replay, window.Check(10));
        Assert.Equal(ReplayVerdict.Accept, window.Check(9));
        Assert.Equal(ReplayVerdict.Accept, window.Check(9));
        Assert.Equal(10ul, window.Highest);
    }

    [Fact]
    public void ReplayWindow_commit_must_ignore_numbers_the_check_refuses()
    {
        var window = new ReplayWindow();
        window.Commit(200);
        window.Commit(100); // too old: no effect
        Assert.Equal(200ul, window.Highest);
        Assert.Equal(ReplayVerdict.TooOld, window.Check(100));
        Assert.Equal(ReplayVerdict.Accept, window.Check(199));
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(32, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(1000, 1024)]
    [InlineData(4096, 4096)]
    [InlineData(65536, 65536)]
    public void ReplayWindow_must_round_sizes_up_to_whole_blocks(int requested, int expected) =>
        Assert.Equal(expected, new ReplayWindow(requested).Size);

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(1024)]
    [InlineData(4096)]
    public void ReplayWindow_must_keep_exactly_its_size_of_history(int size)
    {
        var window = new ReplayWindow(size);
        var top = (ulong)size * 5 + 17;
        // Every other number in the window arrives, then the top.
        for (var s = top - (ulong)size + 1; s < top; s += 2) window.Commit(s);
        window.Commit(top);
        for (var s = top - (ulong)size + 1; s < top; s++)
        {
            var expected = (s - (top - (ulong)size + 1)) % 2 == 0 ? ReplayVerdict.Replay : ReplayVerdict.Accept;
            Assert.Equal(expected, window.Check(s));
        }
        Assert.Equal(ReplayVerdict.TooOld, window.Check(top - (ulong)size));
        Assert.Equal(ReplayVerdict.Replay, window.Check(top));
        Assert.Equal(ReplayVerdict.Accept, window.Check(top + 1));
    }

    [Fact]
    public void ReplayWindow_must_slide_block_by_block_without_stale_bits()
    {
        var window = new ReplayWindow(128);
        for (ulong s = 1; s <= 10_000; s++)
        {
            Assert.Equal(ReplayVerdict.Accept, window.Check(s));
            window.Commit(s);
            Assert.Equal(ReplayVerdict.Replay, window.Check(s));
            if (s > 128) Assert.Equal(ReplayVerdict.TooOld, window.Check(s - 128));
            if (s + 1 > 128) Assert.Equal(ReplayVerdict.Replay, window.Check(s + 1 - 128));
        }
        // After a jump of exactly the ring, nothing from before may be reported as seen.
        window.Commit(10_000 + 256);
        for (var s = 10_000ul + 256 - 127; s < 10_000 + 256; s++) Assert.Equal(ReplayVerdict.Accept, window.Check(s));
    }

    [Fact]
    public void ReplayWindow_disabled_must_accept_duplicates_but_never_zero()
    {
        var window = new ReplayWindow(0);
        Assert.False(window.Enabled);
        window.Commit(5);
        Assert.Equal(ReplayVerdict.Accept, window.Check(5));
        Assert.Equal(ReplayVerdict.Accept, window.Check(1));
        Assert.Equal(ReplayVerdict.TooOld, window.Check(0));
        window.Commit(3);
        Assert.Equal(5ul, window.Highest);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65537)]
    public void ReplayWindow_must_refuse_impossible_sizes(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(size));

    // The 32-bit edge: without ESN the wire value is the whole number; with ESN the high half is inferred
    // (RFC 4303 appendix A2.2). Rows: highest committed, low 32 bits on the wire, expected full number or null
    // for "cannot be valid".
    [Theory]
    [InlineData(false, 0xffff_fff0ul, 0xffff_ffffu, 0xffff_fffful)]   // 1: last number without ESN
    [InlineData(false, 0xffff_fffful, 0x0000_0001u, 0x0000_0001ul)]   // 2: no ESN: no wrap, just too old
    [InlineData(true, 0ul, 1u, 1ul)]                                   // 3: first packet
    [InlineData(true, 0ul, 0xffff_fff0u, null)]                        // 4: before the start of the space
    [InlineData(true, 0xffff_fff0ul, 0xffff_ffffu, 0xffff_fffful)]     // 5: same subspace, ahead
    [InlineData(true, 0xffff_fff0ul, 0x0000_0002u, 0x1_0000_0002ul)]   // 6: wrapped into the next subspace
    [InlineData(true, 0xffff_fff0ul, 0xffff_ffb1u, 0xffff_ffb1ul)]     // 7: window's left edge (top - 63)
    [InlineData(true, 0xffff_fff0ul, 0xffff_ffb0u, 0x1_ffff_ffb0ul)]   // 8: left of it: read as far ahead
    [InlineData(true, 0x1_0000_0010ul, 0xffff_fff0u, 0xffff_fff0ul)]   // 9: window spans the boundary: late packet
    [InlineData(true, 0x1_0000_0010ul, 0x0000_0005u, 0x1_0000_0005ul)] // 10: spans the boundary: current subspace
    [InlineData(true, 0x1_0000_0010ul, 0x0000_0020u, 0x1_0000_0020ul)] // 11: ahead
    [InlineData(true, 0xffff_ffff_ffff_fff0ul, 0x0000_0001u, null)]    // 12: would pass 2^64-1
    [InlineData(true, 0xffff_ffff_ffff_fff0ul, 0xffff_ffffu, ulong.MaxValue)] // 13: the very last number
    public void ReplayWindow_must_infer_the_high_half_at_the_32_bit_edge(bool esn, ulong highest, uint low, ulong? expected)
    {
        var window = new ReplayWindow(64, esn);
        window.Commit(highest);
        var ok = window.TryInferSequence(low, out var sequence);
        Assert.Equal(expected.HasValue, ok);
        if (expected is { } value) Assert.Equal(value, sequence);
    }

    [Fact]
    public void ReplayWindow_must_refuse_a_late_packet_across_the_32_bit_edge_as_a_replay_with_esn()
    {
        var window = new ReplayWindow(64, extendedSequenceNumbers: true);
        window.Commit(0xffff_fffe);
        window.Commit(0x1_0000_0001);
        Assert.True(window.TryInferSequence(0xffff_fffe, out var late));
        Assert.Equal(ReplayVerdict.Replay, window.Check(late));
        Assert.True(window.TryInferSequence(0xffff_ffff, out var missing));
        Assert.Equal(ReplayVerdict.Accept, window.Check(missing));
        Assert.Equal(0xffff_fffful, missing);
    }
}
