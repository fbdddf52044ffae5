using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Nodes.Telemetry.Tests;

/// <summary>The trace file, the ladder, the OTEL_* settings and the cost guards, without a lab.</summary>
public class ExportTests
{
    private static SpanRecord Span(string service, string id, string? parent, string name, int at, params (string, object)[] attributes) =>
        new(service, "0af7651916cd43dd8448eb211c80319c", id, parent, name, ActivityKind.Internal,
            DateTimeOffset.UnixEpoch.AddMilliseconds(at), DateTimeOffset.UnixEpoch.AddMilliseconds(at + 1), ActivityStatusCode.Unset, null,
            attributes.Select(a => new KeyValuePair<string, object>(a.Item1, a.Item2)).ToArray(), [], []);

    private static readonly SpanRecord[] Journey =
    [
        Span("client", "0000000000000001", null, SpanNames.EchoRequest, 0, (Attr.SourceAddress, "192.168.29.55"), (Attr.DestinationAddress, "10.0.10.4"), (Attr.IcmpSequence, 1L)),
        Span("rras", "0000000000000002", "0000000000000001", SpanNames.Forward, 1),
        Span("rras", "0000000000000003", "0000000000000002", SpanNames.EspEncap, 2, (Attr.EspSpi, "0x1a2b3c4d"), (Attr.EspSequence, 1L)),
        Span("isp-router", "0000000000000004", "0000000000000003", SpanNames.Forward, 3),
        Span("isp-router", "0000000000000005", "0000000000000004", SpanNames.Nat, 4, (Attr.NatOriginal, "192.168.29.52:4500"), (Attr.NatTranslated, "203.0.113.10:61002")),
        Span("internet", "0000000000000006", "0000000000000005", SpanNames.Forward, 5, (Attr.DestinationAddress, "52.172.171.0"), (Attr.NextHop, "52.172.171.0"), (Attr.EgressInterface, "azure")),
    ];

    [Fact]
    public void The_trace_file_must_read_back_what_was_written()
    {
        var spans = OtlpJson.Read(OtlpJson.Write(Journey));
        Assert.Equal(Journey.Length, spans.Count);
        foreach (var s in Journey)
        {
            var r = spans.Single(x => x.SpanId == s.SpanId);
            Assert.Equal((s.Service, s.TraceId, s.ParentSpanId, s.Name, s.Start, s.End), (r.Service, r.TraceId, r.ParentSpanId, r.Name, r.Start, r.End));
            Assert.Equal(s.Attributes, r.Attributes);
        }
    }

    [Fact]
    public void The_ladder_must_draw_one_arrow_per_hop_with_what_the_sender_did()
    {
        var text = Ladder.Draw(Journey.Reverse(), Journey[0].TraceId);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["client", "rras", "isp-router", "internet"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("echo request 192.168.29.55 → 10.0.10.4 seq 1", lines[2]);
        Assert.EndsWith("ESP encap SPI 0x1a2b3c4d seq 1", lines[3]);
        Assert.EndsWith("NAT 192.168.29.52:4500 → 203.0.113.10:61002", lines[4]);
        Assert.EndsWith("route 52.172.171.0 via 52.172.171.0 (azure)", lines[5]);
        Assert.Equal(4, lines.Length - 2);
        // Arrows go right from each sender's column to the next node's; the last visit has none.
        Assert.True(lines[2].IndexOf('▶') > lines[2].IndexOf('│'));
        Assert.Contains('●', lines[5]);
        Assert.Equal(Journey[0].TraceId, Ladder.FirstJourney(Journey));
    }

    [Theory]
    [InlineData(null, null, "ParentBased{AlwaysOnSampler}")]
    [InlineData("always_off", null, "AlwaysOffSampler")]
    [InlineData("traceidratio", "0.25", "TraceIdRatioBasedSampler{0.250000}")]
    [InlineData("parentbased_traceidratio", "0.5", "ParentBased{TraceIdRatioBasedSampler{0.500000}}")]
    public void OTEL_TRACES_SAMPLER_must_choose_the_sampler(string? name, string? arg, string description)
    {
        var s = TelemetrySettings.FromEnvironment(k => k switch { "OTEL_TRACES_SAMPLER" => name, "OTEL_TRACES_SAMPLER_ARG" => arg, _ => null });
        Assert.Equal(description, s.Sampler.Description);
    }

    [Fact]
    public void Tracing_must_be_on_only_when_an_exporter_is_configured()
    {
        Assert.False(TelemetrySettings.FromEnvironment(_ => null).TracingOn);
        var otlp = TelemetrySettings.FromEnvironment(k => k == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://127.0.0.1:4317" : null);
        Assert.True(otlp.Otlp && otlp.TracingOn && !otlp.Console);
        var none = TelemetrySettings.FromEnvironment(k => k switch { "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://127.0.0.1:4317", "OTEL_TRACES_EXPORTER" => "none", _ => null });
        Assert.False(none.TracingOn);
        var console = TelemetrySettings.FromEnvironment(k => k == "OTEL_TRACES_EXPORTER" ? "console" : null);
        Assert.True(console.Console && console.TracingOn && !console.Otlp);
    }

    [Fact]
    public void An_unsampled_or_absent_traceparent_must_not_start_a_span()
    {
        var started = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == NodesTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a => { if (a.DisplayName == "unsampled-probe") Interlocked.Increment(ref started); }, // labs of other tests run meanwhile
        };
        ActivitySource.AddActivityListener(listener);
        Assert.Null(Spans.Continue("n", "unsampled-probe", ""));
        Assert.Null(Spans.Continue("n", "unsampled-probe", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"));
        Assert.Equal(0, Volatile.Read(ref started));
        using var sampled = Spans.Continue("n", "x", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        Assert.NotNull(sampled);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", sampled.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", sampled.ParentSpanId.ToHexString());
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", Spans.Context(sampled, ""));
    }
}
