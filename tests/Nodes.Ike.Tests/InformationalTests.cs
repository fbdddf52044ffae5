using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike.Tests;

public class InformationalTests
{
    private static IkePair Established(IkeSaConfig? rras = null)
    {
        var pair = new IkePair(rras ?? IkePair.Rras(), IkePair.Azure());
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        return pair;
    }

    private static List<IkePair.Wired> Ike(IkePair pair, int from) => pair.Wire.Skip(from).Where(w => !w.Keepalive).ToList();

    private static IkeHeader Header(IkePair.Wired w)
    {
        Assert.True(IkeHeader.TryParse(w.Payload, out var h, out _));
        return h;
    }

    /// <summary>An SK message sealed with the initiator's real keys around <paramref name="innerChain"/>: authentic, whatever it contains.</summary>
    private static byte[] SealAsInitiator(IkePair pair, ExchangeType exchange, uint messageId, IkePayloadType firstInner, byte[] innerChain)
    {
        var (suite, keys) = pair.Initiator.ExportKeysForCapture()!.Value;
        var c = suite.Cipher;
        var buffer = new byte[SkMessage.SealedLength(innerChain.Length, c.IvLength, c.BlockSize, c.IcvLength)];
        Assert.True(SkMessage.TryLayout(pair.Initiator.InitiatorSpi, pair.Initiator.ResponderSpi, exchange, IkeFlags.Initiator, messageId, firstInner, innerChain,
            c.IvLength, c.BlockSize, c.IcvLength, buffer, out var s, out _, out _));
        using var protection = c.CreateProtection(keys.SkEi, keys.SkAi);
        protection.Seal(s.Aad, s.Iv, s.Body, s.Icv);
        return buffer;
    }

    // The responder goes silent. After the idle delay (30 s):
    // INFORMATIONAL SK { }  -->   (4 s)  -->   (7.2 s)  -->   (13 s)  -->   ... given up within Azure's 45 s DPD timeout
    [Fact]
    public void Dead_peer_detection_must_probe_after_the_idle_delay_retransmit_and_close_everything_within_45_seconds()
    {
        using var pair = Established();
        var start = pair.Now;
        var mark = pair.Wire.Count;
        pair.Drop = w => w.From.Address == IkePair.AzureGw.Address;
        pair.Advance(TimeSpan.FromSeconds(120));

        var probes = Ike(pair, mark).Where(w => w.To.Address == IkePair.AzureGw.Address).ToList();
        Assert.All(probes, p => Assert.Equal(ExchangeType.Informational, Header(p).Exchange));
        Assert.All(probes, p => Assert.Equal(Header(probes[0]).MessageId, Header(p).MessageId));
        Assert.Equal([30.0, 34.0, 41.2, 54.16], probes.Select(p => Math.Round((p.At - start).TotalSeconds, 2)));
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        var closed = pair.InitiatorOutputs.OfType<IkeStateChange>().Last();
        Assert.Equal(IkeSaState.Closed, closed.To);
        Assert.Equal("dead peer: liveness check unanswered", closed.Reason);
        var down = Assert.Single(pair.InitiatorOutputs.OfType<ChildSaDown>());
        Assert.Equal("dead peer: liveness check unanswered", down.Reason);
        var done = pair.InitiatorOutputs.OfType<IkeExchangeDone>().Last();
        Assert.False(done.Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(45), done.Ended - done.Started);
    }

    [Fact]
    public void Liveness_check_must_not_be_sent_while_esp_arrives_and_must_be_answered_by_a_live_peer()
    {
        using var pair = Established();
        var mark = pair.Wire.Count;
        for (var k = 0; k < 6; k++)
        {
            pair.Advance(TimeSpan.FromSeconds(10));
            Assert.True(pair.SendEsp(fromInitiator: false));
            Assert.True(pair.SendEsp(fromInitiator: true));
        }
        Assert.Empty(Ike(pair, mark));
        pair.Advance(TimeSpan.FromSeconds(31));
        var check = Ike(pair, mark);
        Assert.True(check.Count >= 2);
        Assert.Equal(ExchangeType.Informational, Header(check[0]).Exchange);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeEvent { Name: "peer alive" });
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeExchangeDone { Purpose: IkePurpose.LivenessCheck, PhaseName: "IKE INFORMATIONAL", Succeeded: true });
    }

    // IKE_SA_INIT -->  (no answer) 4 s --> 7.2 s --> 12.96 s --> 23.33 s --> 41.99 s --> give up after 165.06 s
    [Fact]
    public void Retransmission_must_back_off_exponentially_and_give_up()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        pair.Drop = w => w.From.Address == IkePair.AzureGw.Address;
        var start = pair.Now;
        pair.Start();
        pair.Advance(TimeSpan.FromSeconds(200));
        var sends = pair.Wire.Where(w => w.To.Address == IkePair.AzureGw.Address).Select(w => Math.Round((w.At - start).TotalSeconds, 2)).ToList();
        Assert.Equal([0, 4, 11.2, 24.16, 47.49, 89.48], sends);
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        var closed = pair.InitiatorOutputs.OfType<IkeStateChange>().Last();
        Assert.Equal("no answer to IKE_SA_INIT", closed.Reason);
        var done = pair.InitiatorOutputs.OfType<IkeExchangeDone>().Last();
        Assert.Equal(165.06, Math.Round((done.Ended - start).TotalSeconds, 2));
        Assert.Equal(5, pair.InitiatorOutputs.OfType<IkeEvent>().Count(e => e.Name == "retransmit"));
    }

    // CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni, TSi, TSr } -->     <-- SK { SA, Nr, TSi, TSr }   (lost)
    // (4 s) the same request again                         -->     <-- the cached response, byte for byte
    [Fact]
    public void Retransmitted_request_must_get_the_cached_response_byte_for_byte_and_be_processed_once()
    {
        using var pair = Established();
        var dropped = 0;
        pair.Drop = w => w.From.Address == IkePair.AzureGw.Address && Header(w).Exchange == ExchangeType.CreateChildSa && dropped++ == 0;
        var mark = pair.Wire.Count;
        pair.Initiator.RekeyChild(pair.Initiator.ChildSas.Single().InboundSpi, pair.Now);
        pair.Pump();
        Assert.Equal(0, pair.Initiator.ChildRekeys);
        pair.Advance(TimeSpan.FromSeconds(5));

        var ccs = Ike(pair, mark).Where(w => Header(w).Exchange == ExchangeType.CreateChildSa).ToList();
        Assert.Equal(4, ccs.Count);
        Assert.Equal(ccs[0].Payload, ccs[2].Payload); // the request, retransmitted unchanged
        Assert.Equal(ccs[1].Payload, ccs[3].Payload); // the response, resent from the cache
        Assert.False(ccs[1].Delivered);
        Assert.Equal(1, pair.Responder!.ChildRekeys);
        Assert.Equal(1, pair.Initiator.ChildRekeys);
        Assert.Equal(2, pair.ResponderOutputs.OfType<ChildSaUp>().Count()); // the first SA and one rekeyed SA, not two
        Assert.Contains(pair.ResponderOutputs, o => o is IkeEvent { Name: "request retransmitted by peer" });
        Assert.Single(pair.Responder.ChildSas);
    }

    [Fact]
    public void Requests_outside_the_message_id_window_must_be_dropped_without_an_answer()
    {
        using var pair = Established();
        pair.Initiator.CheckLiveness(pair.Now);
        pair.Pump();
        pair.Initiator.CheckLiveness(pair.Now);
        pair.Pump();
        var old = pair.Wire.Where(w => w.To.Address == IkePair.AzureGw.Address && Header(w).Exchange == ExchangeType.Informational).First();
        Assert.Equal(2u, Header(old).MessageId);
        var mark = pair.Wire.Count;
        // Message ID 2 was answered and 3 is the last one: 2 is outside the window of one.
        pair.Inject(old.Payload, old.From, old.To);
        Assert.Single(Ike(pair, mark));
        Assert.Contains(pair.ResponderOutputs, o => o is IkeDropped { Reason: IkeDropReason.MessageId } e && e.Detail == "request with message ID 2, expected 4");
        // A request from the future (ID 9) authenticates but is dropped too.
        var future = SealAsInitiator(pair, ExchangeType.Informational, 9, IkePayloadType.None, []);
        pair.Inject(future, old.From, old.To);
        Assert.Contains(pair.ResponderOutputs, o => o is IkeDropped { Reason: IkeDropReason.MessageId } e && e.Detail == "request with message ID 9, expected 4");
        Assert.Equal(2, Ike(pair, mark).Count);
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
    }

    // INFORMATIONAL SK { <a Delete payload whose length runs past the end> } -->   (authentic, unparsable)
    //                                                                        <--  SK { N(INVALID_SYNTAX) }
    [Fact]
    public void Authenticated_but_unparsable_request_must_get_invalid_syntax()
    {
        using var pair = Established();
        var to = pair.Responder!.Local;
        var from = pair.Responder.Remote;
        // Generic payload header claiming 40 bytes, followed by 4.
        var garbage = new byte[] { 0, 0, 0, 40, 1, 4, 0, 0 };
        var forged = SealAsInitiator(pair, ExchangeType.Informational, 2, IkePayloadType.Delete, garbage);
        var mark = pair.Wire.Count;
        pair.Inject(forged, from, to);
        var reply = Assert.Single(Ike(pair, mark).Skip(1));
        Assert.True(Header(reply).IsResponse);
        var failure = pair.ResponderOutputs.OfType<IkeFailure>().Single();
        Assert.Equal(NotifyType.InvalidSyntax, failure.Notify);
        Assert.Equal("INVALID_SYNTAX: the peer's Informational request did not parse after decryption", failure.ToString());
    }

    // INFORMATIONAL SK { <unparsable> } -->  <-- SK { N(INVALID_SYNTAX) }        (the peer's request, refused)
    //                        <-- SK { }      -->  SK { }                          (then our own liveness check)
    // Refusing a request of the peer's is the peer's exchange; it must not mark the next exchange of ours as failed.
    [Fact]
    public void A_refused_request_of_the_peer_must_not_make_our_next_exchange_fail()
    {
        using var pair = Established();
        var responder = pair.Responder!;
        var garbage = new byte[] { 0, 0, 0, 40, 1, 4, 0, 0 };
        pair.Inject(SealAsInitiator(pair, ExchangeType.Informational, 2, IkePayloadType.Delete, garbage), responder.Remote, responder.Local);
        Assert.Contains(pair.ResponderOutputs, o => o is IkeFailure { Notify: NotifyType.InvalidSyntax });
        var mark = pair.ResponderOutputs.Count;

        responder.CheckLiveness(pair.Now);
        pair.Pump();

        var done = Assert.Single(pair.ResponderOutputs.Skip(mark).OfType<IkeExchangeDone>(), d => d.WeInitiated);
        Assert.Equal(IkePurpose.LivenessCheck, done.Purpose);
        Assert.True(done.Succeeded, done.Error);
        Assert.Null(done.Error);
    }

    // INFORMATIONAL SK { N(INVALID_SPI, 0xdeadbeef) } -->   <-- SK { }
    [Fact]
    public void Invalid_spi_must_be_reported_to_the_peer_in_a_protected_informational()
    {
        using var pair = Established();
        pair.Initiator.ReportInvalidSpi(0xdeadbeef, pair.Now);
        pair.Pump();
        var e = pair.ResponderOutputs.OfType<IkeEvent>().Single(x => x.Name == "peer reports INVALID_SPI");
        Assert.Equal("0xdeadbeef", e.Detail);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeExchangeDone { Purpose: IkePurpose.ReportInvalidSpi, Succeeded: true });
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
    }

    // INFORMATIONAL SK { D(ESP, spi) } -->   <-- SK { D(ESP, paired spi) }
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Child_sa_delete_must_remove_the_pair_on_both_sides(bool rrasDeletes)
    {
        using var pair = Established();
        var sa = rrasDeletes ? pair.Initiator : pair.Responder!;
        sa.DeleteChild(sa.ChildSas.Single().InboundSpi, pair.Now);
        pair.Pump();
        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Empty(pair.Responder!.ChildSas);
        Assert.Single(pair.InitiatorOutputs.OfType<ChildSaDown>());
        Assert.Single(pair.ResponderOutputs.OfType<ChildSaDown>());
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.False(pair.SendEsp(fromInitiator: true));
    }

    // INFORMATIONAL SK { D(ESP, a) } -->   <-- INFORMATIONAL SK { D(ESP, b) }   (both at once, RFC 7296 section 1.4.1)
    //                                <->   each answers with an empty Delete list: the SA is already going
    [Fact]
    public void Simultaneous_child_sa_deletes_must_both_complete()
    {
        using var pair = Established();
        pair.Initiator.DeleteChild(pair.Initiator.ChildSas.Single().InboundSpi, pair.Now);
        pair.Responder!.DeleteChild(pair.Responder.ChildSas.Single().InboundSpi, pair.Now);
        pair.Pump();
        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Empty(pair.Responder.ChildSas);
        Assert.Single(pair.InitiatorOutputs.OfType<ChildSaDown>());
        Assert.Single(pair.ResponderOutputs.OfType<ChildSaDown>());
        Assert.Equal(2, pair.InitiatorOutputs.OfType<IkeExchangeDone>().Count(d => d.Purpose == IkePurpose.DeleteChildSa && d.Succeeded));
    }

    // INFORMATIONAL SK { D(IKE) } -->   <-- SK { }
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Ike_sa_delete_must_close_both_sides_and_their_child_sas(bool rrasDeletes, bool simultaneous)
    {
        using var pair = Established();
        if (rrasDeletes || simultaneous) pair.Initiator.Delete(pair.Now);
        if (!rrasDeletes || simultaneous) pair.Responder!.Delete(pair.Now);
        pair.Pump();
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.Equal(IkeSaState.Closed, pair.Responder!.State);
        Assert.Single(pair.InitiatorOutputs.OfType<ChildSaDown>());
        Assert.Single(pair.ResponderOutputs.OfType<ChildSaDown>());
        Assert.Empty(pair.Gateway.Sas);
        Assert.DoesNotContain(pair.InitiatorOutputs.Concat(pair.ResponderOutputs), o => o is IkeFailure);
    }

    [Fact]
    public void Tampered_or_forged_messages_must_change_nothing()
    {
        using var pair = Established();
        IkePair.Wired? held = null;
        pair.Drop = w => { if (held is null && Header(w).Exchange == ExchangeType.CreateChildSa) { held = w; return true; } return false; };
        pair.Initiator.RekeyChild(pair.Initiator.ChildSas.Single().InboundSpi, pair.Now);
        pair.Pump();
        Assert.NotNull(held);
        var before = (pair.Responder!.ChildSas.Single().InboundSpi, pair.Responder.ChildRekeys, pair.ResponderOutputs.Count(o => o is IkeSend));
        var outputsBefore = pair.ResponderOutputs.Count;
        // Flip one byte inside the SK payload's encrypted body, then one in the header's message ID.
        foreach (var offset in new[] { held!.Payload.Length - 20, 23 })
        {
            var tampered = (byte[])held.Payload.Clone();
            tampered[offset] ^= 0x01;
            pair.Inject(tampered, new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.66"), 4500), held.To);
        }
        Assert.Equal(before, (pair.Responder.ChildSas.Single().InboundSpi, pair.Responder.ChildRekeys, pair.ResponderOutputs.Count(o => o is IkeSend)));
        Assert.Equal(held.From, pair.Responder.Remote);
        var after = pair.ResponderOutputs.Skip(outputsBefore).ToList();
        Assert.DoesNotContain(after, o => o is IkePeerEndpointChanged or ChildSaUp or IkeSend or IkeStateChange);
        Assert.Contains(after, o => o is IkeDropped { Reason: IkeDropReason.Integrity } e && e.Detail.Contains("integrity"));

        // The genuine retransmission still works afterwards.
        pair.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, pair.Responder.ChildRekeys);
    }

    // The NAT forgets RRAS's mapping. RRAS's next protected message leaves from a new external port; Azure, not behind a
    // NAT, follows it (RFC 7296 section 2.23). An unauthenticated packet from yet another port moves nothing.
    [Fact]
    public void Nat_rebinding_must_move_the_responder_to_the_new_port_only_on_an_authenticated_message()
    {
        using var pair = Established();
        var old = pair.Responder!.Remote;
        var changesBefore = pair.ResponderOutputs.OfType<IkePeerEndpointChanged>().Count();
        pair.RebindNat();

        var forged = SealAsInitiator(pair, ExchangeType.Informational, 2, IkePayloadType.None, []);
        forged[^1] ^= 0x80; // the ICV no longer matches
        pair.Inject(forged, old with { Port = 40000 }, pair.Responder.Local);
        Assert.Equal(old, pair.Responder.Remote);

        pair.Initiator.CheckLiveness(pair.Now);
        pair.Pump();
        Assert.Equal(changesBefore, pair.ResponderOutputs.OfType<IkePeerEndpointChanged>().Count() - 1);
        var moved = pair.ResponderOutputs.OfType<IkePeerEndpointChanged>().Last();
        Assert.Equal(old, moved.Old);
        Assert.NotEqual(old.Port, moved.New.Port);
        Assert.Equal(moved.New, pair.Responder.Remote);
        Assert.Equal(moved.New, pair.Responder.ChildSas.Single().Remote);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeEvent { Name: "peer alive" });
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
    }
}
