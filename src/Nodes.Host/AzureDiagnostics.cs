using System.Text.Json.Nodes;
using Nodes.Config.Diagnostics;
using Nodes.Messages;
using Nodes.Telemetry;

namespace Nodes.Host;

/// <summary>
/// Azure's diagnostics of one connection of a simulated Azure VPN gateway: <c>az network vpn-connection show</c>,
/// <c>Get-AzVirtualNetworkGatewayConnectionIkeSa</c> (null without an IKE SA), Network Watcher's VPN troubleshoot
/// result with its log files, and Azure Monitor's tunnel metrics.
/// </summary>
public sealed record AzureConnectionDiagnostics(string Node, string Connection, JsonObject ConnectionShow, IkeSaView? IkeSa, TroubleshootingResult Troubleshoot, AzureTunnelMetrics Metrics)
{
    /// <summary>The connection's BGP as Azure's cmdlets print it, when BGP runs over it.</summary>
    public AzureBgpView? Bgp { get; init; }
}

/// <summary>Builds Azure's diagnostics from what the gateways report (NodeStatus) and what was recorded of their IKE activity.</summary>
public static class AzureDiagnostics
{
    /// <summary>The kind an Azure VPN gateway reports in its NodeStatus.</summary>
    public const string GatewayKind = "azure-vpn-gateway";

    /// <summary>The recorded activity as the diagnostics read it.</summary>
    public static IReadOnlyList<IkeActivity> Activity(IEnumerable<IkeActivityRecord> records) => records.Select(r =>
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(r.AtUnixMs);
        return r.Exchange != 0
            ? (IkeActivity)new IkeMessageActivity(at, r.Sent, r.Local, r.Remote, (int)r.Exchange, r.Response, r.MessageId, r.InitiatorSpi, r.ResponderSpi, r.Notifies.Select(n => (int)n).ToArray())
            : new IkeEventActivity(at, r.Connection, r.Text);
    }).OrderBy(a => a.At).ToList();

    /// <summary>A gateway's tunnel report in the diagnostics' terms; the establishment time comes from the report or, failing that, from the events.</summary>
    public static GatewayTunnel Tunnel(TunnelStatus t, IReadOnlyList<IkeActivity> activity)
    {
        var last = activity.OfType<IkeEventActivity>().LastOrDefault(e => e.Connection == t.Name && GatewayEvents.IsEstablished(e.Text))?.At;
        DateTimeOffset? established = t.EstablishedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(t.EstablishedUnixMs) : null;
        if (established is null && t.IkeState == "Established") established = last;
        // Without an IKE SA, the peer is where the gateway last talked to.
        var peer = t.RemoteEndpoint.Length > 0 ? GatewayTunnel.AddressOf(t.RemoteEndpoint)
            : activity.OfType<IkeMessageActivity>().LastOrDefault() is { } m ? GatewayTunnel.AddressOf(m.Remote) : "";
        return new GatewayTunnel
        {
            Connection = t.Name,
            State = t.State,
            PeerAddress = peer,
            IkeState = t.IkeState,
            InitiatorSpi = t.InitiatorSpi,
            ResponderSpi = t.ResponderSpi,
            IsInitiator = t.Initiator,
            LocalEndpoint = t.LocalEndpoint,
            RemoteEndpoint = t.RemoteEndpoint,
            Suite = t.Suite,
            ChildSas = t.ChildSas.Select(c => new GatewayChildSa(c.InboundSpi, c.OutboundSpi, c.Suite, c.BytesIn, c.BytesOut, c.PacketsIn, c.PacketsOut, c.LocalTs, c.RemoteTs)).ToArray(),
            Failures = t.Failures.ToArray(),
            EstablishedAt = established,
            LastEstablishedAt = last ?? established,
        };
    }

    /// <summary>
    /// The diagnostics of every connection of every Azure gateway among <paramref name="statuses"/>.
    /// <paramref name="activity"/> gives a gateway's recorded IKE activity; <paramref name="started"/> is when the
    /// lab started (the troubleshoot run covers it all), <paramref name="now"/> the moment of the reports.
    /// </summary>
    public static IReadOnlyList<AzureConnectionDiagnostics> Build(IEnumerable<NodeStatus> statuses, Func<string, IEnumerable<IkeActivityRecord>> activity,
        DateTimeOffset started, DateTimeOffset now, AzureMetricsAccumulator? metrics = null)
    {
        metrics ??= new AzureMetricsAccumulator();
        var result = new List<AzureConnectionDiagnostics>();
        foreach (var s in statuses.Where(s => s.Kind == GatewayKind))
        {
            var log = Activity(activity(s.Node));
            foreach (var ts in s.Tunnels)
            {
                var t = Tunnel(ts, log);
                var mine = log.Where(a => a is not IkeEventActivity e || e.Connection == t.Connection).ToList();
                result.Add(new AzureConnectionDiagnostics(s.Node, t.Connection, AzureConnectionViews.ConnectionShow(t), AzureConnectionViews.IkeSa(t, now),
                    VpnTroubleshoot.Diagnose(t, mine, started, now), metrics.Update(s.Node, t, now)) { Bgp = Bgp(s, ts.Name) });
            }
        }
        return result;
    }

    /// <summary>The BGP of connection <paramref name="connection"/> (its peer is named after it), or null without BGP.</summary>
    private static AzureBgpView? Bgp(NodeStatus s, string connection)
    {
        if (s.BgpPeers.FirstOrDefault(p => p.Name == connection) is not { } p) return null;
        var peer = new GatewayBgpPeer(p.Name, p.LocalAddress, p.Neighbor, p.Asn, p.State, p.State == "Established" ? TimeSpan.FromMilliseconds(p.ConnectedMs) : null,
            p.MessagesSent, p.MessagesReceived, p.RoutesReceived);
        var routes = s.BgpRoutes.Select(r => new GatewayBgpRoute(r.Direction, r.Network, r.NextHop, r.AsPath, r.Origin, r.SourcePeer, r.LocalAddress)).ToList();
        // The gateway's own networks are what it advertises with a path of its own AS only.
        var own = s.BgpRoutes.Where(r => r.Direction == "advertised" && !r.AsPath.Contains(' ', StringComparison.Ordinal)).Select(r => r.Network).Distinct().ToList();
        return AzureBgpViews.For(peer, own, routes);
    }

    /// <summary>Hands the connections' metrics to the metrics export (Meter <c>Nodes</c>, Azure's names).</summary>
    public static void Publish(IEnumerable<AzureTunnelMetrics> metrics) =>
        AzureTunnelMetricsExport.Publish(metrics.Select(m => new AzureTunnelSample(m.Node, m.ConnectionName, m.RemoteIp, m.Instance,
            m.TunnelIngressBytes, m.TunnelEgressBytes, m.TunnelIngressPackets, m.TunnelEgressPackets, m.MmsaCount, m.QmsaCount, m.TunnelAverageBandwidth)));
}
