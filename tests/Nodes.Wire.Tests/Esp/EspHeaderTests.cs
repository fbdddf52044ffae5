using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Esp;

namespace Nodes.Wire.Tests.Esp;

public class EspHeaderTests
{
    // RFC 3602 section 4, case #7: an AES-128-CBC tunnel-mode ESP packet, SPI 0x8765, sequence number 2.
    private static readonly byte[] Case7Packet = Hex.Decode(
        "00008765 00000002 f4e765244f6407adf13dc1380f673f37" +
        "773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8" +
        "e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5" +
        "c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d");

    private static readonly EspHeader Case7Header = new(0x8765, 2);

    [Fact]
    public void EspPacket_must_deconstruct_the_rfc3602_case7_packet()
    {
        Assert.True(EspPacket.TryCreate(Case7Packet, out var packet, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(0x8765u, packet.Spi);
        Assert.Equal(2u, packet.SequenceNumber);
        Assert.Equal(Case7Packet.Length - 8, packet.Payload.Length);
        Assert.Equal(0xf4, packet.Payload[0]);
    }

    [Fact]
    public void EspHeader_must_construct_the_rfc3602_case7_header_over_garbage()
    {
        var bytes = Enumerable.Repeat((byte)0xa5, 8).ToArray();
        Assert.Equal(8, Case7Header.Encode(bytes));
        Assert.Equal(Case7Packet[..8], bytes);
    }

    [Fact]
    public void EspPacket_must_check_length()
    {
        Assert.False(EspPacket.TryCreate(Case7Packet.AsSpan(0, 7), out _, out var error));
        Assert.Equal(WireError.Truncated, error);
        Assert.True(EspPacket.TryCreate(Case7Packet.AsSpan(0, 8), out var headerOnly, out _));
        Assert.Equal(0, headerOnly.Payload.Length);
        Assert.True(EspPacket.TryCreate(Case7Packet, out _, out _));
    }

    [Fact]
    public void EspHeader_must_parse_the_rfc3602_case7_packet()
    {
        Assert.True(EspHeader.TryParse(Case7Packet, out var header, out var consumed));
        Assert.Equal(Case7Header, header);
        Assert.Equal(8, consumed);
    }

    [Fact]
    public void EspHeader_must_emit_the_rfc3602_case7_header()
    {
        var bytes = Enumerable.Repeat((byte)0x17, 12).ToArray();
        Assert.True(Case7Header.TryEncode(bytes, out var written));
        Assert.Equal(8, written);
        Assert.Equal(Case7Packet[..8], bytes[..8]);
        Assert.All(bytes[8..], b => Assert.Equal(0x17, b));
        Assert.False(Case7Header.TryEncode(new byte[7], out written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void EspHeader_must_report_its_buffer_length()
    {
        Assert.Equal(8, Case7Header.EncodedLength);
        Assert.Equal(EspHeader.Length, Case7Header.EncodedLength);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("one byte", "00", WireError.Truncated)]
    [InlineData("SPI only", "00008765", WireError.Truncated)]
    [InlineData("seven bytes", "00008765000000", WireError.Truncated)]
    [InlineData("SPI 0, never sent (RFC 4303 section 2.1)", "0000000000000001", WireError.ReservedSpi)]
    [InlineData("SPI 1, reserved by IANA", "0000000100000001", WireError.ReservedSpi)]
    [InlineData("SPI 255, last reserved value", "000000ff00000001", WireError.ReservedSpi)]
    [InlineData("SPI 0 with a payload", "0000000000000001deadbeef", WireError.ReservedSpi)]
    public void EspHeader_must_refuse_malformed_input(string description, string hex, WireError expected)
    {
        var bytes = Hex.Decode(hex);
        Assert.False(EspHeader.TryParse(bytes, out var header, out var consumed, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, header);
        Assert.Equal(0, consumed);
        Assert.Equal(expected, EspPacket.Check(bytes));
    }

    [Theory]
    [InlineData("SPI 256, first usable value", "0000010000000000", 256u, 0u)]
    [InlineData("all ones", "ffffffffffffffff", uint.MaxValue, uint.MaxValue)]
    [InlineData("trailing payload is not the header's business", "1234567800000005ff", 0x12345678u, 5u)]
    public void EspHeader_must_accept_edge_values(string description, string hex, uint spi, uint seq)
    {
        Assert.True(EspHeader.TryParse(Hex.Decode(hex), out var header, out _, out var error), description);
        Assert.Equal(WireError.None, error);
        Assert.Equal(new EspHeader(spi, seq), header);
    }

    [Property]
    public bool EspHeader_must_round_trip_every_usable_spi_and_sequence(uint rawSpi, uint seq)
    {
        var spi = rawSpi < EspHeader.FirstUsableSpi ? rawSpi + EspHeader.FirstUsableSpi : rawSpi;
        var header = new EspHeader(spi, seq);
        var bytes = new byte[header.EncodedLength];
        header.Encode(bytes);
        return EspHeader.TryParse(bytes, out var parsed, out var consumed) && parsed == header && consumed == 8;
    }

    [Property]
    public bool EspPacket_must_never_throw_on_arbitrary_bytes(byte[] bytes)
    {
        var ok = EspPacket.TryCreate(bytes ?? [], out var packet, out var error);
        return ok ? packet.Payload.Length == bytes!.Length - 8 && error == WireError.None : error != WireError.None;
    }

    [Fact]
    public void EspHeader_must_parse_without_allocating()
    {
        var sink = 0u;
        for (var i = 0; i < 100; i++) sink += Parse(Case7Packet);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++) sink += Parse(Case7Packet);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0u, sink);

        static uint Parse(byte[] bytes)
        {
            EspPacket.TryCreate(bytes, out var packet, out _);
            EspHeader.TryParse(bytes, out var header, out _, out _);
            EspTrailer.TryParse(packet.Payload[^16..], out var trailer, out _, out _);
            return packet.SequenceNumber + header.Spi + trailer.NextHeader;
        }
    }
}
