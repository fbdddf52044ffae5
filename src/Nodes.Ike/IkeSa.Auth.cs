using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

// IKE_AUTH (RFC 7296 sections 1.2, 2.15, 2.9):
//   HDR, SK {IDi, [IDr], AUTH, SAi2, TSi, TSr, [N(INITIAL_CONTACT)]}  -->
//                                              <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
// The first Child SA rides in it. A failed Child SA (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE) leaves the IKE SA up;
// a failed AUTH takes the IKE SA down on both sides.
public sealed partial class IkeSa
{
    private uint _firstChildSpi;

    private void SendAuthRequest(DateTimeOffset now)
    {
        var idi = _config.LocalId.ToPayload(IkePayloadType.IdentificationInitiator);
        var auth = IkeKeySchedule.PskAuthentication(_suite!.Prf, _config.SharedKey.Expose(), _initRequest, _nr, _crypto!.OwnSkP, idi.SignedOctets());
        _firstChildSpi = NewChildSpi();
        var inner = new List<IkePayload> { idi };
        if (_config.RemoteId is { } rid) inner.Add(rid.ToPayload(IkePayloadType.IdentificationResponder));
        inner.Add(new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, OctetString.Copy(auth)));
        if (_config.InitialContact) inner.Add(NotifyPayload.Status(NotifyType.InitialContact));
        inner.Add(ProposalWire.ToPayload(WithoutGroups(_config.EspProposals), IkeProtocolId.Esp, SpiBytes(_firstChildSpi)));
        inner.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorInitiator, _config.LocalTs.Select(t => t.ToWire()).ToArray()));
        inner.Add(new TrafficSelectorPayload(IkePayloadType.TrafficSelectorResponder, _config.RemoteTs.Select(t => t.ToWire()).ToArray()));
        SetState(IkeSaState.AuthSent, $"IKE_AUTH sent as {_config.LocalId}");
        SendProtectedRequest(ExchangeType.IkeAuth, IkePurpose.Authenticate, inner, now, OnAuthResponse);
    }

    /// <summary>The first Child SA comes without a key exchange: its proposals carry no DH groups (RFC 7296 section 1.2).</summary>
    private static IReadOnlyList<Proposals.Proposal> WithoutGroups(IReadOnlyList<Proposals.Proposal> proposals) =>
        proposals.Select(p => p with { Groups = [] }).Distinct().ToList();

    private static byte[] SpiBytes(uint spi)
    {
        var b = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, spi);
        return b;
    }

    private void HandleAuthRequest(IkeHeader header, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        if (!TryOpen(message, out var payloads, out var failure, out var critical))
        {
            if (failure is OpenFailure.InnerSyntax or OpenFailure.UnsupportedCritical)
            {
                _requestPath = (to, from);
                // Authentic but unreadable: answer and give up on this IKE SA.
                var n = failure == OpenFailure.UnsupportedCritical
                    ? new NotifyPayload(IkeProtocolId.None, default, NotifyType.UnsupportedCriticalPayload, OctetString.Copy([(byte)critical]))
                    : NotifyPayload.Status(NotifyType.InvalidSyntax);
                Respond(header, [n], now);
                Fail(n.NotifyType, "the peer's IKE_AUTH request did not parse after decryption", byPeer: false, now);
                Close("IKE_AUTH request unreadable", now);
            }
            else
            {
                Drop(failure == OpenFailure.Integrity ? IkeDropReason.Integrity : IkeDropReason.Malformed,
                    failure == OpenFailure.Integrity ? "IKE_AUTH request failed its integrity check (wrong keys, or tampered)" : "malformed IKE_AUTH request");
            }
            return;
        }
        _halfOpenDeadline = null;
        _requestPath = (to, from);
        if (to.Port == Wire.Udp.UdpPorts.IkeNatTraversal && Local.Port != to.Port)
        {
            // The initiator floated to UDP 4500 (RFC 7296 section 2.23). Behind a NAT its 4500 flow has a mapping of its
            // own, whose external port need not be 4500: the peer's endpoint is wherever this request came from.
            var oldLocal = Local;
            var oldRemote = Remote;
            Local = Local with { Port = to.Port };
            if (from.Address == Remote.Address) Remote = from;
            Emit(new IkeEvent(IkeEventKind.NatTFloat, $"{oldRemote} → {oldLocal} becomes {Remote} → {Local}"));
        }
        AuthenticatedFrom(from, now);
        var started = now;

        var idi = payloads.OfType<IdentificationPayload>().FirstOrDefault(p => p.PayloadType == IkePayloadType.IdentificationInitiator);
        var auth = payloads.OfType<AuthenticationPayload>().FirstOrDefault();
        if (idi is null || auth is null)
        {
            Respond(header, [NotifyPayload.Status(NotifyType.InvalidSyntax)], now);
            Fail(NotifyType.InvalidSyntax, "IKE_AUTH request lacks IDi or AUTH", byPeer: false, now);
            Close("IKE_AUTH request incomplete", now);
            return;
        }
        var peerId = IkeIdentity.From(idi);
        var authOk = auth.Method == AuthMethod.SharedKeyMessageIntegrityCode
            && IkeKeySchedule.VerifyPskAuthentication(_suite!.Prf, _config.SharedKey.Expose(), _initRequest, _nr, _crypto!.PeerSkP, idi.SignedOctets(), auth.Data.Span);
        if (!authOk || (_config.RemoteId is { } expected && !expected.Equals(peerId)))
        {
            var why = !authOk
                ? auth.Method != AuthMethod.SharedKeyMessageIntegrityCode
                    ? $"the peer {peerId} authenticates with method {auth.Method}; only pre-shared keys are configured"
                    : $"the AUTH payload of {peerId} does not verify with our pre-shared key: the shared keys differ"
                : $"the peer calls itself {peerId}, but {_config.RemoteId} is expected";
            // RFC 7296 section 2.21.2: the refusal goes back protected, then the SA is gone.
            Respond(header, [NotifyPayload.Status(NotifyType.AuthenticationFailed)], now);
            Emit(new IkeExchangeDone(ExchangeType.IkeAuth, IkePurpose.Authenticate, header.MessageId, false, started, now, false, "AUTHENTICATION_FAILED"));
            Emit(new IkeFailure(NotifyType.AuthenticationFailed, why, ReportedByPeer: false));
            Close("AUTHENTICATION_FAILED", now);
            return;
        }
        PeerIdentity = peerId;

        var idr = _config.LocalId.ToPayload(IkePayloadType.IdentificationResponder);
        var ownAuth = IkeKeySchedule.PskAuthentication(_suite!.Prf, _config.SharedKey.Expose(), _initResponse, _ni, _crypto!.OwnSkP, idr.SignedOctets());
        var response = new List<IkePayload> { idr, new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, OctetString.Copy(ownAuth)) };
        var child = NegotiateChild(payloads, pfsShared: null, weInitiated: false, replaces: null, now, out var childPayloads, out var childError);
        response.AddRange(childPayloads);
        Established(now, $"authenticated {peerId}");
        // Inbound SA first, then the response that lets the initiator send on it.
        if (child is not null) InstallChild(child, outboundActive: true, lowestNonce: LowestOf(_ni, _nr), now);
        Respond(header, response, now);
        Emit(new IkeExchangeDone(ExchangeType.IkeAuth, IkePurpose.Authenticate, header.MessageId, false, started, now, child is not null, childError));
    }

    /// <summary>The peer's authenticated identity.</summary>
    public IkeIdentity? PeerIdentity { get; private set; }

    private Step OnAuthResponse(IkeHeader header, List<IkePayload> payloads, byte[] message, DateTimeOffset now)
    {
        var notifies = payloads.OfType<NotifyPayload>().ToList();
        if (notifies.Any(n => n.NotifyType == NotifyType.AuthenticationFailed))
        {
            var refused = Fail(NotifyType.AuthenticationFailed, $"{Remote} refused our AUTH: the pre-shared keys differ, or it does not accept the identity {_config.LocalId}", byPeer: true, now);
            Close("AUTHENTICATION_FAILED", now);
            return refused;
        }
        var idr = payloads.OfType<IdentificationPayload>().FirstOrDefault(p => p.PayloadType == IkePayloadType.IdentificationResponder);
        var auth = payloads.OfType<AuthenticationPayload>().FirstOrDefault();
        if (idr is null || auth is null)
        {
            var error = notifies.FirstOrDefault(n => n.IsError);
            var failed = Fail(error?.NotifyType ?? NotifyType.InvalidSyntax, error is null ? "IKE_AUTH response lacks IDr or AUTH" : "the peer refused IKE_AUTH", byPeer: error is not null, now);
            Close(error is null ? "IKE_AUTH response incomplete" : $"IKE_AUTH refused: {NotifyNames.Of(error.NotifyType)}", now);
            return failed;
        }
        var peerId = IkeIdentity.From(idr);
        var ok = auth.Method == AuthMethod.SharedKeyMessageIntegrityCode
            && IkeKeySchedule.VerifyPskAuthentication(_suite!.Prf, _config.SharedKey.Expose(), _initResponse, _ni, _crypto!.PeerSkP, idr.SignedOctets(), auth.Data.Span);
        if (!ok || (_config.RemoteId is { } expected && !expected.Equals(peerId)))
        {
            var why = ok ? $"the peer calls itself {peerId}, but {_config.RemoteId} is expected" : $"the AUTH payload of {peerId} does not verify with our pre-shared key: the shared keys differ";
            var wrongAuth = Fail(NotifyType.AuthenticationFailed, why, byPeer: false, now);
            // RFC 7296 section 2.21.2: the initiator may tell the peer in a separate INFORMATIONAL. The peer is not
            // authenticated, so the SA is never established: it goes straight to Deleting, where it takes no request
            // of the peer's (no CREATE_CHILD_SA, no Child SA, nothing for held packets), and closes once the report is
            // answered or after one retransmission interval.
            SetState(IkeSaState.Deleting, "the peer's AUTH is wrong: reporting AUTHENTICATION_FAILED, then closing");
            SendProtectedRequest(ExchangeType.Informational, IkePurpose.ReportAuthenticationFailed, [NotifyPayload.Status(NotifyType.AuthenticationFailed)], now, (_, _, _, t) =>
            {
                Close("AUTHENTICATION_FAILED", t);
                return Step.Success;
            });
            _pending!.GiveUpAt = now + _config.Retransmit.Delay(0);
            return wrongAuth;
        }
        PeerIdentity = peerId;
        Established(now, $"authenticated {peerId}");
        var childError = notifies.FirstOrDefault(n => n.IsError);
        if (childError is not null)
        {
            return Fail(childError.NotifyType, ChildRefusalReason(childError.NotifyType), byPeer: true, now);
        }
        var child = AcceptChildResponse(payloads, _firstChildSpi, pfsShared: null, replaces: null, now, out var refusal);
        if (child is null) return refusal;
        InstallChild(child, outboundActive: true, lowestNonce: LowestOf(_ni, _nr), now);
        return Step.Success;
    }

    private string ChildRefusalReason(NotifyType type) => type switch
    {
        NotifyType.NoProposalChosen => $"the peer accepts none of our Child SA proposals: we offered {ProposalText.List(_config.EspProposals)}",
        NotifyType.TsUnacceptable => $"the peer refuses our traffic selectors {string.Join(',', _config.LocalTs)} === {string.Join(',', _config.RemoteTs)}",
        NotifyType.SinglePairRequired => "the peer wants a single pair of traffic selectors",
        _ => "the peer refused the Child SA",
    };

    private void Established(DateTimeOffset now, string reason)
    {
        EstablishedAt ??= now;
        _lastInbound = now;
        _ikeRekeyAt = now + Soft(_config.Lifetimes.IkeRekey);
        _ikeExpireAt = now + _config.Lifetimes.IkeRekey + _config.Lifetimes.HardMargin;
        // The IKE_SA_INIT messages were kept for the AUTH payloads (RFC 7296 section 2.15) and to know a copy of the
        // request; both are behind us now (the response cache holds IKE_AUTH's), and an SA may live for hours.
        _initRequest = null;
        _initResponse = null;
        SetState(IkeSaState.Established, reason);
    }

    /// <summary>A soft lifetime drawn at random in [lifetime × (1 − jitter), lifetime], so both sides rarely rekey at once.</summary>
    private TimeSpan Soft(TimeSpan lifetime) => TimeSpan.FromTicks((long)(lifetime.Ticks * SoftFraction()));

    /// <summary>A random factor in [1 − jitter, 1].</summary>
    private double SoftFraction()
    {
        Span<byte> b = stackalloc byte[4];
        _env.Random.Fill(b);
        var fraction = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b) / (double)uint.MaxValue;
        return 1 - _config.Lifetimes.Jitter * fraction;
    }

    private static byte[] LowestOf(params byte[][] nonces) => nonces.OrderBy(n => n, NonceComparer.Instance).First();

    /// <summary>Orders nonces as unsigned big-endian numbers, shorter first on a common prefix (RFC 7296 section 2.8.1).</summary>
    private sealed class NonceComparer : IComparer<byte[]>
    {
        public static readonly NonceComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x!.AsSpan().SequenceCompareTo(y);
    }
}
