using Akka.Actor;
using Google.Protobuf;
using Nodes.Actors.Lab;
using Nodes.Messages;

namespace Nodes.Actors.Tests;

public class TunnelSpec : VirtualLabSpec
{
    private (LabActors Lab, TestKitProbe Pings) StartSeedLab(double timeScale = 1, uint count = 2, uint intervalMs = 1000)
    {
        var lab = Build(Topology("azure-s2s-rras.yaml", "default-gateway"), timeScale);
        var probe = CreateTestProbe();
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = count, IntervalMs = intervalMs, Size = 32 }, probe.Ref);
        return (lab, new TestKitProbe(probe));
    }

    public sealed record TestKitProbe(Akka.TestKit.TestProbe Probe);

    [Fact]
    public void Demand_dial_must_bring_the_tunnel_up_on_virtual_time_and_answer_the_pings()
    {
        var (lab, pings) = StartSeedLab();
        AdvanceUntil(() => pings.Probe.HasMessages && Logged("client", "2 sent, 2 received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "two answered pings");
        var azure = Status(lab.Nodes["azure-gw"]).Tunnels.Single();
        Assert.Equal("Connected", azure.State);
        Assert.True(azure.NatDetected);
        Assert.True(Logged("rras", "triggers demand-dial"));
    }

    [Fact]
    public void A_dead_peer_must_be_detected_by_the_azure_gateway_within_its_dpd_timeout()
    {
        var (lab, pings) = StartSeedLab();
        AdvanceUntil(() => Logged("client", "2 sent, 2 received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "tunnel up");
        // The home router's uplink dies: nothing from RRAS reaches Azure any more.
        lab.Links.Single(l => l.Key.Contains("isp-router:wan", StringComparison.Ordinal)).Value.Tell(new LinkActor.SetLinkUp(false));
        var before = Clock.Now;
        AdvanceUntil(() => Logged("azure-gw", "tunnel down"), TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(3), "Azure declares the peer dead");
        var after = Clock.Now - before;
        // Idle 15 s (DPD timeout / 3) before the first liveness check, then at most the 45 s DPD timeout.
        Assert.InRange(after.TotalSeconds, 15, 15 + 45 + 1);
        Assert.True(Logged("azure-gw", "dead peer"));
        Assert.Equal("NotConnected", Status(lab.Nodes["azure-gw"]).Tunnels.Single().State);
    }

    [Fact]
    public void Esp_through_the_tunnel_must_keep_the_liveness_check_away_until_it_stops()
    {
        // Azure checks a peer it has not heard from for 15 s; a ping a second through the tunnel is hearing from it.
        var (lab, _) = StartSeedLab(count: 40, intervalMs: 1000);
        AdvanceUntil(() => Logged("client", "40 sent, 40 received"), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(60), "40 pings answered");
        Assert.False(Logged("azure-gw", "liveness check"));
        Assert.False(Logged("rras", "liveness check"));
        AdvanceUntil(() => Logged("azure-gw", "liveness check"), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30), "Azure checks the silent peer");
        Assert.Equal("Connected", Status(lab.Nodes["azure-gw"]).Tunnels.Single().State);
    }

    [Fact]
    public void Child_and_ike_sas_must_rekey_under_traffic_without_losing_a_ping()
    {
        // time-scale 360: RRAS's 3,600 s Child SA lifetime becomes 10 s, its IKE SA's 28,800 s becomes 80 s.
        var (lab, pings) = StartSeedLab(timeScale: 360, count: 150, intervalMs: 1000);
        AdvanceUntil(() => Logged("client", "150 sent, 150 received"), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(200), "150 pings answered");
        // Make-before-break: nothing either gateway receives during the rekeys is unknown to it (old SAs stay until answered).
        Assert.Empty(Status(lab.Nodes["rras"]).Drops);
        Assert.Empty(Status(lab.Nodes["azure-gw"]).Drops);
        var rras = Status(lab.Nodes["rras"]).Tunnels.Single();
        Assert.True(rras.ChildRekeys >= 5, $"child rekeys: {rras.ChildRekeys}");
        Assert.True(rras.IkeRekeys >= 1, $"IKE rekeys: {rras.IkeRekeys}");
        Assert.Equal("Connected", rras.State);
        Assert.DoesNotContain(Events, e => e.Text.Contains("timed out", StringComparison.Ordinal));
    }

    [Fact]
    public void Malformed_frames_must_be_dropped_and_counted_without_restarting_the_gateway()
    {
        var (lab, _) = StartSeedLab();
        AdvanceUntil(() => Logged("client", "2 sent, 2 received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "tunnel up");
        var azure = lab.Nodes["azure-gw"];
        Watch(azure);
        var garbage = new byte[][]
        {
            [0x45, 0x00],                                                   // truncated IPv4
            [0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // not IPv4
        };
        foreach (var g in garbage)
            azure.Tell(new Frame { Link = "x", Node = "azure-gw", Interface = "internet", Packet = ByteString.CopyFrom(g) });
        var status = Status(azure);
        Assert.Equal(2UL, status.Drops.Single(d => d.Reason == "malformed").Count);
        Assert.Equal("Connected", status.Tunnels.Single().State);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}
