using System.Collections.Immutable;
using Nodes.Net.Bgp;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

/// <summary>One BGP neighbour of a gateway and the tunnel its session runs through.</summary>
public sealed record GatewayBgpPeer(BgpPeerOptions Options, string Tunnel);

/// <summary>
/// A gateway's BGP speaker: its AS and identifier, its neighbours (one per BGP connection or Add-BgpPeer), the
/// networks it originates, and the device's rules for what it accepts and advertises.
/// </summary>
public sealed record GatewayBgpProfile(uint Asn, Ipv4Address Identifier, ImmutableArray<GatewayBgpPeer> Peers, ImmutableArray<Ipv4Prefix> Networks)
{
    /// <summary>Prefixes whose exact copy is not accepted (Azure filters a learned prefix identical to a VNet prefix).</summary>
    public ImmutableArray<Ipv4Prefix> RefusedExactly { get; init; } = [];

    /// <summary>Learned routes overlapping these are not advertised on (Azure: none overlapping a VNet prefix).</summary>
    public ImmutableArray<Ipv4Prefix> NotReadvertisedOverlapping { get; init; } = [];

    /// <summary>A prefix learned over several sessions with equally short paths goes into each of their tunnels (Azure's instances).</summary>
    public bool Multipath { get; init; }

    /// <summary>Whether a learned default route is advertised to other neighbours (Azure never does).</summary>
    public bool ReadvertisesDefaultRoute { get; init; } = true;

    /// <summary>Floors for scaled BGP timers: a hold time stays longer than a few round trips through the tunnel.</summary>
    private static readonly TimeSpan HoldFloor = TimeSpan.FromSeconds(9);

    /// <summary>The speaker's options, with the lab's time scale for its timers.</summary>
    public BgpSpeakerOptions SpeakerOptions(ulong seed, TimeScale lab) => new()
    {
        Asn = Asn,
        Identifier = Identifier,
        Peers = [.. Peers.Select(p => p.Options)],
        Networks = Networks,
        Seed = seed,
        Scale = t => lab.Scaled(t, HoldFloor),
        Import = RefusedExactly.IsDefaultOrEmpty ? null : (prefix, _) =>
            RefusedExactly.Contains(prefix) ? $"{prefix} is identical to a VNet prefix (Azure filters it; a superset is accepted)" : null,
        Export = (route, _) =>
            (ReadvertisesDefaultRoute || route.Prefix.Length != 0)
            && !NotReadvertisedOverlapping.Any(v => v.Contains(route.Prefix) || route.Prefix.Contains(v)),
    };

    /// <summary>
    /// Azure: the gateway's ASN and BGP address; one neighbour per connection with enable-bgp. With an APIPA
    /// address on the on-premises side Azure speaks from its own custom APIPA address and never opens the session
    /// (bgp-howto); otherwise from its GatewaySubnet address, and it opens it. It advertises the VNet's prefixes and
    /// every local network gateway's (not a connection's own to its own peer), accepts at most 4,000 prefixes a
    /// peer, filters a learned prefix identical to a VNet's, and re-advertises learned routes but not the default
    /// route or one overlapping a VNet prefix (VPN Gateway FAQ, BGP section).
    /// </summary>
    public static GatewayBgpProfile? Azure(AzureVpnGatewaySpec spec, TimeScale lab)
    {
        if (spec.Bgp is not { } b || spec.BgpAddress is not { } address) return null;
        var peers = ImmutableArray.CreateBuilder<GatewayBgpPeer>();
        var networks = spec.VnetAddressSpaces.ToBuilder();
        foreach (var c in spec.Connections)
            foreach (var s in c.LocalNetworkGateway.AddressSpaces)
                if (!networks.Contains(s) && !(c.LocalNetworkGateway.Bgp is { PeeringAddress: { } bp } && s == new Ipv4Prefix(bp, 32))) networks.Add(s);
        foreach (var c in spec.Connections.Where(c => c.EnableBgp && c.LocalNetworkGateway.Bgp is not null && c.LocalNetworkGateway.GatewayAddress is not null))
        {
            var lng = c.LocalNetworkGateway.Bgp!;
            var onApipa = AzureBgpRules.IsApipa(lng.PeeringAddress!.Value);
            // An active-active gateway speaks from each instance: instance 0 from the primary address (or the first
            // custom APIPA one), instance 1 from the secondary (bgp-howto; vpn-gateway-howto-aws-bgp).
            for (var instance = 0; instance < (spec.ActiveActive ? 2 : 1); instance++)
            {
                var apipa = !onApipa ? null
                    : instance == 0 ? c.GatewayCustomBgpAddress ?? (b.CustomAddresses.IsDefaultOrEmpty ? null : b.CustomAddresses[0])
                    : b.CustomAddresses.Length > 1 ? b.CustomAddresses[1] : null;
                var own = instance == 0 ? address : spec.SecondBgpAddress!.Value;
                var tunnel = instance == 0 ? c.Name : c.Name + AzureVpnGatewaySpec.SecondInstanceSuffix;
                peers.Add(new GatewayBgpPeer(new BgpPeerOptions
                {
                    Name = tunnel,
                    LocalAddress = apipa ?? own,
                    PeerAddress = lng.PeeringAddress!.Value,
                    PeerAsn = lng.Asn,
                    Passive = apipa is not null,
                    MaxPrefixes = AzureBgpRules.MaxPrefixesAccepted,
                    Withheld = [.. c.LocalNetworkGateway.AddressSpaces],
                }, tunnel));
            }
        }
        return new GatewayBgpProfile(b.Asn, address, peers.ToImmutable(), networks.ToImmutable())
        {
            RefusedExactly = spec.VnetAddressSpaces,
            NotReadvertisedOverlapping = spec.VnetAddressSpaces,
            ReadvertisesDefaultRoute = false,
            Multipath = spec.ActiveActive,
        };
    }

    /// <summary>RRAS: Add-BgpRouter's identifier and ASN, one neighbour per Add-BgpPeer through the tunnel that routes its address, Add-BgpCustomRoute's networks.</summary>
    public static GatewayBgpProfile? Rras(RrasSpec spec, ImmutableArray<TunnelProfile> tunnels, TimeScale lab)
    {
        if (spec.Bgp is not { } b) return null;
        var peers = ImmutableArray.CreateBuilder<GatewayBgpPeer>();
        foreach (var p in b.Peers)
        {
            var tunnel = tunnels.FirstOrDefault(t => t.RemotePrefixes.Any(r => r.Contains(p.PeerAddress)));
            if (tunnel is null) continue; // the loader refuses a peer not routed into the VPN interface
            peers.Add(new GatewayBgpPeer(new BgpPeerOptions
            {
                Name = p.Name,
                LocalAddress = p.LocalAddress,
                PeerAddress = p.PeerAddress,
                PeerAsn = p.PeerAsn,
                Passive = p.OperationMode == BgpOperationMode.Server,
                Enabled = !p.ManualPeering,
                HoldTime = TimeSpan.FromSeconds(p.HoldTimeSeconds),
                IdleHold = TimeSpan.FromSeconds(p.IdleHoldTimeSeconds),
                MaxPrefixes = p.MaxAllowedPrefix,
            }, tunnel.Name));
        }
        return new GatewayBgpProfile(b.LocalAsn, b.BgpIdentifier, peers.ToImmutable(), b.CustomRoutes);
    }
}
