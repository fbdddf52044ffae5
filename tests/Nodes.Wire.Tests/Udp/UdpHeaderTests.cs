using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Tests.Udp;

public class UdpHeaderTests
{
    private static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    private static readonly Ipv4Address Gateway = Ipv4Address.Parse("203.0.113.10");

    private static byte[] UdpOf(string packetHex) => Hex.Decode(packetHex)[20..];

    [Fact]
    public void Header_must_deconstruct_the_ike_datagram()
    {
        Assert.True(UdpHeader.TryParse(UdpOf(Packets.IkeNatT), Client, Gateway, out var header, out var payload, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(UdpPorts.IkeNatTraversal, header.SourcePort);
        Assert.Equal(UdpPorts.IkeNatTraversal, header.DestinationPort);
        Assert.Equal(40, header.Length);
        Assert.Equal(0xb301, header.Checksum);
        Assert.Equal(32, payload.Length);
        Assert.Equal(32, header.PayloadLength);
    }

    [Fact]
    public void Header_must_construct_the_keepalive()
    {
        var datagram = new byte[9];
        UdpHeader.ForPayload(4500, 4500, 1).Encode(datagram);
        datagram[8] = 0xFF;
        UdpHeader.WriteChecksum(datagram, Client, Gateway);
        Assert.Equal(UdpOf(Packets.Keepalive), datagram);
    }

    [Fact]
    public void Header_must_check_length()
    {
        var datagram = UdpOf(Packets.IkeNatT);
        Assert.False(UdpHeader.TryParse(datagram.AsSpan(0, 7), out _, out _, out var error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(UdpHeader.TryParse(datagram.AsSpan(0, 39), out _, out _, out error));
        Assert.Equal(WireError.BadLength, error);
    }

    [Fact]
    public void Header_must_parse_esp_in_udp_with_zero_checksum()
    {
        var nat = Ipv4Address.Parse("198.51.100.7");
        Assert.True(UdpHeader.TryParse(UdpOf(Packets.EspInUdp), nat, Gateway, out var header, out var payload, out _));
        Assert.Equal(new UdpHeader(4500, 4500, 24, UdpHeader.NoChecksum), header);
        Assert.Equal(16, payload.Length);
    }

    [Fact]
    public void Header_must_emit_the_ike_datagram()
    {
        var expected = UdpOf(Packets.IkeNatT);
        var datagram = new byte[expected.Length];
        expected.AsSpan(8).CopyTo(datagram.AsSpan(8));
        Assert.Equal(8, new UdpHeader(4500, 4500, 40, 0).Encode(datagram));
        UdpHeader.WriteChecksum(datagram, Client, Gateway);
        Assert.Equal(expected, datagram);
    }

    [Fact]
    public void Header_must_report_buffer_length()
    {
        Assert.Equal(8, UdpHeader.ForPayload(500, 500, 0).EncodedLength);
        Assert.Equal(1008, UdpHeader.ForPayload(500, 500, 1000).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpHeader.ForPayload(500, 500, 65528));
        Assert.Throws<ArgumentException>(() => new UdpHeader(500, 500, 8, 0).Encode(new byte[7]));
    }

    [Fact]
    public void TryParse_must_ignore_octets_beyond_the_length_field()
    {
        var datagram = UdpOf(Packets.Keepalive).Concat(new byte[] { 0, 0, 0 }).ToArray();
        Assert.True(UdpHeader.TryParse(datagram, Client, Gateway, out _, out var payload, out _));
        Assert.Equal(new byte[] { 0xFF }, payload.ToArray());
    }

    [Fact]
    public void TryParse_must_refuse_a_wrong_pseudo_header()
    {
        // The same datagram claimed to come from another address fails: the pseudo-header is covered.
        Assert.False(UdpHeader.TryParse(UdpOf(Packets.Keepalive), Ipv4Address.Parse("192.168.29.56"), Gateway, out _, out _, out var error));
        Assert.Equal(WireError.BadChecksum, error);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("seven octets", "11 94 11 94 00 09 c3", WireError.Truncated)]
    [InlineData("length 7, below the header", "11 94 11 94 00 07 c3 c8 ff", WireError.BadLength)]
    [InlineData("length 0", "11 94 11 94 00 00 c3 c8 ff", WireError.BadLength)]
    [InlineData("length 10 beyond 9 octets", "11 94 11 94 00 0a c3 c8 ff", WireError.BadLength)]
    [InlineData("checksum off by one", "11 94 11 94 00 09 c3 c9 ff", WireError.BadChecksum)]
    [InlineData("payload altered", "11 94 11 94 00 09 c3 c8 fe", WireError.BadChecksum)]
    public void TryParse_must_refuse_malformed_datagrams(string description, string hex, WireError expected)
    {
        Assert.False(UdpHeader.TryParse(Hex.Decode(hex), Client, Gateway, out var header, out var payload, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, header);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void ComputeChecksum_must_send_a_computed_zero_as_all_ones()
    {
        // Pick the payload word so that the one's complement sum is 0xFFFF, i.e. the checksum computes to 0.
        var datagram = new byte[10];
        UdpHeader.ForPayload(4500, 4500, 2).Encode(datagram);
        var sum = new InternetChecksum();
        sum.AddUInt32(Client.Value);
        sum.AddUInt32(Gateway.Value);
        sum.AddUInt16(17);
        sum.AddUInt16(10);
        sum.Add(datagram.AsSpan(0, 8));
        var filler = (ushort)~sum.Sum;
        datagram[8] = (byte)(filler >> 8);
        datagram[9] = (byte)filler;
        Assert.Equal(0xFFFF, UdpHeader.ComputeChecksum(datagram, Client, Gateway));
        UdpHeader.WriteChecksum(datagram, Client, Gateway);
        Assert.True(UdpHeader.TryParse(datagram, Client, Gateway, out var header, out _, out _));
        Assert.Equal(0xFFFF, header.Checksum);
    }

    [Property]
    public bool Checksummed_datagrams_must_round_trip(ushort sourcePort, ushort destinationPort, byte[] payload, uint source, uint destination)
    {
        var src = new Ipv4Address(source);
        var dst = new Ipv4Address(destination);
        var header = UdpHeader.ForPayload(sourcePort, destinationPort, payload.Length);
        var datagram = new byte[header.Length];
        header.Encode(datagram);
        payload.CopyTo(datagram, 8);
        UdpHeader.WriteChecksum(datagram, src, dst);
        return UdpHeader.TryParse(datagram, src, dst, out var parsed, out var parsedPayload, out _)
            && parsed with { Checksum = 0 } == header
            && parsed.Checksum != 0
            && parsedPayload.SequenceEqual(payload);
    }

    [Property]
    public bool TryParse_must_never_throw_on_arbitrary_bytes(byte[] bytes, uint source, uint destination) =>
        UdpHeader.TryParse(bytes, new Ipv4Address(source), new Ipv4Address(destination), out _, out _, out var error) == (error == WireError.None);
}
