using System.Diagnostics;
using Nodes.Host;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace Nodes.Telemetry.Tests;

/// <summary>
/// One ping through the seed lab as traces, exported to memory: every hop and every processing step is a span, the
/// request and the reply are one trace, each node is its own service, and nothing in a span is a key.
/// </summary>
public class PingTraceTests
{
    /// <summary>(node, span name) of one journey, in causal order, once the tunnel is up.</summary>
    private static readonly (string Node, string Span)[] Journey =
    [
        ("client", SpanNames.EchoRequest),
        ("rras", SpanNames.Forward),
        ("rras", SpanNames.EspEncap),
        ("isp-router", SpanNames.Forward),
        ("isp-router", SpanNames.Nat),
        ("internet", SpanNames.Forward),
        ("azure-gw", SpanNames.GatewayReceive),
        ("azure-gw", SpanNames.EspDecap),
        ("azure-gw", SpanNames.Forward),
        ("vnet-router", SpanNames.Forward),
        ("vm", SpanNames.EchoReply),
        ("vnet-router", SpanNames.Forward),
        ("azure-gw", SpanNames.Forward),
        ("azure-gw", SpanNames.EspEncap),
        ("internet", SpanNames.Forward),
        ("isp-router", SpanNames.Forward),
        ("isp-router", SpanNames.Nat),
        ("rras", SpanNames.GatewayReceive),
        ("rras", SpanNames.EspDecap),
        ("rras", SpanNames.Forward),
        ("client", SpanNames.EchoReplyReceived),
    ];

    [Fact]
    public async Task A_ping_must_be_one_trace_through_every_hop_in_order_with_its_attributes()
    {
        var memory = new Lab.InMemory();
        var collector = new SpanCollector();
        var summary = await Lab.Run(new TelemetrySettings { ProcessorPerNode = memory.Processor, Collector = collector }, count: 2);
        Assert.True(summary.Ok, summary.ToJson());
        var traces = summary.Traces;
        Assert.NotNull(traces);
        Assert.Equal(2, traces.Journeys.Count);
        Assert.Equal(traces.Journeys[0], traces.FirstJourney);

        var rras = summary.Tunnels.Single(t => t.Node == "rras").ChildSas.Single();
        var azure = summary.Tunnels.Single(t => t.Node == "azure-gw").ChildSas.Single();
        for (var i = 0; i < 2; i++)
        {
            var chain = Ladder.Ordered(collector.Spans, traces.Journeys[i]);
            Assert.Equal(Journey, chain.Select(s => (s.Service, s.Name)).ToArray());
            // A chain: every span's parent is the span before it, so the trace reads as the hop sequence.
            Assert.Null(chain[0].ParentSpanId);
            for (var k = 1; k < chain.Count; k++) Assert.Equal(chain[k - 1].SpanId, chain[k].ParentSpanId);
            Assert.All(chain, s => Assert.Equal(traces.Journeys[i], s.TraceId));

            var seq = (long)(i + 1);
            var root = chain[0];
            Assert.Equal("192.168.29.55", root.Text(Attr.SourceAddress));
            Assert.Equal("10.0.10.4", root.Text(Attr.DestinationAddress));
            Assert.Equal(seq, root[Attr.IcmpSequence]);
            Assert.True((double)root[Attr.PingRttMs]! > 0);

            var encap = chain[2];
            Assert.Equal(rras.OutboundSpi, encap.Text(Attr.EspSpi));
            Assert.Equal(seq, encap[Attr.EspSequence]);
            Assert.Equal("udp", encap.Text(Attr.EspEncapsulation));
            // The protected packet's addresses; the rest of its header is on the hop span around it.
            Assert.Equal("192.168.29.55", encap.Text(Attr.SourceAddress));
            Assert.Equal("10.0.10.4", encap.Text(Attr.DestinationAddress));
            Assert.Null(encap[Attr.IcmpSequence]);
            Assert.Equal(seq, chain[1][Attr.IcmpSequence]);
            Assert.Equal("ipv4", root.Text(Attr.NetworkType));

            var natOut = chain[4];
            Assert.Equal("outbound", natOut.Text(Attr.NatDirection));
            Assert.Equal("192.168.29.52:4500", natOut.Text(Attr.NatOriginal));
            Assert.Equal("203.0.113.10:4500", natOut.Text(Attr.NatTranslated));
            Assert.Equal("52.172.171.0", chain[5].Text(Attr.DestinationAddress));
            Assert.Equal(4500L, chain[5][Attr.DestinationPort]);

            var decap = chain[7];
            Assert.Equal(azure.InboundSpi, decap.Text(Attr.EspSpi));
            Assert.Equal(seq, decap[Attr.EspSequence]);
            Assert.Equal("ok", decap.Text(Attr.EspReplay));
            Assert.Equal("10.0.10.4", decap.Text(Attr.DestinationAddress));

            Assert.Equal("10.0.10.4", chain[10].Text(Attr.DestinationAddress)); // the VM received the request it answers
            Assert.Equal(azure.OutboundSpi, chain[13].Text(Attr.EspSpi));
            var natIn = chain[16];
            Assert.Equal("inbound", natIn.Text(Attr.NatDirection));
            Assert.Equal("203.0.113.10:4500", natIn.Text(Attr.NatOriginal));
            Assert.Equal("192.168.29.52:4500", natIn.Text(Attr.NatTranslated));
            Assert.Equal(rras.InboundSpi, chain[18].Text(Attr.EspSpi));
            Assert.Equal("10.0.10.4", chain[20].Text(Attr.SourceAddress));
            Assert.All(chain, s => Assert.Equal(ActivityStatusCode.Unset, s.Status));
        }
        Assert.NotEqual(traces.Journeys[0], traces.Journeys[1]);

        // Each node's spans went to that node's exporter, whose provider carries service.name = the node.
        foreach (var node in Lab.RequestPath)
        {
            var exporter = memory.Exporters[node];
            var service = exporter.ParentProvider!.GetResource().Attributes.Single(a => a.Key == "service.name").Value;
            Assert.Equal(node, service);
            Assert.All(memory.ByNode[node], a => Assert.Equal(node, a.GetTagItem(Attr.Node)));
            Assert.Contains(memory.ByNode[node], a => a.TraceId.ToHexString() == traces.FirstJourney);
        }
    }

    [Fact]
    public async Task The_packet_that_dials_must_link_to_the_IKE_negotiation_whose_exchanges_are_named_by_phase()
    {
        var collector = new SpanCollector();
        var summary = await Lab.Run(new TelemetrySettings { Collector = collector }, count: 1);
        Assert.True(summary.Ok, summary.ToJson());
        var spans = collector.Spans;
        var first = Ladder.Ordered(spans, summary.Traces!.FirstJourney!);
        var dialing = first.Single(s => s.Service == "rras" && s.Name == SpanNames.Forward && s.Events.Any(e => e.Name == "demand-dial"));
        var link = Assert.Single(dialing.Links);
        var negotiation = spans.Single(s => s.SpanId == link.SpanId);
        Assert.Equal(SpanNames.IkeNegotiation, negotiation.Name);
        Assert.Equal("rras", negotiation.Service);
        Assert.Equal("initiator", negotiation.Text(Attr.IkeRole));
        Assert.Contains(negotiation.Links, l => l.SpanId == dialing.SpanId);

        // The IKE trace: both sides' exchanges, the responder's negotiation continuing the initiator's through the NAT.
        var ike = spans.Where(s => s.TraceId == link.TraceId).ToList();
        var exchanges = ike.Where(s => s.Name.StartsWith("IKE phase", StringComparison.Ordinal)).Select(s => (s.Service, s.Name)).ToHashSet();
        Assert.Contains(("rras", "IKE phase 1: IKE_SA_INIT"), exchanges);
        Assert.Contains(("rras", "IKE phase 1: IKE_AUTH"), exchanges);
        Assert.Contains(("azure-gw", "IKE phase 1: IKE_SA_INIT"), exchanges);
        Assert.Contains(("azure-gw", "IKE phase 1: IKE_AUTH"), exchanges);
        Assert.Contains(ike, s => s.Service == "isp-router" && s.Name == SpanNames.Nat && s.Text(Attr.NatOriginal) == "192.168.29.52:500");
        var responder = ike.Single(s => s.Service == "azure-gw" && s.Name == SpanNames.IkeNegotiation);
        Assert.Equal("responder", responder.Text(Attr.IkeRole));
        var init = ike.Single(s => s.Service == "rras" && s.Name == "IKE phase 1: IKE_SA_INIT");
        Assert.Equal(negotiation.SpanId, init.ParentSpanId);
        Assert.Equal(1L, init[Attr.IkePhase]);
        Assert.Equal(summary.Tunnels.Single(t => t.Node == "rras").Ike.InitiatorSpi, init.Text(Attr.IkeInitiatorSpi));
        Assert.Contains(init.Events, e => e.Name == "NAT detected");
    }

    [Fact]
    public async Task No_span_attribute_or_event_may_contain_key_bytes()
    {
        var dir = Directory.CreateTempSubdirectory("nodes-tel-keys-").FullName;
        try
        {
            var collector = new SpanCollector();
            var summary = await Lab.Run(new TelemetrySettings { Collector = collector }, count: 2, capture: dir);
            Assert.True(summary.Ok, summary.ToJson());
            var keys = Keys(dir);
            Assert.True(keys.Count >= 6, $"expected ESP and IKE keys in the capture's key files, found {keys.Count}");
            var values = collector.Spans.SelectMany(s =>
                s.Attributes.Select(a => a.Value.ToString()!)
                    .Concat(s.Events.SelectMany(e => e.Attributes.Select(a => a.Value.ToString()!).Append(e.Name)))
                    .Append(s.StatusDescription ?? "").Append(s.Name)).Select(v => v.ToLowerInvariant()).ToList();
            Assert.True(values.Count > 100);
            foreach (var key in keys)
            {
                var hex = Convert.ToHexStringLower(key);
                var prefix = hex[..16]; // any 8 bytes of a key in a row are too many
                var b64 = Convert.ToBase64String(key).ToLowerInvariant();
                Assert.DoesNotContain(values, v => v.Contains(prefix, StringComparison.Ordinal) || v.Contains(b64[..12], StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The ESP and IKE keys from the Wireshark key files of a capture.</summary>
    private static List<byte[]> Keys(string dir)
    {
        var keys = new List<byte[]>();
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "esp_sa")).Where(l => l.StartsWith("\"IPv4\"", StringComparison.Ordinal)))
        {
            var f = line.Split(',').Select(x => x.Trim('"')).ToArray();
            foreach (var i in new[] { 5, 7 })
                if (f[i].StartsWith("0x", StringComparison.Ordinal) && f[i].Length > 2) keys.Add(Convert.FromHexString(f[i][2..]));
        }
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "ikev2_decryption_table")).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var f = line.Split(',').Select(x => x.Trim('"')).ToArray();
            foreach (var i in new[] { 2, 3, 5, 6 })
                if (f[i].Length >= 16) keys.Add(Convert.FromHexString(f[i]));
        }
        return keys;
    }
}
