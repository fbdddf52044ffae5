using System.Collections.Immutable;
using System.Diagnostics.Metrics;

namespace Nodes.Telemetry;

/// <summary>One tunnel of an Azure VPN gateway with the values of Azure Monitor's tunnel metrics.</summary>
public readonly record struct AzureTunnelSample(
    string Node, string ConnectionName, string RemoteIp, string Instance,
    long IngressBytes, long EgressBytes, long IngressPackets, long EgressPackets, int MmsaCount, int QmsaCount, double AverageBandwidth);

/// <summary>
/// Azure Monitor's tunnel metrics of the simulated Azure gateways, exported through Meter <c>Nodes</c> under Azure's
/// REST API names (TunnelIngressBytes, TunnelEgressBytes, TunnelIngressPackets, TunnelEgressPackets, MmsaCount,
/// QmsaCount, TunnelAverageBandwidth) with Azure's dimensions (ConnectionName, RemoteIP, Instance) and
/// <c>nodes.node</c>. Observable instruments: the latest values published by the lab are read when an exporter
/// collects. Thread-safe.
/// </summary>
public static class AzureTunnelMetricsExport
{
    private static ImmutableDictionary<(string Node, string Connection), AzureTunnelSample> _latest = ImmutableDictionary<(string, string), AzureTunnelSample>.Empty;

    private static IEnumerable<Measurement<T>> Each<T>(Func<AzureTunnelSample, T> value) where T : struct =>
        _latest.Values.Select(s => new Measurement<T>(value(s),
            new KeyValuePair<string, object?>(Attr.Node, s.Node),
            new KeyValuePair<string, object?>("ConnectionName", s.ConnectionName),
            new KeyValuePair<string, object?>("RemoteIP", s.RemoteIp),
            new KeyValuePair<string, object?>("Instance", s.Instance)));

    /// <summary>The instruments, created with the class.</summary>
    public static IReadOnlyList<Instrument> Instruments { get; } =
    [
        NodesTelemetry.Meter.CreateObservableCounter("TunnelIngressBytes", () => Each(s => s.IngressBytes), "By", "Incoming bytes of a tunnel"),
        NodesTelemetry.Meter.CreateObservableCounter("TunnelEgressBytes", () => Each(s => s.EgressBytes), "By", "Outgoing bytes of a tunnel"),
        NodesTelemetry.Meter.CreateObservableCounter("TunnelIngressPackets", () => Each(s => s.IngressPackets), "{packet}", "Incoming packet count of a tunnel"),
        NodesTelemetry.Meter.CreateObservableCounter("TunnelEgressPackets", () => Each(s => s.EgressPackets), "{packet}", "Outgoing packet count of a tunnel"),
        NodesTelemetry.Meter.CreateObservableGauge("MmsaCount", () => Each(s => s.MmsaCount), "{sa}", "MMSA Count"),
        NodesTelemetry.Meter.CreateObservableGauge("QmsaCount", () => Each(s => s.QmsaCount), "{sa}", "QMSA Count"),
        NodesTelemetry.Meter.CreateObservableGauge("TunnelAverageBandwidth", () => Each(s => s.AverageBandwidth), "By/s", "Average bandwidth of a tunnel in bytes per second"),
    ];

    /// <summary>Replaces the values of the samples' tunnels.</summary>
    public static void Publish(IEnumerable<AzureTunnelSample> samples)
    {
        _ = Instruments;
        ImmutableInterlocked.Update(ref _latest, d => d.SetItems(samples.Select(s => KeyValuePair.Create((s.Node, s.ConnectionName), s))));
    }
}
