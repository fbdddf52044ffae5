using Nodes.TestKit;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Tests;

public class AllocationTests
{
    [Fact]
    public void Parsing_ipv4_udp_icmp_and_nat_t_must_not_allocate()
    {
        var ike = Hex.Decode(Packets.IkeNatT);
        var ping = Hex.Decode(Packets.Ping);
        var checks = 0;

        // Warm up so that JIT and type initialisation are not counted.
        checks += ParseAll(ike, ping);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            checks += ParseAll(ike, ping);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(10_001 * 4, checks);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Writing_a_datagram_must_not_allocate()
    {
        var buffer = new byte[64];
        var template = new Ipv4Template(Ipv4Address.FromOctets(192, 168, 29, 55), Ipv4Address.FromOctets(10, 0, 10, 4), 1, 128);
        Ipv4PacketWriter.WriteIcmpEcho(buffer, template, false, 1, 1, buffer.AsSpan(28, 32));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Ipv4PacketWriter.WriteUdp(buffer, template, 4500, 4500, buffer.AsSpan(28, 4));
            Ipv4PacketWriter.WriteIcmpEcho(buffer, template, false, 1, (ushort)i, buffer.AsSpan(28, 32));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static int ParseAll(byte[] ike, byte[] ping)
    {
        var n = 0;
        if (Ipv4Packet.TryParse(ike, out var packet, out _)) n++;
        if (UdpHeader.TryParse(packet.Payload, packet.Header.Source, packet.Header.Destination, out _, out var payload, out _)) n++;
        if (UdpEncapsulation.TryClassify(payload, out _, out _, out _)) n++;
        if (Ipv4Header.TryParse(ping, out _, out _, out var icmp, out _) && Icmpv4Header.TryParse(icmp, out _, out _, out _)) n++;
        return n;
    }
}
