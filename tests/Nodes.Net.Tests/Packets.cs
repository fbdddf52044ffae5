using Nodes.Wire.Ip;

namespace Nodes.Net.Tests;

internal static class Packets
{
    public static Ipv4Address A(string text) => Ipv4Address.Parse(text);

    public static byte[] Udp(string source, ushort sourcePort, string destination, ushort destinationPort, int payloadLength = 16, byte ttl = 64, bool df = false, ushort id = 0x1234)
    {
        var payload = new byte[payloadLength];
        for (var i = 0; i < payload.Length; i++) payload[i] = (byte)(i * 7);
        var bytes = new byte[Ipv4PacketWriter.UdpDatagramLength(payloadLength)];
        Ipv4PacketWriter.WriteUdp(bytes, new Ipv4Template(A(source), A(destination), id, ttl, df), sourcePort, destinationPort, payload);
        return bytes;
    }

    public static byte[] Echo(string source, string destination, ushort identifier, ushort sequence, int dataLength = 32, byte ttl = 128, bool df = false, bool reply = false)
    {
        var bytes = new byte[Ipv4PacketWriter.IcmpDatagramLength(dataLength)];
        Ipv4PacketWriter.WriteIcmpEcho(bytes, new Ipv4Template(A(source), A(destination), 7, ttl, df), reply, identifier, sequence, new byte[dataLength]);
        return bytes;
    }
}
