using System.Diagnostics;
using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Nodes.Telemetry;

/// <summary>
/// What a run exports and how. <see cref="FromEnvironment"/> reads the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT
/// and OTEL_EXPORTER_OTLP_PROTOCOL (read by the OTLP exporter itself, with the per-signal variants and headers),
/// OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER (otlp, console, none; comma-separated), OTEL_TRACES_SAMPLER and
/// OTEL_TRACES_SAMPLER_ARG, OTEL_RESOURCE_ATTRIBUTES.
/// </summary>
public sealed record TelemetrySettings
{
    /// <summary>Export over OTLP (endpoint and protocol from the environment unless <see cref="OtlpEndpoint"/> is set).</summary>
    public bool Otlp { get; init; }

    /// <summary>An OTLP endpoint that overrides the environment (the dashboard's), with <see cref="OtlpProtocol"/>.</summary>
    public Uri? OtlpEndpoint { get; init; }

    public OtlpExportProtocol OtlpProtocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>Export metrics too, where spans go over OTLP or to the console.</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>Print every span (and metrics) on the console.</summary>
    public bool Console { get; init; }

    /// <summary>Keep finished spans in memory (for the ladder and the trace file).</summary>
    public SpanCollector? Collector { get; init; }

    /// <summary>Extra processors for every node's spans, called as each span ends (tests use an in-memory exporter here).</summary>
    public Func<string, BaseProcessor<Activity>>? ProcessorPerNode { get; init; }

    /// <summary>
    /// Extra exporters for every node's spans, fed in batches by the lab's one batch stage like the OTLP exporters
    /// (benchmarks use an exporter that discards here).
    /// </summary>
    public Func<string, BaseExporter<Activity>>? ExporterPerNode { get; init; }

    public Sampler Sampler { get; init; } = new ParentBasedSampler(new AlwaysOnSampler());

    /// <summary>Tracing is on when anything would receive a span.</summary>
    public bool TracingOn => Otlp || Console || Collector is not null || ProcessorPerNode is not null || ExporterPerNode is not null;

    /// <summary>
    /// Settings from the OTEL_* variables: OTLP when an OTLP endpoint is set (and OTEL_TRACES_EXPORTER, if set, names otlp),
    /// the console when OTEL_TRACES_EXPORTER names console.
    /// </summary>
    public static TelemetrySettings FromEnvironment(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var exporters = (env("OTEL_TRACES_EXPORTER") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => e.ToLowerInvariant()).ToHashSet();
        var endpoint = !string.IsNullOrWhiteSpace(env("OTEL_EXPORTER_OTLP_ENDPOINT")) || !string.IsNullOrWhiteSpace(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        return new TelemetrySettings
        {
            Otlp = endpoint && (exporters.Count == 0 || exporters.Contains("otlp")),
            Console = exporters.Contains("console"),
            Metrics = !string.Equals(env("OTEL_METRICS_EXPORTER"), "none", StringComparison.OrdinalIgnoreCase),
            Sampler = SamplerFrom(env("OTEL_TRACES_SAMPLER"), env("OTEL_TRACES_SAMPLER_ARG")),
        };
    }

    /// <summary>The sampler that OTEL_TRACES_SAMPLER names (default parentbased_always_on).</summary>
    public static Sampler SamplerFrom(string? name, string? arg)
    {
        var ratio = double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1 ? r : 1.0;
        return (name ?? "").Trim().ToLowerInvariant() switch
        {
            "always_on" => new AlwaysOnSampler(),
            "always_off" => new AlwaysOffSampler(),
            "traceidratio" => new TraceIdRatioBasedSampler(ratio),
            "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
            "parentbased_traceidratio" => new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)),
            _ => new ParentBasedSampler(new AlwaysOnSampler()),
        };
    }
}

/// <summary>
/// The telemetry of one lab run. Every node is its own service (service.name = node name). OpenTelemetry .NET has one
/// resource per TracerProvider, so there is one listening provider (the sampler, one decision per span) and each node's
/// exporters belong to a provider of their own that carries the node's resource and listens to nothing. Spans are
/// sampled once and exported once, and each backend sees one service per node. Metrics go through one MeterProvider
/// (service.name "nodes") with the node as the <c>nodes.node</c> attribute.
/// <para>
/// Exporters that send (OTLP, and <see cref="TelemetrySettings.ExporterPerNode"/>) are fed by one
/// <see cref="ExportStage"/> for the whole lab: one queue and one export thread, whose batches are split into one batch
/// per node. Processors that must see each span as it ends (the console, the span collector, tests' processors) are
/// called from the listening provider, routed by the same <c>nodes.node</c> attribute.
/// </para>
/// </summary>
public sealed class LabTelemetry : IDisposable
{
    /// <summary>Fallback service for spans without a node.</summary>
    public const string LabService = "nodes";

    private readonly TracerProvider? _listener;
    private readonly List<TracerProvider> _nodeProviders = [];
    private readonly MeterProvider? _meters;

    private readonly ExportStage? _stage;

    private LabTelemetry(TracerProvider? listener, List<TracerProvider> nodeProviders, MeterProvider? meters, ExportStage? stage = null)
    {
        _stage = stage;
        _listener = listener;
        _nodeProviders = nodeProviders;
        _meters = meters;
    }

    public bool Tracing => _listener is not null;

    /// <summary>The sampler to ask for a journey's root before it exists (<see cref="Spans.StartRecordedRoot"/>); null when tracing is off.</summary>
    public RootSampler? Roots { get; private init; }

    /// <summary>Spans the export stage dropped because its queue was full (exporters slower than the lab).</summary>
    public long DroppedSpans => _stage?.Dropped ?? 0;

    public static LabTelemetry Start(TelemetrySettings settings, string lab, IEnumerable<(string Node, string Kind)> nodes)
    {
        MeterProvider? meters = null;
        if (settings.Metrics && (settings.Otlp || settings.Console))
        {
            var mb = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(Resource(LabService, lab, null))
                .AddMeter(NodesTelemetry.Name);
            if (settings.Otlp) mb.AddReader(new PeriodicExportingMetricReader(new OtlpMetricExporter(Options(settings)), 5000));
            if (settings.Console) mb.AddConsoleExporter();
            meters = mb.Build();
        }
        if (!settings.TracingOn) return new LabTelemetry(null, [], meters);

        var routes = new Dictionary<string, BaseProcessor<Activity>[]>(StringComparer.Ordinal);
        var exporters = new Dictionary<string, BaseExporter<Activity>[]>(StringComparer.Ordinal);
        var providers = new List<TracerProvider>();
        foreach (var (node, kind) in nodes.Append((LabService, "lab")).DistinctBy(n => n.Item1))
        {
            var processors = new List<BaseProcessor<Activity>>();
            if (settings.Console) processors.Add(new SimpleActivityExportProcessor(new ConsoleActivityExporter(new ConsoleExporterOptions())));
            if (settings.ProcessorPerNode is { } make) processors.Add(make(node));
            if (settings.Collector is { } collector) processors.Add(new CollectingProcessor(collector, node));
            var sending = new List<BaseExporter<Activity>>();
            if (settings.Otlp) sending.Add(new OtlpTraceExporter(Options(settings)));
            if (settings.ExporterPerNode is { } makeExporter) sending.Add(makeExporter(node));
            // A provider that listens to no source: it only gives its processors and exporters the node's resource.
            var b = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(Resource(node, lab, kind));
            foreach (var p in processors) b.AddProcessor(p);
            foreach (var e in sending) b.AddProcessor(new ExporterOwner(e));
            providers.Add(b.Build());
            if (processors.Count > 0) routes[node] = processors.ToArray();
            if (sending.Count > 0) exporters[node] = sending.ToArray();
        }
        ExportStage? stage = null;
        var listening = Sdk.CreateTracerProviderBuilder()
            .AddSource(NodesTelemetry.Name)
            .SetSampler(new RootSampler.Honouring(settings.Sampler));
        if (routes.Count > 0) listening.AddProcessor(new NodeRouter(routes));
        if (exporters.Count > 0)
        {
            stage = new ExportStage(exporters, LabService);
            listening.AddProcessor(stage);
        }
        var listener = listening.Build();
        return new LabTelemetry(listener, providers, meters, stage) { Roots = new RootSampler(settings.Sampler) };
    }

    private static OtlpExporterOptions Options(TelemetrySettings settings)
    {
        var o = new OtlpExporterOptions();
        if (settings.OtlpEndpoint is { } e)
        {
            o.Endpoint = e;
            o.Protocol = settings.OtlpProtocol;
        }
        return o;
    }

    private static ResourceBuilder Resource(string service, string lab, string? kind)
    {
        var b = ResourceBuilder.CreateDefault().AddService(service, serviceNamespace: "nodes")
            .AddAttributes([new(Attr.Lab, lab)]);
        if (kind is not null) b.AddAttributes([new(Attr.NodeKind, kind)]);
        return b;
    }

    /// <summary>Exports what is buffered (spans first, so that a dashboard shows the run when the command prints its address).</summary>
    public void Flush(int timeoutMs = 10_000)
    {
        _listener?.ForceFlush(timeoutMs);
        foreach (var p in _nodeProviders) p.ForceFlush(timeoutMs);
        _meters?.ForceFlush(timeoutMs);
    }

    public void Dispose()
    {
        _listener?.Dispose();
        foreach (var p in _nodeProviders) p.Dispose();
        _meters?.Dispose();
    }

    /// <summary>Hands each finished span to the processors of the node that recorded it.</summary>
    private sealed class NodeRouter(Dictionary<string, BaseProcessor<Activity>[]> routes) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            var node = data.GetTagItem(Attr.Node) as string;
            if ((node is not null && routes.TryGetValue(node, out var p)) || routes.TryGetValue(LabService, out p))
            {
                foreach (var processor in p) processor.OnEnd(data);
            }
        }
    }

    /// <summary>
    /// Holds an exporter in a node's provider, so that the exporter gets the node's resource and is flushed and shut
    /// down with it. Spans never pass through here (the provider listens to nothing); the lab's <see cref="ExportStage"/> feeds it.
    /// </summary>
    private sealed class ExporterOwner(BaseExporter<Activity> exporter) : BaseExportProcessor<Activity>(exporter)
    {
        protected override void OnExport(Activity data)
        {
        }
    }

    private sealed class CollectingProcessor(SpanCollector collector, string node) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Recorded) collector.Add(data, node);
        }
    }
}
