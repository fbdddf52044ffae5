using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

/// <summary>The states of an IKE SA, from either side.</summary>
public enum IkeSaState
{
    /// <summary>Not started yet.</summary>
    Created,
    /// <summary>Initiator: IKE_SA_INIT request sent.</summary>
    InitSent,
    /// <summary>Responder: IKE_SA_INIT answered, waiting for IKE_AUTH.</summary>
    InitAnswered,
    /// <summary>Initiator: IKE_AUTH request sent.</summary>
    AuthSent,
    /// <summary>Both sides authenticated: the IKE SA is up.</summary>
    Established,
    /// <summary>A DELETE of the IKE SA is in flight.</summary>
    Deleting,
    /// <summary>Gone: deleted, failed, dead peer, or replaced by a rekeyed IKE SA.</summary>
    Closed,
}

/// <summary>What an IKE SA asks its owner to do or to record. Drained with <see cref="IkeSa.TakeOutputs"/>.</summary>
public abstract record IkeOutput;

/// <summary>
/// Send an IKE message. On UDP port 4500 the owner puts the 4-byte non-ESP marker in front of it
/// (<see cref="NeedsNonEspMarker"/>, RFC 3948 section 2.2).
/// </summary>
public sealed record IkeSend(Ipv4Endpoint From, Ipv4Endpoint To, byte[] Message, ExchangeType Exchange, uint MessageId, bool IsResponse, bool IsRetransmission) : IkeOutput
{
    public bool NeedsNonEspMarker => From.Port == Wire.Udp.UdpPorts.IkeNatTraversal || To.Port == Wire.Udp.UdpPorts.IkeNatTraversal;
}

/// <summary>Send a NAT keepalive (one 0xFF byte in UDP, RFC 3948 section 2.3).</summary>
public sealed record IkeSendKeepalive(Ipv4Endpoint From, Ipv4Endpoint To) : IkeOutput;

/// <summary>The IKE SA changed state.</summary>
public sealed record IkeStateChange(IkeSaState From, IkeSaState To, string Reason) : IkeOutput;

/// <summary>An exchange finished (both directions seen): the material for one trace span.</summary>
public sealed record IkeExchangeDone(ExchangeType Exchange, IkePurpose Purpose, uint MessageId, bool WeInitiated, DateTimeOffset Started, DateTimeOffset Ended, bool Succeeded, string? Error) : IkeOutput
{
    /// <summary>The name a reader of "IKE phase 1 / phase 2" write-ups knows the exchange by.</summary>
    public string PhaseName => Exchange switch
    {
        ExchangeType.IkeSaInit => "IKE phase 1: IKE_SA_INIT",
        ExchangeType.IkeAuth => "IKE phase 1: IKE_AUTH",
        ExchangeType.CreateChildSa => "IKE phase 2: CREATE_CHILD_SA",
        _ => "IKE INFORMATIONAL",
    };
}

/// <summary>
/// Why a device's IKE endpoint (<see cref="IkeResponder"/>) or one of its IKE SAs dropped a message. Nothing a dropped
/// message said changes any state. Each reason has a stable counter name (<see cref="IkeDropped.Name"/>).
/// </summary>
public enum IkeDropReason
{
    /// <summary>The IKE header does not parse, or a message that needs no key (IKE_SA_INIT) does not.</summary>
    Malformed,
    /// <summary>No IKE SA of ours has the SPIs the message names (RFC 7296 section 2.21.4).</summary>
    UnknownSpi,
    /// <summary>An IKE_SA_INIT from an address no connection is configured for (or none that responds).</summary>
    NoConnection,
    /// <summary>Too many half-open SAs: an IKE_SA_INIT without a valid cookie got a cookie challenge instead (RFC 7296 section 2.6).</summary>
    CookieRequired,
    /// <summary>The SPI drawn for a new SA is already ours; the initiator retransmits and gets another draw.</summary>
    SpiCollision,
    /// <summary>An IKE_SA_INIT request whose responder SPI is not zero (RFC 7296 section 3.1), such as one naming an SA already in use.</summary>
    InitWithResponderSpi,
    /// <summary>An IKE_SA_INIT whose key exchange data is not a public value of its group (RFC 7296 section 3.4): refused with INVALID_SYNTAX.</summary>
    InvalidKeyExchange,
    /// <summary>A message after IKE_SA_INIT without an SK payload: everything after IKE_SA_INIT is protected (RFC 7296 sections 1.2 and 2.21.4).</summary>
    Unprotected,
    /// <summary>The message's ICV does not verify: wrong keys, or tampered with.</summary>
    Integrity,
    /// <summary>Authentic IKE SA's SPIs, but not this SA's (a late answer meant for an attempt this SA replaced).</summary>
    WrongSa,
    /// <summary>A request outside the window: not the message ID expected next, nor a retransmission of the last (RFC 7296 section 2.3).</summary>
    MessageId,
    /// <summary>A response to no request of ours.</summary>
    UnexpectedResponse,
    /// <summary>A request for an exchange the SA does not take in its state (IKE_AUTH twice, CREATE_CHILD_SA before IKE_AUTH).</summary>
    UnexpectedExchange,
    /// <summary>An error notify in an IKE_SA_INIT response: unauthenticated, so recorded and outlived by retransmission (RFC 7296 section 2.21.1).</summary>
    UnprotectedError,
    /// <summary>An IKE_SA_INIT response that is not an error but cannot be used (no SA, KE or nonce; a proposal we did not offer).</summary>
    UnusableResponse,
    /// <summary>A copy of the IKE_SA_INIT we answered that differs from it or comes from elsewhere.</summary>
    InitMismatch,
    /// <summary>A Delete payload of an authenticated peer names a Child SA we do not have (any more): ignored, the request is answered (RFC 7296 section 1.4.1).</summary>
    DeleteForUnknownSa,
    /// <summary>A copy of an IKE_SA_INIT request still waiting in the key exchange queue: the one queued gets the answer.</summary>
    AlreadyQueued,
    /// <summary>The key exchange queue is full: the IKE_SA_INIT request is not answered, and the initiator's retransmission comes back later.</summary>
    Overloaded,
}

/// <summary>The IKE endpoint or an IKE SA dropped a message, with the reason a counter is kept under and a line for the log.</summary>
public sealed record IkeDropped(IkeDropReason Reason, string Detail) : IkeOutput
{
    /// <summary>The drop counter's name: "ike-" and the reason in kebab case. Stable once published.</summary>
    public string Name => Reason switch
    {
        IkeDropReason.Malformed => "ike-malformed",
        IkeDropReason.UnknownSpi => "ike-unknown-spi",
        IkeDropReason.NoConnection => "ike-no-connection",
        IkeDropReason.CookieRequired => "ike-cookie-required",
        IkeDropReason.SpiCollision => "ike-spi-collision",
        IkeDropReason.InitWithResponderSpi => "ike-init-responder-spi",
        IkeDropReason.InvalidKeyExchange => "ike-invalid-ke",
        IkeDropReason.Unprotected => "ike-unprotected",
        IkeDropReason.Integrity => "ike-integrity",
        IkeDropReason.WrongSa => "ike-wrong-sa",
        IkeDropReason.MessageId => "ike-message-id",
        IkeDropReason.UnexpectedResponse => "ike-unexpected-response",
        IkeDropReason.UnexpectedExchange => "ike-unexpected-exchange",
        IkeDropReason.UnprotectedError => "ike-unprotected-error",
        IkeDropReason.UnusableResponse => "ike-unusable-response",
        IkeDropReason.InitMismatch => "ike-init-mismatch",
        IkeDropReason.DeleteForUnknownSa => "ike-delete-unknown-sa",
        IkeDropReason.AlreadyQueued => "ike-already-queued",
        IkeDropReason.Overloaded => "ike-overloaded",
        _ => "ike-dropped",
    };

    /// <summary>Every counter name, in the order of the reasons.</summary>
    public static IEnumerable<string> Names => Enum.GetValues<IkeDropReason>().Select(r => new IkeDropped(r, "").Name);
}

/// <summary>Something worth a trace event or a log line: NAT detected, a retransmission, a liveness check, an endpoint change.</summary>
public sealed record IkeEvent(IkeEventKind Kind, string Detail) : IkeOutput
{
    /// <summary>The event's stable name ("retransmit", "NAT detected", ...).</summary>
    public string Name => Kind.ToName();
}

/// <summary>What an <see cref="IkeEvent"/> reports; <see cref="IkeEventKinds.ToName"/> gives the stable name used in traces and logs.</summary>
public enum IkeEventKind
{
    /// <summary>A Child SA reached its soft volume or sequence limit: a rekey follows.</summary>
    ChildSaSoftLimit,
    /// <summary>The IKE SA was replaced by its rekeyed successor.</summary>
    IkeSaRekeyed,
    /// <summary>NAT detection found a NAT on the path (RFC 7296 section 2.23).</summary>
    NatDetected,
    /// <summary>IKE moved to UDP 4500 after NAT detection.</summary>
    NatTFloat,
    /// <summary>ESP travels in UDP although no NAT was detected (the configuration forces it).</summary>
    UdpEncapsulationForced,
    /// <summary>The responder asked for a cookie; IKE_SA_INIT is repeated with it.</summary>
    CookieChallenge,
    /// <summary>A request ran out of retransmissions; the SA closes.</summary>
    GivingUp,
    /// <summary>SKEYSEED and the SK_* keys were derived.</summary>
    KeysDerived,
    /// <summary>A liveness check (empty INFORMATIONAL) was sent.</summary>
    LivenessCheck,
    /// <summary>The IKE SA a rekey replaced is gone.</summary>
    OldIkeSaRetired,
    /// <summary>The peer answered a liveness check.</summary>
    PeerAlive,
    /// <summary>The peer deleted the IKE SA (INFORMATIONAL with D(IKE)).</summary>
    PeerDeletedIkeSa,
    /// <summary>An authenticated message came from a new endpoint (a NAT rebinding).</summary>
    PeerEndpointChanged,
    /// <summary>The peer reported an ESP SPI it does not know.</summary>
    PeerReportsInvalidSpi,
    /// <summary>A Child SA rekey was started.</summary>
    RekeyChildSa,
    /// <summary>An IKE SA rekey was started.</summary>
    RekeyIkeSa,
    /// <summary>Both ends rekeyed at once (RFC 7296 section 2.8.1).</summary>
    RekeyCollision,
    /// <summary>A rekey was put off (TEMPORARY_FAILURE, or another exchange in progress).</summary>
    RekeyPostponed,
    /// <summary>The peer refused a rekey.</summary>
    RekeyRefused,
    /// <summary>A request already answered came again and got the cached response (RFC 7296 section 2.1).</summary>
    RequestRetransmittedByPeer,
    /// <summary>A request was retransmitted.</summary>
    Retransmit,
}

/// <summary>Stable names of <see cref="IkeEventKind"/> values, as span events and log lines show them.</summary>
public static class IkeEventKinds
{
    public static string ToName(this IkeEventKind kind) => kind switch
    {
        IkeEventKind.ChildSaSoftLimit => "Child SA soft limit",
        IkeEventKind.IkeSaRekeyed => "IKE SA rekeyed",
        IkeEventKind.NatDetected => "NAT detected",
        IkeEventKind.NatTFloat => "NAT-T float",
        IkeEventKind.UdpEncapsulationForced => "UDP encapsulation forced",
        IkeEventKind.CookieChallenge => "cookie challenge",
        IkeEventKind.GivingUp => "giving up",
        IkeEventKind.KeysDerived => "keys derived",
        IkeEventKind.LivenessCheck => "liveness check",
        IkeEventKind.OldIkeSaRetired => "old IKE SA retired",
        IkeEventKind.PeerAlive => "peer alive",
        IkeEventKind.PeerDeletedIkeSa => "peer deleted the IKE SA",
        IkeEventKind.PeerEndpointChanged => "peer endpoint changed",
        IkeEventKind.PeerReportsInvalidSpi => "peer reports INVALID_SPI",
        IkeEventKind.RekeyChildSa => "rekey Child SA",
        IkeEventKind.RekeyIkeSa => "rekey IKE SA",
        IkeEventKind.RekeyCollision => "rekey collision",
        IkeEventKind.RekeyPostponed => "rekey postponed",
        IkeEventKind.RekeyRefused => "rekey refused",
        IkeEventKind.RequestRetransmittedByPeer => "request retransmitted by peer",
        IkeEventKind.Retransmit => "retransmit",
        _ => kind.ToString(),
    };
}


/// <summary>
/// A failure an engineer must act on, with the notify that went on (or came off) the wire:
/// NO_PROPOSAL_CHOSEN, AUTHENTICATION_FAILED, TS_UNACCEPTABLE, INVALID_KE_PAYLOAD, INVALID_SYNTAX, ...
/// </summary>
public sealed record IkeFailure(NotifyType? Notify, string Reason, bool ReportedByPeer) : IkeOutput
{
    public override string ToString() => Notify is { } n ? $"{NotifyNames.Of(n)}: {Reason}" : Reason;
}

/// <summary>A Child SA is ready: the owner creates its data plane (ESP inbound and outbound).</summary>
public sealed record ChildSaUp(ChildSaInfo Sa) : IkeOutput;

/// <summary>The owner starts sending on the Child SA with <paramref name="InboundSpi"/> (make-before-break switch-over).</summary>
public sealed record ChildSaOutboundActive(uint InboundSpi) : IkeOutput;

/// <summary>A Child SA is gone; the owner drops its data plane.</summary>
public sealed record ChildSaDown(uint InboundSpi, uint OutboundSpi, string Reason) : IkeOutput;

/// <summary>The IKE SA now answers to new SPIs (after an IKE SA rekey); the owner updates its lookup table.</summary>
public sealed record IkeSpisChanged(ulong OldInitiatorSpi, ulong OldResponderSpi, ulong NewInitiatorSpi, ulong NewResponderSpi) : IkeOutput;

/// <summary>The peer's address or port changed and the SA followed it (RFC 7296 section 2.23).</summary>
public sealed record IkePeerEndpointChanged(Ipv4Endpoint Old, Ipv4Endpoint New) : IkeOutput;

/// <summary>
/// One negotiated Child SA in tunnel mode, with its keys. The inbound SPI is the one this side chose (the peer
/// sends with it); the outbound SPI is the peer's.
/// </summary>
public sealed record ChildSaInfo(
    string Name,
    uint InboundSpi,
    uint OutboundSpi,
    ChildSuite Suite,
    ChildSaKeys Keys,
    bool WeInitiatedExchange,
    ImmutableArray<TsRange> LocalTs,
    ImmutableArray<TsRange> RemoteTs,
    bool Encapsulated,
    Ipv4Endpoint Local,
    Ipv4Endpoint Remote,
    uint? ReplacesInboundSpi,
    int ReplayWindow,
    DateTimeOffset Established)
{
    /// <summary>
    /// Bytes this side may send on the Child SA before the data plane calls <see cref="IkeSa.ChildSoftLimitReached"/>
    /// (the configured volume lifetime less jitter); 0 for no volume limit.
    /// </summary>
    public long SoftLimitBytes { get; init; }

    /// <summary>Key that decrypts what the peer sends on this Child SA.</summary>
    public SecretKey InboundEncryptionKey => WeInitiatedExchange ? Keys.ResponderToInitiatorEncryption : Keys.InitiatorToResponderEncryption;

    /// <summary>Key that checks the ICV of what the peer sends (null for combined-mode ciphers).</summary>
    public SecretKey? InboundIntegrityKey => WeInitiatedExchange ? Keys.ResponderToInitiatorIntegrity : Keys.InitiatorToResponderIntegrity;

    /// <summary>Key that encrypts what this side sends.</summary>
    public SecretKey OutboundEncryptionKey => WeInitiatedExchange ? Keys.InitiatorToResponderEncryption : Keys.ResponderToInitiatorEncryption;

    /// <summary>Key that computes the ICV of what this side sends (null for combined-mode ciphers).</summary>
    public SecretKey? OutboundIntegrityKey => WeInitiatedExchange ? Keys.InitiatorToResponderIntegrity : Keys.ResponderToInitiatorIntegrity;

    public override string ToString() =>
        $"{Name} in 0x{InboundSpi:x8} out 0x{OutboundSpi:x8} {Suite} {string.Join(',', LocalTs)} === {string.Join(',', RemoteTs)}{(Encapsulated ? " UDP-encap" : "")}";
}

/// <summary>RFC 7296 names of notify types, as engineers search for them in logs.</summary>
public static class NotifyNames
{
    public static string Of(NotifyType t) => t switch
    {
        NotifyType.UnsupportedCriticalPayload => "UNSUPPORTED_CRITICAL_PAYLOAD",
        NotifyType.InvalidIkeSpi => "INVALID_IKE_SPI",
        NotifyType.InvalidMajorVersion => "INVALID_MAJOR_VERSION",
        NotifyType.InvalidSyntax => "INVALID_SYNTAX",
        NotifyType.InvalidMessageId => "INVALID_MESSAGE_ID",
        NotifyType.InvalidSpi => "INVALID_SPI",
        NotifyType.NoProposalChosen => "NO_PROPOSAL_CHOSEN",
        NotifyType.InvalidKePayload => "INVALID_KE_PAYLOAD",
        NotifyType.AuthenticationFailed => "AUTHENTICATION_FAILED",
        NotifyType.SinglePairRequired => "SINGLE_PAIR_REQUIRED",
        NotifyType.NoAdditionalSas => "NO_ADDITIONAL_SAS",
        NotifyType.InternalAddressFailure => "INTERNAL_ADDRESS_FAILURE",
        NotifyType.FailedCpRequired => "FAILED_CP_REQUIRED",
        NotifyType.TsUnacceptable => "TS_UNACCEPTABLE",
        NotifyType.InvalidSelectors => "INVALID_SELECTORS",
        NotifyType.TemporaryFailure => "TEMPORARY_FAILURE",
        NotifyType.ChildSaNotFound => "CHILD_SA_NOT_FOUND",
        NotifyType.InitialContact => "INITIAL_CONTACT",
        NotifyType.NatDetectionSourceIp => "NAT_DETECTION_SOURCE_IP",
        NotifyType.NatDetectionDestinationIp => "NAT_DETECTION_DESTINATION_IP",
        NotifyType.Cookie => "COOKIE",
        NotifyType.RekeySa => "REKEY_SA",
        _ => $"NOTIFY_{(ushort)t}",
    };
}

/// <summary>Why an exchange was run; <see cref="IkePurposes.ToName"/> gives the name traces and logs show.</summary>
public enum IkePurpose
{
    /// <summary>IKE_SA_INIT: proposals, key exchange, nonces, NAT detection.</summary>
    IkeSaSetup,
    /// <summary>IKE_AUTH: identities, AUTH, the first Child SA.</summary>
    Authenticate,
    /// <summary>An INFORMATIONAL telling the peer its AUTH did not verify.</summary>
    ReportAuthenticationFailed,
    /// <summary>CREATE_CHILD_SA with REKEY_SA.</summary>
    RekeyChildSa,
    /// <summary>CREATE_CHILD_SA replacing the IKE SA.</summary>
    RekeyIkeSa,
    /// <summary>CREATE_CHILD_SA for an additional Child SA.</summary>
    CreateChildSa,
    /// <summary>An empty INFORMATIONAL (dead peer detection).</summary>
    LivenessCheck,
    /// <summary>INFORMATIONAL with D(ESP).</summary>
    DeleteChildSa,
    /// <summary>INFORMATIONAL with D(IKE).</summary>
    DeleteIkeSa,
    /// <summary>INFORMATIONAL telling the peer an ESP SPI is unknown.</summary>
    ReportInvalidSpi,
    /// <summary>Any other INFORMATIONAL (notifies).</summary>
    Informational,
}

/// <summary>Stable names of <see cref="IkePurpose"/> values.</summary>
public static class IkePurposes
{
    public static string ToName(this IkePurpose purpose) => purpose switch
    {
        IkePurpose.IkeSaSetup => "IKE SA setup",
        IkePurpose.Authenticate => "authenticate and create the first Child SA",
        IkePurpose.ReportAuthenticationFailed => "report AUTHENTICATION_FAILED",
        IkePurpose.RekeyChildSa => "rekey Child SA",
        IkePurpose.RekeyIkeSa => "rekey IKE SA",
        IkePurpose.CreateChildSa => "create Child SA",
        IkePurpose.LivenessCheck => "liveness check",
        IkePurpose.DeleteChildSa => "delete Child SA",
        IkePurpose.DeleteIkeSa => "delete IKE SA",
        IkePurpose.ReportInvalidSpi => "report INVALID_SPI",
        IkePurpose.Informational => "informational",
        _ => purpose.ToString(),
    };
}
