using Nodes.Host;

namespace Nodes.Config.Tests;

/// <summary>An imported lab runs its default scenario in this process, every message serialized as across processes.</summary>
public class ImportedLabRunTests
{
    [Theory]
    [InlineData("rras-azure-script.ps1", "vpn-connection-show.json", "lng-show.json")]
    [InlineData("rras-azure-script.ps1")]
    [InlineData("azure-connection.ps1")]
    [InlineData("main.tf")]
    [InlineData("arm-template.json")]
    [InlineData("vpn-connection-show.json")]
    [InlineData("get-vpns2sinterface.txt", "vpn-connection-show.json", "lng-show.json")]
    public async Task The_default_scenario_of_an_imported_lab_must_bring_the_tunnel_up_and_answer_every_ping(params string[] files)
    {
        var (_, t) = Fixture.ImportValid(files);
        Assert.True(t.TrySelectScenario(null, out var s, out var error), error);
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true, Count = 2 });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(2, summary.Pings.Received);
        Assert.All(summary.Tunnels, x => Assert.Equal("Connected", x.State));
    }
}

/// <summary>BGP imported as RRAS and Azure write it runs as BGP: the sessions come up and carry the routes the pings need.</summary>
public class ImportedBgpLabTests
{
    [Theory]
    [InlineData("rras-bgp.ps1")]
    [InlineData("azure-connection-bgp.ps1")]
    [InlineData("rras-bgp.ps1", "azure-connection-bgp.ps1")]
    public async Task An_imported_bgp_configuration_runs_with_both_sessions_established(params string[] files)
    {
        var (result, t) = Fixture.ImportValid(files);
        Assert.DoesNotContain(result.Lab!.Notes, n => n.Why.Contains("BGP is not simulated", StringComparison.Ordinal));
        var rras = t.Nodes.OfType<Nodes.Topology.Model.RrasSpec>().Single().Bgp!;
        var gw = t.Gateway();
        Assert.Equal(65010u, rras.LocalAsn);
        Assert.Equal(gw.BgpAddress, rras.Peers.Single().PeerAddress);
        Assert.True(t.Connection().EnableBgp);
        Assert.True(t.TrySelectScenario(null, out var s, out var error), error);
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true, Count = 2 });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.All(summary.Bgp!, b => Assert.Equal("Established", b.State));
        Assert.Contains(summary.BgpRoutes!, r => r is { Node: "azure-gw", Direction: "learned", Network: "192.168.29.0/24" });
    }

    [Fact]
    public void Each_bgp_value_says_where_it_was_written()
    {
        var (result, _) = Fixture.ImportValid("rras-bgp.ps1");
        var yaml = result.Lab!.Yaml;
        Assert.Matches(@"local-asn: 65010\s+# rras-bgp\.ps1:12:", yaml);
        Assert.Matches(@"peer-ip-address: 10\.0\.255\.30\s+# rras-bgp\.ps1:13:", yaml);
        Assert.Matches(@"- 192\.168\.29\.0/24\s+# rras-bgp\.ps1:14:", yaml);
        Assert.Contains("bgp-peering-address: 10.0.255.30", yaml);
    }

    [Fact]
    public void An_rras_bgp_peer_not_routed_into_the_tunnel_is_refused_at_its_line()
    {
        var (path, text) = Fixture.File("rras-bgp.ps1");
        var broken = text.Replace("-IPv4Subnet @(\"10.0.255.30/32:100\")", "-IPv4Subnet @(\"10.0.10.0/24:100\")", StringComparison.Ordinal);
        Assert.NotEqual(text, broken);
        var result = Importer.Import([(path, broken)], "imported", "lab.yaml");
        var d = Assert.Single(result.Errors);
        Assert.Contains("is not routed into the VPN interface", d.Message);
        Assert.Equal(("rras-bgp.ps1", 13), (d.At.File, d.At.Line));
    }
}
