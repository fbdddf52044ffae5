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

    /// <summary>Extra processors for every node's spans (tests use an in-memory exporter here).</summary>
    public Func<string, BaseProcessor<Activity>>? ProcessorPerNode { get; init; }

    public Sampler Sampler { get; init; } = new ParentBasedSampler(new AlwaysOnSampler());

    /// <summary>Tracing is on when anything would receive a span.</summary>
    public bool TracingOn => Otlp || Console || Collector is not null || ProcessorPerNode is not null;

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
/// resource per TracerProvider, so there is one listening provider (the sampler, one decision per span) whose only
/// processor routes each finished span by its <c>nodes.node</c> attribute to that node's exporters; each node's exporters
/// belong to a provider of their own that carries the node's resource and listens to nothing. Spans are sampled once
/// and exported once, and each backend sees one service per node. Metrics go through one MeterProvider
/// (service.name "nodes") with the node as the <c>nodes.node</c> attribute.
/// </summary>
public sealed class LabTelemetry : IDisposable
{
    /// <summary>Fallback service for spans without a node.</summary>
    public const string LabService = "nodes";

    private readonly TracerProvider? _listener;
    private readonly List<TracerProvider> _nodeProviders = [];
    private readonly MeterProvider? _meters;

    private LabTelemetry(TracerProvider? listener, List<TracerProvider> nodeProviders, MeterProvider? meters)
    {
        _listener = listener;
        _nodeProviders = nodeProviders;
        _meters = meters;
    }

    public bool Tracing => _listener is not null;

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
        var providers = new List<TracerProvider>();
        foreach (var (node, kind) in nodes.Append((LabService, "lab")).DistinctBy(n => n.Item1))
        {
            var processors = new List<BaseProcessor<Activity>>();
            if (settings.Otlp) processors.Add(new BatchActivityExportProcessor(new OtlpTraceExporter(Options(settings)), scheduledDelayMilliseconds: 1000));
            if (settings.Console) processors.Add(new SimpleActivityExportProcessor(new ConsoleActivityExporter(new ConsoleExporterOptions())));
            if (settings.ProcessorPerNode is { } make) processors.Add(make(node));
            if (settings.Collector is { } collector) processors.Add(new CollectingProcessor(collector, node));
            // A provider that listens to no source: it only gives its processors (and their exporters) the node's resource.
            var b = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(Resource(node, lab, kind));
            foreach (var p in processors) b.AddProcessor(p);
            providers.Add(b.Build());
            routes[node] = processors.ToArray();
        }
        var listener = Sdk.CreateTracerProviderBuilder()
            .AddSource(NodesTelemetry.Name)
            .SetSampler(settings.Sampler)
            .AddProcessor(new NodeRouter(routes))
            .Build();
        return new LabTelemetry(listener, providers, meters);
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
        private readonly BaseProcessor<Activity>[] _fallback = routes[LabService];

        public override void OnEnd(Activity data)
        {
            var node = data.GetTagItem(Attr.Node) as string;
            var target = node is not null && routes.TryGetValue(node, out var p) ? p : _fallback;
            foreach (var processor in target) processor.OnEnd(data);
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
