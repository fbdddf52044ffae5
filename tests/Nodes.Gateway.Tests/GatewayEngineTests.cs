using Nodes.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Gateway.Tests;

/// <summary>The two gateway engines of the seed lab, without actors, one arrow at a time.</summary>
public sealed class GatewayEngineTests
{
    private static IkeSaState? State(GatewayEngine g) => g.Tunnels.Single().CurrentSa?.State;

    [Fact]
    public void A_demand_dial_ping_must_wait_for_an_authenticated_tunnel_and_then_reach_the_vm()
    {
        using var lab = new SeedLab();
        lab.FromClient(SeedLab.Echo(SeedLab.Client, SeedLab.Vm, 1));
        Assert.Equal(1, lab.Rras.Tunnels.Single().HeldCount);
        Assert.Equal(IkeSaState.InitSent, State(lab.Rras));

        // One frame at a time: the ping never leaves before both sides have authenticated each other.
        var arrows = 0;
        while (lab.Step())
        {
            arrows++;
            if (lab.ToVnet.Count > 0)
            {
                Assert.Equal(IkeSaState.Established, State(lab.Rras));
                Assert.Equal(IkeSaState.Established, State(lab.Azure));
            }
            foreach (var d in lab.OnInternet)
                Assert.False(Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp, "a ping crossed the internet in clear");
        }
        // IKE_SA_INIT, its answer, IKE_AUTH, its answer, the ping in ESP.
        Assert.Equal(5, arrows);
        Assert.Equal(0, lab.Rras.Tunnels.Single().HeldCount);
        var delivered = Assert.Single(lab.ToVnet);
        Assert.True(Ipv4Header.TryParse(delivered, out var ip, out _));
        Assert.Equal(SeedLab.Client, ip.Source);
        Assert.Equal(SeedLab.Vm, ip.Destination);
        Assert.Equal("Connected", lab.Azure.ConnectionStatus(lab.Azure.Tunnels.Single()));

        // The VM's answer goes back through the tunnel to the client.
        lab.FromVnet(SeedLab.Echo(SeedLab.Vm, SeedLab.Client, 1, reply: true));
        lab.Run();
        var back = Assert.Single(lab.ToHomeLan);
        Assert.True(Ipv4Header.TryParse(back, out var r, out _));
        Assert.Equal(SeedLab.Vm, r.Source);
        Assert.Equal(SeedLab.Client, r.Destination);
        var child = Assert.Single(lab.Rras.ChildrenOf(lab.Rras.Tunnels.Single()));
        Assert.Equal(1, child.PacketsOut);
        Assert.Equal(1, child.PacketsIn);
        Assert.True(lab.Rras.Tunnels.Single().CurrentSa!.Encapsulated, "behind the NAT, ESP travels in UDP 4500");
    }

    [Fact]
    public void The_same_seed_must_put_the_same_bytes_on_the_wire()
    {
        static List<string> Wire()
        {
            using var lab = new SeedLab(seed: 7);
            lab.FromClient(SeedLab.Echo(SeedLab.Client, SeedLab.Vm, 1));
            lab.Run(TimeSpan.FromSeconds(1));
            return lab.OnInternet.Select(Convert.ToHexString).ToList();
        }
        var first = Wire();
        Assert.True(first.Count >= 5);
        Assert.Equal(first, Wire());
    }

    [Fact]
    public void A_replayed_esp_packet_must_be_dropped_by_the_window_and_reach_nobody()
    {
        using var lab = Up();
        var before = lab.ToVnet.Count;
        var esp = lab.OnInternet.Last(IsEspToAzure);
        lab.AtAzureFromInternet(esp.ToArray());
        Assert.Equal(before, lab.ToVnet.Count);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-replay"));
    }

    [Fact]
    public void Esp_for_an_unknown_spi_or_that_does_not_verify_must_be_dropped_with_its_reason()
    {
        using var lab = Up();
        var esp = lab.OnInternet.Last(IsEspToAzure).ToArray();
        esp[Ipv4PacketWriter.UdpPayloadOffset] ^= 0xff; // another SPI
        lab.AtAzureFromInternet(esp);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-unknown-spi"));
        var tampered = lab.OnInternet.Last(IsEspToAzure).ToArray();
        // A sequence number the window has not seen, which the ICV does not cover as sent: it must not verify.
        tampered[Ipv4PacketWriter.UdpPayloadOffset + 4] = 0x7f;
        lab.AtAzureFromInternet(tampered);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-integrity"));
        Assert.Single(lab.ToVnet);
    }

    [Fact]
    public void Cleartext_from_the_internet_toward_the_vnet_must_be_discarded_by_policy()
    {
        using var lab = Up();
        lab.AtAzureFromInternet(SeedLab.Echo(Ipv4Address.Parse("198.51.100.66"), SeedLab.Vm, 9));
        lab.AtAzureFromInternet(SeedLab.Echo(SeedLab.HomePublic, SeedLab.Vm, 10));
        Assert.Equal(2, lab.AzurePort.Dropped("spd-discard"));
        Assert.Single(lab.ToVnet);
    }

    [Fact]
    public void Cleartext_claiming_the_vm_address_must_not_reach_the_client()
    {
        using var lab = Up();
        // A forged "reply from the VM", in clear, through the NAT's open mapping for the ping's ICMP id is not
        // possible (the NAT maps UDP 4500 only); sent straight at RRAS's LAN side from the internet it is discarded.
        lab.Rras.Receive(SeedLab.Echo(SeedLab.Vm, SeedLab.Client, 1, reply: true), "lan", "", lab.Time);
        Assert.Equal(1, lab.RrasPort.Dropped("spd-discard"));
        Assert.Empty(lab.ToHomeLan);
    }

    [Fact]
    public void A_spoofed_ike_sa_init_from_the_peer_address_must_not_take_over_the_tunnel()
    {
        using var lab = Up();
        var tunnel = lab.Azure.Tunnels.Single();
        var sa = tunnel.CurrentSa;
        var spoof = lab.OnInternet.First(d => IsIkeToAzure(d)).ToArray(); // the real IKE_SA_INIT, replayed
        lab.AtAzureFromInternet(spoof);
        lab.Run(TimeSpan.FromSeconds(2));
        Assert.Same(sa, tunnel.CurrentSa);
        Assert.Equal(IkeSaState.Established, sa!.State);
        lab.FromVnet(SeedLab.Echo(SeedLab.Vm, SeedLab.Client, 2, reply: true));
        lab.Run();
        Assert.Single(lab.ToHomeLan);
    }

    [Fact]
    public void An_ike_sa_init_from_an_address_without_a_connection_must_be_dropped_and_keep_every_sa()
    {
        using var lab = Up();
        var spoof = lab.OnInternet.First(d => IsIkeToAzure(d)).ToArray();
        // The same request from another source address.
        var attacker = Ipv4Address.Parse("198.51.100.66");
        attacker.Write(spoof.AsSpan(12));
        RewriteChecksums(spoof);
        lab.AtAzureFromInternet(spoof);
        Assert.Equal(1, lab.AzurePort.Dropped("ike-no-connection"));
        Assert.Equal(IkeSaState.Established, State(lab.Azure));
    }

    [Fact]
    public void An_initiator_only_connection_must_drop_ike_sa_init_instead_of_answering()
    {
        using var lab = new SeedLab(edit: t => t.Replace("connection-mode: Default", "connection-mode: InitiatorOnly"));
        // Azure dials RRAS itself (InitiatorOnly); a request RRAS started anyway is refused without harm.
        lab.FromClient(SeedLab.Echo(SeedLab.Client, SeedLab.Vm, 1));
        lab.Step();
        Assert.True(lab.AzurePort.Dropped("ike-no-connection") >= 1);
    }

    [Fact]
    public void Fragments_addressed_to_the_gateway_must_be_reassembled_and_answered()
    {
        using var lab = new SeedLab();
        var big = SeedLab.Echo(SeedLab.Client, SeedLab.RrasLan, 3, data: 1432);
        Assert.True(Net.Fragmentation.Ipv4Fragmenter.TryFragment(big, 576, out var fragments));
        Assert.True(fragments.Count > 1);
        foreach (var f in fragments) lab.FromClient(f);
        var reply = Assert.Single(lab.ToHomeLan, d => Ipv4Header.TryParse(d, out var h, out _) && h.Destination == SeedLab.Client && !h.IsFragment);
        Assert.Equal(big.Length, reply.Length);
    }

    private static SeedLab Up()
    {
        var lab = new SeedLab();
        lab.FromClient(SeedLab.Echo(SeedLab.Client, SeedLab.Vm, 1));
        lab.Run(TimeSpan.FromMilliseconds(100));
        Assert.Single(lab.ToVnet);
        return lab;
    }

    private static bool IsEspToAzure(byte[] d) =>
        Ipv4Header.TryParse(d, out var h, out _) && h.Destination == SeedLab.AzurePublic && d.Length > 28 && d[22] == 0x11 && d[23] == 0x94
        && (d[28] | d[29] | d[30] | d[31]) != 0;

    private static bool IsIkeToAzure(byte[] d) =>
        Ipv4Header.TryParse(d, out var h, out _) && h.Destination == SeedLab.AzurePublic && d.Length > 28 && d[22] == 0x01 && d[23] == 0xf4;

    private static void RewriteChecksums(byte[] datagram)
    {
        datagram[10] = datagram[11] = 0;
        var sum = Wire.InternetChecksum.Compute(datagram.AsSpan(0, 20));
        datagram[10] = (byte)(sum >> 8);
        datagram[11] = (byte)sum;
        datagram[26] = datagram[27] = 0; // UDP checksum 0: not computed (RFC 768)
    }
}
