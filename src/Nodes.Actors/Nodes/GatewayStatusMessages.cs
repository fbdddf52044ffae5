using Nodes.Gateway;
using Nodes.Messages;

namespace Nodes.Actors.Nodes;

/// <summary>A gateway engine's tunnels as the status messages the lab's tools read.</summary>
internal static class GatewayStatusMessages
{
    public static void AddTunnels(NodeStatus status, GatewayEngine engine, DateTimeOffset now)
    {
        foreach (var t in engine.Tunnels)
        {
            var snap = t.CurrentSa;
            var ts = new TunnelStatus
            {
                Name = t.Profile.Name,
                State = engine.ConnectionStatus(t),
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
    }
}
