using FsCheck.Xunit;
using Nodes.TestKit;

namespace Nodes.Wire.Tests;

public class InternetChecksumTests
{
    // RFC 1071 §3 "Numerical Examples": the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    [Fact]
    public void Sum_must_match_rfc1071_numerical_example()
    {
        var c = new InternetChecksum();
        c.Add(Hex.Decode("00 01 f2 03 f4 f5 f6 f7"));
        Assert.Equal(0xddf2, c.Sum);
        Assert.Equal(0x220d, c.Finish());
    }

    [Fact]
    public void Compute_must_reproduce_the_wikipedia_header_checksum()
    {
        var header = Hex.Decode(Packets.WikipediaHeader);
        header[10] = 0;
        header[11] = 0;
        Assert.Equal(0xb861, InternetChecksum.Compute(header));
    }

    [Fact]
    public void Verify_must_accept_a_correct_header_and_refuse_a_flipped_bit()
    {
        var header = Hex.Decode(Packets.WikipediaHeader);
        Assert.True(InternetChecksum.Verify(header));
        header[15] ^= 0x01;
        Assert.False(InternetChecksum.Verify(header));
    }

    [Fact]
    public void Add_must_pad_a_trailing_odd_byte_with_zero()
    {
        Assert.Equal(InternetChecksum.Compute(Hex.Decode("12 34 56 00")), InternetChecksum.Compute(Hex.Decode("12 34 56")));
    }

    [Fact]
    public void AddUInt16_must_refuse_to_follow_an_odd_length()
    {
        var c = new InternetChecksum();
        c.Add(new byte[] { 1 });
        Assert.Throws<InvalidOperationException>(() => c.AddUInt16(1));
    }

    [Property]
    public bool Add_must_give_the_same_sum_however_the_data_is_split(byte[] data, byte split1, byte split2)
    {
        var a = Math.Min(split1 % (data.Length + 1), data.Length);
        var b = Math.Min(a + (split2 % (data.Length - a + 1)), data.Length);
        var c = new InternetChecksum();
        c.Add(data.AsSpan(0, a));
        c.Add(data.AsSpan(a, b - a));
        c.Add(data.AsSpan(b));
        return c.Finish() == ReferenceChecksum(data);
    }

    [Property]
    public bool Compute_must_match_a_word_by_word_reference(byte[] data) =>
        InternetChecksum.Compute(data) == ReferenceChecksum(data);

    [Property]
    public bool Verify_must_accept_data_followed_by_its_checksum(byte[] data)
    {
        var even = data.Length % 2 == 0 ? data : [.. data, 0];
        var checksum = InternetChecksum.Compute(even);
        byte[] withChecksum = [.. even, (byte)(checksum >> 8), (byte)checksum];
        return InternetChecksum.Verify(withChecksum);
    }

    [Property]
    public bool Update_must_equal_recomputing_after_a_word_changes(byte[] data, ushort newWord, byte position)
    {
        // Data of a real header never sums to zero; a leading non-zero word keeps that true here.
        byte[] even = [0x45, 0x00, .. data, .. (data.Length % 2 == 0 ? Array.Empty<byte>() : [0])];
        var index = 2 * (position % (even.Length / 2));
        var before = InternetChecksum.Compute(even);
        var oldWord = (ushort)((even[index] << 8) | even[index + 1]);
        even[index] = (byte)(newWord >> 8);
        even[index + 1] = (byte)newWord;
        if (Array.TrueForAll(even, b => b == 0)) return true; // all-zero data has the +0 sum RFC 1624 §4 discusses
        return InternetChecksum.Update(before, oldWord, newWord) == InternetChecksum.Compute(even);
    }

    private static ushort ReferenceChecksum(byte[] data)
    {
        uint sum = 0;
        for (var i = 0; i < data.Length; i += 2)
        {
            var word = (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
            sum += word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
