using System.Buffers.Binary;
using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

/// <summary>Randomness and key exchange for IKE SAs: inputs, so that a seeded run repeats exactly.</summary>
public sealed record IkeEnvironment(IRandomSource Random)
{
    /// <summary>Creates the key exchange for a group; replaceable by tests.</summary>
    public Func<DhGroup, IRandomSource, IKeyExchange> KeyExchangeFactory { get; init; } = KeyExchange.Create;

    /// <summary>The receiver's inbound ESP SPIs: every IKE SA made with this environment (one gateway's) draws from them.</summary>
    public InboundSpis InboundSpis { get; init; } = new();

    public static IkeEnvironment System { get; } = new(SystemRandomSource.Instance);
}

/// <summary>
/// One IKEv2 SA (RFC 7296), initiator or responder, as a pure state machine: no sockets, no clock, no actors.
/// The owner feeds it received IKE messages (<see cref="Receive"/>), the current time (<see cref="Tick"/>, at
/// <see cref="NextDeadline"/> at the latest) and commands (rekey, delete), and carries out what
/// <see cref="TakeOutputs"/> returns: messages to send, Child SAs to install or remove, events and failures.
/// Requests go out one at a time (window size 1, section 2.3); requests of the peer are answered in order and a
/// retransmitted request gets the cached response (section 2.1). Nothing that fails authentication changes state.
/// Not thread-safe: one owner (one actor) drives an instance.
/// </summary>
public sealed partial class IkeSa : IDisposable
{
    private readonly IkeSaConfig _config;
    private readonly IkeEnvironment _env;
    private readonly List<IkeOutput> _outputs = [];
    private readonly Dictionary<uint, ChildRecord> _children = [];
    private readonly Queue<Work> _work = new();

    private IkeCrypto? _crypto;
    private IkeSuite? _suite;
    private byte[] _ni = [];
    private byte[] _nr = [];
    private byte[]? _initRequest;
    private byte[]? _initResponse;

    private uint _nextRequestId;
    private uint _expectedPeerRequestId;
    private Pending? _pending;
    private (uint MessageId, byte[] Bytes, ExchangeType Exchange)? _cachedResponse;
    // The inbound SPIs this SA drew from its gateway (InboundSpis) and still holds: its children's, and any drawn for an
    // exchange under way.
    private List<uint>? _drawnSpis;

    private DateTimeOffset _lastInbound;
    private DateTimeOffset _lastOutbound;
    private DateTimeOffset? _ikeRekeyAt;
    private DateTimeOffset? _ikeExpireAt;
    private DateTimeOffset? _halfOpenDeadline;

    private IkeSa(IkeSaConfig config, IkeEnvironment env, bool originalInitiator, Ipv4Endpoint local, Ipv4Endpoint remote)
    {
        _config = config;
        _env = env;
        IsOriginalInitiator = originalInitiator;
        Local = local;
        Remote = remote;
    }

    /// <summary>A new IKE SA that this side will initiate from <paramref name="local"/> to <paramref name="remote"/> (port 500).</summary>
    public static IkeSa CreateInitiator(IkeSaConfig config, IkeEnvironment env, Ipv4Endpoint local, Ipv4Endpoint remote)
    {
        var sa = new IkeSa(config, env, originalInitiator: true, local, remote);
        sa.InitiatorSpi = sa.NewIkeSpi();
        return sa;
    }

    public string Name => _config.Name;
    public IkeSaConfig Config => _config;
    public IkeSaState State { get; private set; } = IkeSaState.Created;
    /// <summary>True on the side that sent the IKE_SA_INIT (or the IKE SA rekey) that made this SA.</summary>
    public bool IsOriginalInitiator { get; private set; }
    public ulong InitiatorSpi { get; private set; }
    public ulong ResponderSpi { get; private set; }
    public Ipv4Endpoint Local { get; private set; }
    public Ipv4Endpoint Remote { get; private set; }
    /// <summary>This side is behind a NAT (its NAT_DETECTION_SOURCE_IP did not match what the peer saw).</summary>
    public bool LocalBehindNat { get; private set; }
    /// <summary>The peer is behind a NAT.</summary>
    public bool RemoteBehindNat { get; private set; }
    /// <summary>IKE and ESP travel in UDP 4500 (a NAT was detected, or encapsulation is forced).</summary>
    public bool Encapsulated => LocalBehindNat || RemoteBehindNat || _config.ForceEncapsulation;
    public IkeSuite? Suite => _suite;
    public int IkeRekeys { get; private set; }
    public int ChildRekeys { get; private set; }
    public DateTimeOffset? EstablishedAt { get; private set; }
    public IEnumerable<ChildSaInfo> ChildSas => _children.Values.Where(c => c.State != ChildState.Deleted).Select(c => c.Info);

    /// <summary>
    /// The IKE SA's keys, for a capture's Wireshark key file only (the user asked for a decryptable capture); null
    /// before the keys exist.
    /// </summary>
    public (IkeSuite Suite, IkeSaKeys Keys)? ExportKeysForCapture() => _crypto is null ? null : (_crypto.Suite, _crypto.Keys);

    /// <summary>The earliest time at which <see cref="Tick"/> has something to do, or null.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            DateTimeOffset? min = null;
            void Consider(DateTimeOffset? t) { if (t is { } v && (min is null || v < min)) min = v; }
            if (State == IkeSaState.Closed) return null;
            Consider(_pending?.NextRetransmit);
            Consider(_pending?.GiveUpAt);
            Consider(_halfOpenDeadline);
            Consider(_oldDelete?.GiveUpAt);
            if (State == IkeSaState.Established)
            {
                if (_pending is null && _config.DpdDelay is { } dpd) Consider(_lastInbound + dpd);
                if (LocalBehindNat) Consider(_lastOutbound + _config.KeepaliveInterval);
                Consider(_ikeRekeyAt);
                Consider(_ikeExpireAt);
                foreach (var c in _children.Values)
                {
                    if (c.State == ChildState.Installed) Consider(c.RekeyAt);
                    Consider(c.ExpireAt);
                }
                if (_pending is null && _work.Count > 0) return min is null ? DateTimeOffset.MinValue : min;
            }
            return min;
        }
    }

    /// <summary>Everything produced since the last call.</summary>
    public IReadOnlyList<IkeOutput> TakeOutputs()
    {
        var copy = _outputs.ToArray();
        _outputs.Clear();
        return copy;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Receiving

    /// <summary>
    /// Handles one received IKE message (without the non-ESP marker) that arrived from <paramref name="from"/> at
    /// <paramref name="to"/>. Malformed or unauthenticated input is dropped, reported as an event, and changes nothing.
    /// </summary>
    public void Receive(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        if (State == IkeSaState.Closed) return;
        if (!IkeHeader.TryParse(message, out var header, out var error))
        {
            Drop(IkeDropReason.Malformed, $"malformed IKE header ({error})");
            return;
        }
        if (_old is { } old && header.InitiatorSpi == old.SpiI && header.ResponderSpi == old.SpiR)
        {
            ReceiveOnOldSa(header, message, from, to, now);
            return;
        }
        var initRetransmission = header.Exchange == ExchangeType.IkeSaInit && header.ResponderSpi == 0 && !header.IsResponse && !IsOriginalInitiator;
        if (header.InitiatorSpi != InitiatorSpi
            || (header.ResponderSpi != ResponderSpi && !initRetransmission && !(header.Exchange == ExchangeType.IkeSaInit && IsResponseTo(header))))
        {
            Drop(IkeDropReason.WrongSa, $"{header.Exchange} {(header.IsResponse ? "response" : "request")}: IKE SPIs {header.InitiatorSpi:x16}_i {header.ResponderSpi:x16}_r do not belong to this SA");
            return;
        }
        if (header.Exchange != ExchangeType.IkeSaInit && header.NextPayload is not (IkePayloadType.Encrypted or IkePayloadType.EncryptedFragment))
        {
            // RFC 7296 sections 1.2 and 2.21.4: after IKE_SA_INIT every message is protected. An unprotected notify or
            // DELETE naming this SA (INVALID_IKE_SPI, AUTHENTICATION_FAILED, D(IKE) in clear) is anyone's, and changes nothing.
            Drop(IkeDropReason.Unprotected, $"unprotected {header.Exchange} {(header.IsResponse ? "response" : "request")} (first payload {header.NextPayload}) from {from}");
            return;
        }
        if (IsResponseTo(header))
        {
            HandleResponse(header, message, from, to, now);
        }
        else if ((header.Flags & IkeFlags.Response) == 0)
        {
            HandleRequest(header, message, from, to, now);
        }
        else
        {
            Drop(IkeDropReason.UnexpectedResponse, $"unexpected {header.Exchange} response, message ID {header.MessageId}");
        }
    }

    private bool IsResponseTo(IkeHeader header) =>
        (header.Flags & IkeFlags.Response) != 0 && _pending is { } p && p.MessageId == header.MessageId && p.Exchange == header.Exchange;

    private void HandleResponse(IkeHeader header, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        var pending = _pending!;
        List<IkePayload> payloads;
        if (header.Exchange == ExchangeType.IkeSaInit)
        {
            if (!IkeMessage.TryParse(message, out var parsed, out var error))
            {
                Drop(IkeDropReason.Malformed, $"malformed IKE_SA_INIT response ({error})");
                return;
            }
            payloads = [.. parsed!.Payloads];
        }
        else
        {
            if (!TryOpen(message, out payloads, out var failure, out _))
            {
                // An unauthenticated or unreadable response changes nothing; the request will be retransmitted.
                Drop(failure == OpenFailure.Integrity ? IkeDropReason.Integrity : IkeDropReason.Malformed, failure == OpenFailure.Integrity ? "response failed its integrity check" : $"unreadable response ({failure})");
                return;
            }
            AuthenticatedFrom(from, now);
        }
        _pending = null;
        var step = pending.OnResponse(header, payloads, message, now);
        if (step.Status == StepStatus.NotAnAnswer)
        {
            // An IKE_SA_INIT response proves nothing (it has no integrity check): the request stays pending and is
            // retransmitted until a usable answer comes or its budget is spent (RFC 7296 section 2.21.1). What it
            // said is only recorded: the exchange's outcome is the one the usable answer (or the give-up) brings.
            _pending = pending;
            return;
        }
        Done(pending, now, succeeded: step.Status != StepStatus.Failed, step.Detail);
        PumpWork(now);
    }

    private void HandleRequest(IkeHeader header, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, DateTimeOffset now)
    {
        // RFC 7296 section 2.11: a response goes back to the address and port the request came from, and leaves from
        // where it arrived, whatever the SA's endpoints are (a NAT may have given the peer a new port). That path is
        // remembered only once the request has proved itself (integrity check, or an identical IKE_SA_INIT copy): a
        // forged packet must not choose where our next response goes.
        if (_cachedResponse is { } cached && header.MessageId == cached.MessageId && header.MessageId + 1 == _expectedPeerRequestId)
        {
            // RFC 7296 section 2.1: a retransmitted request gets the same response again; the request must still
            // authenticate, so that a spoofed copy cannot make us send. IKE_SA_INIT has no integrity check: only an
            // identical copy of the request we answered counts as its retransmission.
            // A copy from elsewhere is a replay aimed at making us reflect our response to another address.
            if (header.Exchange == ExchangeType.IkeSaInit ? !message.AsSpan().SequenceEqual(_initRequest) || from != Remote : !TryOpen(message, out _, out _, out _))
            {
                Drop(header.Exchange != ExchangeType.IkeSaInit ? IkeDropReason.Integrity : IkeDropReason.InitMismatch,
                    header.Exchange != ExchangeType.IkeSaInit ? "retransmitted request failed its integrity check"
                    : from != Remote ? $"a copy of the IKE_SA_INIT we answered, from {from} instead of {Remote}"
                    : "an IKE_SA_INIT with our SPIi that differs from the one we answered");
                return;
            }
            _requestPath = (to, from);
            Emit(new IkeEvent(IkeEventKind.RequestRetransmittedByPeer, $"{header.Exchange} message ID {header.MessageId}: resending the cached response"));
            Send(cached.Bytes, cached.Exchange, cached.MessageId, isResponse: true, retransmission: true);
            return;
        }
        if (header.MessageId != _expectedPeerRequestId)
        {
            Drop(IkeDropReason.MessageId, $"request with message ID {header.MessageId}, expected {_expectedPeerRequestId}");
            return;
        }
        switch (header.Exchange)
        {
            case ExchangeType.IkeAuth when State == IkeSaState.InitAnswered:
                HandleAuthRequest(header, message, from, to, now);
                break;
            // Only an SA whose peer authenticated takes requests beyond IKE_AUTH (RFC 7296 section 2.21.2).
            case ExchangeType.CreateChildSa or ExchangeType.Informational when State is IkeSaState.Established or IkeSaState.Deleting && PeerIdentity is not null:
                if (!TryOpen(message, out var payloads, out var failure, out var critical))
                {
                    if (failure is OpenFailure.InnerSyntax or OpenFailure.UnsupportedCritical)
                    {
                        _requestPath = (to, from);
                        AuthenticatedFrom(from, now);
                        var notify = failure == OpenFailure.UnsupportedCritical
                            ? new NotifyPayload(IkeProtocolId.None, default, NotifyType.UnsupportedCriticalPayload, OctetString.Copy([(byte)critical]))
                            : NotifyPayload.Status(NotifyType.InvalidSyntax);
                        Respond(header, [notify], now);
                        if (failure == OpenFailure.InnerSyntax)
                        {
                            Fail(NotifyType.InvalidSyntax, $"the peer's {header.Exchange} request did not parse after decryption", byPeer: false, now);
                        }
                    }
                    else
                    {
                        Drop(failure == OpenFailure.Integrity ? IkeDropReason.Integrity : IkeDropReason.Malformed, failure == OpenFailure.Integrity ? $"{header.Exchange} request failed its integrity check" : $"malformed {header.Exchange} request");
                    }
                    return;
                }
                _requestPath = (to, from);
                AuthenticatedFrom(from, now);
                var started = now;
                var (response, after) = header.Exchange == ExchangeType.CreateChildSa
                    ? HandleCreateChildRequest(payloads, now)
                    : HandleInformationalRequest(payloads, now);
                Respond(header, response, now);
                Emit(new IkeExchangeDone(header.Exchange, PurposeOf(header.Exchange, payloads), header.MessageId, WeInitiated: false, started, now, true, null));
                after?.Invoke();
                PumpWork(now);
                break;
            default:
                Drop(IkeDropReason.UnexpectedExchange, $"{header.Exchange} request not expected in state {State}");
                break;
        }
    }

    private bool TryOpen(byte[] message, out List<IkePayload> payloads, out OpenFailure failure, out IkePayloadType critical)
    {
        payloads = [];
        critical = IkePayloadType.None;
        if (_crypto is null)
        {
            failure = OpenFailure.Malformed;
            return false;
        }
        // Decryption happens in place: work on a copy so a failed attempt leaves the caller's bytes intact.
        var copy = (byte[])message.Clone();
        return _crypto.TryOpen(copy, out payloads, out failure, out critical);
    }

    /// <summary>
    /// An ESP packet of one of this SA's Child SAs passed its integrity check, arriving from <paramref name="from"/>:
    /// RFC 7296 section 2.23 counts any packet "whose integrity protection validates", so a side not behind a NAT
    /// follows the peer on ESP as on IKE. Only an established SA with UDP-encapsulated ESP has a port to follow.
    /// </summary>
    public void AuthenticatedPacketFrom(Ipv4Endpoint from, DateTimeOffset now)
    {
        if (State != IkeSaState.Established || !Encapsulated || from.Port == 0) return;
        AuthenticatedFrom(from, now);
    }

    /// <summary>
    /// An integrity-protected message came from <paramref name="from"/>. RFC 7296 section 2.23: a side not behind a
    /// NAT follows a peer that is behind one to its latest address and port; a side behind a NAT does not move.
    /// The float to UDP 4500 is the same rule applied to the port change the NAT-T float itself causes.
    /// </summary>
    private void AuthenticatedFrom(Ipv4Endpoint from, DateTimeOffset now)
    {
        _lastInbound = now;
        if (from == Remote) return;
        var floated = Encapsulated && from.Address == Remote.Address && from.Port == Wire.Udp.UdpPorts.IkeNatTraversal && Remote.Port != from.Port;
        if (floated || (_config.FollowPeerEndpoint && RemoteBehindNat && !LocalBehindNat))
        {
            var old = Remote;
            Remote = from;
            foreach (var c in _children.Values) c.Info = c.Info with { Remote = from };
            Emit(new IkePeerEndpointChanged(old, from));
            Emit(new IkeEvent(IkeEventKind.PeerEndpointChanged, $"{old} → {from}"));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Time

    /// <summary>Runs timers: retransmissions, give-up, liveness checks, keepalives, rekeys and expiries.</summary>
    public void Tick(DateTimeOffset now)
    {
        if (State == IkeSaState.Closed) return;
        if (_halfOpenDeadline is { } h && now >= h && State == IkeSaState.InitAnswered)
        {
            Close("half-open IKE SA: no IKE_AUTH from the initiator", now);
            return;
        }
        if (_pending is { } p)
        {
            if (now >= p.GiveUpAt)
            {
                GiveUp(p, now);
                if (State == IkeSaState.Closed) return;
            }
            else if (now >= p.NextRetransmit)
            {
                p.Attempts++;
                p.NextRetransmit = now + _config.Retransmit.Delay(p.Attempts);
                Emit(new IkeEvent(IkeEventKind.Retransmit, $"{p.Exchange} message ID {p.MessageId}, attempt {p.Attempts + 1}"));
                Send(p.Bytes, p.Exchange, p.MessageId, isResponse: false, retransmission: true);
            }
        }
        if (_oldDelete is { } od && now >= od.GiveUpAt) RetireOld();
        if (State != IkeSaState.Established) return;
        if (_ikeExpireAt is { } ie && now >= ie)
        {
            Close("IKE SA hard lifetime expired before a rekey succeeded", now);
            return;
        }
        foreach (var c in _children.Values.ToArray())
        {
            if (c.ExpireAt is { } e && now >= e)
            {
                RemoveChild(c, "hard lifetime expired");
                _work.Enqueue(new Work(WorkKind.DeleteChild, c.Info.InboundSpi));
            }
            else if (c.State == ChildState.Installed && c.RekeyAt is { } r && now >= r)
            {
                c.RekeyAt = null;
                _work.Enqueue(new Work(WorkKind.RekeyChild, c.Info.InboundSpi));
            }
        }
        if (_ikeRekeyAt is { } ir && now >= ir)
        {
            _ikeRekeyAt = null;
            _work.Enqueue(new Work(WorkKind.RekeyIke, 0));
        }
        if (_pending is null && _work.Count == 0 && _config.DpdDelay is { } dpd && now >= _lastInbound + dpd)
        {
            _work.Enqueue(new Work(WorkKind.Dpd, 0));
        }
        if (LocalBehindNat && now >= _lastOutbound + _config.KeepaliveInterval)
        {
            _lastOutbound = now;
            Emit(new IkeSendKeepalive(Local, Remote));
        }
        PumpWork(now);
    }

    /// <summary>ESP from the peer arrived: proof of life, so no liveness check is needed for a while.</summary>
    public void NoteInboundTraffic(DateTimeOffset now) => _lastInbound = now;

    /// <summary>This side sent ESP towards the peer: no NAT keepalive is needed for a while (RFC 3948 section 4).</summary>
    public void NoteOutboundTraffic(DateTimeOffset now) => _lastOutbound = now;

    private void GiveUp(Pending p, DateTimeOffset now)
    {
        _pending = null;
        var what = p.Exchange switch
        {
            ExchangeType.IkeSaInit when _unprotectedRefusals.Count > 0 =>
                $"IKE_SA_INIT refused: {string.Join(", ", _unprotectedRefusals.Select(NotifyNames.Of))} (unprotected, so not trusted until the retransmissions ran out)",
            ExchangeType.IkeSaInit when _unusableInitAnswer is { } why => $"no usable answer to IKE_SA_INIT ({why})",
            ExchangeType.IkeSaInit => "no answer to IKE_SA_INIT",
            ExchangeType.IkeAuth => "no answer to IKE_AUTH",
            _ when p.Purpose == IkePurpose.LivenessCheck => "dead peer: liveness check unanswered",
            _ => $"no answer to {p.Exchange} ({p.Purpose.ToName()})",
        };
        // The event first: it belongs to the exchange that failed, whose span is written when it is done.
        Emit(new IkeEvent(IkeEventKind.GivingUp, $"{what} after {p.Attempts + 1} transmissions"));
        Done(p, now, succeeded: false, what);
        Close(what, now);
    }

    private DateTimeOffset GiveUpTime(DateTimeOffset now) =>
        State == IkeSaState.Established || State == IkeSaState.Deleting
            ? now + Min(_config.Retransmit.GiveUpAfter, _config.DpdTimeout)
            : now + _config.Retransmit.GiveUpAfter;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // ---------------------------------------------------------------------------------------------------------
    // Commands

    /// <summary>Rekeys the Child SA whose inbound SPI is <paramref name="inboundSpi"/> (CREATE_CHILD_SA with REKEY_SA).</summary>
    public void RekeyChild(uint inboundSpi, DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.RekeyChild, inboundSpi));
        PumpWork(now);
    }

    /// <summary>Rekeys the IKE SA (CREATE_CHILD_SA with a new IKE proposal).</summary>
    public void RekeyIke(DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.RekeyIke, 0));
        PumpWork(now);
    }

    /// <summary>Deletes one Child SA (INFORMATIONAL with a Delete payload).</summary>
    public void DeleteChild(uint inboundSpi, DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.DeleteChild, inboundSpi));
        PumpWork(now);
    }

    /// <summary>Deletes the IKE SA and with it every Child SA.</summary>
    public void Delete(DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.DeleteIke, 0));
        PumpWork(now);
    }

    /// <summary>Forgets the SA without telling the peer, as a device does with a half-made SA when its settings change.</summary>
    public void Abandon(string reason, DateTimeOffset now)
    {
        if (State != IkeSaState.Closed) Close(reason, now);
    }

    /// <summary>Sends a liveness check now (an empty INFORMATIONAL).</summary>
    public void CheckLiveness(DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.Dpd, 0));
        PumpWork(now);
    }

    /// <summary>ESP arrived with an SPI we do not know: tell the peer (INVALID_SPI, RFC 7296 section 3.10.1).</summary>
    public void ReportInvalidSpi(uint spi, DateTimeOffset now)
    {
        _work.Enqueue(new Work(WorkKind.InvalidSpi, spi));
        PumpWork(now);
    }

    private void PumpWork(DateTimeOffset now)
    {
        while (_pending is null && State == IkeSaState.Established && _work.TryDequeue(out var w))
        {
            switch (w.Kind)
            {
                case WorkKind.RekeyChild:
                    if (_children.TryGetValue(w.Spi, out var c) && c.State == ChildState.Installed) StartChildRekey(c, now);
                    break;
                case WorkKind.RekeyIke:
                    StartIkeRekey(now);
                    break;
                case WorkKind.DeleteChild:
                    if (_children.TryGetValue(w.Spi, out var d) && d.State != ChildState.Deleting) StartChildDelete(d, now);
                    else if (!_children.ContainsKey(w.Spi)) StartChildDelete(w.Spi, now);
                    break;
                case WorkKind.DeleteIke:
                    StartIkeDelete(now);
                    break;
                case WorkKind.Dpd:
                    StartDpd(now);
                    break;
                case WorkKind.InvalidSpi:
                    StartInvalidSpi(w.Spi, now);
                    break;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Sending

    private void SendRequest(ExchangeType exchange, IkePurpose purpose, byte[] bytes, DateTimeOffset now, ResponseHandler onResponse)
    {
        var id = _nextRequestId++;
        _pending = new Pending(exchange, purpose, id, bytes, now, now + _config.Retransmit.Delay(0), GiveUpTime(now), onResponse);
        Send(bytes, exchange, id, isResponse: false, retransmission: false);
    }

    /// <summary>Seals and sends a request carrying <paramref name="inner"/>.</summary>
    private void SendProtectedRequest(ExchangeType exchange, IkePurpose purpose, IReadOnlyList<IkePayload> inner, DateTimeOffset now,
        ResponseHandler onResponse)
    {
        var bytes = _crypto!.Seal(InitiatorSpi, ResponderSpi, exchange, OwnFlags(response: false), _nextRequestId, inner);
        SendRequest(exchange, purpose, bytes, now, onResponse);
    }

    private void Respond(IkeHeader request, IReadOnlyList<IkePayload> inner, DateTimeOffset now)
    {
        var bytes = _crypto!.Seal(InitiatorSpi, ResponderSpi, request.Exchange, OwnFlags(response: true), request.MessageId, inner);
        _cachedResponse = (request.MessageId, bytes, request.Exchange);
        _expectedPeerRequestId = request.MessageId + 1;
        Send(bytes, request.Exchange, request.MessageId, isResponse: true, retransmission: false);
        _ = now;
    }

    private IkeFlags OwnFlags(bool response) =>
        (IsOriginalInitiator ? IkeFlags.Initiator : 0) | (response ? IkeFlags.Response : 0);

    /// <summary>Where the request being answered arrived (our end) and came from (the peer's): responses take that path back.</summary>
    private (Ipv4Endpoint To, Ipv4Endpoint From)? _requestPath;

    private void Send(byte[] bytes, ExchangeType exchange, uint messageId, bool isResponse, bool retransmission)
    {
        // A device configured not to follow its peer pins every packet to the endpoint it learned at setup, responses
        // included: that is what makes such a device lose a rebound peer.
        if (isResponse && _requestPath is { } path && _config.FollowPeerEndpoint) Emit(new IkeSend(path.To, path.From, bytes, exchange, messageId, isResponse, retransmission));
        else Emit(new IkeSend(Local, Remote, bytes, exchange, messageId, isResponse, retransmission));
    }

    private void Emit(IkeOutput output)
    {
        _outputs.Add(output);
        if (_outputs.Count == 1) OutputsWaiting?.Invoke(this);
    }

    /// <summary>Called when the SA's first output since the last <see cref="TakeOutputs"/> is ready: its table collects only SAs that spoke.</summary>
    internal Action<IkeSa>? OutputsWaiting { get; set; }

    private void Drop(IkeDropReason reason, string detail) => Emit(new IkeDropped(reason, detail));

    private void Done(Pending p, DateTimeOffset now, bool succeeded, string? error) =>
        Emit(new IkeExchangeDone(p.Exchange, p.Purpose, p.MessageId, WeInitiated: true, p.Started, now, succeeded, error));

    private void SetState(IkeSaState next, string reason)
    {
        if (State == next) return;
        var old = State;
        State = next;
        Emit(new IkeStateChange(old, next, reason));
    }

    /// <summary>
    /// Reports a failure of the exchange being handled and returns the outcome that says so: a response handler
    /// returns it, a request handler (the peer's exchange, answered with the refusal) has nothing more to do with it.
    /// </summary>
    private Step Fail(NotifyType? notify, string reason, bool byPeer, DateTimeOffset now)
    {
        var failure = new IkeFailure(notify, reason, byPeer);
        Emit(failure);
        _ = now;
        return Step.Failed(failure.ToString());
    }

    private void Close(string reason, DateTimeOffset now)
    {
        foreach (var c in _children.Values.ToArray()) RemoveChild(c, reason);
        ReleaseDrawnSpis();
        _pending = null;
        _work.Clear();
        SetState(IkeSaState.Closed, reason);
        _ = now;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private ulong NewIkeSpi()
    {
        Span<byte> b = stackalloc byte[8];
        ulong v;
        do
        {
            _env.Random.Fill(b);
            v = BinaryPrimitives.ReadUInt64BigEndian(b);
        } while (v == 0);
        return v;
    }

    /// <summary>A new inbound SPI, unique at this gateway (<see cref="Ike.InboundSpis"/>), held until its Child SA goes or the SA closes.</summary>
    private uint NewChildSpi()
    {
        var spi = _env.InboundSpis.Draw(_env.Random);
        (_drawnSpis ??= []).Add(spi);
        return spi;
    }

    /// <summary>Gives an inbound SPI this SA drew back to the gateway.</summary>
    private void ReleaseSpi(uint spi)
    {
        if (_drawnSpis?.Remove(spi) == true) _env.InboundSpis.Release(spi);
    }

    /// <summary>Gives back every inbound SPI this SA still holds: drawn for an exchange that came to nothing, or of children gone with it.</summary>
    private void ReleaseDrawnSpis()
    {
        if (_drawnSpis is null) return;
        foreach (var spi in _drawnSpis) _env.InboundSpis.Release(spi);
        _drawnSpis.Clear();
    }

    private byte[] NewNonce()
    {
        // RFC 7296 section 2.10: at least 128 bits and at least half the PRF key size; 32 bytes covers SHA2-512.
        var n = new byte[32];
        _env.Random.Fill(n);
        return n;
    }

    private static IkePurpose PurposeOf(ExchangeType exchange, List<IkePayload> payloads) => exchange switch
    {
        ExchangeType.CreateChildSa when payloads.OfType<NotifyPayload>().Any(n => n.NotifyType == NotifyType.RekeySa) => IkePurpose.RekeyChildSa,
        ExchangeType.CreateChildSa when payloads.OfType<SecurityAssociationPayload>().FirstOrDefault()?.Proposals.FirstOrDefault()?.Protocol == IkeProtocolId.Ike => IkePurpose.RekeyIkeSa,
        ExchangeType.CreateChildSa => IkePurpose.CreateChildSa,
        ExchangeType.Informational when payloads.Count == 0 => IkePurpose.LivenessCheck,
        ExchangeType.Informational when payloads.OfType<DeletePayload>().Any(d => d.Protocol == IkeProtocolId.Ike) => IkePurpose.DeleteIkeSa,
        ExchangeType.Informational when payloads.OfType<DeletePayload>().Any() => IkePurpose.DeleteChildSa,
        ExchangeType.IkeSaInit => IkePurpose.IkeSaSetup,
        ExchangeType.IkeAuth => IkePurpose.Authenticate,
        _ => IkePurpose.Informational,
    };

    public void Dispose()
    {
        ReleaseDrawnSpis();
        foreach (var c in _children.Values) c.Info.Keys.Dispose();
        _crypto?.Dispose();
        _oldCrypto?.Dispose();
    }

    /// <summary>
    /// What handling a response did with the exchange it answers (in the spirit of strongSwan's task results
    /// SUCCESS / NEED_MORE / FAILED): the exchange is complete and worked, or failed; the task carries on with a
    /// request it has just sent in its place (a cookie, another DH group); or the message is no answer the task can
    /// use, so nothing changed and the request stays pending until a usable answer or its retransmission budget ends.
    /// </summary>
    internal enum StepStatus { Success, Failed, NeedMore, NotAnAnswer }

    /// <summary>The outcome of one response handler, with the error or the reason for the follow-up request.</summary>
    internal readonly record struct Step(StepStatus Status, string? Detail)
    {
        public static Step Success => new(StepStatus.Success, null);
        public static Step NotAnAnswer => new(StepStatus.NotAnAnswer, null);
        public static Step Failed(string error) => new(StepStatus.Failed, error);
        public static Step NeedMore(string why) => new(StepStatus.NeedMore, why);
    }

    /// <summary>Processes the authenticated (or, for IKE_SA_INIT, parsed) answer to our pending request.</summary>
    private delegate Step ResponseHandler(IkeHeader header, List<IkePayload> payloads, byte[] message, DateTimeOffset now);

    private enum WorkKind { RekeyChild, RekeyIke, DeleteChild, DeleteIke, Dpd, InvalidSpi }

    private readonly record struct Work(WorkKind Kind, uint Spi);

    private sealed class Pending(ExchangeType exchange, IkePurpose purpose, uint messageId, byte[] bytes, DateTimeOffset started,
        DateTimeOffset nextRetransmit, DateTimeOffset giveUpAt, ResponseHandler onResponse)
    {
        public ExchangeType Exchange { get; } = exchange;
        public IkePurpose Purpose { get; } = purpose;
        public uint MessageId { get; } = messageId;
        public byte[] Bytes { get; set; } = bytes;
        public DateTimeOffset Started { get; } = started;
        public DateTimeOffset NextRetransmit { get; set; } = nextRetransmit;
        public DateTimeOffset GiveUpAt { get; set; } = giveUpAt;
        public int Attempts { get; set; }
        public ResponseHandler OnResponse { get; } = onResponse;
    }

    internal enum ChildState { Installed, Rekeying, Rekeyed, Deleting, Deleted }

    internal sealed class ChildRecord(ChildSaInfo info)
    {
        public ChildSaInfo Info { get; set; } = info;
        public ChildState State { get; set; } = ChildState.Installed;
        public DateTimeOffset? RekeyAt { get; set; }
        public DateTimeOffset? ExpireAt { get; set; }
        public bool OutboundActive { get; set; }
        /// <summary>Nonces of the exchange that created this SA, for the collision rule of RFC 7296 section 2.8.1.</summary>
        public byte[] LowestNonce { get; set; } = [];
        /// <summary>While a rekey of this SA that we started is in flight: the SA the peer created by rekeying it too.</summary>
        public ChildRecord? PeerRekeyedInto { get; set; }
    }
}
