using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>The node kinds a topology may use, written in YAML as host, router, nat-router, rras, azure-vpn-gateway.</summary>
public enum NodeKind
{
    Host,
    Router,
    NatRouter,
    Rras,
    AzureVpnGateway,
}

/// <summary>Operating system of a host; it decides default TTL and ping payload size.</summary>
public enum HostOs
{
    Windows,
    Linux,
}

/// <summary>An interface with its address and the subnet the prefix length gives it.</summary>
/// <param name="External">Set when the interface is attached to the real network of the machine running Nodes.</param>
public sealed record InterfaceSpec(string Name, Ipv4Address Address, Ipv4Prefix Subnet, int Mtu, ExternalSpec? External, SourceLocation Location)
{
    /// <summary>"192.168.29.55/24".</summary>
    public string Cidr => $"{Address}/{Subnet.Length}";
}

/// <summary>The real-network side of an external interface: the address Nodes uses there.</summary>
public sealed record ExternalSpec(Ipv4Address Address, SourceLocation Location);

/// <summary>A static route; a default gateway is the route 0.0.0.0/0.</summary>
public sealed record RouteSpec(Ipv4Prefix Destination, Ipv4Address NextHop, int Metric, SourceLocation Location);

/// <summary>What all nodes share: a name, interfaces, static routes and an optional default gateway.</summary>
public abstract record NodeSpec(
    string Name,
    ImmutableArray<InterfaceSpec> Interfaces,
    ImmutableArray<RouteSpec> Routes,
    Ipv4Address? DefaultGateway,
    SourceLocation Location)
{
    public abstract NodeKind Kind { get; }

    /// <summary>Where the default-gateway key was written (the node's location when it was not).</summary>
    public SourceLocation DefaultGatewayLocation { get; init; } = Location;

    public InterfaceSpec? FindInterface(string name)
    {
        if (Interfaces.Length > IndexedFrom)
        {
            // A hub's routers have thousands of interfaces: an index per interface array, kept beside the record (a
            // field would take part in the record's equality and be copied by `with` to a node with other interfaces).
            var index = Indexes.GetValue(System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(Interfaces)!, BuildIndex);
            return index.GetValueOrDefault(name);
        }
        foreach (var i in Interfaces)
            if (i.Name == name) return i;
        return null;
    }

    private const int IndexedFrom = 16;
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<InterfaceSpec[], Dictionary<string, InterfaceSpec>> Indexes = new();

    private static Dictionary<string, InterfaceSpec> BuildIndex(InterfaceSpec[] interfaces)
    {
        var index = new Dictionary<string, InterfaceSpec>(interfaces.Length, StringComparer.Ordinal);
        foreach (var i in interfaces) index.TryAdd(i.Name, i); // the first of a name, as the walk finds it
        return index;
    }

    /// <summary>Static routes followed by the default gateway as 0.0.0.0/0 with metric 0.</summary>
    public IEnumerable<RouteSpec> EffectiveRoutes =>
        DefaultGateway is { } gw ? Routes.Append(new RouteSpec(default, gw, 0, DefaultGatewayLocation)) : Routes;
}

/// <summary>An end system: the client PC, an Azure VM.</summary>
public sealed record HostSpec(
    string Name, ImmutableArray<InterfaceSpec> Interfaces, ImmutableArray<RouteSpec> Routes, Ipv4Address? DefaultGateway, SourceLocation Location,
    HostOs Os)
    : NodeSpec(Name, Interfaces, Routes, DefaultGateway, Location)
{
    public override NodeKind Kind => NodeKind.Host;

    /// <summary>Initial TTL of packets the host originates: 128 on Windows, 64 on Linux.</summary>
    public int DefaultTtl => Os == HostOs.Windows ? 128 : 64;

    /// <summary>Default ping payload: 32 bytes for Windows ping.exe, 56 for Linux iputils ping.</summary>
    public int DefaultPingSize => Os == HostOs.Windows ? 32 : 56;
}

/// <summary>A plain IPv4 router, optionally clamping TCP MSS (Azure recommends 1350).</summary>
public sealed record RouterSpec(
    string Name, ImmutableArray<InterfaceSpec> Interfaces, ImmutableArray<RouteSpec> Routes, Ipv4Address? DefaultGateway, SourceLocation Location,
    int? MssClamp)
    : NodeSpec(Name, Interfaces, Routes, DefaultGateway, Location)
{
    public override NodeKind Kind => NodeKind.Router;
}

/// <summary>A router that translates inside addresses to one outside address (a home router, a carrier-grade NAT).</summary>
public sealed record NatRouterSpec(
    string Name, ImmutableArray<InterfaceSpec> Interfaces, ImmutableArray<RouteSpec> Routes, Ipv4Address? DefaultGateway, SourceLocation Location,
    NatSpec Nat)
    : NodeSpec(Name, Interfaces, Routes, DefaultGateway, Location)
{
    public override NodeKind Kind => NodeKind.NatRouter;
}

/// <summary>Windows Server with Routing and Remote Access, optionally with a site-to-site demand-dial interface.</summary>
/// <param name="LanInterface">The interface facing the LAN.</param>
/// <param name="InternetInterface">The interface IKE and ESP leave from; the same as the LAN one on a single-NIC server.</param>
public sealed record RrasSpec(
    string Name, ImmutableArray<InterfaceSpec> Interfaces, ImmutableArray<RouteSpec> Routes, Ipv4Address? DefaultGateway, SourceLocation Location,
    string LanInterface,
    string InternetInterface,
    RrasVpnSpec? Vpn)
    : NodeSpec(Name, Interfaces, Routes, DefaultGateway, Location)
{
    public override NodeKind Kind => NodeKind.Rras;

    /// <summary>Lower the MSS option of TCP SYNs entering and leaving the tunnel to this value; null leaves TCP alone.</summary>
    public int? MssClamp { get; init; }

    /// <summary>RRAS's BGP router and peers (Add-BgpRouter, Add-BgpPeer, Add-BgpCustomRoute); null: no BGP.</summary>
    public RrasBgpSpec? Bgp { get; init; }

    /// <summary>Site-to-site interfaces after the first (<see cref="Vpn"/>), e.g. one to each instance of an active-active Azure gateway.</summary>
    public ImmutableArray<RrasVpnSpec> MoreVpns { get; init; } = [];

    /// <summary>Every site-to-site interface of the server, the first one first.</summary>
    public IEnumerable<RrasVpnSpec> Vpns => Vpn is null ? [] : [Vpn, .. MoreVpns];
}

/// <summary>Azure's gateway type; only route-based gateways speak IKEv2.</summary>
public enum AzureVpnType
{
    RouteBased,
    PolicyBased,
}

/// <summary>
/// An Azure virtual network gateway. It reaches the VNet through <see cref="VnetNextHop"/>, the first
/// address of the GatewaySubnet, which Azure reserves for the subnet's default gateway: the lab puts a router
/// there standing for Azure's VNet routing.
/// </summary>
public sealed record AzureVpnGatewaySpec(
    string Name, ImmutableArray<InterfaceSpec> Interfaces, ImmutableArray<RouteSpec> Routes, Ipv4Address? DefaultGateway, SourceLocation Location,
    Ipv4Address PublicAddress,
    ImmutableArray<Ipv4Prefix> VnetAddressSpaces,
    Ipv4Prefix GatewaySubnet,
    AzureVpnType VpnType,
    ImmutableArray<AzureConnectionSpec> Connections,
    bool FollowsNatRebinding = true)
    : NodeSpec(Name, Interfaces, Routes, DefaultGateway, Location)
{
    public override NodeKind Kind => NodeKind.AzureVpnGateway;

    /// <summary>Lower the MSS option of TCP SYNs entering and leaving its tunnels to this value; null leaves TCP alone.</summary>
    public int? MssClamp { get; init; }

    /// <summary>What the second instance's tunnel of a connection is called: the connection's name and this (home-rras-IN_1).</summary>
    public const string SecondInstanceSuffix = "-IN_1";

    /// <summary>An active-active gateway: a second instance with its own public address, a tunnel per instance per connection.</summary>
    public bool ActiveActive { get; init; }

    /// <summary>The public address of the second instance (IP configuration activeActive) when <see cref="ActiveActive"/>.</summary>
    public Ipv4Address? SecondPublicAddress { get; init; }

    /// <summary>The gateway's bgpSettings when BGP is enabled on it (enable-bgp); null: no BGP.</summary>
    public BgpSettingsSpec? Bgp { get; init; }

    /// <summary>
    /// The gateway's BGP peer address in the GatewaySubnet: bgp-peering-address, or else the address of its
    /// GatewaySubnet interface.
    /// </summary>
    public Ipv4Address? BgpAddress => Bgp is null ? null : Bgp.PeeringAddress ?? Interfaces.FirstOrDefault(i => GatewaySubnet.Contains(i.Address))?.Address;

    /// <summary>The second instance's BGP address in the GatewaySubnet (an active-active gateway has two): second-bgp-peering-address, or the address after the first.</summary>
    public Ipv4Address? SecondBgpAddress => Bgp is null || !ActiveActive ? null : Bgp.SecondPeeringAddress ?? (BgpAddress is { } a ? new Ipv4Address(a.Value + 1) : null);

    /// <summary>The first host address of the GatewaySubnet (Azure reserves it as the subnet's gateway).</summary>
    public Ipv4Address VnetNextHop => new(GatewaySubnet.Network.Value + 1);
}
