using Nodes.Wire.Ip;

namespace Nodes.Net.Nat;

/// <summary>How a NAT reuses an external endpoint, in the terms of RFC 4787 §4.1.</summary>
public enum NatMappingBehavior : byte
{
    /// <summary>One mapping per internal endpoint, whatever the remote (RFC 4787 REQ-1).</summary>
    EndpointIndependent,

    /// <summary>One mapping per internal endpoint and remote address.</summary>
    AddressDependent,

    /// <summary>One mapping per internal endpoint and remote endpoint ("symmetric NAT").</summary>
    AddressAndPortDependent,
}

/// <summary>Which inbound datagrams a mapping admits, in the terms of RFC 4787 §5.</summary>
public enum NatFilteringBehavior : byte
{
    /// <summary>Any remote endpoint ("full cone").</summary>
    EndpointIndependent,

    /// <summary>Remote addresses the inside host has sent to ("restricted cone").</summary>
    AddressDependent,

    /// <summary>Remote endpoints the inside host has sent to ("port restricted cone").</summary>
    AddressAndPortDependent,
}

/// <summary>How external ports are chosen (RFC 4787 §4.2.1).</summary>
public enum NatPortAllocation : byte
{
    /// <summary>Keep the inside port when it is free externally, otherwise draw a random one from the range.</summary>
    Preserve,

    /// <summary>Always draw a random port from the range.</summary>
    Random,
}

/// <summary>Configuration of a <see cref="NatTable"/>.</summary>
public sealed record NatOptions
{
    /// <summary>The NAT's address on the outside (the ISP side).</summary>
    public required Ipv4Address OutsideAddress { get; init; }

    /// <summary>Mapping behaviour; endpoint-independent as RFC 4787 REQ-1 asks.</summary>
    public NatMappingBehavior Mapping { get; init; } = NatMappingBehavior.EndpointIndependent;

    /// <summary>Filtering behaviour; address-dependent, which RFC 4787 REQ-8 allows and home routers commonly do.</summary>
    public NatFilteringBehavior Filtering { get; init; } = NatFilteringBehavior.AddressDependent;

    /// <summary>Port choice.</summary>
    public NatPortAllocation PortAllocation { get; init; } = NatPortAllocation.Preserve;

    /// <summary>First port of the random range (inclusive).</summary>
    public ushort PortRangeStart { get; init; } = 1024;

    /// <summary>Last port of the random range (inclusive).</summary>
    public ushort PortRangeEnd { get; init; } = 65535;

    /// <summary>UDP mapping idle timeout; RFC 4787 REQ-5 asks for at least 2 minutes.</summary>
    public TimeSpan UdpTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>ICMP query mapping idle timeout; RFC 5508 REQ-1 asks for at least 60 s.</summary>
    public TimeSpan IcmpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>TCP mapping idle timeout; RFC 5382 REQ-5 asks for at least 2 h 4 min when established.</summary>
    public TimeSpan TcpTimeout { get; init; } = TimeSpan.FromSeconds(7440);

    /// <summary>Whether admitted inbound traffic refreshes a mapping too (RFC 4787 REQ-6 leaves it optional).</summary>
    public bool RefreshOnInbound { get; init; }

    /// <summary>Seed of the port generator: the same seed gives the same ports.</summary>
    public ulong Seed { get; init; }

    /// <summary>The idle timeout for <paramref name="protocol"/>.</summary>
    public TimeSpan TimeoutFor(IpProtocol protocol) => protocol switch
    {
        IpProtocol.Icmp => IcmpTimeout,
        IpProtocol.Tcp => TcpTimeout,
        _ => UdpTimeout,
    };
}
