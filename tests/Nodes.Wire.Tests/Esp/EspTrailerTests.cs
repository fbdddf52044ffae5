using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Esp;

namespace Nodes.Wire.Tests.Esp;

public class EspTrailerTests
{
    [Theory]
    [InlineData(1, 4)]   // NULL encryption
    [InlineData(4, 4)]
    [InlineData(8, 8)]   // 3DES-CBC
    [InlineData(16, 16)] // AES-CBC
    [InlineData(3, 12)]
    [InlineData(6, 12)]
    public void EspTrailer_must_align_to_the_block_and_to_four_bytes(int blockSize, int expected) =>
        Assert.Equal(expected, EspTrailer.AlignmentFor(blockSize));

    [Theory]
    // RFC 3602 section 4 case #5: a 64-byte payload under AES-CBC carries 14 bytes of padding.
    [InlineData(64, 16, 14)]
    // RFC 3602 section 4 case #6: 28 bytes, 2 of padding.
    [InlineData(28, 16, 2)]
    // RFC 3602 section 4 cases #7 and #8: 84 and 68 bytes, 10 of padding each.
    [InlineData(84, 16, 10)]
    [InlineData(68, 16, 10)]
    // draft-mcgrew-gcm-test-01: a 72-byte inner packet under GCM is followed by 01 02 02.
    [InlineData(72, 4, 2)]
    [InlineData(0, 4, 2)]
    [InlineData(2, 4, 0)]
    [InlineData(14, 16, 0)]
    [InlineData(15, 16, 15)]
    [InlineData(0, 8, 6)]
    public void EspTrailer_must_compute_the_least_padding(int payload, int alignment, int expected) =>
        Assert.Equal(expected, EspTrailer.PaddingLength(payload, alignment));

    [Fact]
    public void EspTrailer_must_encode_monotonic_padding()
    {
        var bytes = Enumerable.Repeat((byte)0xee, 20).ToArray();
        var written = new EspTrailer(14, 1).Encode(bytes);
        Assert.Equal(16, written);
        Assert.Equal(Hex.Decode("0102030405060708090a0b0c0d0e 0e 01 eeee eeee"), bytes);
    }

    [Fact]
    public void EspTrailer_must_refuse_a_short_destination() =>
        Assert.Throws<ArgumentException>(() => new EspTrailer(3, 4).Encode(new byte[4]));

    [Theory]
    [InlineData("no padding", "4500 0004", 2, 0, 4)]
    [InlineData("two bytes of padding", "aabbccdd 0102 02 04", 4, 2, 4)]
    [InlineData("dummy packet, next header 59", "0102 02 3b", 0, 2, 59)]
    [InlineData("trailer only", "00 29", 0, 0, 41)]
    [InlineData("RFC 3602 case #6 plaintext end: 28 bytes then 01 02 02 01",
        "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777 0102 02 01", 28, 2, 1)]
    public void EspTrailer_must_parse_valid_plaintext(string description, string hex, int payload, byte padLength, byte nextHeader)
    {
        Assert.True(EspTrailer.TryParse(Hex.Decode(hex), out var trailer, out var payloadLength, out var error), description);
        Assert.Equal(WireError.None, error);
        Assert.Equal(payload, payloadLength);
        Assert.Equal(new EspTrailer(padLength, nextHeader), trailer);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("one byte", "04", WireError.Truncated)]
    [InlineData("pad length 1 with nothing before it", "01 04", WireError.BadPadding)]
    [InlineData("pad length past the start", "0102 03 04", WireError.BadPadding)]
    [InlineData("pad length 255 in a short packet", "aabb ff 04", WireError.BadPadding)]
    [InlineData("zero padding bytes", "aa 0000 02 04", WireError.BadPadding)]
    [InlineData("padding starts at 2", "aa 0203 02 04", WireError.BadPadding)]
    [InlineData("padding reversed", "aa 0201 02 04", WireError.BadPadding)]
    [InlineData("last padding byte wrong", "aa 010203050506 06 04", WireError.BadPadding)]
    public void EspTrailer_must_refuse_malformed_plaintext(string description, string hex, WireError expected)
    {
        Assert.False(EspTrailer.TryParse(Hex.Decode(hex), out var trailer, out var payload, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, trailer);
        Assert.Equal(0, payload);
    }

    [Property]
    public bool EspTrailer_must_round_trip_any_payload_and_alignment(byte[] payload, byte nextHeader, byte blockChoice)
    {
        payload ??= [];
        var blockSize = BlockSizes[blockChoice % BlockSizes.Length];
        var alignment = EspTrailer.AlignmentFor(blockSize);
        var padLength = EspTrailer.PaddingLength(payload.Length, alignment);
        var trailer = new EspTrailer((byte)padLength, nextHeader);
        var plaintext = new byte[payload.Length + trailer.EncodedLength];
        payload.CopyTo(plaintext, 0);
        trailer.Encode(plaintext.AsSpan(payload.Length));
        return plaintext.Length % alignment == 0
            && plaintext.Length % 4 == 0
            && EspTrailer.TryParse(plaintext, out var parsed, out var payloadLength, out _)
            && parsed == trailer
            && payloadLength == payload.Length
            && plaintext.AsSpan(0, payloadLength).SequenceEqual(payload);
    }

    private static readonly int[] BlockSizes = [1, 4, 8, 16];

    [Property]
    public bool EspTrailer_must_never_throw_on_arbitrary_plaintext(byte[] bytes)
    {
        bytes ??= [];
        var ok = EspTrailer.TryParse(bytes, out var trailer, out var payload, out var error);
        return ok
            ? error == WireError.None && payload + trailer.EncodedLength == bytes.Length
            : error is WireError.Truncated or WireError.BadPadding;
    }
}
