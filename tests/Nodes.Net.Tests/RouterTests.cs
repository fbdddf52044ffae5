using System.Buffers.Binary;
using Nodes.Net.Forwarding;
using Nodes.Net.Fragmentation;
using Nodes.Net.Routing;
using Nodes.TestKit;
using Nodes.Wire;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests;

public class RouterTests
{
    // The home router: LAN 192.168.29.1/24, WAN 203.0.113.10/24 toward the ISP with a 1400-octet MTU.
    private static Router Home(RouterOptions? options = null)
    {
        var router = new Router(
            [IpInterface.Parse("lan", "192.168.29.1/24"), IpInterface.Parse("wan", "203.0.113.10/24", 1400)],
            options: options);
        router.Routes.AddDefault(A("203.0.113.1"), "wan");
        return router;
    }

    [Fact]
    public void Router_must_forward_with_ttl_decremented_and_checksum_patched()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, ttl: 128);
        var result = Home().Forward(sent, "lan");

        Assert.Equal(ForwardDisposition.Forwarded, result.Disposition);
        var out0 = Assert.Single(result.Transmissions);
        Assert.Equal("wan", out0.Interface);
        Assert.Equal(A("203.0.113.1"), out0.NextHop);
        Assert.Equal(127, out0.Datagram[8]);
        Assert.True(InternetChecksum.Verify(out0.Datagram.AsSpan(0, 20)));
        Assert.Equal(sent.AsSpan(20).ToArray(), out0.Datagram.AsSpan(20).ToArray());
    }

    [Fact]
    public void Forwarding_in_place_must_send_the_given_array_with_the_same_bytes_as_a_copying_forward()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, ttl: 128);
        var copied = Home().Forward(sent, "lan");
        var given = sent.ToArray();
        var inPlace = Home().ForwardInPlace(given, "lan");

        var out0 = Assert.Single(inPlace.Transmissions);
        Assert.Same(given, out0.Datagram);
        Assert.Equal(Hex.Encode(Assert.Single(copied.Transmissions).Datagram), Hex.Encode(out0.Datagram));
        Assert.Equal(128, sent[8]); // the copying forward left its input alone
    }

    [Fact]
    public void Forwarding_in_place_a_datagram_shorter_than_its_array_must_send_only_the_datagram()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, ttl: 128);
        var padded = sent.Concat(new byte[6]).ToArray(); // trailing bytes beyond the IPv4 total length (link padding)
        var result = Home().ForwardInPlace(padded, "lan");

        var out0 = Assert.Single(result.Transmissions);
        Assert.Equal(sent.Length, out0.Datagram.Length);
        Assert.Equal(127, out0.Datagram[8]);
    }

    [Fact]
    public void Router_must_answer_ttl_one_with_time_exceeded_quoting_the_header_and_8_octets()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, ttl: 1);
        var result = Home().Forward(sent, "lan");

        Assert.Equal(DropReason.TtlExceeded, result.Reason);
        var error = result.IcmpError!.Value.Datagram;
        Assert.Equal("lan", result.IcmpError!.Value.Interface);

        // 20 IP + 8 ICMP + 20 quoted header + 8 quoted data = 56.
        Assert.Equal(
            "450000380000000040010000c0a81d01c0a81d34" + "0b000000" + "00000000" + Hex.Encode(sent.AsSpan(0, 28)),
            Hex.Encode(ZeroChecksums(error)));
        Assert.True(InternetChecksum.Verify(error.AsSpan(0, 20)));
        Assert.True(InternetChecksum.Verify(error.AsSpan(20)));
    }

    [Fact]
    public void Router_must_answer_an_unroutable_destination_with_net_unreachable()
    {
        var router = new Router([IpInterface.Parse("lan", "192.168.29.1/24")]);
        var result = router.Forward(Packets.Udp("192.168.29.55", 1000, "10.0.10.4", 53), "lan");
        Assert.Equal(DropReason.NoRoute, result.Reason);
        var error = result.IcmpError!.Value.Datagram;
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, error[20]);
        Assert.Equal((byte)DestinationUnreachableCode.NetUnreachable, error[21]);
        Assert.Equal(1, router.Counters.Drops[DropReason.NoRoute]);
    }

    [Fact]
    public void Router_must_answer_a_too_big_df_datagram_with_fragmentation_needed_and_the_next_hop_mtu()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, payloadLength: 1472, df: true);
        var result = Home().Forward(sent, "lan");

        Assert.Equal(DropReason.FragmentationNeeded, result.Reason);
        var error = result.IcmpError!.Value.Datagram;
        Assert.True(Icmpv4Header.TryParse(error.AsSpan(20), out var icmp, out var data, out _));
        Assert.Equal(Icmpv4Type.DestinationUnreachable, icmp.Type);
        Assert.Equal((byte)DestinationUnreachableCode.FragmentationNeeded, icmp.Code);
        Assert.Equal(1400, icmp.NextHopMtu);
        Assert.Equal("0000" + "0578", Hex.Encode(error.AsSpan(24, 4)));
        Assert.Equal(sent.AsSpan(0, 28).ToArray(), data.ToArray());
    }

    [Fact]
    public void Router_must_drop_silently_in_an_mtu_black_hole()
    {
        var router = Home(new RouterOptions { SuppressFragmentationNeeded = true });
        var result = router.Forward(Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, payloadLength: 1472, df: true), "lan");
        Assert.Equal(DropReason.FragmentationNeeded, result.Reason);
        Assert.Empty(result.Transmissions);
        Assert.Equal(1, router.Counters.IcmpErrorsSuppressed);
    }

    [Fact]
    public void Router_must_fragment_without_df_into_pieces_that_reassemble()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, payloadLength: 3000);
        var result = Home().Forward(sent, "lan");

        Assert.Equal(3, result.Transmissions.Count);
        var reassembler = new Ipv4Reassembler();
        ReassemblyResult last = default;
        foreach (var t in result.Transmissions)
        {
            Assert.True(t.Datagram.Length <= 1400);
            last = reassembler.Accept(t.Datagram, TimeSpan.Zero);
        }

        Assert.Equal(ReassemblyStatus.Complete, last.Status);
        var expected = (byte[])sent.Clone();
        Ipv4Header.TryDecrementTimeToLive(expected);
        Assert.Equal(expected, last.Datagram);
    }

    // Found by the gateway-engine fuzz target: the last fragment of a datagram that could never be reassembled (its data
    // ends past octet 65,535) is forwarded onto a smaller MTU; its pieces' offsets would not fit 13 bits.
    [Fact]
    public void Router_must_drop_a_fragment_that_cannot_be_fragmented_again_instead_of_failing()
    {
        var sent = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, payloadLength: 1480);
        var header = Ipv4Header.TryParse(sent, out var h, out _) ? h : throw new InvalidOperationException();
        (header with { FragmentOffset = 8190 }).Encode(sent);
        var router = Home();

        var result = router.Forward(sent, "lan");

        Assert.Equal(ForwardDisposition.Dropped, result.Disposition);
        Assert.Equal(DropReason.Malformed, result.Reason);
        Assert.Empty(result.Transmissions);
        Assert.False(Ipv4Fragmenter.TryFragment(sent, 1400, out var pieces));
        Assert.Empty(pieces);
    }

    [Fact]
    public void Router_must_not_send_errors_about_icmp_errors_non_first_fragments_or_broadcasts()
    {
        var router = Home();
        var icmpError = new byte[56];
        Ipv4PacketWriter.WriteIcmpError(icmpError, new Ipv4Template(A("192.168.29.55"), A("52.172.171.0"), 1, 1),
            Icmpv4Header.DestinationUnreachable(DestinationUnreachableCode.PortUnreachable), Packets.Udp("52.172.171.0", 1, "192.168.29.55", 2));
        Assert.Empty(router.Forward(icmpError, "lan").Transmissions);

        var fragment = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, ttl: 1);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), 0x0010);
        RefreshChecksum(fragment);
        Assert.Empty(router.Forward(fragment, "lan").Transmissions);

        var echoToMulticast = Echo("192.168.29.55", "224.0.0.5", 1, 1, ttl: 1);
        var multicast = router.Forward(echoToMulticast, "lan");
        Assert.Equal(DropReason.TtlExceeded, multicast.Reason);
        Assert.Empty(multicast.Transmissions);
        Assert.Equal(3, router.Counters.IcmpErrorsSuppressed);
    }

    [Fact]
    public void Router_must_deliver_datagrams_for_its_own_addresses_locally()
    {
        var result = Home().Forward(Echo("192.168.29.55", "192.168.29.1", 1, 1), "lan");
        Assert.Equal(ForwardDisposition.Local, result.Disposition);
        Assert.NotNull(result.LocalDatagram);
    }

    [Theory]
    [InlineData("")]
    [InlineData("45000014")]
    [InlineData("4500001400000000400100000a0000010a000002")] // bad header checksum
    public void Router_must_drop_malformed_bytes_with_a_reason(string hex)
    {
        var router = Home();
        var result = router.Forward(Hex.Decode(hex), "lan");
        Assert.Equal(DropReason.Malformed, result.Reason);
        Assert.Equal(1, router.Counters.Drops[DropReason.Malformed]);
    }

    [Fact]
    public void Router_must_clamp_the_mss_of_a_forwarded_syn_and_keep_the_tcp_checksum_valid()
    {
        var syn = TcpSyn(mss: 1460, leadingNop: true);
        var router = Home(new RouterOptions { ClampMss = 1350 });
        var forwarded = Assert.Single(router.Forward(syn, "lan").Transmissions).Datagram;

        Assert.Equal(1350, BinaryPrimitives.ReadUInt16BigEndian(forwarded.AsSpan(20 + 20 + 3)));
        Assert.True(TcpChecksumValid(forwarded));
        Assert.Equal(1, router.Counters.MssClamped);

        var small = TcpSyn(mss: 1200, leadingNop: false);
        var untouched = Assert.Single(router.Forward(small, "lan").Transmissions).Datagram;
        Assert.Equal(1200, BinaryPrimitives.ReadUInt16BigEndian(untouched.AsSpan(20 + 20 + 2)));
        Assert.Equal(1, router.Counters.MssClamped);
    }

    internal static byte[] TcpSyn(ushort mss, bool leadingNop)
    {
        // TCP header with 4 (or 8) octets of options: [NOP NOP NOP] MSS(2,4,value) padded.
        var options = leadingNop ? new byte[] { 1, 2, 4, (byte)(mss >> 8), (byte)mss, 1, 1, 1 } : [2, 4, (byte)(mss >> 8), (byte)mss];
        var tcp = new byte[20 + options.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 50000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), 443);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), 0x01020304);
        tcp[12] = (byte)((tcp.Length / 4) << 4);
        tcp[13] = 0x02;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 64240);
        options.CopyTo(tcp, 20);
        var datagram = new byte[20 + tcp.Length];
        new Ipv4Header
        {
            TotalLength = (ushort)datagram.Length, Identification = 9, DontFragment = true, TimeToLive = 128,
            Protocol = IpProtocol.Tcp, Source = A("192.168.29.55"), Destination = A("52.172.171.9"),
        }.Encode(datagram);
        tcp.CopyTo(datagram, 20);
        var sum = new InternetChecksum();
        sum.AddUInt32(A("192.168.29.55").Value);
        sum.AddUInt32(A("52.172.171.9").Value);
        sum.AddUInt16(6);
        sum.AddUInt16((ushort)tcp.Length);
        sum.Add(tcp);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(36), sum.Finish());
        return datagram;
    }

    internal static bool TcpChecksumValid(byte[] datagram)
    {
        var sum = new InternetChecksum();
        sum.Add(datagram.AsSpan(12, 8));
        sum.AddUInt16(6);
        sum.AddUInt16((ushort)(datagram.Length - 20));
        sum.Add(datagram.AsSpan(20));
        return sum.Sum == 0xFFFF;
    }

    internal static void RefreshChecksum(byte[] datagram)
    {
        var headerLength = (datagram[0] & 0xF) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(10), InternetChecksum.Compute(datagram.AsSpan(0, headerLength)));
    }

    private static byte[] ZeroChecksums(byte[] error)
    {
        var copy = (byte[])error.Clone();
        copy[10] = copy[11] = 0;
        copy[22] = copy[23] = 0;
        return copy;
    }
}
