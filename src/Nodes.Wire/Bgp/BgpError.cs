namespace Nodes.Wire.Bgp;

/// <summary>The error codes of a NOTIFICATION message (RFC 4271 section 4.5).</summary>
public enum BgpErrorCode : byte
{
    MessageHeader = 1,
    OpenMessage = 2,
    UpdateMessage = 3,
    HoldTimerExpired = 4,
    FiniteStateMachine = 5,
    Cease = 6,
}

/// <summary>
/// Why a BGP message was refused, as the NOTIFICATION that says so carries it (RFC 4271 section 6): code, subcode
/// and the data the RFC asks for (the bad length field, the bad type, the offending attribute, ...). A codec returns
/// one of these instead of throwing; the session sends it and closes the connection.
/// </summary>
public readonly record struct BgpError(BgpErrorCode Code, byte Subcode, byte[]? Data = null)
{
    /// <summary>No error (<see cref="Code"/> 0).</summary>
    public static BgpError None => default;

    public bool IsNone => Code == 0;

    // Message Header Error subcodes (section 4.5 / 6.1).
    public const byte ConnectionNotSynchronized = 1;
    public const byte BadMessageLength = 2;
    public const byte BadMessageType = 3;

    // OPEN Message Error subcodes (section 6.2; 7 from RFC 5492).
    public const byte UnsupportedVersionNumber = 1;
    public const byte BadPeerAs = 2;
    public const byte BadBgpIdentifier = 3;
    public const byte UnsupportedOptionalParameter = 4;
    public const byte UnacceptableHoldTime = 6;
    public const byte UnsupportedCapability = 7;

    // UPDATE Message Error subcodes (section 6.3).
    public const byte MalformedAttributeList = 1;
    public const byte UnrecognizedWellKnownAttribute = 2;
    public const byte MissingWellKnownAttribute = 3;
    public const byte AttributeFlagsError = 4;
    public const byte AttributeLengthError = 5;
    public const byte InvalidOriginAttribute = 6;
    public const byte InvalidNextHopAttribute = 8;
    public const byte OptionalAttributeError = 9;
    public const byte InvalidNetworkField = 10;
    public const byte MalformedAsPath = 11;

    // Cease subcodes (RFC 4486 section 4).
    public const byte MaximumPrefixesReached = 1;
    public const byte AdministrativeShutdown = 2;
    public const byte PeerDeconfigured = 3;
    public const byte AdministrativeReset = 4;
    public const byte ConnectionRejected = 5;
    public const byte OtherConfigurationChange = 6;
    public const byte ConnectionCollisionResolution = 7;
    public const byte OutOfResources = 8;

    public static BgpError Header(byte subcode, byte[]? data = null) => new(BgpErrorCode.MessageHeader, subcode, data);
    public static BgpError Open(byte subcode, byte[]? data = null) => new(BgpErrorCode.OpenMessage, subcode, data);
    public static BgpError Update(byte subcode, byte[]? data = null) => new(BgpErrorCode.UpdateMessage, subcode, data);
    public static BgpError Cease(byte subcode, byte[]? data = null) => new(BgpErrorCode.Cease, subcode, data);

    /// <summary>A stable name for drop counters and logs, e.g. "update-malformed-as-path".</summary>
    public string Name => Describe(Code, Subcode).Name;

    /// <summary>The RFC's words for the code and subcode, e.g. "UPDATE Message Error / Malformed AS_PATH".</summary>
    public string Text => Describe(Code, Subcode).Text;

    public override string ToString() => Text;

    /// <summary>The name and the RFC's words of <paramref name="code"/>/<paramref name="subcode"/> (a NOTIFICATION either side sent).</summary>
    public static (string Name, string Text) Describe(BgpErrorCode code, byte subcode) => (code, subcode) switch
    {
        (0, _) => ("none", "no error"),
        (BgpErrorCode.MessageHeader, ConnectionNotSynchronized) => ("header-not-synchronized", "Message Header Error / Connection Not Synchronized"),
        (BgpErrorCode.MessageHeader, BadMessageLength) => ("header-bad-length", "Message Header Error / Bad Message Length"),
        (BgpErrorCode.MessageHeader, BadMessageType) => ("header-bad-type", "Message Header Error / Bad Message Type"),
        (BgpErrorCode.MessageHeader, _) => ("header-error", "Message Header Error"),
        (BgpErrorCode.OpenMessage, UnsupportedVersionNumber) => ("open-unsupported-version", "OPEN Message Error / Unsupported Version Number"),
        (BgpErrorCode.OpenMessage, BadPeerAs) => ("open-bad-peer-as", "OPEN Message Error / Bad Peer AS"),
        (BgpErrorCode.OpenMessage, BadBgpIdentifier) => ("open-bad-identifier", "OPEN Message Error / Bad BGP Identifier"),
        (BgpErrorCode.OpenMessage, UnsupportedOptionalParameter) => ("open-unsupported-parameter", "OPEN Message Error / Unsupported Optional Parameter"),
        (BgpErrorCode.OpenMessage, UnacceptableHoldTime) => ("open-unacceptable-hold-time", "OPEN Message Error / Unacceptable Hold Time"),
        (BgpErrorCode.OpenMessage, UnsupportedCapability) => ("open-unsupported-capability", "OPEN Message Error / Unsupported Capability"),
        (BgpErrorCode.OpenMessage, _) => ("open-error", "OPEN Message Error"),
        (BgpErrorCode.UpdateMessage, MalformedAttributeList) => ("update-malformed-attribute-list", "UPDATE Message Error / Malformed Attribute List"),
        (BgpErrorCode.UpdateMessage, UnrecognizedWellKnownAttribute) => ("update-unrecognized-well-known", "UPDATE Message Error / Unrecognized Well-known Attribute"),
        (BgpErrorCode.UpdateMessage, MissingWellKnownAttribute) => ("update-missing-well-known", "UPDATE Message Error / Missing Well-known Attribute"),
        (BgpErrorCode.UpdateMessage, AttributeFlagsError) => ("update-attribute-flags", "UPDATE Message Error / Attribute Flags Error"),
        (BgpErrorCode.UpdateMessage, AttributeLengthError) => ("update-attribute-length", "UPDATE Message Error / Attribute Length Error"),
        (BgpErrorCode.UpdateMessage, InvalidOriginAttribute) => ("update-invalid-origin", "UPDATE Message Error / Invalid ORIGIN Attribute"),
        (BgpErrorCode.UpdateMessage, InvalidNextHopAttribute) => ("update-invalid-next-hop", "UPDATE Message Error / Invalid NEXT_HOP Attribute"),
        (BgpErrorCode.UpdateMessage, OptionalAttributeError) => ("update-optional-attribute", "UPDATE Message Error / Optional Attribute Error"),
        (BgpErrorCode.UpdateMessage, InvalidNetworkField) => ("update-invalid-network", "UPDATE Message Error / Invalid Network Field"),
        (BgpErrorCode.UpdateMessage, MalformedAsPath) => ("update-malformed-as-path", "UPDATE Message Error / Malformed AS_PATH"),
        (BgpErrorCode.UpdateMessage, _) => ("update-error", "UPDATE Message Error"),
        (BgpErrorCode.HoldTimerExpired, _) => ("hold-timer-expired", "Hold Timer Expired"),
        (BgpErrorCode.FiniteStateMachine, _) => ("fsm-error", "Finite State Machine Error"),
        (BgpErrorCode.Cease, MaximumPrefixesReached) => ("cease-max-prefixes", "Cease / Maximum Number of Prefixes Reached"),
        (BgpErrorCode.Cease, AdministrativeShutdown) => ("cease-shutdown", "Cease / Administrative Shutdown"),
        (BgpErrorCode.Cease, PeerDeconfigured) => ("cease-peer-deconfigured", "Cease / Peer De-configured"),
        (BgpErrorCode.Cease, AdministrativeReset) => ("cease-reset", "Cease / Administrative Reset"),
        (BgpErrorCode.Cease, ConnectionRejected) => ("cease-connection-rejected", "Cease / Connection Rejected"),
        (BgpErrorCode.Cease, OtherConfigurationChange) => ("cease-configuration-change", "Cease / Other Configuration Change"),
        (BgpErrorCode.Cease, ConnectionCollisionResolution) => ("cease-collision", "Cease / Connection Collision Resolution"),
        (BgpErrorCode.Cease, OutOfResources) => ("cease-out-of-resources", "Cease / Out of Resources"),
        (BgpErrorCode.Cease, _) => ("cease", "Cease"),
        _ => ("unknown-error", $"error code {(byte)code} subcode {subcode}"),
    };
}
