using Nodes.Config.Export;
using Nodes.Ike.Proposals;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Config.Tests;

public class ExportTests
{
    private static string Topology(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "topology", name));

    private static TopologySpec Load(string name)
    {
        var r = TopologyLoader.Load(Topology(name));
        Assert.True(r.Succeeded, string.Join("\n", r.Diagnostics));
        return r.Topology!;
    }

    private static ExportResult Export(TopologySpec t, string node, ExportFormat f)
    {
        var r = Exporter.Export(t, node, f, out var error);
        Assert.True(r is not null, error);
        return r!;
    }

    private static object Rras(RrasVpnSpec v) => (v.InterfaceName, v.Destination, string.Join(",", v.Ipv4Subnets.Select(s => $"{s.Prefix}:{s.Metric}")), v.SharedKey,
        v.Persistent, v.IdleDisconnectSeconds, v.NumberOfTries, v.RetryIntervalSeconds, v.PolicySource, ProposalText.List(v.IkeProposals), ProposalText.List(v.EspProposals),
        v.IkeLifetime, v.ChildLifetime, v.ChildLifetimeKilobytes);

    private static object Connection(AzureConnectionSpec c) => (c.Name, c.LocalNetworkGateway.GatewayAddress, string.Join(",", c.LocalNetworkGateway.AddressSpaces), c.SharedKey,
        c.Mode, c.DpdTimeoutSeconds, c.UsePolicyBasedTrafficSelectors, string.Join(";", c.TrafficSelectorPolicies.Select(t => $"{string.Join(",", t.LocalAddressRanges)}|{string.Join(",", t.RemoteAddressRanges)}")),
        c.PolicySource, ProposalText.List(c.IkeProposals), ProposalText.List(c.EspProposalsAsResponder), c.ChildLifetime, c.ChildLifetimeKilobytes);

    private static IEnumerable<string> Addresses(TopologySpec t) =>
        t.Nodes.SelectMany(n => n.Interfaces.Select(i => $"{n.Name}:{i.Name}={i.Cidr}")).Order(StringComparer.Ordinal);

    [Fact]
    public void The_seed_labs_rras_and_azure_exports_must_import_back_to_the_same_lab()
    {
        var seed = Load("azure-s2s-rras.yaml");
        var rras = Export(seed, "rras", ExportFormat.Rras);
        var azure = Export(seed, "azure-gw", ExportFormat.AzurePowerShell);
        var (_, back) = Fixture.ImportValid2([(rras.FileName, rras.Text), (azure.FileName, azure.Text)]);
        Assert.Equal(Rras(seed.Rras()), Rras(back.Rras()));
        Assert.Equal(Connection(seed.Connection()), Connection(back.Connection()));
        Assert.Equal("home", back.Connection().LocalNetworkGateway.Name);
        Assert.Equal(Addresses(seed), Addresses(back));
        Assert.Equal(seed.Gateway().GatewaySubnet, back.Gateway().GatewaySubnet);
    }

    private static object Bgp(RrasBgpSpec b) => (b.BgpIdentifier, b.LocalAsn, string.Join(",", b.CustomRoutes),
        string.Join(";", b.Peers.Select(p => $"{p.Name}|{p.LocalAddress}|{p.PeerAddress}|{p.PeerAsn}|{p.OperationMode}|{p.ManualPeering}|{p.HoldTimeSeconds}|{p.IdleHoldTimeSeconds}|{p.MaxAllowedPrefix}")));

    [Theory]
    [InlineData(ExportFormat.AzurePowerShell)]
    [InlineData(ExportFormat.AzureJson)]
    public void The_bgp_labs_exports_must_import_back_to_the_same_bgp_configuration(ExportFormat azureFormat)
    {
        var lab = Load("azure-s2s-bgp.yaml");
        var rras = Export(lab, "rras", ExportFormat.Rras);
        Assert.Contains("Add-BgpPeer -Name 'AzureS2SGw' -LocalIPAddress '192.168.29.52' -PeerIPAddress '10.0.255.30' -PeerASN 65515", rras.Text);
        var azure = Export(lab, "azure-gw", azureFormat);
        var (result, back) = Fixture.ImportValid2([(rras.FileName, rras.Text), (azure.FileName, azure.Text)]);
        Assert.Equal(Bgp(((RrasSpec)lab.FindNode("rras")!).Bgp!), Bgp(((RrasSpec)back.FindNode("rras")!).Bgp!));
        Assert.Equal(Rras(lab.Rras()), Rras(back.Rras()));
        var (c, d) = (lab.Connection(), back.Connection());
        Assert.Equal((c.EnableBgp, c.LocalNetworkGateway.Bgp!.Asn, c.LocalNetworkGateway.Bgp.PeeringAddress), (d.EnableBgp, d.LocalNetworkGateway.Bgp!.Asn, d.LocalNetworkGateway.Bgp.PeeringAddress));
        Assert.Equal(lab.Gateway().BgpAddress, back.Gateway().BgpAddress);
        Assert.Equal(lab.Gateway().Bgp!.Asn, back.Gateway().Bgp!.Asn);
        Assert.Empty(result.Errors);
        var swan = Export(lab, "rras", ExportFormat.Swanctl);
        Assert.Contains(swan.NotExported, m => m.StartsWith("bgp:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ExportFormat.AzurePowerShell)]
    [InlineData(ExportFormat.AzureJson)]
    public void A_custom_policy_with_policy_based_selectors_must_survive_the_round_trip(ExportFormat azureFormat)
    {
        var lab = Load("azure-s2s-policy-based.yaml");
        var rras = Export(lab, "rras", ExportFormat.Rras);
        var azure = Export(lab, "azure-gw", azureFormat);
        var (result, back) = Fixture.ImportValid2([(rras.FileName, rras.Text), (azure.FileName, azure.Text)]);
        Assert.Equal(Connection(lab.Connection()), Connection(back.Connection()));
        var (v, w) = (lab.Rras(), back.Rras());
        Assert.Equal((v.PolicySource, ProposalText.List(v.IkeProposals), ProposalText.List(v.EspProposals), v.ChildLifetime), (w.PolicySource, ProposalText.List(w.IkeProposals), ProposalText.List(w.EspProposals), w.ChildLifetime));
        // What the RRAS script cannot say is said in it.
        Assert.Contains("# not exported: traffic selectors", rras.Text);
        Assert.Single(rras.NotExported);
        Assert.DoesNotContain(result.Errors, _ => true);
    }

    [Fact]
    public void An_ike_lifetime_other_than_the_default_must_be_exported_and_come_back()
    {
        var text = File.ReadAllText(Topology("mistakes/ike-lifetime-86400.yaml")).Replace("ike-lifetime-seconds: 86400", "ike-lifetime-seconds: 28800", StringComparison.Ordinal)
            .Replace("        nat-keepalive: 20s\n", "        nat-keepalive: 20s\n        persistent: true\n", StringComparison.Ordinal).Replace("        persistent: false\n", "", StringComparison.Ordinal);
        var lab = TopologyLoader.LoadFromString(text, "lab.yaml").Topology!;
        var rras = Export(lab, "rras", ExportFormat.Rras);
        Assert.Contains("-Persistent", rras.Text);
        var (_, back) = Fixture.ImportValid2([(rras.FileName, rras.Text)]);
        Assert.True(back.Rras().Persistent);
    }

    [Fact]
    public void The_swanctl_export_must_carry_proposals_strongswan_parses_back_to_the_same()
    {
        var lab = Load("azure-s2s-policy-based.yaml");
        var conf = Export(lab, "rras", ExportFormat.Swanctl).Text;
        var v = lab.Rras();
        string Value(string key) => conf.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(key + " = ", StringComparison.Ordinal))[(key.Length + 3)..];
        Assert.Equal(ProposalText.List(v.IkeProposals), ProposalText.List(Value("proposals").Split(',').Select(p => ProposalText.Parse(p, forIke: true))));
        Assert.Equal(ProposalText.List(v.EspProposals), ProposalText.List(Value("esp_proposals").Split(',').Select(p => ProposalText.Parse(p, forIke: false))));
        Assert.Equal("192.168.29.0/24", Value("local_ts"));
        Assert.Equal("10.0.10.0/24", Value("remote_ts"));
        Assert.Equal("52.172.171.0", Value("remote_addrs"));
        Assert.Equal(conf.Count(c => c == '{'), conf.Count(c => c == '}'));
    }

    [Fact]
    public void The_default_windows_proposals_must_be_written_in_strongswan_syntax_that_parses()
    {
        var seed = Load("azure-s2s-rras.yaml");
        foreach (var p in seed.Rras().IkeProposals)
            Assert.Equal(p.ToString(), ProposalText.Parse(ProposalNames.StrongSwan(p, forIke: true), forIke: true).ToString());
        foreach (var p in seed.Rras().EspProposals)
            Assert.Equal(p.ToString(), ProposalText.Parse(ProposalNames.StrongSwan(p, forIke: false), forIke: false).ToString());
    }

    [Fact]
    public void A_format_that_does_not_fit_the_node_must_be_refused_with_the_formats_that_do()
    {
        var seed = Load("azure-s2s-rras.yaml");
        Assert.Null(Exporter.Export(seed, "azure-gw", ExportFormat.Rras, out var error));
        Assert.Contains("rras (rras, swanctl)", error);
        Assert.Null(Exporter.Export(seed, "nope", ExportFormat.Rras, out error));
        Assert.Contains("no such node", error);
    }
}
