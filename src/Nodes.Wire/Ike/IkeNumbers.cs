namespace Nodes.Wire.Ike;

// IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry; RFC 7296 section 3 unless noted.

/// <summary>IKE exchange types (RFC 7296 section 3.1).</summary>
public enum ExchangeType : byte
{
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,
}

/// <summary>IKE payload types as carried in Next Payload fields (RFC 7296 section 3.2; SKF from RFC 7383).</summary>
public enum IkePayloadType : byte
{
    /// <summary>No next payload: ends a chain.</summary>
    None = 0,
    SecurityAssociation = 33,
    KeyExchange = 34,
    IdentificationInitiator = 35,
    IdentificationResponder = 36,
    Certificate = 37,
    CertificateRequest = 38,
    Authentication = 39,
    Nonce = 40,
    Notify = 41,
    Delete = 42,
    VendorId = 43,
    TrafficSelectorInitiator = 44,
    TrafficSelectorResponder = 45,
    Encrypted = 46,
    Configuration = 47,
    Eap = 48,
    /// <summary>Encrypted and authenticated fragment (RFC 7383 section 2.5).</summary>
    EncryptedFragment = 53,
}

/// <summary>IKE header flags (RFC 7296 section 3.1). Other bits are sent as zero and ignored on receipt.</summary>
[Flags]
public enum IkeFlags : byte
{
    None = 0,
    /// <summary>Set by the original initiator of the IKE SA.</summary>
    Initiator = 0x08,
    /// <summary>The sender can speak a higher major version.</summary>
    Version = 0x10,
    /// <summary>The message is a response to a request with the same message ID.</summary>
    Response = 0x20,
}

/// <summary>Security protocol identifiers (RFC 7296 section 3.3.1). Zero is used by notifications about no particular SA.</summary>
public enum IkeProtocolId : byte
{
    None = 0,
    Ike = 1,
    Ah = 2,
    Esp = 3,
}

/// <summary>Transform types (RFC 7296 section 3.3.2).</summary>
public enum TransformType : byte
{
    Encryption = 1,
    PseudorandomFunction = 2,
    Integrity = 3,
    DiffieHellmanGroup = 4,
    ExtendedSequenceNumbers = 5,
}

/// <summary>Transform attribute types (RFC 7296 section 3.3.5).</summary>
public enum TransformAttributeType : ushort
{
    /// <summary>Key length in bits, always in TV form.</summary>
    KeyLength = 14,
}

/// <summary>Notify message types (RFC 7296 section 3.10.1; MOBIKE values from RFC 4555, 16430 from RFC 7383, 16431 from RFC 7427).</summary>
public enum NotifyType : ushort
{
    // Error types: 0..16383.
    UnsupportedCriticalPayload = 1,
    InvalidIkeSpi = 4,
    InvalidMajorVersion = 5,
    InvalidSyntax = 7,
    InvalidMessageId = 9,
    InvalidSpi = 11,
    NoProposalChosen = 14,
    InvalidKePayload = 17,
    AuthenticationFailed = 24,
    SinglePairRequired = 34,
    NoAdditionalSas = 35,
    InternalAddressFailure = 36,
    FailedCpRequired = 37,
    TsUnacceptable = 38,
    InvalidSelectors = 39,
    TemporaryFailure = 43,
    ChildSaNotFound = 44,

    // Status types: 16384 and above.
    InitialContact = 16384,
    SetWindowSize = 16385,
    AdditionalTsPossible = 16386,
    IpcompSupported = 16387,
    NatDetectionSourceIp = 16388,
    NatDetectionDestinationIp = 16389,
    Cookie = 16390,
    UseTransportMode = 16391,
    HttpCertLookupSupported = 16392,
    RekeySa = 16393,
    EspTfcPaddingNotSupported = 16394,
    NonFirstFragmentsAlso = 16395,
    MobikeSupported = 16396,
    AdditionalIp4Address = 16397,
    AdditionalIp6Address = 16398,
    NoAdditionalAddresses = 16399,
    UpdateSaAddresses = 16400,
    Cookie2 = 16401,
    NoNatsAllowed = 16402,
    Ikev2FragmentationSupported = 16430,
    SignatureHashAlgorithms = 16431,
}

/// <summary>Identification types (RFC 7296 section 3.5).</summary>
public enum IdType : byte
{
    Ipv4Address = 1,
    Fqdn = 2,
    Rfc822Address = 3,
    Ipv6Address = 5,
    DerAsn1Dn = 9,
    DerAsn1Gn = 10,
    KeyId = 11,
}

/// <summary>Authentication methods (RFC 7296 section 3.8; ECDSA from RFC 4754, 14 from RFC 7427).</summary>
public enum AuthMethod : byte
{
    RsaDigitalSignature = 1,
    SharedKeyMessageIntegrityCode = 2,
    DssDigitalSignature = 3,
    EcdsaSha256P256 = 9,
    EcdsaSha384P384 = 10,
    EcdsaSha512P521 = 11,
    DigitalSignature = 14,
}

/// <summary>Traffic selector types (RFC 7296 section 3.13.1).</summary>
public enum TrafficSelectorType : byte
{
    Ipv4AddressRange = 7,
    Ipv6AddressRange = 8,
}

/// <summary>Configuration payload types (RFC 7296 section 3.15).</summary>
public enum CfgType : byte
{
    Request = 1,
    Reply = 2,
    Set = 3,
    Ack = 4,
}

/// <summary>Configuration attribute types (RFC 7296 section 3.15.1).</summary>
public enum ConfigAttributeType : ushort
{
    InternalIp4Address = 1,
    InternalIp4Netmask = 2,
    InternalIp4Dns = 3,
    InternalIp4Nbns = 4,
    InternalIp4Dhcp = 6,
    ApplicationVersion = 7,
    InternalIp6Address = 8,
    InternalIp6Dns = 10,
    InternalIp6Dhcp = 12,
    InternalIp4Subnet = 13,
    SupportedAttributes = 14,
    InternalIp6Subnet = 15,
}
