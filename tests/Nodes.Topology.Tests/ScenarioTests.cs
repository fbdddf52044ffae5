using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Tests;

public class ScenarioTests
{
    private static TopologySpec Seed => TopologyLoader.Load(Path.Combine(Labs.Folder, "azure-s2s-rras.yaml")).Topology!;

    [Fact]
    public void Scenario_selection_must_prefer_the_default_then_the_name()
    {
        var lab = Seed;
        Assert.True(lab.TrySelectScenario(null, out var s, out _));
        Assert.Equal("default-gateway", s!.Name);
        Assert.True(lab.TrySelectScenario("static-route", out s, out _));
        Assert.Equal("static-route", s!.Name);
        Assert.False(lab.TrySelectScenario("nope", out _, out var error));
        Assert.StartsWith("topology 'azure-s2s-rras' has no scenario 'nope' (it has: default-gateway, static-route, udp-load, nat-rebind, ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_scenarios_must_differ_only_in_how_the_client_reaches_rras()
    {
        var lab = Seed;
        lab.TrySelectScenario("default-gateway", out var dg, out _);
        lab.TrySelectScenario("static-route", out var sr, out _);
        var viaDefault = (HostSpec)lab.ForScenario(dg!).FindNode("client")!;
        var viaRoute = (HostSpec)lab.ForScenario(sr!).FindNode("client")!;
        Assert.Equal(Ipv4Address.Parse("192.168.29.52"), viaDefault.DefaultGateway);
        Assert.Empty(viaDefault.Routes);
        Assert.Equal(Ipv4Address.Parse("192.168.29.1"), viaRoute.DefaultGateway);
        var route = Assert.Single(viaRoute.Routes);
        Assert.Equal((Ipv4Prefix.Parse("10.0.10.0/24"), Ipv4Address.Parse("192.168.29.52")), (route.Destination, route.NextHop));
        foreach (var s in new[] { dg!, sr! })
        {
            var ping = Assert.IsType<PingSpec>(Assert.Single(s.Traffic));
            Assert.Equal((Ipv4Address.Parse("10.0.10.4"), 4, 32), (ping.To, ping.Count, ping.Size));
            Assert.Equal(CountComparison.All, s.Expect.PingsAnswered!.Comparison);
            var tunnel = Assert.Single(s.Expect.Tunnels);
            Assert.Equal((TunnelState.Connected, (bool?)true), (tunnel.State, tunnel.NatDetected));
        }
    }

    [Fact]
    public void Bad_override_must_be_validated_in_its_scenario()
    {
        var text = File.ReadAllText(Path.Combine(Labs.Folder, "azure-s2s-rras.yaml"))
            .Replace("client: { default-gateway: 192.168.29.52 }", "client: { default-gateway: 192.168.29.99 }", StringComparison.Ordinal);
        var result = TopologyLoader.LoadFromString(text, "seed.yaml");
        // Most scenarios of the seed lab make RRAS the client's gateway; each reports the broken override as its own.
        const string problem = "default gateway 192.168.29.99 of node 'client' leads nowhere: no node on link 'home-lan' has address 192.168.29.99";
        var messages = result.Diagnostics.Select(d => d.Message).ToList();
        Assert.All(messages, m => Assert.StartsWith($"{problem} (in scenario '", m, StringComparison.Ordinal));
        Assert.Contains($"{problem} (in scenario 'default-gateway')", messages);
        Assert.Contains($"{problem} (in scenario 'udp-load')", messages);
        Assert.Contains($"{problem} (in scenario 'nat-rebind')", messages);
        Assert.DoesNotContain(messages, m => m.Contains("'static-route'", StringComparison.Ordinal));
        Assert.Equal(messages.Count, messages.Distinct().Count());
    }

    [Fact]
    public void Count_expectation_must_compare_as_written()
    {
        var at = new SourceLocation("x", 1, 1);
        Assert.True(new CountExpectation(CountComparison.All, 0, "all", at).IsSatisfiedBy(4, 4));
        Assert.False(new CountExpectation(CountComparison.All, 0, "all", at).IsSatisfiedBy(3, 4));
        Assert.True(new CountExpectation(CountComparison.AtLeast, 3, ">= 3", at).IsSatisfiedBy(3, 4));
        Assert.False(new CountExpectation(CountComparison.AtLeast, 3, ">= 3", at).IsSatisfiedBy(2, 4));
    }

    [Fact]
    public void Netem_values_must_keep_number_and_text()
    {
        var link = Seed.Links.Single(l => l.Name == "isp-router:wan--internet:home");
        Assert.Equal((TimeSpan.FromMilliseconds(8), "8ms"), (link.Impairments.Delay!.Value, link.Impairments.Delay.Text));
        Assert.Equal(TimeSpan.FromMilliseconds(2), link.Impairments.Jitter!.Value);
    }
}
