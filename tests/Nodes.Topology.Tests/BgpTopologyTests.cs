using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Tests;

public class BgpTopologyTests
{
    private static string Lab => File.ReadAllText(Path.Combine(Labs.Folder, "azure-s2s-bgp.yaml"));

    private static List<string> Problems(string from, string to)
    {
        var text = Lab;
        Assert.Contains(from, text);
        var result = TopologyLoader.LoadFromString(text.Replace(from, to, StringComparison.Ordinal), "azure-s2s-bgp.yaml");
        return result.Diagnostics.Select(d => $"{d.Location.Line}:{d.Location.Column}: {d.Message} ({d.Hint})").ToList();
    }

    [Fact]
    public void The_bgp_lab_loads_azures_and_rrass_bgp_settings_as_written()
    {
        var lab = TopologyLoader.LoadFromString(Lab, "azure-s2s-bgp.yaml").Topology!;
        var azure = (AzureVpnGatewaySpec)lab.FindNode("azure-gw")!;
        Assert.Equal(65515u, azure.Bgp!.Asn);
        Assert.Equal(Ipv4Address.Parse("10.0.255.30"), azure.BgpAddress);
        var c = azure.Connections.Single();
        Assert.True(c.EnableBgp);
        Assert.Equal((65010u, Ipv4Address.Parse("192.168.29.52")), (c.LocalNetworkGateway.Bgp!.Asn, c.LocalNetworkGateway.Bgp.PeeringAddress!.Value));
        var rras = (RrasSpec)lab.FindNode("rras")!;
        var peer = rras.Bgp!.Peers.Single();
        Assert.Equal(("AzureS2SGw", 65515u, BgpOperationMode.Mixed, 90), (peer.Name, peer.PeerAsn, peer.OperationMode, peer.HoldTimeSeconds));
        Assert.Equal([Ipv4Prefix.Parse("192.168.29.0/24")], rras.Bgp.CustomRoutes.ToArray());
        Assert.True(lab.TrySelectScenario(null, out var s, out _));
        Assert.Equal(2, s!.Expect.Bgp.Length);
    }

    [Theory]
    [InlineData("reserved ASN", "bgp-settings: { asn: 65010,", "bgp-settings: { asn: 65517,", "Azure refuses ASN 65517 for an on-premises BGP speaker")]
    [InlineData("equal ASNs", "bgp-settings: { asn: 65010,", "bgp-settings: { asn: 65515,", "Azure refuses ASN 65515")]
    [InlineData("not an AS number", "        asn: 65515\n", "        asn: 65515x\n", "asn '65515x' is not an AS number")]
    [InlineData("BGP address outside the GatewaySubnet", "bgp-peering-address: 10.0.255.30", "bgp-peering-address: 10.0.254.30", "is not in its gateway-subnet 10.0.255.0/27")]
    [InlineData("APIPA outside Azure's range", "bgp-peering-address: 10.0.255.30\n", "bgp-peering-address: 10.0.255.30\n        custom-bgp-addresses: [169.254.20.1]\n", "custom BGP address 169.254.20.1 of node 'azure-gw' is outside Azure's APIPA range")]
    [InlineData("BGP address equal to the public one", "bgp-peering-address: 192.168.29.52 }", "bgp-peering-address: 203.0.113.10 }", "is the device's public address")]
    [InlineData("enable-bgp without the gateway's settings", "      bgp-settings:\n        asn: 65515\n        bgp-peering-address: 10.0.255.30\n", "", "node 'azure-gw' has no bgp-settings")]
    [InlineData("BGP with policy-based selectors", "use-policy-based-traffic-selectors: false", "use-policy-based-traffic-selectors: true", "has enable-bgp and use-policy-based-traffic-selectors")]
    [InlineData("peer not routed into the tunnel", "ipv4-subnets: [\"10.0.255.30/32:100\"]", "ipv4-subnets: [\"10.0.10.0/24:100\"]", "peer-ip-address 10.0.255.30 of BGP peer 'AzureS2SGw' is not routed into the VPN interface")]
    [InlineData("peer from a foreign address", "local-ip-address: 192.168.29.52", "local-ip-address: 192.168.29.53", "local-ip-address 192.168.29.53 of BGP peer 'AzureS2SGw' is not an address of node 'rras'")]
    [InlineData("iBGP over the tunnel", "peer-asn: 65515", "peer-asn: 65010", "equals the router's local-asn")]
    [InlineData("unknown peer key", "peer-asn: 65515", "peer-asn: 65515\n            hold-time: 30", "unknown key 'hold-time'")]
    [InlineData("expectation for a node without BGP", "{ node: rras, state: Established", "{ node: client, state: Established", "node 'client' does not speak BGP")]
    [InlineData("unknown state", "{ node: rras, state: Established", "{ node: rras, state: Up", "bgp state 'Up' is not one of")]
    public void What_azure_or_rras_would_refuse_is_refused_where_it_is_written(string description, string from, string to, string message)
    {
        var problems = Problems(from, to);
        Assert.True(problems.Exists(p => p.Contains(message, StringComparison.Ordinal)), $"{description}: {string.Join("; ", problems)}");
        Assert.All(problems, p => Assert.Matches(@"^\d+:\d+: ", p));
    }
}

public class ActiveActiveTopologyTests
{
    private static string Lab => File.ReadAllText(Path.Combine(Labs.Folder, "azure-active-active-bgp.yaml"));

    [Fact]
    public void The_active_active_lab_loads_two_instances_and_two_rras_interfaces()
    {
        var lab = TopologyLoader.LoadFromString(Lab, "aa.yaml").Topology!;
        var gw = (AzureVpnGatewaySpec)lab.FindNode("azure-gw")!;
        Assert.True(gw.ActiveActive);
        Assert.Equal(Ipv4Address.Parse("52.172.171.2"), gw.SecondPublicAddress);
        Assert.Equal([Ipv4Address.Parse("169.254.21.1"), Ipv4Address.Parse("169.254.22.1")], gw.Bgp!.CustomAddresses.ToArray());
        var rras = (RrasSpec)lab.FindNode("rras")!;
        Assert.Equal(["azure-in0", "azure-in1"], rras.Vpns.Select(v => v.InterfaceName));
        Assert.Equal(2, rras.Bgp!.Peers.Length);
    }

    [Theory]
    [InlineData("no second address", "      second-public-address: 52.172.171.2\n", "", "has no second-public-address")]
    [InlineData("the same address twice", "second-public-address: 52.172.171.2", "second-public-address: 52.172.171.0", "is the first instance's public-address")]
    [InlineData("an address of no interface", "second-public-address: 52.172.171.2", "second-public-address: 52.172.171.6", "is not the address of any interface")]
    [InlineData("a second address without active-active", "      active-active: true\n", "", "has a second-public-address but is not active-active")]
    [InlineData("two interfaces of one name", "        - interface-name: azure-in1", "        - interface-name: azure-in0", "interface-name 'azure-in0' is used twice")]
    [InlineData("a second BGP address outside the GatewaySubnet", "        custom-bgp-addresses:", "        second-bgp-peering-address: 10.0.254.5\n        custom-bgp-addresses:", "second-bgp-peering-address 10.0.254.5 of node 'azure-gw' is not in its gateway-subnet")]
    public void What_an_active_active_gateway_needs_is_checked_where_it_is_written(string description, string from, string to, string message)
    {
        Assert.Contains(from, Lab);
        var result = TopologyLoader.LoadFromString(Lab.Replace(from, to, StringComparison.Ordinal), "aa.yaml");
        var problems = result.Diagnostics.Select(d => $"{d.Location.Line}:{d.Location.Column}: {d.Message}").ToList();
        Assert.True(problems.Exists(p => p.Contains(message, StringComparison.Ordinal)), $"{description}: {string.Join("; ", problems)}");
    }
}
