using Nodes.Net.Bgp;
using Nodes.TestKit;
using Nodes.Wire.Ip;

namespace Nodes.Gateway.Tests;

/// <summary>The active-active lab's two engines: an instance's planned maintenance drains before the instance goes away.</summary>
public sealed class ActiveActiveEngineTests
{
    private static GatewayLab Up()
    {
        var lab = new GatewayLab(file: "azure-active-active-bgp.yaml");
        lab.Run(TimeSpan.FromSeconds(5));
        Assert.All(lab.Rras.Bgp!.Peers(lab.Time.Elapsed), p => Assert.Equal(BgpState.Established, p.State));
        Assert.All(lab.Azure.Bgp!.Peers(lab.Time.Elapsed), p => Assert.Equal(BgpState.Established, p.State));
        return lab;
    }

    /// <summary>ESP in UDP 4500 (a non-zero SPI where IKE has its zero marker), with its outer addresses.</summary>
    private static bool IsEsp(byte[] d, out Ipv4Header outer)
    {
        if (!Ipv4Header.TryParse(d, out outer, out _) || outer.Protocol != IpProtocol.Udp) return false;
        var at = outer.HeaderLength;
        return d.Length >= at + 12 && (d[at + 2] << 8 | d[at + 3]) == 4500 && (d[at + 8] | d[at + 9] | d[at + 10] | d[at + 11]) != 0;
    }

    private static int Pings(List<byte[]> sink, Ipv4Address to) =>
        sink.Count(d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp && h.Destination == to);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_packet_on_its_way_when_maintenance_starts_still_arrives_if_the_instance_drains_first(bool drain)
    {
        using var lab = Up();
        byte[]? held = null;
        lab.Intercept = d =>
        {
            if (held is not null || !IsEsp(d, out var h) || h.Destination != GatewayLab.AzurePublic) return false;
            held = d;
            return true;
        };
        // RRAS's best path to the VNet is instance 0 (the lower peer address): the ping goes into its tunnel, and is
        // still on the wire when the maintenance starts.
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run();
        Assert.NotNull(held);
        lab.Intercept = null;
        if (drain) lab.Azure.InstanceDrain(0, lab.Time);
        else lab.Azure.InstanceDown(0, planned: true, lab.Time);
        lab.ToAzureLater(held);
        lab.Run(TimeSpan.FromMilliseconds(500));
        Assert.Equal(drain ? 1 : 0, Pings(lab.ToVnet, GatewayLab.Vm));
        if (drain) Assert.Equal(0, lab.AzurePort.Dropped("instance-down"));
        else Assert.True(lab.AzurePort.Dropped("instance-down") >= 1); // the ping, and RRAS's answer to the DELETE
        // RRAS heard the Cease and sends the next ping over instance 1.
        Assert.Equal(BgpState.Established, lab.Rras.Bgp!.Peers(lab.Time.Elapsed).Single(p => p.Name == "AzureIN1").State);
        var before = lab.OnInternet.Count;
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 2));
        lab.Run();
        Assert.Contains(lab.OnInternet.Skip(before), d => IsEsp(d, out var h) && h.Destination == GatewayLab.AzureSecondPublic);
        Assert.DoesNotContain(lab.OnInternet.Skip(before), d => IsEsp(d, out var h) && h.Destination == GatewayLab.AzurePublic);
        Assert.Equal(drain ? 2 : 1, Pings(lab.ToVnet, GatewayLab.Vm));
        // The answer leaves by instance 1 as well: a draining instance sends nothing more into its tunnels.
        before = lab.OnInternet.Count;
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 2, reply: true));
        lab.Run();
        var reply = Assert.Single(lab.OnInternet.Skip(before), d => IsEsp(d, out _));
        Assert.True(Ipv4Header.TryParse(reply, out var r, out _));
        Assert.Equal(GatewayLab.AzureSecondPublic, r.Source);
        Assert.Single(lab.ToHomeLan, d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp && h.Source == GatewayLab.Vm);

        if (!drain) return;
        // A forged copy of the held packet (its ICV broken) reaching the draining instance changes nothing: it is
        // dropped at the integrity check, the VM sees nothing, and the instance still drains and sends by instance 1.
        var forged = held.ToArray();
        forged[^1] ^= 0xFF;
        var drops = lab.AzurePort.Drops.Values.Sum();
        var toVnet = lab.ToVnet.Count;
        lab.ToAzureLater(forged);
        lab.Run();
        Assert.Equal(toVnet, lab.ToVnet.Count);
        Assert.Equal(drops + 1, lab.AzurePort.Drops.Values.Sum());
        Assert.True(lab.Azure.IsInstanceDraining(0));
        before = lab.OnInternet.Count;
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 3, reply: true));
        lab.Run();
        Assert.True(Ipv4Header.TryParse(Assert.Single(lab.OnInternet.Skip(before), d => IsEsp(d, out _)), out var again, out _));
        Assert.Equal(GatewayLab.AzureSecondPublic, again.Source);
        Assert.False(lab.Azure.IsInstanceDown(0));
        lab.Azure.InstanceDrained(0, lab.Time);
        lab.Run(TimeSpan.FromMilliseconds(500));
        Assert.True(lab.Azure.IsInstanceDown(0));
        Assert.False(lab.Azure.IsInstanceDraining(0));
        // Now it is away: what still arrives for it is dropped.
        var dropped = lab.AzurePort.Dropped("instance-down");
        lab.ToAzureLater(held);
        lab.Run();
        Assert.Equal(dropped + 1, lab.AzurePort.Dropped("instance-down"));
        Assert.Equal(2, Pings(lab.ToVnet, GatewayLab.Vm));
    }
}
