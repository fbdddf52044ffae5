using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>
/// BGP settings as Azure writes them (bgpSettings): on the gateway its ASN, its BGP peer address in the GatewaySubnet
/// and optional custom APIPA addresses; on a local network gateway the on-premises speaker's ASN and address.
/// </summary>
public sealed record BgpSettingsSpec(uint Asn, Ipv4Address? PeeringAddress, ImmutableArray<Ipv4Address> CustomAddresses, SourceLocation Location)
{
    /// <summary>The second instance's BGP address of an active-active gateway, when written.</summary>
    public Ipv4Address? SecondPeeringAddress { get; init; }

    /// <summary>Azure's ASN for its VPN gateways unless another is given (VPN Gateway FAQ, BGP section).</summary>
    public const uint AzureDefaultAsn = 65515;
}

/// <summary>Add-BgpPeer -OperationMode: Mixed opens and accepts connections, Server only accepts them.</summary>
public enum BgpOperationMode
{
    Mixed,
    Server,
}

/// <summary>One Add-BgpPeer on RRAS.</summary>
public sealed record RrasBgpPeerSpec(
    string Name,
    Ipv4Address LocalAddress,
    Ipv4Address PeerAddress,
    uint PeerAsn,
    BgpOperationMode OperationMode,
    bool ManualPeering,
    int HoldTimeSeconds,
    int IdleHoldTimeSeconds,
    int? MaxAllowedPrefix,
    SourceLocation Location);

/// <summary>RRAS's BGP router (Add-BgpRouter -BgpIdentifier -LocalASN), its peers and the routes it originates (Add-BgpCustomRoute -Network).</summary>
public sealed record RrasBgpSpec(Ipv4Address BgpIdentifier, uint LocalAsn, ImmutableArray<RrasBgpPeerSpec> Peers, ImmutableArray<Ipv4Prefix> CustomRoutes, SourceLocation Location);

/// <summary>What Azure says of BGP values (VPN Gateway FAQ, BGP section; bgp-howto), shared by the loader and the importer.</summary>
public static class AzureBgpRules
{
    /// <summary>The APIPA range Azure reserves for custom BGP addresses: 169.254.21.0 to 169.254.22.255.</summary>
    public static bool IsAzureApipa(Ipv4Address a) => a.Value >= 0xA9FE1500 && a.Value <= 0xA9FE16FF;

    /// <summary>Any link-local (APIPA) address, 169.254.0.0/16.</summary>
    public static bool IsApipa(Ipv4Address a) => a.Value >> 16 == 0xA9FE;

    /// <summary>
    /// ASNs Azure refuses for an on-premises BGP speaker: public 8074, 8075, 12076; private 65515, 65517 to 65520;
    /// IANA's 23456, 64496 to 64511 and 65535 to 65551 (VPN Gateway FAQ, BGP section).
    /// </summary>
    public static bool IsReservedOnPremisesAsn(uint asn) =>
        asn is 8074 or 8075 or 12076 or 65515 or (>= 65517 and <= 65520) or 23456 or (>= 64496 and <= 64511) or (>= 65535 and <= 65551);

    public const string ReservedAsnText = "8074, 8075, 12076, 65515, 65517-65520, 23456, 64496-64511, 65535-65551";

    /// <summary>How many prefixes an Azure VPN gateway accepts from one BGP peer; one more and it drops the session.</summary>
    public const int MaxPrefixesAccepted = 4000;
}
