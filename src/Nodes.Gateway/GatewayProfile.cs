using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

/// <summary>
/// One tunnel a gateway can carry: Azure's connection to a local network gateway, or RRAS's demand-dial interface.
/// <see cref="RemotePrefixes"/> are routed into it; traffic to them never leaves in clear, and only traffic from
/// <see cref="LocalPrefixes"/> enters it.
/// </summary>
public sealed record TunnelProfile(
    string Name,
    Ipv4Address Peer,
    ImmutableArray<Ipv4Prefix> RemotePrefixes,
    ImmutableArray<Ipv4Prefix> LocalPrefixes,
    IkeSaConfig Initiator,
    IkeSaConfig Responder,
    bool Initiates,
    bool Responds,
    bool DemandDial,
    TimeSpan RetryInterval,
    int Tries)
{
    /// <summary>Our address for this tunnel when it is not the gateway's public address (the second instance of an active-active Azure gateway).</summary>
    public Ipv4Address? Local { get; init; }

    /// <summary>Which instance of an active-active gateway carries the tunnel (0 otherwise).</summary>
    public int Instance { get; init; }
}

/// <summary>
/// The two VPN personalities, built from the topology: Windows Server RRAS and the Azure VPN gateway.
/// <see cref="Isolated"/> are networks behind the gateway that the internet reaches only through a tunnel (Azure's VNet).
/// </summary>
public sealed record GatewayProfile(string Kind, string InternetInterface, Ipv4Address PublicAddress, ImmutableArray<TunnelProfile> Tunnels, ImmutableArray<Ipv4Prefix> Isolated)
{
    /// <summary>
    /// The MSS the gateway lowers TCP SYNs to, in both directions, as they enter and leave a tunnel (the topology's
    /// <c>mss-clamp</c>; Azure asks for 1350 on the path); null leaves TCP alone.
    /// </summary>
    public ushort? MssClamp { get; init; }

    /// <summary>The second instance's internet interface of an active-active gateway (public, like <see cref="InternetInterface"/>).</summary>
    public string? SecondInternetInterface { get; init; }

    /// <summary>The gateway's BGP speaker over its tunnels; null without BGP.</summary>
    public GatewayBgpProfile? Bgp { get; init; }

    public static GatewayProfile Rras(RrasSpec spec, TimeScale lab)
    {
        var wan = spec.FindInterface(spec.InternetInterface)!;
        var tunnels = ImmutableArray.CreateBuilder<TunnelProfile>();
        foreach (var v in spec.Vpns)
        {
            var config = new IkeSaConfig
            {
                Name = v.InterfaceName,
                LocalId = v.LocalId is { } lid ? IkeIdentity.Parse(lid) : IkeIdentity.Address(wan.Address),
                RemoteId = v.RemoteId is { } rid ? IkeIdentity.Parse(rid) : null,
                // An external interface sends through UDP sockets only: ESP must travel in UDP 4500 there.
                ForceEncapsulation = wan.External is not null,
                SharedKey = new SecretKey(System.Text.Encoding.ASCII.GetBytes(v.SharedKey)),
                IkeProposals = v.IkeProposals,
                EspProposals = v.EspProposals,
                LocalTs = v.LocalTrafficSelectors.IsDefaultOrEmpty ? [TsRange.Any] : v.LocalTrafficSelectors.Select(TsRange.FromPrefix).ToImmutableArray(),
                RemoteTs = v.RemoteTrafficSelectors.IsDefaultOrEmpty ? [TsRange.Any] : v.RemoteTrafficSelectors.Select(TsRange.FromPrefix).ToImmutableArray(),
                Lifetimes = new Lifetimes(lab.Scaled(v.IkeLifetime, Floor), lab.Scaled(v.ChildLifetime, Floor), v.ChildLifetimeKilobytes * 1024) { HardMargin = lab.Scaled(TimeSpan.FromSeconds(540), Floor) },
                KeepaliveInterval = lab.Scaled(v.NatKeepalive),
                DpdDelay = lab.Scaled(TimeSpan.FromSeconds(30), DpdFloor),
                DpdTimeout = lab.Scaled(TimeSpan.FromSeconds(45), DpdTimeoutFloor),
            };
            // RRAS routes the subnets into the interface and sends whatever the LAN gives it (its selectors, or any).
            var local = v.LocalTrafficSelectors.IsDefaultOrEmpty ? [AnyPrefix] : v.LocalTrafficSelectors;
            tunnels.Add(new TunnelProfile(v.InterfaceName, v.Destination, v.Ipv4Subnets.Select(s => s.Prefix).ToImmutableArray(), local, config, config,
                Initiates: true, Responds: true, DemandDial: !v.Persistent, TimeSpan.FromSeconds(Math.Max(1, v.RetryIntervalSeconds)), Math.Max(1, v.NumberOfTries)));
        }
        var all = tunnels.ToImmutable();
        return new GatewayProfile("rras", spec.InternetInterface, wan.Address, all, []) { MssClamp = (ushort?)spec.MssClamp, Bgp = GatewayBgpProfile.Rras(spec, all, lab) };
    }

    public static GatewayProfile Azure(AzureVpnGatewaySpec spec, TimeScale lab)
    {
        var wan = spec.Interfaces.FirstOrDefault(i => i.Address == spec.PublicAddress) ?? spec.Interfaces[0];
        var tunnels = spec.Connections.Where(c => c.LocalNetworkGateway.GatewayAddress is not null).Select(IEnumerable<TunnelProfile> (c) =>
        {
            var policy = c.UsePolicyBasedTrafficSelectors;
            var baseConfig = new IkeSaConfig
            {
                Name = c.Name,
                LocalId = c.LocalId is { } lid ? IkeIdentity.Parse(lid) : IkeIdentity.Address(spec.PublicAddress),
                RemoteId = c.RemoteId is { } rid ? IkeIdentity.Parse(rid) : null,
                ForceEncapsulation = wan.External is not null,
                SharedKey = new SecretKey(System.Text.Encoding.ASCII.GetBytes(c.SharedKey)),
                IkeProposals = c.IkeProposals,
                EspProposals = c.EspProposalsAsResponder,
                // Azure accepts whatever selectors the peer proposes; it proposes its own only as initiator.
                LocalTs = [TsRange.Any],
                RemoteTs = [TsRange.Any],
                Lifetimes = new Lifetimes(lab.Scaled(c.IkeLifetime, Floor), lab.Scaled(c.ChildLifetime, Floor), c.ChildLifetimeKilobytes * 1024) { HardMargin = lab.Scaled(TimeSpan.FromSeconds(540), Floor) },
                DpdDelay = lab.Scaled(TimeSpan.FromSeconds(Math.Max(1, c.DpdTimeoutSeconds / 3)), DpdFloor),
                DpdTimeout = lab.Scaled(TimeSpan.FromSeconds(c.DpdTimeoutSeconds), DpdTimeoutFloor),
                FollowPeerEndpoint = spec.FollowsNatRebinding,
            };
            var initiator = baseConfig with
            {
                EspProposals = c.EspProposalsAsInitiator,
                LocalTs = policy ? spec.VnetAddressSpaces.Select(TsRange.FromPrefix).ToImmutableArray() : [TsRange.Any],
                RemoteTs = policy ? c.LocalNetworkGateway.AddressSpaces.Select(TsRange.FromPrefix).ToImmutableArray() : [TsRange.Any],
            };
            var first = new TunnelProfile(c.Name, c.LocalNetworkGateway.GatewayAddress!.Value, c.LocalNetworkGateway.AddressSpaces, spec.VnetAddressSpaces, initiator, baseConfig,
                Initiates: c.Mode == ConnectionMode.InitiatorOnly, Responds: c.Mode != ConnectionMode.InitiatorOnly, DemandDial: false,
                TimeSpan.FromSeconds(5), int.MaxValue) { Local = spec.ActiveActive ? spec.PublicAddress : null };
            if (!spec.ActiveActive || spec.SecondPublicAddress is not { } second) return [first];
            // Active-active: the second instance builds its own tunnel to the same device from its own public IP.
            var name = c.Name + AzureVpnGatewaySpec.SecondInstanceSuffix;
            IkeSaConfig Second(IkeSaConfig x) => x with { Name = name, LocalId = c.LocalId is null ? IkeIdentity.Address(second) : x.LocalId };
            return new[] { first, first with { Name = name, Initiator = Second(initiator), Responder = Second(baseConfig), Local = second, Instance = 1 } };
        }).SelectMany(t => t).ToImmutableArray();
        // BGP: Azure routes each peer's BGP address into its connection's tunnel, and its own APIPA address is one of
        // the tunnel's local networks (bgp-howto; VPN Gateway FAQ).
        var bgp = GatewayBgpProfile.Azure(spec, lab);
        if (bgp is not null)
            tunnels = tunnels.Select(t => bgp.Peers.FirstOrDefault(p => p.Tunnel == t.Name) is { } peer
                ? t with
                {
                    RemotePrefixes = t.RemotePrefixes.Contains(new Ipv4Prefix(peer.Options.PeerAddress, 32)) ? t.RemotePrefixes : t.RemotePrefixes.Add(new Ipv4Prefix(peer.Options.PeerAddress, 32)),
                    LocalPrefixes = t.LocalPrefixes.Any(l => l.Contains(peer.Options.LocalAddress)) ? t.LocalPrefixes : t.LocalPrefixes.Add(new Ipv4Prefix(peer.Options.LocalAddress, 32)),
                }
                : t).ToImmutableArray();
        // The VNet is reachable from the internet only through the gateway's tunnels.
        return new GatewayProfile("azure-vpn-gateway", wan.Name, spec.PublicAddress, tunnels, spec.VnetAddressSpaces)
        {
            MssClamp = (ushort?)spec.MssClamp,
            Bgp = bgp,
            SecondInternetInterface = spec.SecondPublicAddress is { } s2 ? spec.Interfaces.FirstOrDefault(i => i.Address == s2)?.Name : null,
        };
    }

    private static readonly Ipv4Prefix AnyPrefix = new(new Ipv4Address(0), 0);

    // Floors for scaled timers: lifetimes stay long enough for a rekey to finish, liveness checks long enough for
    // a retransmission or two (retransmission itself is about round trips and is never scaled).
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DpdFloor = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DpdTimeoutFloor = TimeSpan.FromSeconds(15);
}

/// <summary>
/// How much faster than real time a lab runs its protocol timers: lifetimes, DPD, keepalives and NAT timeouts are
/// divided by <see cref="Factor"/>, never below a floor (a timer shorter than a round trip would only show the
/// scale, not the protocol). Retransmission timers are not scaled at all.
/// </summary>
public readonly record struct TimeScale(double Factor)
{
    /// <summary><paramref name="t"/> shrunk by the scale, never below <paramref name="floor"/> (1 s unless given), or <paramref name="t"/> itself when that is smaller.</summary>
    public TimeSpan Scaled(TimeSpan t, TimeSpan? floor = null)
    {
        if (Factor == 1) return t;
        var scaled = TimeSpan.FromTicks(Math.Max(1, (long)(t.Ticks / Factor)));
        var min = floor ?? TimeSpan.FromSeconds(1);
        return scaled >= min ? scaled : t < min ? t : min;
    }
}
