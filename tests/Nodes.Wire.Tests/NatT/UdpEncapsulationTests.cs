using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.NatT;

namespace Nodes.Wire.Tests.NatT;

public class UdpEncapsulationTests
{
    private static byte[] UdpPayloadOf(string packetHex) => Hex.Decode(packetHex)[28..];

    [Fact]
    public void Classify_must_deconstruct_ike_behind_the_marker()
    {
        var payload = UdpPayloadOf(Packets.IkeNatT);
        Assert.True(UdpEncapsulation.TryClassify(payload, out var kind, out var content, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(EncapsulatedKind.Ike, kind);
        Assert.Equal(28, content.Length);
        Assert.Equal(payload[4..], content.ToArray());
        Assert.Equal(0x25, content[18]); // exchange type INFORMATIONAL, now at its RFC 7296 offset
    }

    [Fact]
    public void WriteIke_must_construct_the_marker_and_message()
    {
        var expected = UdpPayloadOf(Packets.IkeNatT);
        var buffer = new byte[expected.Length];
        Assert.Equal(32, UdpEncapsulation.WriteIke(buffer, expected.AsSpan(4)));
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void Classify_must_check_length()
    {
        Assert.False(UdpEncapsulation.TryClassify(UdpPayloadOf(Packets.IkeNatT).AsSpan(0, 31), out _, out _, out var error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(UdpEncapsulation.TryClassify(UdpPayloadOf(Packets.EspInUdp).AsSpan(0, 7), out _, out _, out error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Classify_must_parse_esp_and_keepalive()
    {
        var esp = UdpPayloadOf(Packets.EspInUdp);
        Assert.True(UdpEncapsulation.TryClassify(esp, out var kind, out var content, out _));
        Assert.Equal(EncapsulatedKind.Esp, kind);
        Assert.Equal(esp, content.ToArray());

        Assert.True(UdpEncapsulation.TryClassify(UdpPayloadOf(Packets.Keepalive), out kind, out content, out _));
        Assert.Equal(EncapsulatedKind.Keepalive, kind);
        Assert.Equal(1, content.Length);
    }

    [Fact]
    public void Writers_must_emit_marker_and_keepalive()
    {
        var buffer = new byte[] { 9, 9, 9, 9, 9 };
        Assert.Equal(4, UdpEncapsulation.WriteNonEspMarker(buffer));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 9 }, buffer);
        Assert.Equal(1, UdpEncapsulation.WriteKeepalive(buffer));
        Assert.Equal(UdpPayloadOf(Packets.Keepalive), buffer[..1]);
    }

    [Fact]
    public void Writers_must_report_buffer_length()
    {
        Assert.Equal(4, UdpEncapsulation.NonEspMarkerLength);
        Assert.Throws<ArgumentException>(() => UdpEncapsulation.WriteNonEspMarker(new byte[3]));
        Assert.Throws<ArgumentException>(() => UdpEncapsulation.WriteKeepalive(Span<byte>.Empty));
        Assert.Throws<ArgumentException>(() => UdpEncapsulation.WriteIke(new byte[31], new byte[28]));
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("one octet that is not 0xFF", "00", WireError.BadValue)]
    [InlineData("one octet 0xFE", "fe", WireError.BadValue)]
    [InlineData("two octets", "ff ff", WireError.BadValue)]
    [InlineData("three octets", "00 00 00", WireError.BadValue)]
    [InlineData("marker alone", "00 00 00 00", WireError.Truncated)]
    [InlineData("marker and 27 IKE octets", "00 00 00 00 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 2e 20 25 08 00 00 00 02 00 00 00", WireError.Truncated)]
    [InlineData("SPI 1 (reserved)", "00 00 00 01 00 00 00 01", WireError.ReservedSpi)]
    [InlineData("SPI 255 (reserved)", "00 00 00 ff 00 00 00 01 aa bb", WireError.ReservedSpi)]
    [InlineData("SPI without sequence number", "c0 ff ee 01", WireError.Truncated)]
    [InlineData("SPI with half a sequence number", "c0 ff ee 01 00 00", WireError.Truncated)]
    public void Classify_must_refuse_malformed_payloads(string description, string hex, WireError expected)
    {
        Assert.False(UdpEncapsulation.TryClassify(Hex.Decode(hex), out var kind, out var content, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, kind);
        Assert.True(content.IsEmpty);
    }

    [Fact]
    public void Classify_must_accept_the_smallest_esp_packet_and_spi_256()
    {
        Assert.True(UdpEncapsulation.TryClassify(Hex.Decode("00 00 01 00 00 00 00 01"), out var kind, out _, out _));
        Assert.Equal(EncapsulatedKind.Esp, kind);
    }

    [Property]
    public bool Ike_must_round_trip_through_the_marker(byte[] tail)
    {
        var ike = new byte[28 + tail.Length];
        tail.CopyTo(ike, 28);
        var buffer = new byte[4 + ike.Length];
        UdpEncapsulation.WriteIke(buffer, ike);
        return UdpEncapsulation.TryClassify(buffer, out var kind, out var content, out _)
            && kind == EncapsulatedKind.Ike
            && content.SequenceEqual(ike);
    }

    [Property]
    public bool Esp_with_any_unreserved_spi_must_classify_as_esp(uint spiSeed, uint sequence, byte[] rest)
    {
        var spi = Math.Max(spiSeed, 256u);
        var packet = new byte[8 + rest.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packet, spi);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), sequence);
        rest.CopyTo(packet, 8);
        return UdpEncapsulation.TryClassify(packet, out var kind, out var content, out _)
            && kind == EncapsulatedKind.Esp
            && content.Length == packet.Length;
    }

    [Property]
    public bool Classify_must_never_throw_on_arbitrary_bytes(byte[] bytes) =>
        UdpEncapsulation.TryClassify(bytes, out _, out _, out var error) == (error == WireError.None);
}
