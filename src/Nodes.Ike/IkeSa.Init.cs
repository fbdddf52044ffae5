using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using WireProposal = Nodes.Wire.Ike.Proposal;

namespace Nodes.Ike;

// IKE_SA_INIT (RFC 7296 sections 1.2, 2.6, 2.10, 2.14, 2.23):
//   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)  -->
//                                  <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)
public sealed partial class IkeSa
{
    private IKeyExchange? _keyExchange;
    private byte[]? _cookie;
    private int _invalidKeRetries;

    /// <summary>Initiator: sends IKE_SA_INIT. The first DH group of the first proposal is guessed for KEi.</summary>
    public void Start(DateTimeOffset now)
    {
        if (!IsOriginalInitiator || State != IkeSaState.Created) throw new InvalidOperationException("only a new initiator starts");
        _lastInbound = now;
        _lastOutbound = now;
        var group = _config.IkeProposals.SelectMany(p => p.Groups).First();
        _ni = NewNonce();
        SendInit(group, now);
        SetState(IkeSaState.InitSent, $"IKE_SA_INIT sent to {Remote}");
    }

    private void SendInit(DhGroup group, DateTimeOffset now)
    {
        if (_keyExchange is null || _keyExchange.Group != group)
        {
            // A new key exchange only for a new group (INVALID_KE_PAYLOAD); a cookie retry repeats KEi unchanged.
            _keyExchange?.Dispose();
            _keyExchange = _env.KeyExchangeFactory(group, _env.Random);
        }
        var payloads = new List<IkePayload>();
        // RFC 7296 section 2.6: the cookie notify comes first, before the SA payload.
        if (_cookie is not null) payloads.Add(NotifyPayload.Cookie(_cookie));
        payloads.Add(ProposalWire.ToPayload(_config.IkeProposals, IkeProtocolId.Ike, default));
        payloads.Add(new KeyExchangePayload((ushort)group, OctetString.Copy(_keyExchange.PublicKey)));
        payloads.Add(new NoncePayload(OctetString.Copy(_ni)));
        payloads.AddRange(NatDetectionPayloads(InitiatorSpi, 0, Local, Remote));
        var message = new IkeMessage(InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, payloads);
        _initRequest = message.ToArray();
        _nextRequestId = 0;
        SendRequest(ExchangeType.IkeSaInit, IkePurpose.IkeSaSetup, _initRequest, now, OnInitResponse);
    }

    /// <summary>NAT_DETECTION_SOURCE_IP (our address as we send it) and _DESTINATION_IP (the peer's as we address it).</summary>
    private IEnumerable<NotifyPayload> NatDetectionPayloads(ulong spiI, ulong spiR, Ipv4Endpoint source, Ipv4Endpoint destination)
    {
        yield return NotifyPayload.NatDetection(NotifyType.NatDetectionSourceIp, NatHash(spiI, spiR, _config.ForceEncapsulation ? FakeEndpoint() : source));
        yield return NotifyPayload.NatDetection(NotifyType.NatDetectionDestinationIp, NatHash(spiI, spiR, destination));
    }

    /// <summary>A source endpoint no peer can observe: how a side forces encapsulation (strongSwan's "encap").</summary>
    private Ipv4Endpoint FakeEndpoint()
    {
        Span<byte> b = stackalloc byte[6];
        _env.Random.Fill(b);
        return new Ipv4Endpoint(Ipv4Address.Read(b), (ushort)(b[4] << 8 | b[5]));
    }

    private static byte[] NatHash(ulong spiI, ulong spiR, Ipv4Endpoint endpoint)
    {
        Span<byte> address = stackalloc byte[4];
        endpoint.Address.Write(address);
        var hash = new byte[20];
        IkeKeySchedule.NatDetectionHash(spiI, spiR, address, endpoint.Port, hash);
        return hash;
    }

    /// <summary>
    /// Compares received NAT detection hashes with the endpoints the message really travelled between. Returns
    /// (peer behind NAT, we behind NAT), or null when the peer sent no NAT detection at all.
    /// </summary>
    private static (bool Remote, bool Local)? DetectNat(IEnumerable<IkePayload> payloads, ulong spiI, ulong spiR, Ipv4Endpoint from, Ipv4Endpoint to)
    {
        var sources = payloads.OfType<NotifyPayload>().Where(n => n.NotifyType == NotifyType.NatDetectionSourceIp).ToList();
        var destination = payloads.OfType<NotifyPayload>().FirstOrDefault(n => n.NotifyType == NotifyType.NatDetectionDestinationIp);
        if (sources.Count == 0 || destination is null) return null;
        var seenFrom = NatHash(spiI, spiR, from);
        var seenTo = NatHash(spiI, spiR, to);
        var remote = !sources.Any(s => s.Data.Span.SequenceEqual(seenFrom));
        var local = !destination.Data.Span.SequenceEqual(seenTo);
        return (remote, local);
    }

    private Step OnInitResponse(IkeHeader header, List<IkePayload> payloads, byte[] message, DateTimeOffset now)
    {
        var notifies = payloads.OfType<NotifyPayload>().ToList();
        if (notifies.FirstOrDefault(n => n.NotifyType == NotifyType.Cookie) is { } cookie && header.ResponderSpi == 0)
        {
            // RFC 7296 section 2.6: the responder is under load; repeat the request with its cookie first and all
            // other payloads unchanged.
            _cookie = cookie.Data.Span.ToArray();
            Emit(new IkeEvent(IkeEventKind.CookieChallenge, $"{Remote} asked for a cookie; repeating IKE_SA_INIT with it"));
            SendInit(_keyExchange!.Group, now);
            return Step.NeedMore("COOKIE");
        }
        if (notifies.FirstOrDefault(n => n.NotifyType == NotifyType.InvalidKePayload) is { } invalidKe)
        {
            if (invalidKe.TryGetAcceptedGroup(out var wanted) && _invalidKeRetries++ < 2
                && _config.IkeProposals.Any(p => p.Groups.Contains((DhGroup)wanted)) && KeyExchange.IsSupported((DhGroup)wanted))
            {
                Emit(new IkeFailure(NotifyType.InvalidKePayload, $"the peer wants DH group {Names.Of((DhGroup)wanted)}, not {Names.Of(_keyExchange!.Group)}; retrying with it", ReportedByPeer: true));
                SendInit((DhGroup)wanted, now);
                return Step.NeedMore($"INVALID_KE_PAYLOAD: retrying with {Names.Of((DhGroup)wanted)}");
            }
            // A group we cannot use, or too many corrections: unprotected too, so recorded and outlived like any refusal.
            var wantedText = invalidKe.TryGetAcceptedGroup(out var w) ? Names.Of((DhGroup)w) : "an unreadable group";
            if (_unprotectedRefusals.Add(NotifyType.InvalidKePayload))
                Fail(NotifyType.InvalidKePayload, $"the peer wants DH group {wantedText}, which none of our proposals ({ProposalText.List(_config.IkeProposals)}) allows", byPeer: true, now);
            Drop(IkeDropReason.UnprotectedError, $"unprotected INVALID_KE_PAYLOAD for {wantedText} in an IKE_SA_INIT response: recorded, the request keeps retransmitting");
            return Step.NotAnAnswer;
        }
        if (notifies.FirstOrDefault(n => n.IsError) is { } error)
        {
            // RFC 7296 section 2.21.1: an error in an IKE_SA_INIT response is unauthenticated; anyone on the path can
            // forge one. It is recorded, and the request keeps retransmitting: a real refusal ends the attempt when
            // the retransmissions run out, a forged one is outlived by the real answer.
            if (_unprotectedRefusals.Add(error.NotifyType))
            {
                var reason = error.NotifyType == NotifyType.NoProposalChosen
                    ? $"we offered {ProposalText.List(_config.IkeProposals)}; the peer accepts none of them (unprotected answer: retransmitting until a usable one comes)"
                    : "the peer refused IKE_SA_INIT (unprotected answer: retransmitting until a usable one comes)";
                Fail(error.NotifyType, reason, byPeer: true, now);
            }
            Drop(IkeDropReason.UnprotectedError, $"unprotected {NotifyNames.Of(error.NotifyType)} in an IKE_SA_INIT response: recorded, the request keeps retransmitting");
            return Step.NotAnAnswer;
        }
        var sa = payloads.OfType<SecurityAssociationPayload>().FirstOrDefault();
        var ke = payloads.OfType<KeyExchangePayload>().FirstOrDefault();
        var nonce = payloads.OfType<NoncePayload>().FirstOrDefault();
        if (sa is null || ke is null || nonce is null || sa.Proposals.Count != 1 || header.ResponderSpi == 0)
        {
            return Unusable("the IKE_SA_INIT response lacks SA, KE or Nonce, or carries more than one proposal");
        }
        var chosen = ProposalWire.FromWire(sa.Proposals[0]);
        var suite = ProposalSelection.SelectIke([chosen], _config.IkeProposals);
        if (suite is null || chosen.Encryption.Length != 1 || chosen.Groups.Length != 1 || (DhGroup)ke.Group != suite.Value.Suite.Group || ke.Group != (ushort)_keyExchange!.Group)
        {
            return Unusable($"the peer chose {chosen}, which is not one of our proposals {ProposalText.List(_config.IkeProposals)} or does not match our KE group");
        }
        if (!_keyExchange.TryDeriveSharedSecret(ke.Data.Span, out var shared))
        {
            return Unusable($"the peer's {Names.Of(_keyExchange.Group)} public value is not valid");
        }
        ResponderSpi = header.ResponderSpi;
        _nr = nonce.Nonce.Span.ToArray();
        _initResponse = message;
        _suite = suite.Value.Suite;
        DeriveKeys(shared, now);
        shared.Dispose();
        _keyExchange.Dispose();
        _keyExchange = null;

        if (DetectNat(payloads, InitiatorSpi, ResponderSpi, Remote, Local) is { } nat)
        {
            RemoteBehindNat = nat.Remote;
            LocalBehindNat = nat.Local;
        }
        ReportNat();
        if (Encapsulated) FloatTo4500();
        SendAuthRequest(now);
        return Step.Success;
    }

    /// <summary>Error notifies seen in unprotected IKE_SA_INIT responses, each recorded once.</summary>
    private readonly HashSet<NotifyType> _unprotectedRefusals = [];

    /// <summary>Why the last IKE_SA_INIT response that was not an error could not be used.</summary>
    private string? _unusableInitAnswer;

    /// <summary>An IKE_SA_INIT response we cannot use changes nothing (it may be forged): dropped, the request stays pending.</summary>
    private Step Unusable(string why)
    {
        _unusableInitAnswer = why;
        Drop(IkeDropReason.UnusableResponse, why);
        return Step.NotAnAnswer;
    }

    private void ReportNat()
    {
        if (LocalBehindNat) Emit(new IkeEvent(IkeEventKind.NatDetected, "this side is behind a NAT: IKE and ESP move to UDP 4500, keepalives on"));
        if (RemoteBehindNat) Emit(new IkeEvent(IkeEventKind.NatDetected, "the peer is behind a NAT: IKE and ESP move to UDP 4500"));
        if (!LocalBehindNat && !RemoteBehindNat && _config.ForceEncapsulation) Emit(new IkeEvent(IkeEventKind.UdpEncapsulationForced, "no NAT seen, ESP in UDP 4500 by configuration"));
    }

    /// <summary>RFC 7296 section 2.23: after NAT detection the initiator moves to port 4500 for everything that follows.</summary>
    private void FloatTo4500()
    {
        const ushort natT = Wire.Udp.UdpPorts.IkeNatTraversal;
        if (Local.Port == natT && Remote.Port == natT) return;
        var oldLocal = Local;
        var oldRemote = Remote;
        Local = Local with { Port = natT };
        if (IsOriginalInitiator) Remote = Remote with { Port = natT };
        Emit(new IkeEvent(IkeEventKind.NatTFloat, $"{oldLocal} → {oldRemote} becomes {Local} → {Remote}"));
    }

    private void DeriveKeys(SecretKey shared, DateTimeOffset now)
    {
        var suite = _suite!;
        using var skeyseed = IkeKeySchedule.Skeyseed(suite.Prf, _ni, _nr, shared);
        var keys = IkeKeySchedule.DeriveIkeSaKeys(suite.Prf, suite.Cipher, skeyseed, _ni, _nr, InitiatorSpi, ResponderSpi);
        _crypto = new IkeCrypto(suite, keys, IsOriginalInitiator, _env.Random);
        Emit(new IkeEvent(IkeEventKind.KeysDerived, $"IKE SA {InitiatorSpi:x16}_i {ResponderSpi:x16}_r with {suite}"));
        _ = now;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Responder

    /// <summary>
    /// What a responder does with an IKE_SA_INIT request: either answer without keeping state (a refusal or a
    /// cookie challenge, in <paramref name="statelessReply"/>) or create the responder's IKE SA, which has already
    /// produced its response among its outputs.
    /// </summary>
    public static IkeSa? RespondToInit(IkeSaConfig config, IkeEnvironment env, IkeMessage request, byte[] requestBytes,
        Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now, out IkeMessage? statelessReply, out IkeFailure? refusal) =>
        RespondToInit(config, env, request, requestBytes, from, to, now, out statelessReply, out refusal, out _);

    /// <summary>
    /// As <see cref="RespondToInit(IkeSaConfig, IkeEnvironment, IkeMessage, byte[], Ipv4Endpoint, Ipv4Endpoint, DateTimeOffset, out IkeMessage?, out IkeFailure?)"/>;
    /// <paramref name="dropped"/> says why a refused request is also counted as a hostile drop (a key exchange that is
    /// no public value of its group), null for a refusal a misconfigured peer may earn.
    /// </summary>
    public static IkeSa? RespondToInit(IkeSaConfig config, IkeEnvironment env, IkeMessage request, byte[] requestBytes,
        Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now, out IkeMessage? statelessReply, out IkeFailure? refusal, out IkeDropReason? dropped)
    {
        statelessReply = null;
        refusal = null;
        dropped = null;
        IkeMessage Refuse(NotifyPayload n) => new(request.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0, new IkePayload[] { n });

        var sa = request.PayloadsOf<SecurityAssociationPayload>().FirstOrDefault();
        var ke = request.PayloadsOf<KeyExchangePayload>().FirstOrDefault();
        var nonce = request.PayloadsOf<NoncePayload>().FirstOrDefault();
        if (sa is null || ke is null || nonce is null)
        {
            refusal = new IkeFailure(NotifyType.InvalidSyntax, $"IKE_SA_INIT from {from} lacks SA, KE or Nonce", false);
            statelessReply = Refuse(NotifyPayload.Status(NotifyType.InvalidSyntax));
            return null;
        }
        var offered = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Ike).Select(ProposalWire.FromWire).ToList();
        var choice = ProposalSelection.SelectIke(offered, config.IkeProposals);
        if (choice is null)
        {
            refusal = new IkeFailure(NotifyType.NoProposalChosen, ProposalSelection.NoProposalChosenReason(offered, config.IkeProposals, weOffered: false), false);
            statelessReply = Refuse(NotifyPayload.Status(NotifyType.NoProposalChosen));
            return null;
        }
        var suite = choice.Value.Suite;
        if (ke.Group != (ushort)suite.Group)
        {
            // RFC 7296 section 1.3: tell the initiator which group we want; it retries.
            refusal = new IkeFailure(NotifyType.InvalidKePayload, $"the peer guessed DH group {Names.Of((DhGroup)ke.Group)} but we chose {Names.Of(suite.Group)}", false);
            statelessReply = Refuse(NotifyPayload.InvalidKePayload((ushort)suite.Group));
            return null;
        }
        using var exchange = env.KeyExchangeFactory(suite.Group, env.Random);
        // RFC 7296 section 3.4: the key exchange data has exactly the length of the group's public value (strongSwan
        // CVE-2023-41913 copied a longer one into a fixed buffer). Checked before any arithmetic on it.
        if (ke.Data.Length != exchange.PublicKey.Length || !exchange.TryDeriveSharedSecret(ke.Data.Span, out var shared))
        {
            dropped = IkeDropReason.InvalidKeyExchange;
            refusal = new IkeFailure(NotifyType.InvalidSyntax, ke.Data.Length != exchange.PublicKey.Length
                ? $"the peer's {Names.Of(suite.Group)} key exchange data has {ke.Data.Length} bytes, not {exchange.PublicKey.Length}"
                : $"the peer's {Names.Of(suite.Group)} public value is not valid", false);
            statelessReply = Refuse(NotifyPayload.Status(NotifyType.InvalidSyntax));
            return null;
        }

        var ike = new IkeSa(config, env, originalInitiator: false, to, from)
        {
            InitiatorSpi = request.InitiatorSpi,
            _ni = nonce.Nonce.Span.ToArray(),
            _initRequest = requestBytes,
            _suite = suite,
            _lastInbound = now,
            _lastOutbound = now,
            _expectedPeerRequestId = 1,
        };
        ike.ResponderSpi = ike.NewIkeSpi();
        ike._nr = ike.NewNonce();
        if (DetectNat(request.Payloads, request.InitiatorSpi, 0, from, to) is { } nat)
        {
            ike.RemoteBehindNat = nat.Remote;
            ike.LocalBehindNat = nat.Local;
        }
        var proposalNumber = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Ike).ElementAt(choice.Value.ProposalIndex).Number;
        var response = new List<IkePayload>
        {
            ProposalWire.Chosen(suite, proposalNumber, default),
            new KeyExchangePayload((ushort)suite.Group, OctetString.Copy(exchange.PublicKey)),
            new NoncePayload(OctetString.Copy(ike._nr)),
        };
        response.AddRange(ike.NatDetectionPayloads(request.InitiatorSpi, ike.ResponderSpi, to, from));
        var bytes = new IkeMessage(request.InitiatorSpi, ike.ResponderSpi, ExchangeType.IkeSaInit, IkeFlags.Response, 0, response).ToArray();
        ike._initResponse = bytes;
        ike.DeriveKeys(shared, now);
        shared.Dispose();
        ike.ReportNat();
        ike._cachedResponse = (0, bytes, ExchangeType.IkeSaInit);
        ike.Send(bytes, ExchangeType.IkeSaInit, 0, isResponse: true, retransmission: false);
        ike.Emit(new IkeExchangeDone(ExchangeType.IkeSaInit, IkePurpose.IkeSaSetup, 0, WeInitiated: false, now, now, true, null));
        ike.SetState(IkeSaState.InitAnswered, $"IKE_SA_INIT answered, {suite}");
        ike._halfOpenDeadline = now + config.Retransmit.GiveUpAfter;
        return ike;
    }

    /// <summary>Builds the proposals of a fresh SA payload from a wire proposal list, for logs.</summary>
    internal static string Describe(IEnumerable<WireProposal> proposals) => ProposalText.List(proposals.Select(ProposalWire.FromWire));
}
