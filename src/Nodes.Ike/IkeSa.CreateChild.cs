using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;

namespace Nodes.Ike;

// CREATE_CHILD_SA (RFC 7296 sections 1.3.2, 1.3.3, 2.8, 2.8.1, 2.18, 2.25):
//   Child SA rekey:  HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}  -->  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
//   IKE SA rekey:    HDR, SK {SA, Ni, KEi}                            -->  <--  HDR, SK {SA, Nr, KEr}
// Make-before-break: the rekey initiator sends on the new Child SA as soon as the response arrives; the responder
// keeps sending on the old one until the DELETE for it arrives; both keep the old inbound SA until then.
public sealed partial class IkeSa
{
    private IkeCrypto? _oldCrypto;
    private (ulong SpiI, ulong SpiR, bool WeOriginalInitiator, uint NextRequestId)? _old;
    /// <summary>Our DELETE of the old IKE SA, while its answer is awaited: its message ID, when it left, and when we stop waiting.</summary>
    private (uint MessageId, DateTimeOffset Sent, DateTimeOffset GiveUpAt)? _oldDelete;

    private void StartChildRekey(ChildRecord old, DateTimeOffset now)
    {
        old.State = ChildState.Rekeying;
        old.PeerRekeyedInto = null;
        var newSpi = NewChildSpi();
        var ni = NewNonce();
        var pfsGroup = _config.RekeyWithPfs ? _config.EspProposals.SelectMany(p => p.Groups).First() : (DhGroup?)null;
        var ke = pfsGroup is { } g ? _env.KeyExchangeFactory(g, _env.Random) : null;
        var inner = new List<IkePayload>
        {
            NotifyPayload.ForChildSa(IkeProtocolId.Esp, old.Info.InboundSpi, NotifyType.RekeySa),
            ProposalWire.ToPayload(pfsGroup is null ? WithoutGroups(_config.EspProposals) : _config.EspProposals, IkeProtocolId.Esp, SpiBytes(newSpi)),
            new NoncePayload(OctetString.Copy(ni)),
        };
        if (ke is not null) inner.Add(new KeyExchangePayload((ushort)ke.Group, OctetString.Copy(ke.PublicKey)));
        inner.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorInitiator, old.Info.LocalTs.Select(t => t.ToWire()).ToArray()));
        inner.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorResponder, old.Info.RemoteTs.Select(t => t.ToWire()).ToArray()));
        Emit(new IkeEvent(IkeEventKind.RekeyChildSa, $"0x{old.Info.InboundSpi:x8} → new inbound 0x{newSpi:x8}{(pfsGroup is { } pg ? $" with PFS {Names.Of(pg)}" : "")}"));
        SendProtectedRequest(ExchangeType.CreateChildSa, IkePurpose.RekeyChildSa, inner, now, (_, payloads, _, t) =>
        {
            using var exchange = ke;
            var error = payloads.OfType<NotifyPayload>().FirstOrDefault(n => n.IsError);
            if (error is not null)
            {
                if (old.State == ChildState.Rekeying) old.State = ChildState.Installed;
                if (error.NotifyType is NotifyType.TemporaryFailure or NotifyType.InvalidKePayload)
                {
                    old.RekeyAt = t + RetryDelay();
                    Emit(new IkeEvent(IkeEventKind.RekeyPostponed, $"the peer answered {NotifyNames.Of(error.NotifyType)}; retrying the rekey of 0x{old.Info.InboundSpi:x8}"));
                    return Step.Success;
                }
                return Fail(error.NotifyType, $"the peer refused to rekey Child SA 0x{old.Info.InboundSpi:x8}: {ChildRefusalReason(error.NotifyType)}", byPeer: true, t);
            }
            var nr = payloads.OfType<NoncePayload>().FirstOrDefault()?.Nonce.Span.ToArray();
            SecretKey? pfs = null;
            // A responder may pick one of our proposals without a DH group even though we sent KEi; then no KEr comes
            // back and the new keys come from SK_d and the nonces alone (RFC 7296 sections 1.3.1 and 2.17).
            var chosenWire = payloads.OfType<SecurityAssociationPayload>().FirstOrDefault()?.Proposals.FirstOrDefault();
            var chosenHasGroup = chosenWire is not null && !ProposalWire.FromWire(chosenWire).Groups.IsDefaultOrEmpty;
            if (exchange is not null && chosenHasGroup)
            {
                var ker = payloads.OfType<KeyExchangePayload>().FirstOrDefault();
                if (ker is null || ker.Group != (ushort)exchange.Group || !exchange.TryDeriveSharedSecret(ker.Data.Span, out pfs))
                {
                    old.State = ChildState.Installed;
                    _work.Enqueue(new Work(WorkKind.DeleteChild, newSpi));
                    return Fail(NotifyType.InvalidSyntax, "the rekey response lacks a valid KE payload for PFS", byPeer: false, t);
                }
            }
            if (nr is null)
            {
                old.State = ChildState.Installed;
                return Fail(NotifyType.InvalidSyntax, "the rekey response lacks a nonce", byPeer: false, t);
            }
            var info = AcceptChildResponse(payloads, newSpi, pfs, old.Info.InboundSpi, t, out var refusal, ni, nr);
            pfs?.Dispose();
            if (info is null)
            {
                old.State = ChildState.Installed;
                return refusal;
            }
            ChildRekeys++;
            var ours = InstallChild(info, outboundActive: false, LowestOf(ni, nr), t);
            if (old.PeerRekeyedInto is { } theirs && theirs.State != ChildState.Deleted)
            {
                // RFC 7296 section 2.8.1: both sides rekeyed the same SA. The new SA created with the lowest of the
                // four nonces is redundant and is deleted by the side that created it; the other side deletes the old SA.
                var oursIsRedundant = NonceComparer.Instance.Compare(ours.LowestNonce, theirs.LowestNonce) < 0;
                Emit(new IkeEvent(IkeEventKind.RekeyCollision, $"both sides rekeyed 0x{old.Info.InboundSpi:x8}; {(oursIsRedundant ? "ours" : "the peer's")} new SA has the lowest nonce and goes"));
                if (oursIsRedundant)
                {
                    ActivateOutbound(theirs);
                    old.State = ChildState.Rekeyed;
                    _work.Enqueue(new Work(WorkKind.DeleteChild, ours.Info.InboundSpi));
                }
                else
                {
                    ActivateOutbound(ours);
                    old.State = ChildState.Rekeyed;
                    _work.Enqueue(new Work(WorkKind.DeleteChild, old.Info.InboundSpi));
                }
                return Step.Success;
            }
            ActivateOutbound(ours);
            old.State = ChildState.Rekeyed;
            _work.Enqueue(new Work(WorkKind.DeleteChild, old.Info.InboundSpi));
            return Step.Success;
        });
    }

    private void ActivateOutbound(ChildRecord c)
    {
        if (c.OutboundActive || c.State == ChildState.Deleted) return;
        c.OutboundActive = true;
        Emit(new ChildSaOutboundActive(c.Info.InboundSpi));
    }

    private TimeSpan RetryDelay()
    {
        Span<byte> b = stackalloc byte[1];
        _env.Random.Fill(b);
        return TimeSpan.FromSeconds(2 + b[0] % 9);
    }

    private void StartIkeRekey(DateTimeOffset now)
    {
        if (_old is not null)
        {
            _ikeRekeyAt = now + RetryDelay();
            return;
        }
        var newSpi = NewIkeSpi();
        var ni = NewNonce();
        var ke = _env.KeyExchangeFactory(_suite!.Group, _env.Random);
        var inner = new List<IkePayload>
        {
            ProposalWire.ToPayload(_config.IkeProposals, IkeProtocolId.Ike, SpiBytes64(newSpi)),
            new NoncePayload(OctetString.Copy(ni)),
            new KeyExchangePayload((ushort)ke.Group, OctetString.Copy(ke.PublicKey)),
        };
        Emit(new IkeEvent(IkeEventKind.RekeyIkeSa, $"{InitiatorSpi:x16}_i {ResponderSpi:x16}_r → new SPI {newSpi:x16}"));
        SendProtectedRequest(ExchangeType.CreateChildSa, IkePurpose.RekeyIkeSa, inner, now, (_, payloads, _, t) =>
        {
            using var exchange = ke;
            var error = payloads.OfType<NotifyPayload>().FirstOrDefault(n => n.IsError);
            if (error is not null)
            {
                _ikeRekeyAt = t + RetryDelay();
                if (error.NotifyType is not NotifyType.TemporaryFailure)
                    return Fail(error.NotifyType, "the peer refused to rekey the IKE SA", byPeer: true, t);
                Emit(new IkeEvent(IkeEventKind.RekeyPostponed, "the peer answered TEMPORARY_FAILURE; retrying the IKE SA rekey"));
                return Step.Success;
            }
            var sa = payloads.OfType<SecurityAssociationPayload>().FirstOrDefault();
            var nr = payloads.OfType<NoncePayload>().FirstOrDefault()?.Nonce.Span.ToArray();
            var ker = payloads.OfType<KeyExchangePayload>().FirstOrDefault();
            var chosen = sa is { Proposals.Count: 1 } && sa.Proposals[0].Spi64 is { } rs && rs != 0 ? sa.Proposals[0] : null;
            var suite = chosen is null ? null : ProposalSelection.SelectIke([ProposalWire.FromWire(chosen)], _config.IkeProposals);
            if (chosen is null || suite is null || nr is null || ker is null || ker.Group != (ushort)suite.Value.Suite.Group
                || ker.Group != (ushort)exchange.Group || !exchange.TryDeriveSharedSecret(ker.Data.Span, out var shared))
            {
                _ikeRekeyAt = t + RetryDelay();
                return Fail(NotifyType.InvalidSyntax, "the IKE SA rekey response is incomplete or chose what we did not offer", byPeer: false, t);
            }
            SwitchToRekeyedIkeSa(newSpi, chosen.Spi64!.Value, suite.Value.Suite, shared, ni, nr, weInitiated: true, t);
            shared.Dispose();
            // The rekey initiator deletes the old IKE SA (RFC 7296 section 1.3.2).
            SendOldIkeDelete(t);
            return Step.Success;
        });
    }

    private static byte[] SpiBytes64(ulong spi)
    {
        var b = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b, spi);
        return b;
    }

    /// <summary>Moves everything onto the new IKE SA: new SPIs, keys from the old SK_d (RFC 7296 section 2.18), message IDs from 0.</summary>
    private void SwitchToRekeyedIkeSa(ulong newSpiI, ulong newSpiR, IkeSuite suite, SecretKey shared, byte[] ni, byte[] nr, bool weInitiated, DateTimeOffset now)
    {
        using var skeyseed = IkeKeySchedule.RekeySkeyseed(_suite!.Prf, _crypto!.Keys.SkD, shared, ni, nr);
        var keys = IkeKeySchedule.DeriveIkeSaKeys(suite.Prf, suite.Cipher, skeyseed, ni, nr, newSpiI, newSpiR);
        _oldCrypto?.Dispose();
        _oldCrypto = _crypto;
        _old = (InitiatorSpi, ResponderSpi, IsOriginalInitiator, _nextRequestId);
        var (oldI, oldR) = (InitiatorSpi, ResponderSpi);
        InitiatorSpi = newSpiI;
        ResponderSpi = newSpiR;
        IsOriginalInitiator = weInitiated;
        _suite = suite;
        _crypto = new IkeCrypto(suite, keys, weInitiated, _env.Random);
        _nextRequestId = 0;
        _expectedPeerRequestId = 0;
        _cachedResponse = null;
        _ni = ni;
        _nr = nr;
        IkeRekeys++;
        _ikeRekeyAt = now + Soft(_config.Lifetimes.IkeRekey);
        _ikeExpireAt = now + _config.Lifetimes.IkeRekey + _config.Lifetimes.HardMargin;
        Emit(new IkeSpisChanged(oldI, oldR, newSpiI, newSpiR));
        Emit(new IkeEvent(IkeEventKind.IkeSaRekeyed, $"now {newSpiI:x16}_i {newSpiR:x16}_r with {suite}; {_children.Count} Child SA(s) moved"));
    }

    /// <summary>
    /// DELETE of the old IKE SA, sent once on the old SA. The old SA stays until its answer arrives (authenticated with
    /// the old keys) or the first retransmission would be due; a lost DELETE is harmless, the peer's old SA times out.
    /// </summary>
    private void SendOldIkeDelete(DateTimeOffset now)
    {
        if (_old is not { } old || _oldCrypto is null) return;
        var flags = (old.WeOriginalInitiator ? IkeFlags.Initiator : 0);
        var bytes = _oldCrypto.Seal(old.SpiI, old.SpiR, ExchangeType.Informational, flags, old.NextRequestId, [DeletePayload.IkeSa()]);
        Send(bytes, ExchangeType.Informational, old.NextRequestId, isResponse: false, retransmission: false);
        _oldDelete = (old.NextRequestId, now, now + _config.Retransmit.Timeout);
    }

    /// <summary>The authenticated answer to our DELETE of the old IKE SA: the exchange is done and the old SA goes.</summary>
    private void OldIkeDeleteAnswered(DateTimeOffset now)
    {
        if (_oldDelete is not { } d) return;
        Emit(new IkeExchangeDone(ExchangeType.Informational, IkePurpose.DeleteIkeSa, d.MessageId, true, d.Sent, now, true, null));
        RetireOld();
    }

    private void RetireOld()
    {
        if (_old is not { } old) return;
        _oldCrypto?.Dispose();
        _oldCrypto = null;
        _old = null;
        _oldDelete = null;
        Emit(new IkeEvent(IkeEventKind.OldIkeSaRetired, $"{old.SpiI:x16}_i {old.SpiR:x16}_r"));
    }

    /// <summary>The SPIs of the IKE SA being replaced, while its DELETE is still expected.</summary>
    public (ulong InitiatorSpi, ulong ResponderSpi)? RetiringSpis => _old is { } o ? (o.SpiI, o.SpiR) : null;

    private (List<IkePayload> Response, Action? After) HandleCreateChildRequest(List<IkePayload> request, DateTimeOffset now)
    {
        var sa = request.OfType<SecurityAssociationPayload>().FirstOrDefault();
        var ni = request.OfType<NoncePayload>().FirstOrDefault()?.Nonce.Span.ToArray();
        var ke = request.OfType<KeyExchangePayload>().FirstOrDefault();
        if (sa is null || ni is null)
        {
            Emit(new IkeFailure(NotifyType.InvalidSyntax, "CREATE_CHILD_SA request lacks SA or Nonce", false));
            return ([NotifyPayload.Status(NotifyType.InvalidSyntax)], null);
        }
        if (sa.Proposals.Any(p => p.Protocol == IkeProtocolId.Ike)) return HandleIkeRekeyRequest(sa, ni, ke, now);

        var rekey = request.OfType<NotifyPayload>().FirstOrDefault(n => n.NotifyType == NotifyType.RekeySa);
        ChildRecord? old = null;
        if (rekey is not null)
        {
            // Only an ESP Child SA can be rekeyed here: an AH SPI names nothing of ours, whatever its value.
            var spi = rekey.Protocol == IkeProtocolId.Esp && rekey.Spi.Length == 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(rekey.Spi.Span) : 0;
            old = _children.Values.FirstOrDefault(c => c.Info.OutboundSpi == spi && c.State != ChildState.Deleted);
            if (old is null)
            {
                Emit(new IkeEvent(IkeEventKind.RekeyRefused, $"the peer asked to rekey 0x{spi:x8}, which we do not have"));
                return ([NotifyPayload.ForChildSa(IkeProtocolId.Esp, spi, NotifyType.ChildSaNotFound)], null);
            }
            if (old.State is ChildState.Deleting or ChildState.Rekeyed && old.PeerRekeyedInto is null)
            {
                // RFC 7296 section 2.25.1: a Child SA we are closing is not rekeyed.
                return ([NotifyPayload.Status(NotifyType.TemporaryFailure)], null);
            }
        }
        var nr = NewNonce();
        SecretKey? pfs = null;
        IKeyExchange? ourKe = null;
        if (ke is not null)
        {
            var offered = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Esp).Select(ProposalWire.FromWire).ToList();
            var pick = ProposalSelection.SelectEsp(offered, _config.EspProposals, keyExchangePresent: true);
            if (pick is { Suite.Pfs: { } group } && group != (DhGroup)ke.Group)
                return ([NotifyPayload.InvalidKePayload((ushort)group)], null);
            if (pick is not null)
            {
                // Only a proposal with PFS uses the KE payload; without one (a peer that offers both) it is ignored.
                ourKe = _env.KeyExchangeFactory((DhGroup)ke.Group, _env.Random);
                if (!ourKe.TryDeriveSharedSecret(ke.Data.Span, out pfs))
                {
                    ourKe.Dispose();
                    Emit(new IkeFailure(NotifyType.InvalidSyntax, "the peer's PFS public value is not valid", false));
                    return ([NotifyPayload.Status(NotifyType.InvalidSyntax)], null);
                }
            }
        }
        var info = NegotiateChild(request, pfs, weInitiated: false, replaces: old?.Info.InboundSpi, now, out var childPayloads, out _, ni, nr);
        pfs?.Dispose();
        if (info is null)
        {
            ourKe?.Dispose();
            return (childPayloads, null);
        }
        // Response order: SA, Nr, [KEr], TSi, TSr.
        var response = new List<IkePayload> { childPayloads[0], new NoncePayload(OctetString.Copy(nr)) };
        if (ourKe is not null) response.Add(new KeyExchangePayload((ushort)ourKe.Group, OctetString.Copy(ourKe.PublicKey)));
        response.AddRange(childPayloads.Skip(1));
        ourKe?.Dispose();
        // The inbound SA is installed before the response leaves, so the initiator, which sends on the new SA as soon
        // as the response arrives, never reaches an SA that does not exist yet.
        var created = InstallChild(info, outboundActive: old is null, LowestOf(ni, nr), now);
        if (old is not null)
        {
            ChildRekeys++;
            if (old.State == ChildState.Rekeying) old.PeerRekeyedInto = created; // a collision, settled when our own rekey completes
            else old.State = ChildState.Rekeyed;
        }
        return (response, null);
    }

    private (List<IkePayload>, Action?) HandleIkeRekeyRequest(SecurityAssociationPayload sa, byte[] ni, KeyExchangePayload? ke, DateTimeOffset now)
    {
        // RFC 7296 section 2.25.2: not while a Child SA exchange of ours is in flight, nor during another rekey.
        if (_pending is not null || _old is not null || _children.Values.Any(c => c.State == ChildState.Rekeying))
            return ([NotifyPayload.Status(NotifyType.TemporaryFailure)], null);
        var ikeProposals = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Ike && p.Spi64 is { } s && s != 0).ToList();
        var offered = ikeProposals.Select(ProposalWire.FromWire).ToList();
        var choice = ProposalSelection.SelectIke(offered, _config.IkeProposals);
        if (choice is null)
        {
            Emit(new IkeFailure(NotifyType.NoProposalChosen, ProposalSelection.NoProposalChosenReason(offered, _config.IkeProposals, weOffered: false) + " (IKE SA rekey)", false));
            return ([NotifyPayload.Status(NotifyType.NoProposalChosen)], null);
        }
        var suite = choice.Value.Suite;
        if (ke is null || ke.Group != (ushort)suite.Group) return ([NotifyPayload.InvalidKePayload((ushort)suite.Group)], null);
        using var ours = _env.KeyExchangeFactory(suite.Group, _env.Random);
        if (!ours.TryDeriveSharedSecret(ke.Data.Span, out var shared))
            return ([NotifyPayload.Status(NotifyType.InvalidSyntax)], null);
        var newSpiR = NewIkeSpi();
        var nr = NewNonce();
        var proposal = ikeProposals[choice.Value.ProposalIndex];
        var response = new List<IkePayload>
        {
            ProposalWire.Chosen(suite, proposal.Number, SpiBytes64(newSpiR)),
            new NoncePayload(OctetString.Copy(nr)),
            new KeyExchangePayload((ushort)suite.Group, OctetString.Copy(ours.PublicKey)),
        };
        var newSpiI = proposal.Spi64!.Value;
        return (response, () =>
        {
            SwitchToRekeyedIkeSa(newSpiI, newSpiR, suite, shared, ni, nr, weInitiated: false, now);
            shared.Dispose();
        });
    }
}
