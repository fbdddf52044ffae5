using Nodes.Esp;

namespace Nodes.Gateway;

/// <summary>
/// Why a gateway discarded a packet, beyond the network model's <see cref="Net.DropReason"/> and IKE's
/// <see cref="Ike.IkeDropReason"/>. Each has a stable kebab-case name (<see cref="GatewayDropReasonNames.ToName"/>)
/// used as a metric label and in status output.
/// </summary>
public enum GatewayDropReason : byte
{
    /// <summary>Shorter than an ESP header.</summary>
    EspMalformed,
    /// <summary>No Child SA of ours has the SPI (RFC 4303 section 3.4.2).</summary>
    EspUnknownSpi,
    /// <summary>What an SA decrypted is not an IPv4 datagram.</summary>
    EspInnerMalformed,
    /// <summary>What an SA decrypted does not match its traffic selectors (RFC 4301 section 5.2).</summary>
    EspSelectorMismatch,
    /// <summary>A new Child SA would share an inbound SPI with one already installed (RFC 4301 section 4.1).</summary>
    EspSpiInUse,
    /// <summary>The demand-dial queue was full; its oldest packet made room.</summary>
    DemandDialQueueFull,
    /// <summary>The tunnel is down and this side does not initiate.</summary>
    NoTunnel,
    /// <summary>A request the SA already answered, answered again from the cache (RFC 7296 section 2.1).</summary>
    IkeRepeatedRequest,
    /// <summary>TCP to a BGP address of the gateway from an address that is not one of its BGP neighbours.</summary>
    BgpNoPeer,
    /// <summary>A BGP neighbour's TCP that arrived in clear or out of another tunnel than its session's.</summary>
    BgpOutsideTunnel,
    /// <summary>For, or through, an instance of an active-active gateway that is down (maintenance or failure).</summary>
    InstanceDown,
}

/// <summary>Stable names of gateway drops.</summary>
public static class GatewayDropReasonNames
{
    public static string ToName(this GatewayDropReason reason) => reason switch
    {
        GatewayDropReason.EspMalformed => "esp-malformed",
        GatewayDropReason.EspUnknownSpi => "esp-unknown-spi",
        GatewayDropReason.EspInnerMalformed => "esp-inner-malformed",
        GatewayDropReason.EspSelectorMismatch => "esp-selector-mismatch",
        GatewayDropReason.EspSpiInUse => "esp-spi-in-use",
        GatewayDropReason.DemandDialQueueFull => "demand-dial-queue-full",
        GatewayDropReason.NoTunnel => "no-tunnel",
        GatewayDropReason.BgpNoPeer => "bgp-no-peer",
        GatewayDropReason.BgpOutsideTunnel => "bgp-outside-tunnel",
        GatewayDropReason.InstanceDown => "instance-down",
        _ => "ike-repeated-request",
    };

    /// <summary>"esp-replay", "esp-integrity", ...: an ESP SA's own reasons under the gateway's prefix.</summary>
    public static string ToName(this EspDropReason reason) => "esp-" + reason.ToString().ToLowerInvariant();
}
