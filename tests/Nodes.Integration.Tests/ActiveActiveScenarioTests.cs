using Nodes.Host;

namespace Nodes.Integration.Tests;

/// <summary>The shipped active-active lab: two Azure instances, a tunnel and a BGP session through each, and the instance faults.</summary>
public class ActiveActiveScenarioTests
{
    private static Task<RunSummary> Run(string scenario)
    {
        var t = SeedScenarioTests.Load("azure-active-active-bgp.yaml");
        Assert.True(t.TrySelectScenario(scenario, out var s, out var error), error);
        return LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
    }

    [Fact]
    public async Task Both_instances_carry_traffic_one_flow_on_one_tunnel()
    {
        var summary = await Run("both-tunnels");
        Assert.True(summary.Ok, summary.ToJson());
        var azure = summary.Tunnels.Where(t => t.Node == "azure-gw").ToDictionary(t => t.Name);
        Assert.Equal(["home-rras", "home-rras-IN_1"], azure.Keys.Order());
        Assert.Equal("52.172.171.0:4500", azure["home-rras"].Ike.LocalEndpoint);
        Assert.Equal("52.172.171.2:4500", azure["home-rras-IN_1"].Ike.LocalEndpoint);
        // Each UDP flow of 50 datagrams went out of one instance's tunnel, and each instance carried one of them.
        Assert.All(azure.Values, t => Assert.InRange(t.ChildSas.Single().PacketsOut, 50UL, 80UL));
        Assert.Equal(4, summary.Bgp!.Count(b => b.State == "Established"));
        // Azure passes the home LAN on in both instances' tunnels (multipath); RRAS uses one path.
        Assert.Single(summary.BgpRoutes!, r => r is { Node: "rras", Direction: "learned", Network: "10.0.0.0/16", SourcePeer: "169.254.21.1" });
    }

    [Fact]
    public async Task Planned_maintenance_of_an_instance_loses_no_ping_and_the_instance_comes_back()
    {
        var summary = await Run("instance-maintenance");
        Assert.True(summary.Ok, summary.ToJson());
        var fault = Assert.Single(summary.Faults!);
        Assert.Equal(0, fault.PingsLost);
        Assert.Contains(summary.Bgp!, b => b is { Node: "rras", Name: "AzureIN0" } && b.LastError.Contains("Cease / Administrative Shutdown", StringComparison.Ordinal));
        Assert.All(summary.Bgp!, b => Assert.Equal("Established", b.State)); // instance 0 is back by the end
    }

    [Fact]
    public async Task A_route_withdrawn_on_one_session_moves_the_pings_to_the_other_tunnel_and_back()
    {
        var summary = await Run("route-withdrawal");
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(0, Assert.Single(summary.Faults!).PingsLost);
        var rras = summary.Tunnels.Where(t => t.Node == "rras").ToDictionary(t => t.Name, t => t.ChildSas.Single());
        // 8 s of pings at two a second went into instance 1's tunnel while instance 0's session had no VNet route; the
        // rest (before and after) into instance 0's.
        Assert.InRange(rras["azure-in1"].PacketsOut, 16UL, 40UL);
        Assert.InRange(rras["azure-in0"].PacketsOut, 20UL, 60UL);
        Assert.Contains(summary.Bgp!, b => b is { Node: "rras", Name: "AzureIN0", State: "Established", Flaps: 0 });
    }

    [Fact]
    public async Task An_unplanned_failure_is_noticed_by_the_hold_timer_and_traffic_moves_to_the_other_instance()
    {
        var summary = await Run("instance-failure");
        Assert.True(summary.Ok, summary.ToJson());
        var fault = Assert.Single(summary.Faults!);
        Assert.True(fault.PingsLost >= 3 && fault.Recovered);
        Assert.Contains(summary.Bgp!, b => b is { Node: "rras", Name: "AzureIN0" } && b.LastError.Contains("Hold Timer Expired", StringComparison.Ordinal));
        Assert.Equal(0, summary.Drops.ByNode.GetValueOrDefault("rras")?.GetValueOrDefault("spd-discard") ?? 0);
    }
}
