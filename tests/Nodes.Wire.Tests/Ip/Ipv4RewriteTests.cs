using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Tests.Ip;

public class Ipv4RewriteTests
{
    private static readonly Ipv4Address NatPublic = Ipv4Address.Parse("198.51.100.7");

    [Fact]
    public void Source_rewrite_must_equal_building_the_keepalive_from_the_public_address()
    {
        var datagram = Hex.Decode(Packets.Keepalive);
        Assert.True(Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Source, NatPublic, 61000));

        var expected = new byte[datagram.Length];
        Ipv4PacketWriter.WriteUdp(expected, new Ipv4Template(NatPublic, Ipv4Address.Parse("203.0.113.10"), 0x2a01, 128), 61000, 4500, [0xFF]);
        Assert.Equal(expected, datagram);
    }

    [Fact]
    public void Destination_rewrite_must_translate_an_echo_reply_back()
    {
        var reply = new byte[60];
        Ipv4PacketWriter.WriteIcmpEcho(reply, new Ipv4Template(Ipv4Address.Parse("10.0.10.4"), NatPublic, 9, 64), true, 0x8001, 33, new byte[32]);
        Assert.True(Ipv4Rewrite.TryRewriteEndpoint(reply, RewriteSide.Destination, Ipv4Address.Parse("192.168.29.55"), 1));

        var expected = new byte[60];
        Ipv4PacketWriter.WriteIcmpEcho(expected, new Ipv4Template(Ipv4Address.Parse("10.0.10.4"), Ipv4Address.Parse("192.168.29.55"), 9, 64), true, 1, 33, new byte[32]);
        Assert.Equal(expected, reply);
    }

    [Fact]
    public void Zero_udp_checksum_must_stay_zero()
    {
        var datagram = Hex.Decode(Packets.EspInUdp);
        Assert.True(Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Destination, Ipv4Address.Parse("10.1.1.1"), 4501));
        Assert.True(Ipv4Packet.TryParse(datagram, out var packet, out _));
        Assert.True(UdpHeader.TryParse(packet.Payload, packet.Header.Source, packet.Header.Destination, out var udp, out _, out _));
        Assert.Equal(0, udp.Checksum);
        Assert.Equal(4501, udp.DestinationPort);
    }

    [Theory]
    [InlineData("time exceeded is not an echo", Packets.TimeExceeded)]
    [InlineData("bad IPv4 checksum", "45 00 00 1d 2a 01 00 00 80 11 f6 e5 c0 a8 1d 37 cb 00 71 0a 11 94 11 94 00 09 c3 c8 ff")]
    [InlineData("UDP header cut short", "45 00 00 1b 2a 01 00 00 80 11 f6 e6 c0 a8 1d 37 cb 00 71 0a 11 94 11 94 00 09 c3")]
    [InlineData("non-first fragment", "45 00 00 1d 2a 01 00 01 80 11 f6 e3 c0 a8 1d 37 cb 00 71 0a 11 94 11 94 00 09 c3 c8 ff")]
    [InlineData("ESP is not rewritten", "45 00 00 1c 00 01 00 00 40 32 00 00 c0 a8 1d 37 cb 00 71 0a c0 ff ee 01 00 00 00 01")]
    public void TryRewriteEndpoint_must_refuse_and_leave_bytes_untouched(string description, string hex)
    {
        var datagram = Hex.Decode(hex);
        if (description.StartsWith("ESP", StringComparison.Ordinal))
        {
            datagram[10] = 0;
            datagram[11] = 0;
            var c = InternetChecksum.Compute(datagram.AsSpan(0, 20));
            datagram[10] = (byte)(c >> 8);
            datagram[11] = (byte)c;
        }

        var before = datagram.ToArray();
        Assert.False(Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Source, NatPublic, 1), description);
        Assert.Equal(before, datagram);
    }

    [Property]
    public bool Rewritten_udp_must_equal_freshly_built_udp(uint source, uint destination, uint newAddress, ushort port, ushort newPort, byte[] payload, bool sourceSide)
    {
        var template = new Ipv4Template(new Ipv4Address(source), new Ipv4Address(destination), 5, 64);
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, template, port, port, payload);
        var side = sourceSide ? RewriteSide.Source : RewriteSide.Destination;
        if (!Ipv4Rewrite.TryRewriteEndpoint(datagram, side, new Ipv4Address(newAddress), newPort)) return false;

        var rebuilt = new byte[datagram.Length];
        var translated = sourceSide
            ? template with { Source = new Ipv4Address(newAddress) }
            : template with { Destination = new Ipv4Address(newAddress) };
        Ipv4PacketWriter.WriteUdp(rebuilt, translated, sourceSide ? newPort : port, sourceSide ? port : newPort, payload);
        return rebuilt.AsSpan().SequenceEqual(datagram);
    }

    [Property]
    public bool Rewritten_echo_must_still_verify(uint newAddress, ushort identifier, byte[] data)
    {
        var datagram = new byte[Ipv4PacketWriter.IcmpDatagramLength(data.Length)];
        Ipv4PacketWriter.WriteIcmpEcho(datagram, new Ipv4Template(Ipv4Address.Parse("192.168.29.55"), Ipv4Address.Parse("10.0.10.4"), 1, 128), false, 1, 2, data);
        return Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Source, new Ipv4Address(newAddress), identifier)
            && Ipv4Packet.TryParse(datagram, out var packet, out _)
            && packet.Header.Source.Value == newAddress
            && Icmpv4Header.TryParse(packet.Payload, out var icmp, out _, out _)
            && icmp.Identifier == identifier;
    }
}
