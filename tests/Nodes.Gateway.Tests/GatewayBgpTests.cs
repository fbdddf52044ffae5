using Nodes.Net.Bgp;
using Nodes.TestKit;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Gateway.Tests;

/// <summary>The BGP lab's two gateway engines: BGP over the tunnel, its routes as the tunnels' networks, and who can reach the sessions.</summary>
public sealed class GatewayBgpTests
{
    private static readonly Ipv4Address AzureBgp = Ipv4Address.Parse("10.0.255.30");
    private static readonly Ipv4Prefix Vnet = Ipv4Prefix.Parse("10.0.0.0/16");
    private static readonly Ipv4Prefix Home = Ipv4Prefix.Parse("192.168.29.0/24");

    private static GatewayLab Up()
    {
        var lab = new GatewayLab(file: "azure-s2s-bgp.yaml");
        lab.Run(TimeSpan.FromSeconds(3));
        Assert.Equal(BgpState.Established, lab.Rras.Bgp!.Peers(lab.Time.Elapsed).Single().State);
        Assert.Equal(BgpState.Established, lab.Azure.Bgp!.Peers(lab.Time.Elapsed).Single().State);
        return lab;
    }

    private static byte[] Syn(Ipv4Address from, Ipv4Address to, ushort port = 179)
    {
        var header = new TcpHeader(40001, port, 1000, 0, TcpFlags.Syn, 65535);
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(header, 0)];
        Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(from, to, 7, 64, DontFragment: true), header, []);
        return datagram;
    }

    [Fact]
    public void The_session_comes_up_through_the_tunnel_and_each_side_routes_what_it_learned_into_it()
    {
        using var lab = Up();
        Assert.Equal([Vnet], lab.Rras.Bgp!.BestRoutes.Keys);
        Assert.Equal([Home], lab.Azure.Bgp!.BestRoutes.Keys);
        Assert.Equal("65515", lab.Rras.Bgp.BestRoutes[Vnet].Attributes.AsPathText);
        // Nothing of BGP crossed the internet in clear: every datagram there is IKE or ESP in UDP.
        Assert.All(lab.OnInternet, d => Assert.True(Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Udp));

        // The VNet's prefix came only from BGP (RRAS routes nothing but 10.0.255.30/32 into the tunnel): a ping to
        // the VM is protected into the tunnel and reaches it, and the answer comes back the same way.
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run();
        Assert.Contains(lab.ToVnet, d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp && h.Destination == GatewayLab.Vm);
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 1, reply: true));
        lab.Run();
        Assert.Contains(lab.ToHomeLan, d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp && h.Source == GatewayLab.Vm);
    }

    [Fact]
    public void A_withdrawn_prefix_stops_being_sent_into_the_tunnel_and_never_leaves_in_clear()
    {
        using var lab = Up();
        lab.Rras.Bgp!.SetNetworks([], lab.Time.Elapsed);
        lab.Run(TimeSpan.FromMilliseconds(500));
        Assert.Empty(lab.Azure.Bgp!.BestRoutes);
        var internetBefore = lab.OnInternet.Count;
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 2, reply: true));
        lab.Run();
        Assert.Equal(1, lab.AzurePort.Dropped("no-route"));
        Assert.DoesNotContain(lab.OnInternet.Skip(internetBefore), d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp);
        Assert.Empty(lab.ToHomeLan);
        lab.Rras.Bgp.SetNetworks([Home], lab.Time.Elapsed);
        lab.Run(TimeSpan.FromMilliseconds(500));
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 3, reply: true));
        lab.Run();
        Assert.Single(lab.ToHomeLan);
    }

    [Fact]
    public void Tcp_to_the_bgp_address_that_did_not_come_out_of_the_tunnel_reaches_no_session_and_draws_no_answer()
    {
        using var lab = Up();
        var received = lab.Azure.Bgp!.Peers(lab.Time.Elapsed).Single().MessagesReceived;
        var vnetBefore = lab.ToVnet.Count;
        var internetBefore = lab.OnInternet.Count;
        // In clear from the internet, claiming to be RRAS's BGP address: the policy discards it (it must come out of the SA).
        lab.AtAzureFromInternet(Syn(GatewayLab.RrasLan, AzureBgp));
        // In clear from the VNet side, with the peer's address forged: discarded too.
        lab.FromVnet(Syn(GatewayLab.RrasLan, AzureBgp));
        // From a VNet host that is no BGP neighbour: dropped without a RST.
        lab.FromVnet(Syn(GatewayLab.Vm, AzureBgp));
        lab.Run();
        Assert.Equal(2, lab.AzurePort.Dropped("spd-discard"));
        Assert.Equal(1, lab.AzurePort.Dropped("bgp-no-peer"));
        Assert.Equal(vnetBefore, lab.ToVnet.Count);
        Assert.DoesNotContain(lab.OnInternet.Skip(internetBefore), d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Tcp);
        var status = lab.Azure.Bgp.Peers(lab.Time.Elapsed).Single();
        Assert.Equal(BgpState.Established, status.State);
        Assert.Equal(received, status.MessagesReceived);
    }
}
