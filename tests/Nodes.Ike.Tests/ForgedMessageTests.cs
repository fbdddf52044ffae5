using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike.Tests;

/// <summary>
/// Messages an attacker can send without any key, and one a misbehaving authenticated peer sends: forged unprotected
/// notifies (RFC 7296 sections 2.21.1 and 2.21.4), an IKE_SA_INIT naming SPIs already in use (libreswan
/// CVE-2023-30570 class), a key exchange whose length lies (strongSwan CVE-2023-41913 class) and a DELETE for a
/// Child SA already deleted (CVE-2023-38712 class). After every message the SAs must be as before, and the message
/// dropped with a reason of its own.
/// </summary>
public class ForgedMessageTests
{
    private static IkePair Established()
    {
        var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        return pair;
    }

    /// <summary>The initiator's endpoint as the gateway sees it (outside the NAT, after the float to 4500).</summary>
    private static Ipv4Endpoint PeerOutside(IkePair pair) => pair.Wire.Last(w => w.To.Address == IkePair.AzureGw.Address && !w.Keepalive).From;

    private static byte[] Unprotected(IkeSa sa, IkeFlags flags, uint messageId, params IkePayload[] payloads) =>
        new IkeMessage(sa.InitiatorSpi, sa.ResponderSpi, ExchangeType.Informational, flags, messageId, payloads).ToArray();

    public static TheoryData<string> Informationals => ["INVALID_IKE_SPI", "AUTHENTICATION_FAILED", "DELETE"];

    [Theory]
    [MemberData(nameof(Informationals))]
    public void An_unprotected_informational_for_an_established_sa_must_change_nothing(string kind)
    {
        using var pair = Established();
        var responder = pair.Responder!;
        var (spiI, spiR, child) = (responder.InitiatorSpi, responder.ResponderSpi, responder.ChildSas.Single().InboundSpi);
        var from = PeerOutside(pair);
        var to = pair.Wire.Last(w => w.To.Address == IkePair.AzureGw.Address).To;
        // The request carries the message ID the gateway expects next (an attacker on the path has seen the others).
        var forged = kind switch
        {
            "INVALID_IKE_SPI" => Unprotected(responder, IkeFlags.Initiator | IkeFlags.Response, 0, NotifyPayload.Status(NotifyType.InvalidIkeSpi)),
            "AUTHENTICATION_FAILED" => Unprotected(responder, IkeFlags.Initiator, 2, NotifyPayload.Status(NotifyType.AuthenticationFailed)),
            _ => Unprotected(responder, IkeFlags.Initiator, 2, DeletePayload.IkeSa()),
        };
        var sent = pair.Wire.Count;
        pair.Inject(forged, from, to);

        Assert.Equal(IkeSaState.Established, responder.State);
        Assert.Equal((spiI, spiR), (responder.InitiatorSpi, responder.ResponderSpi));
        Assert.Equal(child, responder.ChildSas.Single().InboundSpi);
        Assert.DoesNotContain(pair.ResponderOutputs, o => o is IkeFailure or ChildSaDown or IkeStateChange { To: IkeSaState.Closed });
        var dropped = Assert.IsType<IkeDropped>(pair.ResponderOutputs.Last());
        Assert.Equal(IkeDropReason.Unprotected, dropped.Reason);
        Assert.Equal("ike-unprotected", dropped.Name);
        // Nothing answered the forgery.
        Assert.Equal(sent + 1, pair.Wire.Count);
        // And the tunnel still carries traffic.
        Assert.True(pair.SendEsp(fromInitiator: true));
        Assert.True(pair.SendEsp(fromInitiator: false));
    }

    [Theory]
    [InlineData(NotifyType.NoProposalChosen)]
    [InlineData(NotifyType.InvalidSyntax)]
    public void A_forged_error_in_an_ike_sa_init_response_must_be_counted_and_outlived(NotifyType notify)
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        var lost = 0;
        pair.Drop = w => IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse && lost++ == 0;
        pair.Start();
        var forged = new IkeMessage(pair.Initiator.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0, new IkePayload[] { NotifyPayload.Status(notify) }).ToArray();
        pair.InjectToInitiator(forged, IkePair.AzureGw, pair.Wire[0].From);

        Assert.Equal(IkeSaState.InitSent, pair.Initiator.State);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeDropped { Reason: IkeDropReason.UnprotectedError, Name: "ike-unprotected-error" });
        pair.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        // The exchange that the real answer completed succeeded: the forgery was never its result.
        var init = Assert.Single(pair.InitiatorOutputs.OfType<IkeExchangeDone>(), d => d.Exchange == ExchangeType.IkeSaInit);
        Assert.True(init.Succeeded, init.Error);
        Assert.Null(init.Error);
    }

    [Fact]
    public void A_replayed_exchange_after_establishment_must_leave_the_sa_as_it_is()
    {
        // The SA lets its copies of the IKE_SA_INIT messages go once established: a replayed IKE_SA_INIT must still not
        // touch it, and a replayed IKE_AUTH must still get the cached answer (RFC 7296 section 2.1), nothing more.
        using var pair = Established();
        var responder = pair.Responder!;
        var before = (responder.State, responder.InitiatorSpi, responder.ResponderSpi, responder.ChildSas.Single().InboundSpi);
        bool Is(IkePair.Wired w, ExchangeType e, bool response) => IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == e && h.IsResponse == response;
        var init = pair.Wire.First(w => Is(w, ExchangeType.IkeSaInit, false));
        var auth = pair.Wire.First(w => Is(w, ExchangeType.IkeAuth, false));
        var answer = pair.Wire.First(w => Is(w, ExchangeType.IkeAuth, true));

        pair.Inject(init.Payload, init.From, init.To);
        Assert.Equal(before, (responder.State, responder.InitiatorSpi, responder.ResponderSpi, responder.ChildSas.Single().InboundSpi));

        var sent = pair.Wire.Count;
        pair.Inject(auth.Payload, auth.From, auth.To);
        Assert.Equal(before, (responder.State, responder.InitiatorSpi, responder.ResponderSpi, responder.ChildSas.Single().InboundSpi));
        var resent = pair.Wire.Skip(sent + 1).Single(w => Is(w, ExchangeType.IkeAuth, true));
        Assert.Equal(answer.Payload, resent.Payload);
        Assert.Contains(pair.ResponderOutputs, o => o is IkeEvent { Kind: IkeEventKind.RequestRetransmittedByPeer });
        pair.PingBothWays();
    }

    [Fact]
    public void A_peer_without_the_key_and_a_flood_of_spoofed_requests_must_take_no_inbound_SPI_at_the_gateway()
    {
        // Child SA SPIs are drawn only once the peer has authenticated: neither a wrong key nor a crowd of spoofed
        // IKE_SA_INIT requests holds any of the gateway's SPIs, and the refused initiator gives its own back.
        using var pair = new IkePair(IkePair.Rras(psk: "NotTheSharedKey999"), IkePair.Azure());
        pair.Start();
        Assert.NotEqual(IkeSaState.Established, pair.Responder?.State);
        for (var i = 0; i < 50; i++)
        {
            var spoofed = IkeSa.CreateInitiator(IkePair.Rras(), new IkeEnvironment(new Crypto.SeededRandomSource((ulong)i, "spoof")),
                new Ipv4Endpoint(Ipv4Address.Parse($"198.51.100.{i + 1}"), 500), IkePair.AzureGw);
            spoofed.Start(pair.Now);
            pair.Inject(spoofed.TakeOutputs().OfType<IkeSend>().Single().Message, spoofed.Local, IkePair.AzureGw);
        }
        Assert.Equal(0, pair.ResponderEnv.InboundSpis.Count);
        pair.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.Equal(0, pair.InitiatorEnv.InboundSpis.Count);
        Assert.Equal(0, pair.ResponderEnv.InboundSpis.Count);
    }

    [Fact]
    public void An_ike_sa_init_request_with_spis_already_in_use_must_be_dropped()
    {
        using var pair = Established();
        var responder = pair.Responder!;
        var (spiI, spiR) = (responder.InitiatorSpi, responder.ResponderSpi);
        var init = pair.Wire.First(w => IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse);
        Assert.True(IkeMessage.TryParse(init.Payload, out var original, out _));
        // The initiator's own IKE_SA_INIT again, now naming the responder's SPI as well (RFC 7296 section 3.1: it must be zero).
        var reused = new IkeMessage(spiI, spiR, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, original!.Payloads).ToArray();
        var sent = pair.Wire.Count;
        pair.Inject(reused, init.From, init.To);

        Assert.Equal(IkeSaState.Established, responder.State);
        Assert.Equal((spiI, spiR), (responder.InitiatorSpi, responder.ResponderSpi));
        var dropped = Assert.Single(pair.GatewayOutputs.OfType<IkeDropped>());
        Assert.Equal(IkeDropReason.InitWithResponderSpi, dropped.Reason);
        Assert.Equal("ike-init-responder-spi", dropped.Name);
        Assert.Equal(sent + 1, pair.Wire.Count);
        Assert.Single(pair.Gateway.Sas);
    }

    [Fact]
    public void An_ike_sa_init_whose_key_exchange_is_longer_than_its_group_must_be_refused_and_counted()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        pair.Drop = w => w.From.Address == IkePair.NatPublic; // RRAS's own request never arrives
        pair.Start();
        Assert.True(IkeMessage.TryParse(pair.Wire[0].Payload, out var request, out _));
        var ke = request!.PayloadsOf<KeyExchangePayload>().Single();
        // The initiator's own public value behind 1,024 zero bytes: the same number, but not the group's length.
        var longer = new byte[1024 + ke.Data.Length];
        ke.Data.Span.CopyTo(longer.AsSpan(1024));
        var payloads = request.Payloads.Select(p => p is KeyExchangePayload ? new KeyExchangePayload(ke.Group, OctetString.Copy(longer)) : p).ToArray();
        var lying = new IkeMessage(0x4141414141414141, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, payloads).ToArray();
        pair.Inject(lying, pair.Wire[0].From, pair.Wire[0].To);

        Assert.Empty(pair.Gateway.Sas);
        var dropped = Assert.Single(pair.GatewayOutputs.OfType<IkeDropped>());
        Assert.Equal(IkeDropReason.InvalidKeyExchange, dropped.Reason);
        Assert.Equal("ike-invalid-ke", dropped.Name);
        Assert.Contains(pair.GatewayOutputs, o => o is IkeFailure { Notify: NotifyType.InvalidSyntax });
    }

    [Fact]
    public void A_delete_for_a_child_sa_already_deleted_must_be_answered_and_change_nothing()
    {
        using var pair = Established();
        var old = pair.Initiator.ChildSas.Single().InboundSpi;
        pair.Initiator.RekeyChild(old, pair.Now);
        pair.Pump();
        var current = pair.Initiator.ChildSas.Single();
        Assert.NotEqual(old, current.InboundSpi);
        var responder = pair.Responder!;
        var responderChild = responder.ChildSas.Single().InboundSpi;

        // The authenticated peer deletes the old Child SA a second time.
        pair.Initiator.DeleteChild(old, pair.Now);
        pair.Pump();

        Assert.Equal(IkeSaState.Established, responder.State);
        Assert.Equal(responderChild, responder.ChildSas.Single().InboundSpi);
        Assert.Equal(current.InboundSpi, pair.Initiator.ChildSas.Single().InboundSpi);
        var dropped = pair.ResponderOutputs.OfType<IkeDropped>().Last();
        Assert.Equal(IkeDropReason.DeleteForUnknownSa, dropped.Reason);
        Assert.Equal("ike-delete-unknown-sa", dropped.Name);
        // The request was answered (RFC 7296 section 1.4.1), so the peer's exchange completed.
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeExchangeDone { Purpose: IkePurpose.DeleteChildSa, Succeeded: true });
        Assert.True(pair.SendEsp(fromInitiator: true));
        Assert.True(pair.SendEsp(fromInitiator: false));
    }
}
