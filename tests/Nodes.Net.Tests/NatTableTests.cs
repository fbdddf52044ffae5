using System.Buffers.Binary;
using Nodes.Net.Nat;
using Nodes.Wire;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests;

public class NatTableTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(10);

    private static NatTable Nat(NatOptions? options = null) => new(options ?? new NatOptions { OutsideAddress = A("203.0.113.10"), Seed = 7 });

    private static ushort SourcePort(byte[] d) => BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(20));

    [Fact]
    public void NatTable_must_preserve_the_inside_port_and_report_the_mapping()
    {
        var nat = Nat();
        var packet = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        Assert.True(nat.TranslateOutbound(packet, T0).Translated);

        Assert.Equal(A("203.0.113.10"), Ipv4Address.Read(packet.AsSpan(12)));
        Assert.Equal(4500, SourcePort(packet));
        Assert.True(InternetChecksum.Verify(packet.AsSpan(0, 20)));
        Assert.True(UdpHeader.VerifyChecksum(packet.AsSpan(20), A("203.0.113.10"), A("52.172.171.0")));
        var created = Assert.Single(nat.TakeEvents());
        Assert.Equal("NAT udp 192.168.29.52:4500 → 203.0.113.10:4500", created.ToString());
    }

    [Fact]
    public void NatTable_must_draw_random_ports_from_the_range_repeatably_by_seed()
    {
        ushort[] Run(ulong seed)
        {
            var nat = Nat(new NatOptions { OutsideAddress = A("203.0.113.10"), PortAllocation = NatPortAllocation.Random, PortRangeStart = 61000, PortRangeEnd = 61999, Seed = seed });
            return Enumerable.Range(0, 20).Select(i =>
            {
                var p = Packets.Udp("192.168.29.52", (ushort)(4000 + i), "52.172.171.0", 4500);
                nat.TranslateOutbound(p, T0);
                return SourcePort(p);
            }).ToArray();
        }

        var first = Run(1);
        Assert.All(first, p => Assert.InRange(p, 61000, 61999));
        Assert.Equal(20, first.Distinct().Count());
        Assert.Equal(first, Run(1));
        Assert.NotEqual(first, Run(2));
    }

    [Fact]
    public void NatTable_must_fall_back_to_a_random_port_when_the_inside_port_is_taken()
    {
        var nat = Nat();
        var a = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        var b = Packets.Udp("192.168.29.53", 4500, "52.172.171.0", 4500);
        nat.TranslateOutbound(a, T0);
        nat.TranslateOutbound(b, T0);
        Assert.Equal(4500, SourcePort(a));
        Assert.NotEqual(4500, SourcePort(b));
    }

    [Theory]
    [InlineData(NatMappingBehavior.EndpointIndependent, true)]
    [InlineData(NatMappingBehavior.AddressDependent, false)]
    public void NatTable_must_reuse_or_not_a_mapping_toward_another_remote_by_mapping_behaviour(NatMappingBehavior mapping, bool same)
    {
        var nat = Nat(new NatOptions { OutsideAddress = A("203.0.113.10"), Mapping = mapping, Seed = 3 });
        var a = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        var b = Packets.Udp("192.168.29.52", 4500, "52.172.171.99", 4500);
        nat.TranslateOutbound(a, T0);
        nat.TranslateOutbound(b, T0);
        Assert.Equal(same, SourcePort(a) == SourcePort(b));
    }

    [Theory]
    [InlineData(NatFilteringBehavior.EndpointIndependent, "198.51.100.7", 9999, true)]
    [InlineData(NatFilteringBehavior.AddressDependent, "52.172.171.0", 9999, true)]
    [InlineData(NatFilteringBehavior.AddressDependent, "198.51.100.7", 4500, false)]
    [InlineData(NatFilteringBehavior.AddressAndPortDependent, "52.172.171.0", 4500, true)]
    [InlineData(NatFilteringBehavior.AddressAndPortDependent, "52.172.171.0", 9999, false)]
    public void NatTable_must_filter_inbound_by_filtering_behaviour(NatFilteringBehavior filtering, string remote, ushort remotePort, bool admitted)
    {
        var nat = Nat(new NatOptions { OutsideAddress = A("203.0.113.10"), Filtering = filtering });
        nat.TranslateOutbound(Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500), T0);
        var inbound = Packets.Udp(remote, remotePort, "203.0.113.10", 4500);
        var result = nat.TranslateInbound(inbound, T0);
        Assert.Equal(admitted, result.Translated);
        if (admitted)
        {
            Assert.Equal(A("192.168.29.52"), Ipv4Address.Read(inbound.AsSpan(16)));
            Assert.True(UdpHeader.VerifyChecksum(inbound.AsSpan(20), A(remote), A("192.168.29.52")));
        }
        else
        {
            Assert.Equal(DropReason.NatFiltered, result.Reason);
        }
    }

    [Fact]
    public void NatTable_must_expire_an_idle_mapping_and_then_drop_inbound_with_no_nat_mapping()
    {
        var nat = Nat();
        nat.TranslateOutbound(Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500), T0);
        nat.TakeEvents();

        // Inbound does not refresh by default: the mapping dies 120 s after the last outbound datagram.
        Assert.True(nat.TranslateInbound(Packets.Udp("52.172.171.0", 4500, "203.0.113.10", 4500), T0 + TimeSpan.FromSeconds(100)).Translated);
        Assert.True(nat.TranslateInbound(Packets.Udp("52.172.171.0", 4500, "203.0.113.10", 4500), T0 + TimeSpan.FromSeconds(119.9)).Translated);
        var late = nat.TranslateInbound(Packets.Udp("52.172.171.0", 4500, "203.0.113.10", 4500), T0 + TimeSpan.FromSeconds(120));
        Assert.Equal(DropReason.NoNatMapping, late.Reason);
        Assert.Equal(NatEventKind.Expired, Assert.Single(nat.TakeEvents()).Kind);
        Assert.Equal("no-nat-mapping", late.Reason.ToName());
    }

    [Fact]
    public void NatTable_must_keep_a_mapping_refreshed_by_outbound_keepalives_and_expire_icmp_after_60_s()
    {
        var nat = Nat();
        for (var s = 0; s <= 600; s += 20) nat.TranslateOutbound(Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500), TimeSpan.FromSeconds(s));
        nat.TranslateOutbound(Echo("192.168.29.55", "10.0.10.4", 1, 1), TimeSpan.FromSeconds(600));
        Assert.Equal(1, nat.ExpireIdle(TimeSpan.FromSeconds(660)));
        Assert.Equal(IpProtocol.Udp, Assert.Single(nat.Mappings).Protocol);
    }

    [Fact]
    public void NatTable_must_give_a_new_port_after_rebind_and_drop_traffic_to_the_old_one()
    {
        var nat = Nat();
        var before = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        nat.TranslateOutbound(before, T0);
        nat.Rebind(T0);
        Assert.Equal(DropReason.NoNatMapping, nat.TranslateInbound(Packets.Udp("52.172.171.0", 4500, "203.0.113.10", 4500), T0).Reason);

        var after = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        nat.TranslateOutbound(after, T0);
        Assert.NotEqual(SourcePort(before), SourcePort(after));
        var events = nat.TakeEvents();
        Assert.Equal([NatEventKind.Created, NatEventKind.Removed, NatEventKind.Rebound], events.Select(e => e.Kind));
        Assert.Equal(new Ipv4Endpoint(A("203.0.113.10"), 4500), events[2].PreviousOutside);

        nat.Rebind(T0, A("198.51.100.20"));
        var moved = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500);
        nat.TranslateOutbound(moved, T0);
        Assert.Equal(A("198.51.100.20"), Ipv4Address.Read(moved.AsSpan(12)));
    }

    [Fact]
    public void NatTable_must_translate_echo_by_identifier()
    {
        var nat = Nat();
        var request = Echo("192.168.29.55", "8.8.8.8", 0x0001, 5);
        nat.TranslateOutbound(request, T0);
        var reply = Echo("8.8.8.8", "203.0.113.10", 0x0001, 5, reply: true);
        Assert.True(nat.TranslateInbound(reply, T0).Translated);
        Assert.Equal(A("192.168.29.55"), Ipv4Address.Read(reply.AsSpan(16)));
        Assert.True(InternetChecksum.Verify(reply.AsSpan(20)));
    }

    [Fact]
    public void NatTable_must_translate_a_fragmentation_needed_back_to_the_inside_host()
    {
        var nat = Nat();
        var original = Packets.Udp("192.168.29.52", 4500, "52.172.171.0", 4500, payloadLength: 1400, df: true);
        nat.TranslateOutbound(original, T0);

        // A router past the NAT reports the translated datagram as too big.
        var error = new byte[Ipv4PacketWriter.IcmpDatagramLength(28)];
        Ipv4PacketWriter.WriteIcmpError(error, new Ipv4Template(A("198.51.100.1"), A("203.0.113.10"), 1, 64),
            Icmpv4Header.FragmentationNeeded(1400), original);
        Assert.True(nat.TranslateInbound(error, T0).Translated);

        Assert.Equal(A("192.168.29.52"), Ipv4Address.Read(error.AsSpan(16)));
        Assert.True(InternetChecksum.Verify(error.AsSpan(0, 20)));
        Assert.True(Icmpv4Header.TryParse(error.AsSpan(20), out var icmp, out var data, out _));
        Assert.Equal(1400, icmp.NextHopMtu);
        Assert.True(Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var quotedPayload, out _));
        Assert.Equal(A("192.168.29.52"), quoted.Source);
        Assert.True(InternetChecksum.Verify(data[..20]));
        Assert.Equal(4500, BinaryPrimitives.ReadUInt16BigEndian(quotedPayload));
    }

    [Fact]
    public void NatTable_must_drop_unsupported_and_malformed_input_with_reasons()
    {
        var nat = Nat();
        var esp = Packets.Udp("192.168.29.52", 1, "52.172.171.0", 2);
        esp[9] = 50;
        RouterTests.RefreshChecksum(esp);
        Assert.Equal(DropReason.NatUnsupported, nat.TranslateOutbound(esp, T0).Reason);
        Assert.Equal(DropReason.Malformed, nat.TranslateOutbound(new byte[] { 0x45, 0 }, T0).Reason);
        Assert.Equal(1, nat.Drops[DropReason.Malformed]);
    }
}
