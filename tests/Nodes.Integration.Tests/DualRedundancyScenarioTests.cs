using Nodes.Host;

namespace Nodes.Integration.Tests;

/// <summary>The shipped dual-redundancy lab: an active-active Azure gateway and two RRAS devices, four tunnels with BGP.</summary>
public class DualRedundancyScenarioTests
{
    private static Task<RunSummary> Run(string scenario)
    {
        var t = SeedScenarioTests.Load("azure-dual-redundancy-bgp.yaml");
        Assert.True(t.TrySelectScenario(scenario, out var s, out var error), error);
        return LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
    }

    [Fact]
    public async Task Four_tunnels_each_carry_one_of_the_VMs_four_flows()
    {
        var summary = await Run("four-tunnels");
        Assert.True(summary.Ok, summary.ToJson());
        var azure = summary.Tunnels.Where(t => t.Node == "azure-gw").ToDictionary(t => t.Name);
        Assert.Equal(["home-rras1", "home-rras1-IN_1", "home-rras2", "home-rras2-IN_1"], azure.Keys.Order());
        Assert.Equal("203.0.113.10:4500", azure["home-rras1-IN_1"].Ike.RemoteEndpoint);
        Assert.Equal("198.51.100.10:4500", azure["home-rras2"].Ike.RemoteEndpoint);
        // 40 datagrams a flow, a flow on one tunnel and a tunnel for each flow (plus pings' answers and BGP).
        Assert.All(azure.Values, t => Assert.InRange(t.ChildSas.Single().PacketsOut, 40UL, 70UL));
        Assert.Equal(8, summary.Bgp!.Count(b => b.State == "Established"));
        // Both devices advertise the LAN from AS 65010; Azure passes neither's route to the other (its AS is in the path).
        Assert.All(summary.Bgp!.Where(b => b.Node == "azure-gw"), b => Assert.Equal(1u, b.RoutesReceived));
        Assert.Equal(4, summary.Bgp!.Count(b => b.Node == "azure-gw"));
        Assert.DoesNotContain(summary.BgpRoutes!, r => r.Node.StartsWith("rras", StringComparison.Ordinal) && r is { Direction: "learned", Network: "192.168.29.0/24" });
    }

    [Fact]
    public async Task Planned_maintenance_of_an_instance_loses_no_ping_of_either_device()
    {
        var summary = await Run("instance-maintenance");
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(0, Assert.Single(summary.Faults!).PingsLost);
        Assert.Equal(2, summary.Bgp!.Count(b => b.Node.StartsWith("rras", StringComparison.Ordinal) && b.LastError.Contains("Cease / Administrative Shutdown", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failed_device_costs_only_the_flows_in_its_tunnels_until_the_hold_timer()
    {
        var summary = await Run("device-failure");
        Assert.True(summary.Ok, summary.ToJson());
        var flows = summary.Udp!.Flows.OrderBy(f => f.To, StringComparer.Ordinal).ToList();
        Assert.Equal(4, flows.Count);
        // Two flows went through rras2's tunnels and lost nothing; two through rras1's lost about the hold time's worth
        // (15 s at this scale, 10 s after the failure, at 10 datagrams a second).
        Assert.Equal(2, flows.Count(f => f.Received == f.Sent));
        Assert.All(flows.Where(f => f.Received < f.Sent), f => Assert.InRange(f.Sent - f.Received, 50, 150));
        Assert.Contains(summary.Bgp!, b => b is { Node: "azure-gw", Name: "home-rras1" } && b.LastError.Contains("Hold Timer Expired", StringComparison.Ordinal));
        Assert.Equal(summary.Pings.Sent, summary.Pings.Received);
    }
}
