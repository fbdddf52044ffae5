using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>RFC 4787 section 4.1 mapping behaviour.</summary>
public enum NatMapping
{
    /// <summary>One mapping per inside endpoint whatever the destination (RFC 4787 REQ-1).</summary>
    EndpointIndependent,
    /// <summary>A new mapping per destination address.</summary>
    AddressDependent,
}

/// <summary>How the NAT picks an outside port (RFC 4787 section 4.2.1).</summary>
public enum NatPortAllocation
{
    /// <summary>Keep the inside port when it is free (so IKE leaves from 500 and 4500 unchanged).</summary>
    Preserve,
    /// <summary>A random port from the range.</summary>
    Random,
}

/// <summary>An inclusive range of UDP/TCP ports.</summary>
public readonly record struct PortRange(ushort First, ushort Last)
{
    public override string ToString() => $"{First}-{Last}";
}

/// <summary>Network address and port translation from inside interfaces to one outside address.</summary>
public sealed record NatSpec(
    ImmutableArray<string> Inside,
    string Outside,
    Ipv4Address OutsideAddress,
    NatMapping Mapping,
    NatPortAllocation Ports,
    PortRange PortRange,
    TimeSpan UdpTimeout,
    TimeSpan IcmpTimeout,
    SourceLocation Location)
{
    /// <summary>RFC 4787 REQ-5 asks for at least 2 minutes of UDP idle time; 120 s is what many home routers use.</summary>
    public static readonly TimeSpan DefaultUdpTimeout = TimeSpan.FromSeconds(120);

    /// <summary>RFC 5508 REQ-1: an ICMP query mapping lives at least 60 s.</summary>
    public static readonly TimeSpan DefaultIcmpTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Ports outside the well-known range.</summary>
    public static readonly PortRange DefaultPortRange = new(1024, 65535);
}
