using Nodes.Host;
using Nodes.TestKit;
using Nodes.Topology.Loading;

namespace Nodes.Integration.Tests;

/// <summary>The shipped BGP lab end to end: RRAS and the Azure gateway peer through the tunnel and route by what they learn.</summary>
public class BgpScenarioTests
{
    [Fact]
    public async Task The_shipped_bgp_lab_runs_green_with_both_sessions_established_and_the_routes_learned()
    {
        var summary = await SeedScenarioTests.Run(SeedScenarioTests.Load("azure-s2s-bgp.yaml"));
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(2, summary.Bgp!.Count);
        Assert.All(summary.Bgp, b => Assert.Equal("Established", b.State));
        var azure = summary.Bgp.Single(b => b.Node == "azure-gw");
        Assert.Equal(("10.0.255.30", "192.168.29.52", 65010u, "home-rras"), (azure.LocalAddress, azure.Neighbor, azure.Asn, azure.Tunnel));
        var rras = summary.Bgp.Single(b => b.Node == "rras");
        Assert.Equal(65515u, rras.Asn);
        Assert.Contains(summary.BgpRoutes!, r => r is { Node: "rras", Direction: "learned", Network: "10.0.0.0/16", AsPath: "65515", NextHop: "10.0.255.30" });
        Assert.Contains(summary.BgpRoutes!, r => r is { Node: "azure-gw", Direction: "learned", Network: "192.168.29.0/24", AsPath: "65010" });
        // Azure does not advertise the on-premises site its own prefixes back.
        Assert.DoesNotContain(summary.BgpRoutes!, r => r is { Node: "azure-gw", Direction: "advertised" } && r.Network.StartsWith("192.168.29.", StringComparison.Ordinal));
        Assert.Contains("\"bgp\"", summary.ToJson());
    }

    [Fact]
    public async Task A_peer_AS_that_does_not_match_is_refused_with_bad_peer_AS_and_the_vnet_stays_out_of_reach()
    {
        var text = File.ReadAllText(Path.Combine(SeedScenarioTests.Repo(), "topology", "azure-s2s-bgp.yaml"));
        var wrong = text.Replace("bgp-settings: { asn: 65010, bgp-peering-address: 192.168.29.52 }", "bgp-settings: { asn: 65011, bgp-peering-address: 192.168.29.52 }", StringComparison.Ordinal);
        Assert.NotEqual(text, wrong);
        var loaded = TopologyLoader.LoadFromString(wrong, "bgp-wrong-asn.yaml");
        Assert.Empty(loaded.Diagnostics);
        var summary = await SeedScenarioTests.Run(loaded.Topology!);
        Assert.False(summary.Ok);
        Assert.Equal(0, summary.Pings.Received);
        Assert.All(summary.Bgp!, b => Assert.NotEqual("Established", b.State));
        Assert.Contains(summary.Bgp!, b => b.LastError.Contains("Bad Peer AS", StringComparison.Ordinal));
        Assert.True(summary.Drops.ByReason.GetValueOrDefault("bgp-open-bad-peer-as") >= 1, summary.ToJson());
        Assert.Contains(summary.Tunnels, t => t.State == "Connected"); // IPsec is fine: it is BGP that failed
    }

    [SkippableFact]
    public async Task Tshark_decodes_the_bgp_session_inside_the_decrypted_esp_with_no_malformed_packet()
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-bgp-capture-").FullName;
        try
        {
            var summary = await SeedScenarioTests.Run(SeedScenarioTests.Load("azure-s2s-bgp.yaml"), options: new RunOptions { CaptureDirectory = dir });
            Assert.True(summary.Ok, summary.ToJson());
            var file = summary.Captures!.Files.Single(f => f.Contains("azure", StringComparison.Ordinal) && f.Contains("internet", StringComparison.Ordinal));
            Assert.Equal(0, tshark.Count(file, dir, "_ws.malformed || _ws.expert.severity == \"Error\""));
            var types = tshark.Fields(file, dir, "esp && bgp", "bgp.type").SelectMany(r => r[0].Split('|')).ToHashSet();
            Assert.Contains("1", types); // OPEN
            Assert.Contains("2", types); // UPDATE
            Assert.Contains("4", types); // KEEPALIVE
            var nlri = tshark.Fields(file, dir, "esp && bgp.type == 2", "bgp.nlri_prefix").SelectMany(r => r[0].Split('|')).ToHashSet();
            Assert.Contains("10.0.0.0", nlri);
            Assert.Contains("192.168.29.0", nlri);
            Assert.Equal(0, tshark.Count(file, dir, "tcp && !esp"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("route-withdrawal")]
    [InlineData("bgp-reset")]
    public async Task The_bgp_fault_scenarios_lose_pings_while_the_route_is_gone_and_recover_with_the_same_SAs(string scenario)
    {
        var t = SeedScenarioTests.Load("azure-s2s-bgp.yaml");
        Assert.True(t.TrySelectScenario(scenario, out var s, out _));
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
        Assert.True(summary.Ok, summary.ToJson());
        var fault = Assert.Single(summary.Faults!);
        Assert.True(fault.PingsLost > 0 && fault.Recovered);
        Assert.All(fault.Tunnels, x => Assert.True(x.SameIkeSa));
        if (scenario == "route-withdrawal")
        {
            // Withdrawn at Azure: the replies stop at the gateway, none crosses the internet.
            Assert.True(summary.Drops.ByNode["azure-gw"].GetValueOrDefault("no-route") >= 5);
            Assert.False(summary.Drops.ByNode.TryGetValue("internet", out var internet) && internet.ContainsKey("no-route"));
        }
        else
        {
            Assert.All(summary.Bgp!, b => Assert.Equal(1u, b.Flaps));
            Assert.All(summary.Bgp!, b => Assert.Contains("Administrative Reset", b.LastError, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Azures_bgp_diagnostics_show_the_peer_and_the_routes_in_azures_columns()
    {
        var summary = await SeedScenarioTests.Run(SeedScenarioTests.Load("azure-s2s-bgp.yaml"));
        var bgp = Assert.Single(summary.Azure!).Bgp!;
        // Get-AzVirtualNetworkGatewayBgpPeerStatus: Asn, ConnectedDuration, LocalAddress, MessagesReceived, MessagesSent, Neighbor, RoutesReceived, State.
        Assert.Equal((65010u, "10.0.255.30", "192.168.29.52", 1u, "Connected"), (bgp.PeerStatus.Asn, bgp.PeerStatus.LocalAddress, bgp.PeerStatus.Neighbor, bgp.PeerStatus.RoutesReceived, bgp.PeerStatus.State));
        Assert.True(TimeSpan.TryParseExact(bgp.PeerStatus.ConnectedDuration, "c", System.Globalization.CultureInfo.InvariantCulture, out var up) && up > TimeSpan.Zero, bgp.PeerStatus.ConnectedDuration);
        Assert.True(bgp.PeerStatus.MessagesReceived >= 3 && bgp.PeerStatus.MessagesSent >= 3);
        // Get-AzVirtualNetworkGatewayLearnedRoute: the VNet as Network, the home LAN as EBgp from RRAS, weight 32768.
        Assert.Contains(bgp.LearnedRoutes, r => r is { Network: "10.0.0.0/16", Origin: "Network", SourcePeer: "10.0.255.30", Weight: 32768 });
        Assert.Contains(bgp.LearnedRoutes, r => r is { Network: "192.168.29.0/24", Origin: "EBgp", AsPath: "65010", NextHop: "192.168.29.52", SourcePeer: "192.168.29.52", Weight: 32768 });
        // Get-AzVirtualNetworkGatewayAdvertisedRoute -Peer 192.168.29.52: the VNet with Azure's AS path.
        var advertised = Assert.Single(bgp.AdvertisedRoutes);
        Assert.Equal(("10.0.0.0/16", "65515", "10.0.255.30"), (advertised.Network, advertised.AsPath, advertised.NextHop));
        var text = bgp.ToFormatList();
        Assert.Matches(@"Asn\s+: 65010\nConnectedDuration\s+: \d+:\d\d:\d\d", text);
        Assert.Contains("Get-AzVirtualNetworkGatewayAdvertisedRoute -Peer 192.168.29.52", text);
    }
}
