using System.Collections.Immutable;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>Where a VPN's proposals came from.</summary>
public enum PolicySource
{
    /// <summary>The device's default lists (<see cref="DeviceDefaults"/>).</summary>
    DeviceDefaults,
    /// <summary>A custom policy written with the device's own names (Azure's IPsec policy, Windows' CustomPolicy).</summary>
    CustomPolicy,
    /// <summary>Proposals written in strongSwan syntax.</summary>
    Proposals,
}

/// <summary>A prefix routed onto the demand-dial interface, as Add-VpnS2SInterface -IPv4Subnet "prefix:metric".</summary>
public sealed record RrasSubnet(Ipv4Prefix Prefix, int Metric, SourceLocation Location);

/// <summary>
/// RRAS's site-to-site interface (Add-VpnS2SInterface). Azure's configuration script names it after the Azure
/// gateway's address, uses IKEv2 with a pre-shared key and three tries, and routes the VNet prefixes on it;
/// traffic to those prefixes dials the interface when it is down.
/// </summary>
public sealed record RrasVpnSpec(
    string InterfaceName,
    Ipv4Address Destination,
    ImmutableArray<RrasSubnet> Ipv4Subnets,
    string SharedKey,
    bool Persistent,
    int IdleDisconnectSeconds,
    int NumberOfTries,
    int RetryIntervalSeconds,
    TimeSpan NatKeepalive,
    ImmutableArray<Ipv4Prefix> LocalTrafficSelectors,
    ImmutableArray<Ipv4Prefix> RemoteTrafficSelectors,
    PolicySource PolicySource,
    ImmutableArray<Proposal> IkeProposals,
    ImmutableArray<Proposal> EspProposals,
    TimeSpan IkeLifetime,
    TimeSpan ChildLifetime,
    long ChildLifetimeKilobytes,
    SourceLocation Location)
{
    /// <summary>IKE identity this side sends (IDi/IDr): an address, "name@domain" (RFC 822) or an FQDN; null: the public address.</summary>
    public string? LocalId { get; init; }

    /// <summary>IKE identity the peer must send; null accepts any identity whose AUTH verifies.</summary>
    public string? RemoteId { get; init; }

    /// <summary>Where ike-lifetime-seconds was written; null when the default applies.</summary>
    public SourceLocation? IkeLifetimeLocation { get; init; }

    /// <summary>Add-VpnS2SInterface example output: SALifeTime 3600 (not a documented default).</summary>
    public static readonly TimeSpan DefaultChildLifetime = TimeSpan.FromSeconds(3600);

    /// <summary>Example output MMSALifeTime 28800.</summary>
    public static readonly TimeSpan DefaultIkeLifetime = TimeSpan.FromSeconds(28_800);

    /// <summary>Example output SADataSizeForRenegotiation 33553408, the value Azure's 2012 script sets.</summary>
    public const long DefaultChildLifetimeKilobytes = 33_553_408;

    /// <summary>RFC 3948 section 4: keepalives after 20 s without traffic (Windows' own interval is not documented).</summary>
    public static readonly TimeSpan DefaultNatKeepalive = TimeSpan.FromSeconds(20);

    /// <summary>A shared key never prints: logs and error messages show the interface, not the secret.</summary>
    public override string ToString() => $"RrasVpnSpec {{ InterfaceName = {InterfaceName}, Destination = {Destination}, SharedKey = [redacted] }}";
}

/// <summary>Azure connection modes (New-AzVirtualNetworkGatewayConnection -ConnectionMode).</summary>
public enum ConnectionMode
{
    Default,
    InitiatorOnly,
    ResponderOnly,
}

/// <summary>The on-premises side as Azure knows it: a public address (or FQDN) and the prefixes behind it.</summary>
public sealed record LocalNetworkGatewaySpec(string? Name, Ipv4Address? GatewayAddress, string? Fqdn, ImmutableArray<Ipv4Prefix> AddressSpaces, SourceLocation Location)
{
    /// <summary>The on-premises BGP speaker's ASN and peer address (bgpSettings); null: no BGP.</summary>
    public BgpSettingsSpec? Bgp { get; init; }
}

/// <summary>A custom traffic selector pair set (Azure trafficSelectorPolicies), proposed when Azure initiates.</summary>
public sealed record TrafficSelectorPolicySpec(ImmutableArray<Ipv4Prefix> LocalAddressRanges, ImmutableArray<Ipv4Prefix> RemoteAddressRanges, SourceLocation Location);

/// <summary>
/// One Azure site-to-site connection. Proposals are resolved: from the custom IPsec/IKE policy when there is
/// one (Azure then offers and accepts only that combination), otherwise Azure's default lists.
/// </summary>
public sealed record AzureConnectionSpec(
    string Name,
    LocalNetworkGatewaySpec LocalNetworkGateway,
    string SharedKey,
    ConnectionMode Mode,
    int DpdTimeoutSeconds,
    bool UsePolicyBasedTrafficSelectors,
    ImmutableArray<TrafficSelectorPolicySpec> TrafficSelectorPolicies,
    PolicySource PolicySource,
    ImmutableArray<Proposal> IkeProposals,
    ImmutableArray<Proposal> EspProposalsAsInitiator,
    ImmutableArray<Proposal> EspProposalsAsResponder,
    TimeSpan IkeLifetime,
    TimeSpan ChildLifetime,
    long ChildLifetimeKilobytes,
    SourceLocation Location)
{
    /// <summary>IKE identity this side sends (IDi/IDr): an address, "name@domain" (RFC 822) or an FQDN; null: the public address.</summary>
    public string? LocalId { get; init; }

    /// <summary>IKE identity the peer must send; null accepts any identity whose AUTH verifies.</summary>
    public string? RemoteId { get; init; }

    /// <summary>BGP runs over this connection (enableBgp); the gateway and the local network gateway then need bgp-settings.</summary>
    public bool EnableBgp { get; init; }

    /// <summary>The APIPA address the gateway uses with this connection's peer (gatewayCustomBgpIpAddresses); null: the gateway's first custom one.</summary>
    public Ipv4Address? GatewayCustomBgpAddress { get; init; }

    /// <summary>Azure's default DPD timeout.</summary>
    public const int DefaultDpdTimeoutSeconds = 45;

    /// <summary>102,400,000 KB, Azure's default Child SA volume lifetime.</summary>
    public const long DefaultChildLifetimeKilobytes = 102_400_000;

    /// <summary>A shared key never prints: logs and error messages show the connection, not the secret.</summary>
    public override string ToString() => $"AzureConnectionSpec {{ Name = {Name}, Mode = {Mode}, SharedKey = [redacted] }}";
}
