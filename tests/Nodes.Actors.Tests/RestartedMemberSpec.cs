using Akka.Actor;
using Nodes.Messages;

namespace Nodes.Actors.Tests;

/// <summary>A member's process started again at its address is a restarted device: fresh random numbers, same seed.</summary>
public class RestartedMemberSpec : VirtualLabSpec
{
    private (ulong IkeSpi, uint ChildSpi) TunnelUp(int memberIncarnation)
    {
        var lab = Build(Topology("azure-s2s-rras.yaml", "default-gateway"), memberIncarnation: memberIncarnation);
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32 }, CreateTestProbe().Ref);
        AdvanceUntil(() => Logged("client", "1 sent, 1 received"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "the tunnel up");
        var tunnel = Status(lab.Nodes["azure-gw"]).Tunnels.Single();
        var result = (tunnel.ResponderSpi, tunnel.ChildSas.Single().InboundSpi);
        // The next lab uses the same actor names: wait until every actor of this one is gone.
        var gone = CreateTestProbe();
        var actors = lab.Nodes.Values.Concat(lab.Links.Values).ToList();
        foreach (var a in actors)
        {
            gone.Watch(a);
            Sys.Stop(a);
        }
        gone.ReceiveN(actors.Count, TimeSpan.FromSeconds(10));
        lock (Events) Events.Clear();
        return result;
    }

    [Fact]
    public void The_same_seed_repeats_the_gateways_numbers_and_a_later_incarnation_draws_others()
    {
        var first = TunnelUp(0);
        var again = TunnelUp(0);
        var restarted = TunnelUp(1);
        Assert.Equal(first, again);
        Assert.NotEqual(first.IkeSpi, restarted.IkeSpi);
        Assert.NotEqual(first.ChildSpi, restarted.ChildSpi);
    }
}
