using Nodes.Host;
using Nodes.Topology.Loading;

namespace Nodes.Config.Tests;

/// <summary>
/// The shipped mistakes (topology/mistakes): those Azure refuses or documents as failing are stopped by validation at the
/// line that causes them; those only a run shows fail in the run the way production does.
/// </summary>
public class MistakeTests
{
    private static string Mistake(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "topology", "mistakes", name));

    [Theory]
    [InlineData("ike-lifetime-86400.yaml", "ike-lifetime-seconds: 86400", "Azure's IKE SA lifetime is 28,800 seconds and cannot be changed")]
    [InlineData("policy-selectors-mismatch.yaml", "interface-name:", "must define the traffic selectors with all combinations of the on-premises network prefixes and the Azure virtual network prefixes")]
    [InlineData("shared-key-tilde.yaml", "shared-key: \"Nodes4Lab~SharedKey\"", "contains '~', which Azure does not accept")]
    public void A_mistake_azure_refuses_must_stop_validation_at_its_line(string file, string lineText, string words)
    {
        var path = Mistake(file);
        var result = TopologyLoader.Load(path);
        Assert.Null(result.Topology);
        var d = Assert.Single(result.Diagnostics);
        Assert.Contains(words, d.Message);
        var lines = File.ReadAllLines(path);
        Assert.Contains(lineText, lines[d.Line - 1]);
    }

    [Fact]
    public async Task An_rras_policy_azure_does_not_accept_must_fail_with_no_proposal_chosen()
    {
        var t = TopologyLoader.Load(Mistake("rras-policy-azure-refuses.yaml")).Topology!;
        Assert.True(t.TrySelectScenario(null, out var s, out _));
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(0, summary.Pings.Received);
        var azure = summary.Tunnels.Single(x => x.Node == "azure-gw");
        Assert.Equal("NotConnected", azure.State);
        Assert.Contains(azure.Failures, f => f.Contains("NO_PROPOSAL_CHOSEN"));
    }

    [Fact]
    public async Task An_initiator_only_connection_to_a_natted_site_must_never_connect()
    {
        var t = TopologyLoader.Load(Mistake("nat-initiator-only.yaml")).Topology!;
        Assert.True(t.TrySelectScenario(null, out var s, out _));
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(0, summary.Pings.Received);
        Assert.True(summary.Drops.ByNode["isp-router"]["no-nat-mapping"] >= 1);
        Assert.All(summary.Tunnels, x => Assert.NotEqual("Connected", x.State));
    }

    [Fact]
    public void A_downloaded_script_with_86400_s_must_be_refused_at_its_own_line()
    {
        var script = "Add-VpnS2SInterface -Protocol IKEv2 -AuthenticationMethod PSKOnly -Name 52.172.171.0 -Destination 52.172.171.0 `\n"
            + "    -IPv4Subnet @(\"10.0.0.0/16:100\") -SharedSecret Nodes4LabSharedKey -MMSALifeTimeSeconds 86400\n";
        var result = Importer.Import([("device.ps1", script)], "x", "lab.yaml");
        var d = Assert.Single(result.Errors);
        Assert.Equal(("device.ps1", 2, 92), (d.At.File, d.At.Line, d.At.Column));
        Assert.Contains("28,800 seconds", d.Message);
        Assert.Equal("lab.yaml", d.LabAt!.Value.File);
    }

    [Theory]
    [InlineData("65515", "reserved")]
    [InlineData("23456", "reserved")]
    [InlineData("64500", "reserved")]
    public void A_reserved_asn_on_the_local_network_gateway_must_be_refused(string asn, string words)
    {
        var ps = "New-AzLocalNetworkGateway -Name Site1 -GatewayIpAddress 203.0.113.10 -AddressPrefix 192.168.29.0/24 -Asn " + asn + " -BgpPeeringAddress 192.168.29.254\n"
            + "New-AzVirtualNetworkGatewayConnection -Name c1 -ConnectionType IPsec -SharedKey abc123 -EnableBgp $True\n";
        var result = Importer.Import([("azure.ps1", ps)], "x", "lab.yaml");
        // Azure's refusal, at the value; the lab's RRAS (derived to speak as that AS) then peers with an equal AS.
        var d = result.Errors[0];
        Assert.Contains(words, d.Message);
        Assert.Equal((1, 106), (d.At.Line, d.At.Column));
        Assert.Single(result.Errors, e => e.Message.Contains("Azure refuses ASN", StringComparison.Ordinal));
        Assert.True(result.Errors.Length <= 2, string.Join("\n", result.Errors));
    }

    [Fact]
    public void A_private_asn_that_is_not_reserved_must_pass()
    {
        var ps = "New-AzLocalNetworkGateway -Name Site1 -GatewayIpAddress 203.0.113.10 -AddressPrefix 192.168.29.0/24 -Asn 65010\n"
            + "New-AzVirtualNetworkGatewayConnection -Name c1 -ConnectionType IPsec -SharedKey abc123\n";
        Assert.True(Importer.Import([("azure.ps1", ps)], "x", "lab.yaml").Succeeded);
    }
}

public class BgpAsnTests
{
    [Fact]
    public void A_reserved_asn_on_the_rras_bgp_router_must_be_refused_at_its_line()
    {
        var ps = "Add-VpnS2SInterface -Name 52.172.171.0 -Destination 52.172.171.0 -Protocol IKEv2 -IPv4Subnet @(\"10.0.0.0/16:100\") -SharedSecret abc123\n"
            + "Add-BgpRouter -BgpIdentifier 192.168.29.52 -LocalASN 65515\n";
        var result = Importer.Import([("rras.ps1", ps)], "x", "lab.yaml");
        var d = result.Errors[0];
        Assert.Equal((2, 54), (d.At.Line, d.At.Column));
        Assert.Contains("reserved", d.Message);
        Assert.Single(result.Errors, e => e.Message.Contains("Azure refuses ASN", StringComparison.Ordinal));
        Assert.True(result.Errors.Length <= 2, string.Join("\n", result.Errors));
        // Every Add-BgpRouter value is mapped now: the identifier is RRAS's BGP identifier in the lab.
        Assert.DoesNotContain(result.Notes, n => n.What.StartsWith("Add-BgpRouter", StringComparison.Ordinal));
        Assert.Contains("bgp-identifier: 192.168.29.52", result.Lab!.Yaml);
    }

    [Fact]
    public void A_local_network_gateway_asn_other_than_the_routers_must_be_refused()
    {
        var rras = "Add-BgpRouter -BgpIdentifier 192.168.29.52 -LocalASN 65010\n";
        var azure = "New-AzLocalNetworkGateway -Name Site1 -GatewayIpAddress 203.0.113.10 -AddressPrefix 192.168.29.0/24 -Asn 65020\n"
            + "New-AzVirtualNetworkGatewayConnection -Name c1 -ConnectionType IPsec -SharedKey abc123\n";
        var result = Importer.Import([("rras.ps1", rras), ("azure.ps1", azure)], "x", "lab.yaml");
        var d = Assert.Single(result.Errors);
        Assert.Equal("azure.ps1", d.At.File);
        Assert.Contains("not the ASN 65010 of the RRAS BGP router", d.Message);
    }
}
