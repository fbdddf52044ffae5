using System.Globalization;
using System.Text;

namespace Nodes.Config.Diagnostics;

/// <summary>A gateway's BGP neighbour as its status reports it, in the diagnostics' terms (time as a duration, state in RFC 4271's words).</summary>
public sealed record GatewayBgpPeer(string Name, string LocalAddress, string Neighbor, uint Asn, string State, TimeSpan? Connected, ulong MessagesSent, ulong MessagesReceived, uint RoutesReceived);

/// <summary>A route of a gateway's BGP speaker: one it chose from a neighbour ("learned") or one it sends a neighbour ("advertised").</summary>
public sealed record GatewayBgpRoute(string Direction, string Network, string NextHop, string AsPath, string Origin, string SourcePeer, string LocalAddress);

/// <summary>One row of Get-AzVirtualNetworkGatewayBgpPeerStatus.</summary>
public sealed record BgpPeerStatusView(uint Asn, string ConnectedDuration, string LocalAddress, ulong MessagesReceived, ulong MessagesSent, string Neighbor, uint RoutesReceived, string State);

/// <summary>One row of Get-AzVirtualNetworkGatewayLearnedRoute or Get-AzVirtualNetworkGatewayAdvertisedRoute.</summary>
public sealed record BgpRouteView(string AsPath, string LocalAddress, string Network, string NextHop, string Origin, string SourcePeer, int Weight);

/// <summary>A connection's BGP as Azure's cmdlets print it: its peer's status, the gateway's learned routes, the routes advertised to the peer.</summary>
public sealed record AzureBgpView(BgpPeerStatusView PeerStatus, IReadOnlyList<BgpRouteView> LearnedRoutes, IReadOnlyList<BgpRouteView> AdvertisedRoutes)
{
    /// <summary>The three cmdlets' outputs as PowerShell's Format-List prints them.</summary>
    public string ToFormatList()
    {
        var sb = new StringBuilder();
        sb.Append("Get-AzVirtualNetworkGatewayBgpPeerStatus\n\n");
        var p = PeerStatus;
        Row(sb, ("Asn", p.Asn.ToString(CultureInfo.InvariantCulture)), ("ConnectedDuration", p.ConnectedDuration), ("LocalAddress", p.LocalAddress),
            ("MessagesReceived", p.MessagesReceived.ToString(CultureInfo.InvariantCulture)), ("MessagesSent", p.MessagesSent.ToString(CultureInfo.InvariantCulture)),
            ("Neighbor", p.Neighbor), ("RoutesReceived", p.RoutesReceived.ToString(CultureInfo.InvariantCulture)), ("State", p.State));
        sb.Append("Get-AzVirtualNetworkGatewayLearnedRoute\n\n");
        foreach (var r in LearnedRoutes) Route(sb, r);
        sb.Append(CultureInfo.InvariantCulture, $"Get-AzVirtualNetworkGatewayAdvertisedRoute -Peer {p.Neighbor}\n\n");
        foreach (var r in AdvertisedRoutes) Route(sb, r);
        return sb.ToString();
    }

    private static void Route(StringBuilder sb, BgpRouteView r) =>
        Row(sb, ("AsPath", r.AsPath), ("LocalAddress", r.LocalAddress), ("Network", r.Network), ("NextHop", r.NextHop), ("Origin", r.Origin), ("SourcePeer", r.SourcePeer),
            ("Weight", r.Weight.ToString(CultureInfo.InvariantCulture)));

    private static void Row(StringBuilder sb, params (string Name, string Value)[] fields)
    {
        var width = fields.Max(f => f.Name.Length);
        foreach (var (name, value) in fields) sb.Append(name.PadRight(width)).Append(" : ").Append(value).Append('\n');
        sb.Append('\n');
    }
}

/// <summary>
/// The BGP of a simulated Azure gateway as Azure prints it (MicrosoftDocs/azure-docs articles/vpn-gateway/
/// bgp-diagnostics.md; the REST model BgpPeerStatus: state Unknown|Stopped|Idle|Connecting|Connected). The gateway's
/// own prefixes are learned routes of origin Network from its own address; what it learned from a neighbour has
/// origin EBgp; both carry the weight 32768 the docs show. Durations print as .NET's TimeSpan does (9.01:04:53.5768637).
/// </summary>
public static class AzureBgpViews
{
    /// <summary>Azure's peer state for RFC 4271's: Established is Connected, Idle is Idle, the states on the way are Connecting.</summary>
    public static string State(string rfcState) => rfcState switch
    {
        "Established" => "Connected",
        "Idle" => "Idle",
        "Connect" or "Active" or "OpenSent" or "OpenConfirm" => "Connecting",
        _ => "Unknown",
    };

    public static AzureBgpView For(GatewayBgpPeer peer, IEnumerable<string> ownNetworks, IReadOnlyList<GatewayBgpRoute> routes)
    {
        var status = new BgpPeerStatusView(peer.Asn, (peer.Connected ?? TimeSpan.Zero).ToString("c", CultureInfo.InvariantCulture), peer.LocalAddress,
            peer.MessagesReceived, peer.MessagesSent, peer.Neighbor, peer.RoutesReceived, State(peer.State));
        var learned = ownNetworks.Select(n => new BgpRouteView("", peer.LocalAddress, n, "", "Network", peer.LocalAddress, 32768))
            .Concat(routes.Where(r => r.Direction == "learned").Select(r => new BgpRouteView(r.AsPath, r.LocalAddress, r.Network, r.NextHop, "EBgp", r.SourcePeer, 32768)))
            .ToList();
        var advertised = routes.Where(r => r.Direction == "advertised" && r.SourcePeer == peer.Neighbor)
            .Select(r => new BgpRouteView(r.AsPath, r.LocalAddress, r.Network, r.NextHop, r.Origin, peer.Neighbor, 0)).ToList();
        return new AzureBgpView(status, learned, advertised);
    }
}
