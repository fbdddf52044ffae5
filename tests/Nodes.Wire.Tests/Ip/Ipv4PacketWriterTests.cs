using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Tests.Ip;

public class Ipv4PacketWriterTests
{
    private static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    private static readonly Ipv4Address Vm = Ipv4Address.Parse("10.0.10.4");
    private static readonly Ipv4Address Gateway = Ipv4Address.Parse("203.0.113.10");
    private static readonly Ipv4Address NatPublic = Ipv4Address.Parse("198.51.100.7");

    [Fact]
    public void WriteIcmpEcho_must_produce_the_ping_byte_for_byte()
    {
        var buffer = new byte[100];
        var length = Ipv4PacketWriter.WriteIcmpEcho(
            buffer, new Ipv4Template(Client, Vm, 0x1c46, 128), reply: false, 1, 33, "abcdefghijklmnopqrstuvwabcdefghi"u8);
        Assert.Equal(60, length);
        Assert.Equal(Hex.Decode(Packets.Ping), buffer[..length]);
    }

    [Fact]
    public void WriteUdp_must_produce_the_keepalive_byte_for_byte()
    {
        var buffer = new byte[29];
        Span<byte> payload = stackalloc byte[1];
        UdpEncapsulation.WriteKeepalive(payload);
        var length = Ipv4PacketWriter.WriteUdp(buffer, new Ipv4Template(Client, Gateway, 0x2a01, 128), 4500, 4500, payload);
        Assert.Equal(Hex.Decode(Packets.Keepalive), buffer[..length]);
    }

    [Fact]
    public void WriteUdp_must_produce_esp_in_udp_with_zero_checksum()
    {
        var expected = Hex.Decode(Packets.EspInUdp);
        var buffer = new byte[expected.Length];
        var length = Ipv4PacketWriter.WriteUdp(
            buffer, new Ipv4Template(NatPublic, Gateway, 0x3333, 64, DontFragment: true), 4500, 4500, expected.AsSpan(28), UdpChecksumMode.Zero);
        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void WriteUdp_must_leave_a_payload_already_in_place()
    {
        var expected = Hex.Decode(Packets.IkeNatT);
        var buffer = new byte[expected.Length];
        var payloadLength = UdpEncapsulation.WriteIke(buffer.AsSpan(Ipv4PacketWriter.UdpPayloadOffset), expected.AsSpan(32));
        var length = Ipv4PacketWriter.WriteUdp(
            buffer, new Ipv4Template(Client, Gateway, 0x2a02, 128), 4500, 4500, buffer.AsSpan(Ipv4PacketWriter.UdpPayloadOffset, payloadLength));
        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void WriteIcmpError_must_produce_time_exceeded_and_fragmentation_needed()
    {
        var buffer = new byte[100];
        var length = Ipv4PacketWriter.WriteIcmpError(
            buffer, new Ipv4Template(Ipv4Address.Parse("192.168.29.1"), Client, 0x0100, 255),
            Icmpv4Header.TimeExceeded(TimeExceededCode.TtlExceededInTransit), Hex.Decode(Packets.PingTtl1));
        Assert.Equal(Hex.Decode(Packets.TimeExceeded), buffer[..length]);

        length = Ipv4PacketWriter.WriteIcmpError(
            buffer, new Ipv4Template(Gateway, NatPublic, 0x0200, 64), Icmpv4Header.FragmentationNeeded(1400), Hex.Decode(Packets.EspInUdp));
        Assert.Equal(Hex.Decode(Packets.FragmentationNeeded), buffer[..length]);
    }

    [Fact]
    public void Writers_must_refuse_what_does_not_fit()
    {
        var template = new Ipv4Template(Client, Gateway, 1, 64);
        Assert.Throws<ArgumentException>(() => Ipv4PacketWriter.WriteUdp(new byte[28], template, 1, 2, new byte[1]));
        Assert.Throws<ArgumentException>(() => Ipv4PacketWriter.WriteUdp(new byte[70000], template, 1, 2, new byte[65508]));
        Assert.Throws<ArgumentException>(() => Ipv4PacketWriter.WriteIcmpError(new byte[100], template, Icmpv4Header.EchoRequest(1, 1), Hex.Decode(Packets.Ping)));
        Assert.Throws<ArgumentException>(() => Ipv4PacketWriter.WriteIcmpError(new byte[100], template, Icmpv4Header.TimeExceeded(0), new byte[19]));
    }

    [Property]
    public bool WriteUdp_output_must_parse_back(uint source, uint destination, ushort id, byte ttl, ushort sourcePort, ushort destinationPort, byte[] payload, bool zero)
    {
        var template = new Ipv4Template(new Ipv4Address(source), new Ipv4Address(destination), id, ttl);
        var buffer = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        var length = Ipv4PacketWriter.WriteUdp(buffer, template, sourcePort, destinationPort, payload, zero ? UdpChecksumMode.Zero : UdpChecksumMode.Compute);
        return length == buffer.Length
            && Ipv4Packet.TryParse(buffer, out var packet, out _)
            && packet.Header.Protocol == IpProtocol.Udp
            && packet.Header.Identification == id
            && UdpHeader.TryParse(packet.Payload, packet.Header.Source, packet.Header.Destination, out var udp, out var parsedPayload, out _)
            && (udp.Checksum == 0) == zero
            && udp.SourcePort == sourcePort
            && parsedPayload.SequenceEqual(payload);
    }

    [Property]
    public bool WriteIcmpEcho_output_must_parse_back(uint source, uint destination, bool reply, ushort identifier, ushort sequence, byte[] data)
    {
        var template = new Ipv4Template(new Ipv4Address(source), new Ipv4Address(destination), 7, 128);
        var buffer = new byte[Ipv4PacketWriter.IcmpDatagramLength(data.Length)];
        Ipv4PacketWriter.WriteIcmpEcho(buffer, template, reply, identifier, sequence, data);
        return Ipv4Packet.TryParse(buffer, out var packet, out _)
            && Icmpv4Header.TryParse(packet.Payload, out var icmp, out var parsedData, out _)
            && icmp.Type == (reply ? Icmpv4Type.EchoReply : Icmpv4Type.EchoRequest)
            && icmp.Identifier == identifier
            && icmp.SequenceNumber == sequence
            && parsedData.SequenceEqual(data);
    }
}
