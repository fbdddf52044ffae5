using Nodes.Wire.Ike;

namespace Nodes.Ike.Tests;

public class RekeyTests
{
    private static IkePair Established(IkeSaConfig? rras = null, IkeSaConfig? azure = null)
    {
        var pair = new IkePair(rras ?? IkePair.Rras(), azure ?? IkePair.Azure());
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        // Traffic both ways around every IKE message from now on: any gap in the switch-over loses a packet.
        pair.OnWire = _ => pair.PingBothWays();
        return pair;
    }

    private static void AssertTrafficFlowsWithoutLoss(IkePair pair)
    {
        for (var k = 0; k < 3; k++)
        {
            Assert.True(pair.SendEsp(fromInitiator: true));
            Assert.True(pair.SendEsp(fromInitiator: false));
        }
        Assert.Empty(pair.InitiatorPlane.Losses);
        Assert.Empty(pair.ResponderPlane.Losses);
    }

    private static IReadOnlyList<IkePair.Wired> IkeSince(IkePair pair, int from) => pair.Wire.Skip(from).Where(w => !w.Keepalive).ToList();

    private static ExchangeType Exchange(IkePair.Wired w) => IkeHeader.TryParse(w.Payload, out var h, out _) ? h.Exchange : 0;

    // CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni, TSi, TSr }  -->
    //                                                       <--  SK { SA, Nr, TSi, TSr }        (responder installs inbound first)
    //   initiator sends on the new SA
    // INFORMATIONAL SK { D(ESP, old inbound) }              -->
    //                                                       <--  SK { D(ESP, old inbound) }     (responder moves outbound to the new SA)
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Child_sa_rekey_must_make_before_break_without_losing_a_packet(bool rrasRekeys, bool pfs)
    {
        var esp = new[] { IkePair.EspP(pfs ? "aes256-sha1-modp1024" : "aes256-sha1") };
        using var pair = Established(IkePair.Rras(esp: esp), IkePair.Azure(esp: esp));
        AssertTrafficFlowsWithoutLoss(pair);
        var oldI = pair.Initiator.ChildSas.Single();
        var oldR = pair.Responder!.ChildSas.Single();
        var mark = pair.Wire.Count;
        var (rekeyer, other) = rrasRekeys ? (pair.Initiator, pair.Responder) : (pair.Responder, pair.Initiator);
        var rekeyerOutputs = rrasRekeys ? pair.InitiatorOutputs : pair.ResponderOutputs;

        rekeyer.RekeyChild(rekeyer.ChildSas.Single().InboundSpi, pair.Now);
        pair.Pump();

        var wire = IkeSince(pair, mark);
        Assert.Equal([ExchangeType.CreateChildSa, ExchangeType.CreateChildSa, ExchangeType.Informational, ExchangeType.Informational], wire.Select(Exchange));
        var newI = pair.Initiator.ChildSas.Single();
        var newR = pair.Responder.ChildSas.Single();
        Assert.NotEqual(oldI.InboundSpi, newI.InboundSpi);
        Assert.Equal(newI.InboundSpi, newR.OutboundSpi);
        Assert.Equal(newI.OutboundSpi, newR.InboundSpi);
        Assert.Equal(newI.OutboundEncryptionKey, newR.InboundEncryptionKey);
        Assert.NotEqual(oldI.OutboundEncryptionKey, newI.OutboundEncryptionKey);
        Assert.Equal(1, rekeyer.ChildRekeys);
        Assert.Equal(1, other.ChildRekeys);
        Assert.Contains(pair.InitiatorOutputs, o => o is ChildSaDown d && d.InboundSpi == oldI.InboundSpi);
        Assert.Contains(pair.ResponderOutputs, o => o is ChildSaDown d && d.InboundSpi == oldR.InboundSpi);
        if (pfs) Assert.Contains(rekeyerOutputs, o => o is IkeEvent { Name: "rekey Child SA" } e && e.Detail.Contains("with PFS MODP1024"));
        else Assert.DoesNotContain(rekeyerOutputs, o => o is IkeEvent { Name: "rekey Child SA" } e && e.Detail.Contains("PFS"));
        Assert.Equal([newI.InboundSpi], pair.InitiatorPlane.InboundSpis);
        Assert.Equal([newR.InboundSpi], pair.ResponderPlane.InboundSpis);
        Assert.True(pair.InitiatorPlane.Delivered + pair.ResponderPlane.Delivered >= 2 * 4);
        AssertTrafficFlowsWithoutLoss(pair);
        Assert.True(pair.ResponderPlane.ReceivedOn(newR.InboundSpi) >= 3);
    }

    // RFC 7296 section 2.8.1, both sides rekey the same Child SA at once:
    // CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni, TSi, TSr }  -->   <--  CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni', TSi, TSr }
    //   each answers the other's request          <->
    //   the new SA made with the lowest nonce is deleted by its creator; the other side deletes the old SA.
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void Simultaneous_child_rekey_must_leave_exactly_one_new_sa_on_both_sides(ulong seed)
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure(), seed: seed);
        pair.Start();
        pair.OnWire = _ => pair.PingBothWays();
        var old = pair.Initiator.ChildSas.Single();

        pair.Initiator.RekeyChild(old.InboundSpi, pair.Now);
        pair.Responder!.RekeyChild(old.OutboundSpi, pair.Now);
        pair.Pump();

        var i = Assert.Single(pair.Initiator.ChildSas);
        var r = Assert.Single(pair.Responder.ChildSas);
        Assert.Equal(i.InboundSpi, r.OutboundSpi);
        Assert.Equal(i.OutboundSpi, r.InboundSpi);
        Assert.NotEqual(old.InboundSpi, i.InboundSpi);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeEvent { Name: "rekey collision" });
        Assert.Contains(pair.ResponderOutputs, o => o is IkeEvent { Name: "rekey collision" });
        // Three SAs existed on each side (old, ours, theirs); two went down.
        Assert.Equal(3, pair.InitiatorOutputs.OfType<ChildSaUp>().Count());
        Assert.Equal(2, pair.InitiatorOutputs.OfType<ChildSaDown>().Count());
        Assert.Equal(2, pair.ResponderOutputs.OfType<ChildSaDown>().Count());
        Assert.Equal([i.InboundSpi], pair.InitiatorPlane.InboundSpis);
        Assert.Equal(i.InboundSpi, pair.InitiatorPlane.Sending);
        Assert.Equal(r.InboundSpi, pair.ResponderPlane.Sending);
        AssertTrafficFlowsWithoutLoss(pair);
    }

    // CREATE_CHILD_SA SK { SA(IKE, new SPIi), Ni, KEi }  -->
    //                                                     <--  SK { SA(IKE, new SPIr), Nr, KEr }
    //   both move to the new SPIs; keys from the old SK_d; message IDs restart at 0
    // INFORMATIONAL (old SPIs) SK { D(IKE) }              -->
    //                                                     <--  SK { }
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ike_sa_rekey_must_move_to_new_spis_and_keys_keep_child_sas_and_delete_the_old_sa(bool rrasRekeys)
    {
        using var pair = Established();
        var (oldSpiI, oldSpiR) = (pair.Initiator.InitiatorSpi, pair.Initiator.ResponderSpi);
        var oldSkD = pair.Initiator.ExportKeysForCapture()!.Value.Keys.SkD.Expose().ToArray();
        var child = pair.Initiator.ChildSas.Single();
        var mark = pair.Wire.Count;

        (rrasRekeys ? pair.Initiator : pair.Responder!).RekeyIke(pair.Now);
        pair.Pump();

        var i = pair.Initiator;
        var r = pair.Responder!;
        Assert.Equal((i.InitiatorSpi, i.ResponderSpi), (r.InitiatorSpi, r.ResponderSpi));
        Assert.NotEqual(oldSpiI, i.InitiatorSpi);
        Assert.NotEqual(oldSpiR, i.ResponderSpi);
        Assert.Equal(rrasRekeys, i.IsOriginalInitiator);
        Assert.Equal(!rrasRekeys, r.IsOriginalInitiator);
        Assert.Equal(1, i.IkeRekeys);
        Assert.Equal(1, r.IkeRekeys);
        Assert.Null(i.RetiringSpis);
        Assert.Null(r.RetiringSpis);
        var newKeys = i.ExportKeysForCapture()!.Value.Keys;
        Assert.Equal(newKeys.SkD, r.ExportKeysForCapture()!.Value.Keys.SkD);
        Assert.False(oldSkD.AsSpan().SequenceEqual(newKeys.SkD.Expose()));
        Assert.Equal(child.InboundSpi, i.ChildSas.Single().InboundSpi);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeSpisChanged c && c.OldInitiatorSpi == oldSpiI && c.NewInitiatorSpi == i.InitiatorSpi);

        var wire = IkeSince(pair, mark);
        Assert.Equal([ExchangeType.CreateChildSa, ExchangeType.CreateChildSa, ExchangeType.Informational, ExchangeType.Informational], wire.Select(Exchange));
        Assert.True(IkeHeader.TryParse(wire[2].Payload, out var delete, out _));
        Assert.Equal((oldSpiI, oldSpiR), (delete.InitiatorSpi, delete.ResponderSpi));
        // The answer to that DELETE is expected: the old SA stays until it arrives, so nothing is dropped as unknown.
        Assert.DoesNotContain(pair.InitiatorOutputs.Concat(pair.GatewayOutputs).Concat(pair.ResponderOutputs), o => o is IkeDropped);
        var deleter = rrasRekeys ? pair.InitiatorOutputs : pair.ResponderOutputs;
        Assert.Contains(deleter, o => o is IkeExchangeDone { Purpose: IkePurpose.DeleteIkeSa, WeInitiated: true, Succeeded: true });

        // The new SA works: message IDs start again at 0 with a liveness check from the RRAS side.
        mark = pair.Wire.Count;
        i.CheckLiveness(pair.Now);
        pair.Pump();
        var dpd = IkeSince(pair, mark);
        Assert.Equal(2, dpd.Count);
        Assert.True(IkeHeader.TryParse(dpd[0].Payload, out var h, out _));
        Assert.Equal(i.InitiatorSpi, h.InitiatorSpi);
        Assert.Equal(0u, h.MessageId);
        Assert.Equal(IkeSaState.Established, r.State);
        AssertTrafficFlowsWithoutLoss(pair);
    }

    // INFORMATIONAL (old SPIs) SK { D(IKE) }  -->  (lost, or answered by someone without the old keys)
    //   the old SA is retired when its answer would have been retransmitted, never on a forged answer.
    [Fact]
    public void A_lost_or_forged_answer_to_the_old_ike_sa_delete_must_retire_it_only_when_its_time_is_up()
    {
        using var pair = Established();
        var (oldSpiI, oldSpiR) = (pair.Initiator.InitiatorSpi, pair.Initiator.ResponderSpi);
        pair.Drop = w => IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == ExchangeType.Informational && h.IsResponse;
        pair.Initiator.RekeyIke(pair.Now);
        pair.Pump();
        Assert.Equal((oldSpiI, oldSpiR), pair.Initiator.RetiringSpis);

        // A forged answer: the lost answer's SPIs and message ID, its integrity check value altered.
        var lost = pair.Wire.Last(w => !w.Delivered);
        var forged = (byte[])lost.Payload.Clone();
        forged[^1] ^= 0x01;
        pair.Initiator.TakeOutputs();
        pair.Initiator.Receive(forged, lost.From, IkePair.RrasLan with { Port = 4500 }, pair.Now);
        Assert.Equal((oldSpiI, oldSpiR), pair.Initiator.RetiringSpis);
        Assert.Contains(pair.Initiator.TakeOutputs(), o => o is IkeDropped { Reason: IkeDropReason.Integrity });

        var deadline = pair.Initiator.NextDeadline;
        Assert.NotNull(deadline);
        Assert.True(deadline <= pair.Now + RetransmitPolicy.Default.Timeout);
        pair.Initiator.Tick(pair.Now + RetransmitPolicy.Default.Timeout);
        Assert.Null(pair.Initiator.RetiringSpis);
        Assert.Contains(pair.Initiator.TakeOutputs(), o => o is IkeEvent { Kind: IkeEventKind.OldIkeSaRetired });
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
    }

    // CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni, TSi, TSr } -->   <-- CREATE_CHILD_SA SK { SA(IKE), Ni, KEi }
    //   RRAS, rekeying a Child SA, answers the IKE rekey with N(TEMPORARY_FAILURE) (RFC 7296 section 2.25.2);
    //   Azure retries a few seconds later and succeeds.
    [Fact]
    public void Ike_rekey_during_a_child_rekey_must_get_temporary_failure_and_succeed_on_retry()
    {
        using var pair = Established();
        var child = pair.Initiator.ChildSas.Single();
        pair.Initiator.RekeyChild(child.InboundSpi, pair.Now);
        pair.Responder!.RekeyIke(pair.Now);
        pair.Pump();

        Assert.Contains(pair.ResponderOutputs, o => o is IkeEvent { Name: "rekey postponed" } e && e.Detail.Contains("TEMPORARY_FAILURE"));
        Assert.Equal(0, pair.Responder.IkeRekeys);
        Assert.Equal(1, pair.Initiator.ChildRekeys);

        pair.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(1, pair.Responder.IkeRekeys);
        Assert.Equal(1, pair.Initiator.IkeRekeys);
        Assert.Single(pair.Initiator.ChildSas);
        Assert.Single(pair.Responder.ChildSas);
        Assert.DoesNotContain(pair.InitiatorOutputs.Concat(pair.ResponderOutputs), o => o is IkeFailure);
        AssertTrafficFlowsWithoutLoss(pair);
    }

    [Fact]
    public void Simultaneous_ike_rekey_must_settle_on_one_rekeyed_sa()
    {
        using var pair = Established();
        pair.Initiator.RekeyIke(pair.Now);
        pair.Responder!.RekeyIke(pair.Now);
        pair.Pump();
        pair.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, pair.Initiator.IkeRekeys);
        Assert.Equal(1, pair.Responder.IkeRekeys);
        Assert.Equal((pair.Initiator.InitiatorSpi, pair.Initiator.ResponderSpi), (pair.Responder.InitiatorSpi, pair.Responder.ResponderSpi));
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        AssertTrafficFlowsWithoutLoss(pair);
    }

    [Fact]
    public void Child_sa_must_rekey_when_the_data_plane_reports_the_soft_byte_limit()
    {
        var rras = IkePair.Rras() with { Lifetimes = Lifetimes.Rras with { ChildRekeyBytes = 4096 } };
        using var pair = Established(rras);
        var first = pair.Initiator.ChildSas.Single();
        Assert.InRange(first.SoftLimitBytes, (long)(4096 * 0.9), 4096);
        for (var k = 0; k < 70 && pair.Initiator.ChildRekeys == 0; k++) Assert.True(pair.SendEsp(fromInitiator: true, size: 64));
        Assert.Equal(1, pair.Initiator.ChildRekeys);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeEvent { Name: "Child SA soft limit" });
        Assert.NotEqual(first.InboundSpi, pair.Initiator.ChildSas.Single().InboundSpi);
        AssertTrafficFlowsWithoutLoss(pair);
    }

    [Fact]
    public void Lifetimes_must_rekey_with_jitter_before_the_soft_time_and_expire_at_the_hard_time_when_rekeys_fail()
    {
        using var pair = Established();
        var start = pair.Now;
        var first = pair.Initiator.ChildSas.Single();
        pair.Advance(TimeSpan.FromSeconds(3_600));
        var rekeyAt = pair.InitiatorOutputs.OfType<IkeEvent>().First(e => e.Name == "rekey Child SA");
        Assert.Equal(1, pair.Initiator.ChildRekeys);
        var rekeyTime = pair.Wire.First(w => Exchange(w) == ExchangeType.CreateChildSa).At - start;
        Assert.InRange(rekeyTime.TotalSeconds, 3_240, 3_600);
        Assert.NotNull(rekeyAt);

        // Now the peer stops answering CREATE_CHILD_SA: the IKE SA gives up on the exchange and closes.
        pair.Drop = w => w.From.Address == IkePair.AzureGw.Address;
        pair.Advance(TimeSpan.FromSeconds(4_000));
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.DoesNotContain(pair.Initiator.ChildSas, c => c.InboundSpi == first.InboundSpi);
    }
}
