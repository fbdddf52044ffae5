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

    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", true)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false)]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333g-01", false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01", false)]
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0", false)]
    [InlineData("", false)]
    public void The_hop_parser_must_read_a_traceparent_as_the_runtime_does(string traceparent, bool valid)
    {
        var ours = Spans.TryParseSampled(traceparent, out var a);
        var runtime = ActivityContext.TryParse(traceparent, null, isRemote: true, out var b);
        Assert.Equal(valid, ours);
        // What ours reads the runtime reads the same; ours is stricter (version 00, '-' separators, non-zero ids).
        if (ours) Assert.True(runtime);
        if (!ours) return;
        Assert.Equal(b.TraceId, a.TraceId);
        Assert.Equal(b.SpanId, a.SpanId);
        Assert.Equal(b.TraceFlags, a.TraceFlags);
        Assert.True(a.IsRemote);
        // Parsed twice: the second read shares the first one's trace id.
        Assert.True(Spans.TryParseSampled(traceparent, out var again));
        Assert.Equal(a, again);
    }

    [Fact]
    public void Tag_values_must_read_as_formatted_and_repeat_without_allocating()
    {
        Assert.Equal("192.168.29.55", TagValues.Address(0xC0A81D37));
        Assert.Equal("192.168.29.55", TagValues.Address([192, 168, 29, 55]));
        Assert.Equal("0.0.0.0", TagValues.Address(0));
        Assert.Equal("255.255.255.255", TagValues.Address(uint.MaxValue));
        Assert.Equal("203.0.113.10:4500", TagValues.Endpoint(0xCB00710A, 4500));
        Assert.Equal("203.0.113.10:65535", TagValues.Endpoint(0xCB00710A, 65535));
        Assert.Equal("203.0.113.10", TagValues.Endpoint(0xCB00710A, -1));
        Assert.Equal(4500, TagValues.Int(4500));
        Assert.Equal(-7, TagValues.Int(-7));
        // Values that share a slot replace each other and still read right.
        for (var i = 0; i < 20_000; i++)
        {
            Assert.Equal(i, TagValues.Int(i));
            Assert.Equal($"10.0.{i >> 8 & 0xff}.{i & 0xff}", TagValues.Address(0x0A000000u | (uint)(i & 0xffff)));
        }
        Assert.Same(TagValues.Address(0x0A000A04), TagValues.Address(0x0A000A04));
        Assert.Same(TagValues.Int(61002), TagValues.Int(61002));
        Assert.Same(TagValues.Endpoint(0x0A000A04, 4500), TagValues.Endpoint(0x0A000A04, 4500));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _ = TagValues.Address(0x0A000A04);
            _ = TagValues.Endpoint(0x0A000A04, 4500);
            _ = TagValues.Int(61002);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal("10.0.10.4:4500", TagValues.Endpoint(0x0A000A04, 4500));
    }

    [Fact]
    public void A_journey_root_must_be_sampled_once_with_the_configured_ratio_and_an_unsampled_one_must_make_no_span()
    {
        var memory = new List<Activity>();
        using (var half = LabTelemetry.Start(new TelemetrySettings
        {
            Sampler = new ParentBasedSampler(new TraceIdRatioBasedSampler(0.5)),
            ProcessorPerNode = _ => new OpenTelemetry.SimpleActivityExportProcessor(new OpenTelemetry.Exporter.InMemoryExporter<Activity>(memory)),
        }, "ratio-lab", [("ratio-host", "host")]))
        {
            var recorded = 0;
            for (var i = 0; i < 2_000; i++)
            {
                using var root = Spans.StartRecordedRoot("ratio-host", "ratio-probe", ActivityKind.Client, half.Roots);
                if (root is null) continue;
                recorded++;
                Assert.True(root.Recorded);
                // A child of a decided root goes to the configured sampler again (parent-based: sampled parent, sampled child).
                using var child = Spans.Child(root, "ratio-host", "ratio-child");
                Assert.NotNull(child);
            }
            // 2,000 fair coins: 1,000 expected, outside 850..1,150 with a probability below 1e-11.
            Assert.InRange(recorded, 850, 1_150);
            // The decision stays with the root it was taken for: a root started the ordinary way is sampled on its own.
            var ordinary = Enumerable.Range(0, 400).Count(_ =>
            {
                var a = Spans.StartRoot("ratio-host", "ratio-ordinary", ActivityKind.Internal);
                var taken = a is { Recorded: true };
                Spans.StopDetached(a);
                return taken;
            });
            Assert.InRange(ordinary, 100, 300);
        }
        Assert.Equal(memory.Count(a => a.DisplayName == "ratio-probe"), memory.Count(a => a.DisplayName == "ratio-child"));

        var started = 0;
        using var probe = new ActivityListener
        {
            ShouldListenTo = s => s.Name == NodesTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStarted = a => { if (a.DisplayName == "never-probe") Interlocked.Increment(ref started); },
        };
        ActivitySource.AddActivityListener(probe);
        using var never = LabTelemetry.Start(new TelemetrySettings { Sampler = new AlwaysOffSampler(), ProcessorPerNode = _ => new OpenTelemetry.SimpleActivityExportProcessor(new OpenTelemetry.Exporter.InMemoryExporter<Activity>(memory)) },
            "never-lab", [("never-host", "host")]);
        for (var i = 0; i < 100; i++) Assert.Null(Spans.StartRecordedRoot("never-host", "never-probe", ActivityKind.Client, never.Roots));
        Assert.Equal(0, Volatile.Read(ref started));
    }
}
