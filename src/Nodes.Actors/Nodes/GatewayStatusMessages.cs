using Nodes.Gateway;
using Nodes.Messages;

namespace Nodes.Actors.Nodes;

/// <summary>A gateway engine's tunnels as the status messages the lab's tools read.</summary>
internal static class GatewayStatusMessages
{
    public static void AddTunnels(NodeStatus status, GatewayEngine engine, DateTimeOffset now, TimeSpan elapsed)
    {
        var dialing = engine.TunnelsDialing();
        foreach (var t in engine.Tunnels)
        {
            var snap = t.CurrentSa;
            var ts = new TunnelStatus
            {
                Name = t.Profile.Name,
                State = engine.ConnectionStatus(t, dialing),
                IkeState = snap?.State.ToString() ?? "None",
                InitiatorSpi = snap?.InitiatorSpi ?? 0,
                ResponderSpi = snap?.ResponderSpi ?? 0,
                NatDetected = snap is { } x && (x.LocalBehindNat || x.RemoteBehindNat),
                LocalEndpoint = snap?.Local.ToString() ?? "",
                RemoteEndpoint = snap?.Remote.ToString() ?? "",
                IkeRekeys = (uint)(snap?.IkeRekeys ?? 0),
                ChildRekeys = (uint)(snap?.ChildRekeys ?? 0),
                Suite = snap?.Suite?.ToString() ?? "",
                Initiator = snap?.IsOriginalInitiator ?? false,
                Outages = (uint)t.Outages,
                EstablishedUnixMs = t.EstablishedAt?.ToUnixTimeMilliseconds() ?? 0,
                DownMs = (t.TotalDown + (t.DownSince is { } since ? now - since : TimeSpan.Zero)).TotalMilliseconds,
            };
            ts.Failures.AddRange(t.Failures);
            foreach (var c in engine.ChildrenOf(t))
            {
                ts.ChildSas.Add(new ChildSaStatus
                {
                    InboundSpi = c.Info.InboundSpi,
                    OutboundSpi = c.Info.OutboundSpi,
                    Suite = c.Info.Suite.ToString(),
                    PacketsIn = (ulong)c.PacketsIn,
                    PacketsOut = (ulong)c.PacketsOut,
                    BytesIn = (ulong)c.BytesIn,
                    BytesOut = (ulong)c.BytesOut,
                    LocalTs = string.Join(',', c.Info.LocalTs),
                    RemoteTs = string.Join(',', c.Info.RemoteTs),
                    Encapsulated = c.Info.Encapsulated,
                });
            }
            status.Tunnels.Add(ts);
        }
        AddBgp(status, engine, elapsed);
    }

    /// <summary>The BGP sessions, the routes chosen and the routes advertised to each neighbour.</summary>
    private static void AddBgp(NodeStatus status, GatewayEngine engine, TimeSpan elapsed)
    {
        if (engine.Bgp is not { } bgp) return;
        foreach (var p in bgp.Peers(elapsed))
        {
            status.BgpPeers.Add(new BgpPeerStatus
            {
                Name = p.Name,
                LocalAddress = p.LocalAddress.ToString(),
                Neighbor = p.Neighbor.ToString(),
                Asn = p.Asn,
                State = p.State.ToString(),
                ConnectedMs = p.ConnectedDuration?.TotalMilliseconds ?? 0,
                MessagesSent = (ulong)p.MessagesSent,
                MessagesReceived = (ulong)p.MessagesReceived,
                RoutesReceived = (uint)p.RoutesReceived,
                RoutesAdvertised = (uint)p.RoutesAdvertised,
                Flaps = (uint)p.Flaps,
                LastError = p.LastError ?? "",
                Tunnel = engine.BgpTunnelOf(p.Name) ?? "",
                HoldTimeS = p.NegotiatedHoldTime?.TotalSeconds ?? 0,
            });
            foreach (var (prefix, a) in bgp.AdvertisedTo(p.Name))
                status.BgpRoutes.Add(new BgpRouteStatus
                {
                    Network = prefix.ToString(), NextHop = a.NextHop.ToString(), AsPath = a.AsPathText, Origin = a.Origin.ToString(),
                    SourcePeer = p.Neighbor.ToString(), LocalAddress = p.LocalAddress.ToString(), Direction = "advertised",
                });
        }
        foreach (var r in bgp.BestRoutes.Values.OrderBy(r => r.Prefix.Network).ThenBy(r => r.Prefix.Length))
            status.BgpRoutes.Add(new BgpRouteStatus
            {
                Network = r.Prefix.ToString(), NextHop = r.Attributes.NextHop.ToString(), AsPath = r.Attributes.AsPathText, Origin = r.Attributes.Origin.ToString(),
                SourcePeer = r.PeerAddress.ToString(), LocalAddress = bgp.Options.Peers.First(o => o.Name == r.Peer).LocalAddress.ToString(), Direction = "learned",
            });
    }
}
