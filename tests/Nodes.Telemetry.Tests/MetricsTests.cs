using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // listeners are process-wide: one lab at a time

namespace Nodes.Telemetry.Tests;

/// <summary>The Meter "Nodes" during one seed run, read with a plain MeterListener.</summary>
public class MetricsTests
{
    [Fact]
    public async Task A_seed_run_must_record_packets_sa_states_exchange_durations_sa_bytes_and_nat_mappings()
    {
        var sums = new ConcurrentDictionary<string, double>();
        var histogram = new ConcurrentBag<(string Node, string Exchange, double Seconds)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == NodesTelemetry.Name) l.EnableMeasurementEvents(i);
            },
        };
        string Key(Instrument i, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var parts = new List<string> { i.Name };
            foreach (var t in tags) parts.Add($"{t.Key}={t.Value}");
            return string.Join('|', parts);
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => sums.AddOrUpdate(Key(i, tags), v, (_, old) => old + v));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) =>
        {
            string? node = null, exchange = null;
            foreach (var t in tags)
            {
                if (t.Key == Attr.Node) node = (string?)t.Value;
                if (t.Key == Attr.IkeExchange) exchange = (string?)t.Value;
            }
            histogram.Add((node!, exchange!, v));
        });
        listener.Start();

        var summary = await Lab.Run(new TelemetrySettings(), count: 2);
        listener.Dispose();
        Assert.True(summary.Ok, summary.ToJson());
        double Sum(string key) => sums.GetValueOrDefault(key);

        Assert.Equal(2, Sum($"nodes.packets.in|{Attr.Node}=vm"));
        Assert.Equal(2, Sum($"nodes.packets.out|{Attr.Node}=vm"));
        Assert.Equal(summary.Drops.Total, sums.Where(kv => kv.Key.StartsWith("nodes.packets.dropped", StringComparison.Ordinal)).Sum(kv => kv.Value));
        foreach (var gw in new[] { "rras", "azure-gw" })
        {
            Assert.Equal(1, Sum($"nodes.ipsec.ike_sas|{Attr.Node}={gw}|{Attr.IkeState}=Established"));
            Assert.Equal(0, Sum($"nodes.ipsec.ike_sas|{Attr.Node}={gw}|{Attr.IkeState}=Created"));
            Assert.Equal(1, Sum($"nodes.ipsec.child_sas|{Attr.Node}={gw}"));
            Assert.Contains(histogram, h => h.Node == gw && h.Exchange == "IKE_SA_INIT" && h.Seconds >= 0);
            Assert.Contains(histogram, h => h.Node == gw && h.Exchange == "IKE_AUTH");
        }
        // Two 60-byte echo requests (20 IPv4 + 8 ICMP + 32 data) sealed by RRAS on its outbound SPI, opened by Azure.
        var rras = summary.Tunnels.Single(t => t.Node == "rras").ChildSas.Single();
        Assert.Equal(120, Sum($"nodes.ipsec.sa.bytes|{Attr.Node}=rras|{Attr.EspSpi}={rras.OutboundSpi}|{Attr.EspDirection}=out"));
        Assert.Equal(120, Sum($"nodes.ipsec.sa.bytes|{Attr.Node}=azure-gw|{Attr.EspSpi}={rras.OutboundSpi}|{Attr.EspDirection}=in"));
        // IKE on 500, then IKE and ESP on 4500: two mappings, none expired in a short run.
        Assert.Equal(2, Sum($"nodes.nat.mappings|{Attr.Node}=isp-router"));
    }
}
