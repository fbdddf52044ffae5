using Nodes.Host;
using Nodes.Topology.Loading;

namespace Nodes.Telemetry.Tests;

/// <summary>TCP segments and BGP messages are traced hop by hop like a ping: a root where they start, a span at every node on the way.</summary>
public class TcpBgpTraceTests
{
    private static async Task<IReadOnlyList<SpanRecord>> Run(string file, string scenario)
    {
        var loaded = TopologyLoader.Load(Path.Combine(Lab.Repo(), "topology", file));
        Assert.Empty(loaded.Diagnostics);
        Assert.True(loaded.Topology!.TrySelectScenario(scenario, out var s, out var error), error);
        var collector = new SpanCollector();
        var summary = await LabRunner.RunAsync(loaded.Topology, s!, new RunOptions { SerializeAllMessages = true, Telemetry = new TelemetrySettings { Collector = collector } });
        Assert.True(summary.Ok, summary.ToJson());
        return collector.Spans;
    }

    [Fact]
    public async Task A_BGP_message_must_be_a_trace_from_the_speaker_through_the_tunnel_to_its_neighbour()
    {
        var spans = await Run("azure-s2s-bgp.yaml", "bgp-routes");
        var open = spans.First(x => x.Service == "rras" && x.Name == SpanNames.BgpMessage && x.Text(Attr.BgpMessageTypes)!.Contains("OPEN", StringComparison.Ordinal));
        Assert.Null(open.ParentSpanId);
        Assert.Equal("tcp", open.Text(Attr.NetworkTransport));
        Assert.Equal("179", open.Text(Attr.DestinationPort));
        var trace = spans.Where(x => x.TraceId == open.TraceId).ToList();
        // Into RRAS's tunnel, through the home router's NAT and the internet, out of Azure's SA to its speaker.
        Assert.Contains(trace, x => x.Service == "rras" && x.Name == SpanNames.EspEncap);
        Assert.Contains(trace, x => x.Service == "isp-router" && x.Name == SpanNames.Nat);
        Assert.Contains(trace, x => x.Service == "internet" && x.Name == SpanNames.Forward);
        Assert.Contains(trace, x => x.Service == "azure-gw" && x.Name == SpanNames.EspDecap);
        // Azure's own messages are traces of theirs, UPDATEs among them.
        Assert.Contains(spans, x => x.Service == "azure-gw" && x.Name == SpanNames.BgpMessage && x.Text(Attr.BgpMessageTypes)!.Contains("UPDATE", StringComparison.Ordinal));
        // A bare acknowledgement of the session is a TCP segment, not a BGP message.
        Assert.All(spans.Where(x => x.Name == SpanNames.BgpMessage), x => Assert.NotNull(x.Text(Attr.BgpMessageTypes)));
        Assert.Contains(spans, x => x.Service == "azure-gw" && x.Name == SpanNames.TcpSegment && x.Text(Attr.TcpLength) == "0");
    }

    [Fact]
    public async Task A_TCP_handshake_must_be_traced_hop_by_hop_and_a_bulk_transfer_only_sampled()
    {
        var spans = await Run("tcp-mss.yaml", "clamped");
        var syn = spans.First(x => x.Service == "client" && x.Name == SpanNames.TcpSegment && x.Text(Attr.TcpFlags) == "SYN");
        Assert.Equal("5001", syn.Text(Attr.DestinationPort));
        var trace = spans.Where(x => x.TraceId == syn.TraceId).ToList();
        Assert.Contains(trace, x => x.Service == "rras" && x.Name == SpanNames.EspEncap);
        Assert.Contains(trace, x => x.Service == "azure-gw" && x.Name == SpanNames.EspDecap);
        // The VM's SYN,ACK answers in the same trace.
        Assert.Contains(trace, x => x.Service == "vm" && x.Name == SpanNames.HostReceive);
        // 300 KB in about 230 segments: the client traced its handshake and end and a sample of its data, not every segment.
        var roots = spans.Count(x => x.Service == "client" && x.Name == SpanNames.TcpSegment);
        Assert.InRange(roots, 4, 150);
        Assert.Contains(spans, x => x.Service == "client" && x.Name == SpanNames.TcpSegment && x.Text(Attr.TcpFlags)!.Contains("FIN", StringComparison.Ordinal));
    }
}
