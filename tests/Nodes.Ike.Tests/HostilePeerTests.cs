using System.Buffers.Binary;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike.Tests;

/// <summary>
/// Peers and packets that do not play by the rules: a responder whose AUTH does not verify, forged unprotected
/// notifies, forged requests. Each test checks the engine after every message, not only at the end: nothing
/// unauthenticated may change state, and a state called established has an authenticated peer.
/// </summary>
public class HostilePeerTests
{
    private static readonly Ipv4Endpoint Attacker = new(Ipv4Address.Parse("198.51.100.66"), 4500);

    [Fact]
    public void An_initiator_whose_responder_fails_its_auth_must_never_be_established_nor_install_a_child_sa()
    {
        // The responder knows the key but is not who RRAS expects (as a man in the middle of IKE_SA_INIT is not):
        // its AUTH arrives under keys both sides agreed, and must still not make the SA established.
        var rras = IkePair.Rras() with { RemoteId = IkeIdentity.Parse("azure-gw.example.net") };
        using var pair = new IkePair(rras, IkePair.Azure());
        var states = new List<IkeSaState>();
        pair.OnWire = _ => states.Add(pair.Initiator.State);
        pair.Start();

        Assert.DoesNotContain(IkeSaState.Established, states);
        Assert.DoesNotContain(pair.InitiatorOutputs, o => o is IkeStateChange { To: IkeSaState.Established });
        Assert.DoesNotContain(pair.InitiatorOutputs, o => o is ChildSaUp or ChildSaOutboundActive);
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        var failure = Assert.Single(pair.InitiatorOutputs.OfType<IkeFailure>());
        Assert.Equal(NotifyType.AuthenticationFailed, failure.Notify);
        Assert.False(failure.ReportedByPeer);
        // The peer is told once (RFC 7296 section 2.21.2), and drops what it had set up.
        Assert.Equal(IkeSaState.Closed, pair.Responder!.State);
    }

    [Fact]
    public void A_forged_unprotected_no_proposal_chosen_must_not_close_the_initiator()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        // The first IKE_SA_INIT is lost on its way; an attacker on the path answers it first.
        var lost = 0;
        pair.Drop = w => w.Payload.Length > 0 && IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse && lost++ == 0;
        pair.Start();
        Assert.Equal(IkeSaState.InitSent, pair.Initiator.State);
        var natOutside = pair.Wire[0].From;

        var forged = new IkeMessage(pair.Initiator.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0,
            new IkePayload[] { NotifyPayload.Status(NotifyType.NoProposalChosen) }).ToArray();
        pair.InjectToInitiator(forged, IkePair.AzureGw, natOutside);

        // Recorded, but the SA waits for a usable answer.
        Assert.Equal(IkeSaState.InitSent, pair.Initiator.State);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeFailure { Notify: NotifyType.NoProposalChosen, ReportedByPeer: true });
        Assert.DoesNotContain(pair.InitiatorOutputs, o => o is IkeStateChange { To: IkeSaState.Closed });

        // The retransmission reaches the real gateway and the tunnel comes up.
        pair.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Single(pair.Initiator.ChildSas);
    }

    [Fact]
    public void A_forged_ike_sa_init_response_that_cannot_be_used_must_change_nothing()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        var lost = 0;
        pair.Drop = w => IkeHeader.TryParse(w.Payload, out var h, out _) && h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse && lost++ == 0;
        pair.Start();
        var natOutside = pair.Wire[0].From;

        // A response with a responder SPI but no SA, KE or nonce: unusable, so it is dropped without a trace in the state.
        var forged = new IkeMessage(pair.Initiator.InitiatorSpi, 0x1111222233334444, ExchangeType.IkeSaInit, IkeFlags.Response, 0,
            new IkePayload[] { new NoncePayload(OctetString.Copy(new byte[32])) }).ToArray();
        pair.InjectToInitiator(forged, IkePair.AzureGw, natOutside);
        Assert.Equal(IkeSaState.InitSent, pair.Initiator.State);
        Assert.Equal(0ul, pair.Initiator.ResponderSpi);

        pair.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
    }

    [Fact]
    public void A_real_unprotected_refusal_must_end_the_attempt_only_when_the_retransmissions_run_out()
    {
        using var pair = new IkePair(IkePair.Rras(ike: [IkePair.IkeP("aes256-sha256-modp2048")]), IkePair.Azure());
        pair.Start();
        Assert.Equal(IkeSaState.InitSent, pair.Initiator.State);
        pair.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        // Every transmission met the same refusal; it is reported once, and named when the attempt ends.
        Assert.Equal(RetransmitPolicy.Default.Tries + 1, pair.ResponderRefusals.Count);
        Assert.Single(pair.InitiatorOutputs.OfType<IkeFailure>());
        var closed = pair.InitiatorOutputs.OfType<IkeStateChange>().Last();
        Assert.Contains("NO_PROPOSAL_CHOSEN", closed.Reason);
    }

    [Fact]
    public void A_forged_request_must_not_choose_where_the_next_response_goes()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure());
        pair.Start();
        var responder = pair.Responder!;
        var (oldI, oldR) = (responder.InitiatorSpi, responder.ResponderSpi);
        var injected = false;
        pair.OnWire = w =>
        {
            // Just before RRAS's DELETE of the old IKE SA reaches Azure, a forged request for the new IKE SA arrives
            // from elsewhere: the right SPIs and message ID, but no valid ICV.
            if (injected || !IkeHeader.TryParse(w.Payload, out var h, out _) || h.InitiatorSpi != oldI || h.Exchange != ExchangeType.Informational || h.IsResponse) return;
            injected = true;
            var forged = (byte[])w.Payload.Clone();
            BinaryPrimitives.WriteUInt64BigEndian(forged.AsSpan(IkeHeader.Field.InitiatorSpi), responder.InitiatorSpi);
            BinaryPrimitives.WriteUInt64BigEndian(forged.AsSpan(IkeHeader.Field.ResponderSpi), responder.ResponderSpi);
            BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(IkeHeader.Field.MessageId), 0);
            pair.Gateway.Receive(forged, Attacker, w.To, pair.Now);
        };
        pair.Initiator.RekeyIke(pair.Now);
        pair.Pump();

        Assert.True(injected);
        Assert.NotEqual(oldI, responder.InitiatorSpi);
        Assert.Contains(pair.ResponderOutputs, o => o is IkeDropped { Reason: IkeDropReason.Integrity });
        Assert.DoesNotContain(pair.ResponderOutputs, o => o is IkeSend s && s.To == Attacker);
        Assert.DoesNotContain(pair.GatewayOutputs, o => o is IkeSend s && s.To == Attacker);
        _ = oldR;
    }
}
