using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Actors.Tests;

/// <summary>What a ping costs the actor system once the tunnel is up: one mailbox delivery per node it passes.</summary>
public class DataPathSpec : VirtualLabSpec
{
    [Fact]
    public void A_ping_through_the_unimpaired_seed_lab_is_delivered_six_times_each_way()
    {
        var topology = Topology("azure-s2s-rras.yaml", "default-gateway");
        topology = topology with { Links = topology.Links.Select(l => l with { Impairments = ImpairmentSpec.None }).ToImmutableArray() };
        var lab = Build(topology);
        var probe = CreateTestProbe();
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32 }, probe.Ref);
        AdvanceUntil(() => Logged("client", "1 sent, 1 received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "the tunnel up and the first ping answered");

        var nodesBefore = lab.Nodes.ToDictionary(n => n.Key, n => Status(n.Value).FramesIn);
        var linksBefore = lab.Links.ToDictionary(l => l.Key, l => Status(l.Value).FramesIn);
        const int pings = 50;
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = pings, IntervalMs = 0, Size = 32, SummaryOnly = true }, probe.Ref);
        AdvanceUntil(() => Logged("client", $"{pings} sent, {pings} received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "the flood answered");

        // The journey passes rras, isp-router, internet, azure-gw, vnet-router and the VM, and back: twelve deliveries,
        // none of them for ESP alone (a gateway seals and opens within the turn that takes the frame).
        var delivered = lab.Nodes.ToDictionary(n => n.Key, n => Status(n.Value).FramesIn - nodesBefore[n.Key]);
        Assert.Equal((ulong)(pings * (global::Nodes.TestKit.SeedLab.PingVisits.Length - 1)), delivered.Values.Aggregate(0UL, (a, b) => a + b));
        foreach (var (node, count) in delivered) Assert.True(count == (node is "client" or "vm" ? pings : 2UL * pings), $"{node} took {count} frames for {pings} journeys");
        // Every link still counts each frame that crossed it (home-lan twice each way: client to RRAS, RRAS to the NAT),
        // whichever way it was handed over: one link crossing per delivery.
        var crossed = lab.Links.ToDictionary(l => l.Key, l => Status(l.Value).FramesIn - linksBefore[l.Key]);
        foreach (var (link, count) in crossed) Assert.True(count == (link.Contains("home-lan", StringComparison.Ordinal) ? 4UL : 2UL) * pings, $"{link} counted {count} frames for {pings} journeys");
        Assert.Equal(delivered.Values.Aggregate(0UL, (a, b) => a + b), crossed.Values.Aggregate(0UL, (a, b) => a + b));
    }
}
