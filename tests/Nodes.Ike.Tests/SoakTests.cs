namespace Nodes.Ike.Tests;

public class SoakTests
{
    // 24 simulated hours: RRAS (Child 3,600 s, IKE 28,800 s) behind the NAT, Azure (Child 27,000 s, IKE 28,800 s),
    // one small packet each way every 10 s through the ESP SAs the engines install and remove.
    [Fact]
    public void A_day_of_traffic_must_rekey_every_sa_in_time_and_lose_no_packet()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure() with { Lifetimes = Lifetimes.Azure });
        pair.Start();
        var start = pair.Now;
        var sent = 0;
        while (pair.Now - start < TimeSpan.FromHours(24))
        {
            pair.Advance(TimeSpan.FromSeconds(10));
            Assert.True(pair.SendEsp(fromInitiator: true, size: 100), string.Join("; ", pair.InitiatorPlane.Losses));
            Assert.True(pair.SendEsp(fromInitiator: false, size: 100), string.Join("; ", pair.ResponderPlane.Losses));
            sent += 2;
        }

        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        Assert.Equal(0, pair.InitiatorPlane.Lost + pair.ResponderPlane.Lost);
        Assert.Equal(sent, pair.InitiatorPlane.Delivered + pair.ResponderPlane.Delivered);
        // RRAS's Child SAs are rekeyed every 3,240-3,600 s (10% jitter): 24 to 26 times a day; Azure's longer
        // lifetime never runs out because each rekey starts it again.
        Assert.InRange(pair.Initiator.ChildRekeys, 24, 26);
        Assert.Equal(pair.Initiator.ChildRekeys, pair.Responder.ChildRekeys);
        // IKE SAs: 28,800 s less jitter on both sides, whoever is first: 3 in 24 h.
        Assert.Equal(3, pair.Initiator.IkeRekeys);
        Assert.Equal(3, pair.Responder.IkeRekeys);
        Assert.DoesNotContain(pair.InitiatorOutputs.Concat(pair.ResponderOutputs), o => o is IkeFailure);
        Assert.All(pair.InitiatorOutputs.Concat(pair.ResponderOutputs).OfType<IkeExchangeDone>(), d => Assert.True(d.Succeeded, d.ToString()));
        Assert.Single(pair.Initiator.ChildSas);
        Assert.Single(pair.Responder.ChildSas);
        Assert.Single(pair.Gateway.Sas);
    }
}
