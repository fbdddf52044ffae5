namespace Nodes.Config.Diagnostics;

/// <summary>
/// Azure Monitor's tunnel metrics of a VPN gateway under their REST API names, with Azure's dimensions
/// (ConnectionName, RemoteIP, Instance). Source: MicrosoftDocs/azure-reference-other,
/// azure-monitor-ref/supported-metrics/includes/microsoft-network-virtualnetworkgateways-metrics-include.md
/// (Tunnel Ingress Bytes = TunnelIngressBytes, Total; Tunnel MMSA Count = MmsaCount; Tunnel Bandwidth =
/// TunnelAverageBandwidth, bytes per second, Average; ...).
/// </summary>
public static class AzureMetricNames
{
    public const string TunnelIngressBytes = "TunnelIngressBytes";
    public const string TunnelEgressBytes = "TunnelEgressBytes";
    public const string TunnelIngressPackets = "TunnelIngressPackets";
    public const string TunnelEgressPackets = "TunnelEgressPackets";
    public const string MmsaCount = "MmsaCount";
    public const string QmsaCount = "QmsaCount";
    public const string TunnelAverageBandwidth = "TunnelAverageBandwidth";

    public const string ConnectionName = "ConnectionName";
    public const string RemoteIp = "RemoteIP";
    public const string Instance = "Instance";
}

/// <summary>One tunnel's Azure metrics at a moment: totals since the lab started, SA counts, and the bandwidth since the previous moment.</summary>
public sealed record AzureTunnelMetrics(
    string Node,
    string ConnectionName,
    string RemoteIp,
    long TunnelIngressBytes,
    long TunnelEgressBytes,
    long TunnelIngressPackets,
    long TunnelEgressPackets,
    int MmsaCount,
    int QmsaCount,
    double TunnelAverageBandwidth)
{
    public string Instance => AzureConnectionViews.Instance;
}

/// <summary>
/// Turns successive reports of a gateway's tunnels into Azure's metrics. A Child SA's counters start again at zero
/// with every rekey, and the gateway reports only the current Child SAs, so each SA's last counters are kept and
/// summed: the totals never go back. Not thread-safe: one owner updates it.
/// </summary>
public sealed class AzureMetricsAccumulator
{
    private sealed class Tunnel
    {
        public readonly Dictionary<uint, GatewayChildSa> Last = [];
        public long BytesBefore;
        public DateTimeOffset? At;
    }

    private readonly Dictionary<(string Node, string Connection), Tunnel> _tunnels = [];

    /// <summary>The metrics of <paramref name="t"/> on <paramref name="node"/> after this report, made at <paramref name="now"/>.</summary>
    public AzureTunnelMetrics Update(string node, GatewayTunnel t, DateTimeOffset now)
    {
        if (!_tunnels.TryGetValue((node, t.Connection), out var s)) _tunnels[(node, t.Connection)] = s = new Tunnel();
        foreach (var c in t.ChildSas) s.Last[c.InboundSpi] = c;
        long Sum(Func<GatewayChildSa, ulong> f) => (long)s.Last.Values.Aggregate(0UL, (a, c) => a + f(c));
        var ingress = Sum(c => c.BytesIn);
        var egress = Sum(c => c.BytesOut);
        var seconds = s.At is { } before ? (now - before).TotalSeconds : 0;
        var bandwidth = seconds > 0 ? Math.Max(0, ingress + egress - s.BytesBefore) / seconds : 0;
        s.BytesBefore = ingress + egress;
        s.At = now;
        var remote = t.RemoteEndpoint.Length > 0 ? GatewayTunnel.AddressOf(t.RemoteEndpoint) : t.PeerAddress;
        return new AzureTunnelMetrics(node, t.Connection, remote, ingress, egress, Sum(c => c.PacketsIn), Sum(c => c.PacketsOut),
            t.HasIkeSa ? 1 : 0, t.ChildSas.Count, Math.Round(bandwidth, 3));
    }
}
