using Nodes.Wire.Ip;

namespace Nodes.Net;

/// <summary>
/// One IPv4 interface of a node: its name (unique within the node), its address with the prefix
/// length of the attached subnet, and the MTU of the attached link. Immutable.
/// </summary>
public sealed record IpInterface
{
    /// <summary>The smallest MTU IPv4 allows: a 60-octet header plus one 8-octet fragment (RFC 791 §3.2).</summary>
    public const int MinimumMtu = 68;

    /// <summary>The usual Ethernet MTU.</summary>
    public const int EthernetMtu = 1500;

    /// <summary>Builds an interface; throws for an empty name, a prefix length outside 0..32 or an MTU outside 68..65535.</summary>
    public IpInterface(string name, Ipv4Address address, int prefixLength, int mtu = EthernetMtu)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, MinimumMtu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, ushort.MaxValue);
        Name = name;
        Address = address;
        Prefix = new Ipv4Prefix(address, prefixLength);
        Mtu = mtu;
    }

    /// <summary>Parses "192.168.29.55/24" for the address and prefix length.</summary>
    public static IpInterface Parse(string name, string addressWithPrefix, int mtu = EthernetMtu)
    {
        var slash = addressWithPrefix.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !Ipv4Prefix.TryParse(addressWithPrefix, out var prefix))
        {
            throw new FormatException($"'{addressWithPrefix}' is not address/length");
        }

        return new IpInterface(name, Ipv4Address.Parse(addressWithPrefix[..slash]), prefix.Length, mtu);
    }

    /// <summary>Interface name, e.g. "eth0" or "lan".</summary>
    public string Name { get; }

    /// <summary>The interface's own address.</summary>
    public Ipv4Address Address { get; }

    /// <summary>The attached subnet.</summary>
    public Ipv4Prefix Prefix { get; }

    /// <summary>The link MTU: the largest datagram sent through this interface unfragmented.</summary>
    public int Mtu { get; }

    /// <summary>The subnet's directed broadcast address (none for /31 and /32, RFC 3021).</summary>
    public Ipv4Address? DirectedBroadcast => Prefix.Length >= 31 ? null : Prefix.Last;
}

/// <summary>A datagram leaving a node: the egress interface, the next hop on that link, and the bytes.</summary>
/// <param name="Interface">Name of the egress interface.</param>
/// <param name="NextHop">Address the link layer delivers to (the gateway, or the destination when on-link).</param>
/// <param name="Datagram">The whole IPv4 datagram; owned by the receiver of this value.</param>
public readonly record struct Transmission(string Interface, Ipv4Address NextHop, byte[] Datagram)
{
    /// <summary>One transmission per datagram (the fragments of one), all out of <paramref name="egress"/> to <paramref name="nextHop"/>.</summary>
    internal static List<Transmission> Each(string egress, Ipv4Address nextHop, IEnumerable<byte[]> datagrams) =>
        datagrams.Select(d => new Transmission(egress, nextHop, d)).ToList();
}

/// <summary>
/// A node's interfaces by name, with their own addresses and their subnets' directed broadcasts indexed once, for the
/// questions a node asks of all its interfaces for every datagram: a router that joins ten thousand sites answers them
/// in one lookup instead of a walk over its interfaces. Interfaces are added while the node is built.
/// </summary>
internal sealed class InterfaceSet
{
    private readonly HashSet<Ipv4Address> _addresses = [];
    private readonly HashSet<Ipv4Address> _directedBroadcasts = [];

    /// <summary>The interfaces by name.</summary>
    public Dictionary<string, IpInterface> ByName { get; } = new(StringComparer.Ordinal);

    public void Add(IpInterface iface)
    {
        ByName.Add(iface.Name, iface);
        _addresses.Add(iface.Address);
        if (iface.DirectedBroadcast is { } b) _directedBroadcasts.Add(b);
    }

    /// <summary>True when one of the interfaces has <paramref name="address"/> as its own address.</summary>
    public bool HasAddress(Ipv4Address address) => _addresses.Contains(address);

    /// <summary>True when <paramref name="address"/> is the directed broadcast of one of the interfaces' subnets.</summary>
    public bool HasDirectedBroadcast(Ipv4Address address) => _directedBroadcasts.Contains(address);
}

/// <summary>Address classes that never name a single sender or receiver (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7).</summary>
public static class AddressClass
{
    /// <summary>224.0.0.0/4.</summary>
    public static bool IsMulticast(Ipv4Address address) => (address.Value & 0xF0000000) == 0xE0000000;

    /// <summary>127.0.0.0/8.</summary>
    public static bool IsLoopback(Ipv4Address address) => (address.Value >> 24) == 127;

    /// <summary>255.255.255.255.</summary>
    public static bool IsLimitedBroadcast(Ipv4Address address) => address == Ipv4Address.Broadcast;

    /// <summary>True for an address that cannot be a datagram's source: broadcast, multicast, loopback or 240/4 class E.</summary>
    public static bool IsMartianSource(Ipv4Address address) =>
        IsLimitedBroadcast(address) || IsMulticast(address) || IsLoopback(address) || (address.Value & 0xF0000000) == 0xF0000000;
}
