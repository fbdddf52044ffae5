using Nodes.Net.Policy;
using Nodes.Wire.Ip;

namespace Nodes.Net.Tests.Policy;

public class SecurityPolicyDatabaseTests
{
    private static Ipv4Address A(string s) => Ipv4Address.Parse(s);
    private static Ipv4Prefix P(string s) => Ipv4Prefix.Parse(s);

    // The seed lab's Azure gateway: VNet 10.0.0.0/16 behind gateway-subnet, the home site 192.168.29.0/24 through the tunnel.
    private static readonly SecurityPolicyDatabase Azure = new(
        [new SpdTunnel("home-rras", [P("10.0.0.0/16")], [P("192.168.29.0/24")])], ["gateway-subnet"], [P("10.0.0.0/16")]);

    // The seed lab's one-armed RRAS: any local source, 10.0.0.0/16 through the tunnel.
    private static readonly SecurityPolicyDatabase Rras = new(
        [new SpdTunnel("52.172.171.0", [P("0.0.0.0/0")], [P("10.0.0.0/16")])], ["lan"]);

    [Theory]
    [InlineData("10.0.10.4", "192.168.29.55", "gateway-subnet", SpdAction.Protect, "the VM's reply goes into the tunnel")]
    [InlineData("10.0.10.4", "192.168.29.55", "internet", SpdAction.Discard, "a forged VM address from the internet is not encrypted for the peer")]
    [InlineData("198.51.100.66", "10.0.10.4", "internet", SpdAction.Discard, "the VNet is reachable from outside only through a tunnel")]
    [InlineData("198.51.100.66", "10.0.255.4", "internet", SpdAction.Discard, "the gateway's own VNet address neither")]
    [InlineData("192.168.29.55", "10.0.10.4", "internet", SpdAction.Discard, "home traffic in clear must have come out of the SA")]
    [InlineData("203.0.113.10", "52.172.171.0", "internet", SpdAction.Bypass, "IKE and ESP to the public address pass")]
    [InlineData("10.0.10.4", "8.8.8.8", "gateway-subnet", SpdAction.Bypass, "traffic for nobody's tunnel is routed")]
    [InlineData("10.0.10.4", "192.143.29.55", "internet", SpdAction.Discard, "a VNet source on the public side is forged: it is not routed back out, nor answered into the VNet")]
    public void Azure_gateway_must_protect_pass_or_discard_cleartext_by_policy(string src, string dst, string ingress, SpdAction expected, string why)
    {
        var verdict = Azure.Classify(A(src), A(dst), ingress);
        Assert.True(expected == verdict.Action, $"{why}: {verdict}");
        if (expected == SpdAction.Discard) Assert.False(string.IsNullOrEmpty(verdict.Why));
    }

    [Theory]
    [InlineData("192.168.29.55", "10.0.10.4", SpdAction.Protect, "the client's ping dials the tunnel")]
    [InlineData("10.0.10.4", "192.168.29.55", SpdAction.Discard, "VNet traffic in clear on the LAN is forged")]
    [InlineData("192.168.29.55", "8.8.8.8", SpdAction.Bypass, "internet traffic is routed")]
    public void One_armed_rras_must_decide_by_selectors_alone(string src, string dst, SpdAction expected, string why)
    {
        var verdict = Rras.Classify(A(src), A(dst), "lan");
        Assert.True(expected == verdict.Action, $"{why}: {verdict}");
    }

    [Fact]
    public void The_longest_remote_prefix_must_choose_the_tunnel()
    {
        var spd = new SecurityPolicyDatabase(
            [new SpdTunnel("wide", [P("0.0.0.0/0")], [P("10.0.0.0/8")]), new SpdTunnel("narrow", [P("0.0.0.0/0")], [P("10.1.0.0/16")])], ["lan"]);
        Assert.Equal("narrow", spd.Classify(A("192.168.1.1"), A("10.1.2.3"), "lan").Tunnel);
        Assert.Equal("wide", spd.Classify(A("192.168.1.1"), A("10.2.2.3"), "lan").Tunnel);
    }
}
