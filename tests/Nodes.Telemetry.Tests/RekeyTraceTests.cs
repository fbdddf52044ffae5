using Nodes.Host;

namespace Nodes.Telemetry.Tests;

/// <summary>A Child SA rekey under traffic, with protocol timers shrunk: phase 2 in traces and metrics.</summary>
public class RekeyTraceTests
{
    [Fact]
    public async Task A_child_rekey_must_be_a_phase_2_span_linked_to_the_negotiation_with_its_events()
    {
        var t = Lab.Seed();
        Assert.True(t.TrySelectScenario("default-gateway", out var s, out var error), error);
        var collector = new SpanCollector();
        // RRAS's one-hour Child SA lifetime becomes about 3.4 s; eight pings a second apart see the rekey. The NAT's
        // 120 s UDP timeout becomes 120 ms, refreshed by keepalives every 20 ms: a test assembly running beside this one
        // can stall a timer for tens of milliseconds (at 2000 times, 60 ms expired the mapping once in CI).
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { Count = 8, TimeScale = 1000, Telemetry = new TelemetrySettings { Collector = collector } });
        Assert.True(summary.Ok, summary.ToJson());
        Assert.True(summary.Tunnels.Single(x => x.Node == "rras").Ike.ChildRekeys >= 1, summary.ToJson());
        var spans = collector.Spans;
        foreach (var gw in new[] { "rras", "azure-gw" })
        {
            var negotiation = spans.Single(x => x.Service == gw && x.Name == SpanNames.IkeNegotiation);
            var rekey = spans.First(x => x.Service == gw && x.Name == "IKE phase 2: CREATE_CHILD_SA");
            Assert.Equal("CREATE_CHILD_SA", rekey.Text(Attr.IkeExchange));
            Assert.Equal(2L, rekey[Attr.IkePhase]);
            Assert.Equal("rekey Child SA", rekey.Text(Attr.IkePurpose));
            Assert.Null(rekey.ParentSpanId);
            Assert.Contains(rekey.Links, l => l.SpanId == negotiation.SpanId && l.TraceId == negotiation.TraceId);
            Assert.Contains(rekey.Events, e => e.Name == "Child SA up");
            Assert.True(rekey.End >= rekey.Start);
        }
        Assert.Contains(spans, x => x.Service == "rras" && x.Name == "IKE phase 2: CREATE_CHILD_SA" && x.Events.Any(e => e.Name == "rekey Child SA"));
        // Journeys after the rekey use the new SPI: every journey still reaches the VM and comes back.
        Assert.All(summary.Traces!.Journeys, id => Assert.Equal("client", Ladder.Visits(spans, id)[^1].Node));
        string[] Spis(string id) => Ladder.Ordered(spans, id).Select(x => x.Text(Attr.EspSpi)).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToArray();
        var before = Spis(summary.Traces.Journeys[0]);
        var after = Spis(summary.Traces.Journeys[^1]);
        Assert.Equal(2, before.Length);
        Assert.Equal(2, after.Length);
        Assert.Empty(before.Intersect(after));
    }

    [Fact]
    public async Task An_ike_message_after_the_negotiation_must_be_traced_hop_by_hop_to_the_peer()
    {
        var t = Lab.Seed();
        Assert.True(t.TrySelectScenario("force-rekey", out var s, out var error), error);
        var collector = new SpanCollector();
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true, Telemetry = new TelemetrySettings { Collector = collector } });
        Assert.True(summary.Ok, summary.ToJson());
        var spans = collector.Spans;
        // RRAS's forced Child SA rekey: its request is a trace of its own, linked to the negotiation.
        var request = spans.First(x => x.Service == "rras" && x.Name == "IKE CREATE_CHILD_SA request");
        Assert.Null(request.ParentSpanId);
        Assert.Equal(System.Diagnostics.ActivityKind.Producer, request.Kind);
        var negotiation = spans.Single(x => x.Service == "rras" && x.Name == SpanNames.IkeNegotiation);
        Assert.Contains(request.Links, l => l.SpanId == negotiation.SpanId);
        // The message's hops: the NAT router translated it, the internet router forwarded it, the Azure gateway received it.
        var trace = spans.Where(x => x.TraceId == request.TraceId).ToList();
        Assert.Contains(trace, x => x.Service == "isp-router" && x.Name == SpanNames.Nat);
        Assert.Contains(trace, x => x.Service == "internet" && x.Name == SpanNames.Forward);
        Assert.Contains(trace, x => x.Service == "azure-gw" && x.Name == SpanNames.GatewayReceive);
        // Azure's answer is a message (and a trace) of its own.
        Assert.Contains(spans, x => x.Service == "azure-gw" && x.Name == "IKE CREATE_CHILD_SA response");
    }
}
