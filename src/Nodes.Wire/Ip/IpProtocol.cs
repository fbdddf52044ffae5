namespace Nodes.Wire.Ip;

/// <summary>
/// IANA "Assigned Internet Protocol Numbers" carried in the IPv4 Protocol field (and in ESP's Next
/// Header). Only the values Nodes speaks are named; any byte value is still representable.
/// </summary>
public enum IpProtocol : byte
{
    /// <summary>ICMPv4, RFC 792.</summary>
    Icmp = 1,

    /// <summary>IPv4 encapsulated in IPv4 (and the ESP tunnel-mode Next Header for an inner IPv4 packet).</summary>
    IpInIp = 4,

    /// <summary>TCP, RFC 9293.</summary>
    Tcp = 6,

    /// <summary>UDP, RFC 768.</summary>
    Udp = 17,

    /// <summary>Encapsulating Security Payload, RFC 4303.</summary>
    Esp = 50,
}
