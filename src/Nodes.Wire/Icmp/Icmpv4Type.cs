namespace Nodes.Wire.Icmp;

/// <summary>ICMPv4 message types (IANA "ICMP Type Numbers"). Any byte value is representable.</summary>
public enum Icmpv4Type : byte
{
    /// <summary>Echo reply, RFC 792.</summary>
    EchoReply = 0,

    /// <summary>Destination unreachable, RFC 792; codes in <see cref="DestinationUnreachableCode"/>.</summary>
    DestinationUnreachable = 3,

    /// <summary>Source quench, RFC 792 (deprecated by RFC 6633, still an error message).</summary>
    SourceQuench = 4,

    /// <summary>Redirect, RFC 792.</summary>
    Redirect = 5,

    /// <summary>Echo request, RFC 792.</summary>
    EchoRequest = 8,

    /// <summary>Time exceeded, RFC 792; codes in <see cref="TimeExceededCode"/>.</summary>
    TimeExceeded = 11,

    /// <summary>Parameter problem, RFC 792.</summary>
    ParameterProblem = 12,

    /// <summary>Timestamp request, RFC 792.</summary>
    Timestamp = 13,

    /// <summary>Timestamp reply, RFC 792.</summary>
    TimestampReply = 14,
}

/// <summary>Codes of <see cref="Icmpv4Type.DestinationUnreachable"/>.</summary>
public enum DestinationUnreachableCode : byte
{
    /// <summary>RFC 792.</summary>
    NetUnreachable = 0,

    /// <summary>RFC 792.</summary>
    HostUnreachable = 1,

    /// <summary>RFC 792.</summary>
    ProtocolUnreachable = 2,

    /// <summary>RFC 792.</summary>
    PortUnreachable = 3,

    /// <summary>RFC 792; carries the next-hop MTU per RFC 1191 §4.</summary>
    FragmentationNeeded = 4,

    /// <summary>RFC 792.</summary>
    SourceRouteFailed = 5,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    DestinationNetworkUnknown = 6,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    DestinationHostUnknown = 7,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    SourceHostIsolated = 8,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    NetworkAdministrativelyProhibited = 9,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    HostAdministrativelyProhibited = 10,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    NetworkUnreachableForTos = 11,

    /// <summary>RFC 1122 §3.2.2.1.</summary>
    HostUnreachableForTos = 12,

    /// <summary>RFC 1812 §5.2.7.1.</summary>
    CommunicationAdministrativelyProhibited = 13,

    /// <summary>RFC 1812 §5.2.7.1.</summary>
    HostPrecedenceViolation = 14,

    /// <summary>RFC 1812 §5.2.7.1.</summary>
    PrecedenceCutoffInEffect = 15,
}

/// <summary>Codes of <see cref="Icmpv4Type.TimeExceeded"/>.</summary>
public enum TimeExceededCode : byte
{
    /// <summary>RFC 792: the TTL reached zero in transit.</summary>
    TtlExceededInTransit = 0,

    /// <summary>RFC 792: fragments were not all received before the reassembly timer ran out.</summary>
    FragmentReassemblyTimeExceeded = 1,
}
