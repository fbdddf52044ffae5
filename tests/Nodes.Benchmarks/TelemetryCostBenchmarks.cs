using System.Diagnostics;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Nodes.Benchmarks;

/// <summary>
/// <see cref="QuickJobAttribute"/> with ten warm-up and fifteen measured iterations of half a second: a journey benchmark builds a whole
/// lab per mode, and on a shared two-core machine the first iterations of each still carry JIT tiering and other
/// processes' bursts.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SettledJobAttribute : JobConfigBaseAttribute
{
    public SettledJobAttribute()
        : base(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(10)
            .WithIterationCount(15)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(500))
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Settled"))
    {
    }
}

/// <summary>What tracing a journey costs: the seed lab's ping journeys (as in <see cref="JourneyBenchmarks"/>).</summary>
public enum TelemetryMode
{
    /// <summary>No listener on the Nodes source: the default of a run without OTEL_* settings.</summary>
    Off,
    /// <summary>A tracer provider listens but samples nothing (parentbased_traceidratio 0): roots are made, nothing is recorded.</summary>
    Unsampled,
    /// <summary>Every hop traced (always_on) through the lab's batch stage into exporters that discard.</summary>
    Traced,
}

/// <summary>
/// Ping journeys through the seed lab with tracing off, unsampled and on, each against the bare-actor-hop baseline of
/// the same run (2000 in flight, 32 hops). Read the Ratio column: journeys cost vs. baseline per mode. Compare Off with
/// the same ratio of <see cref="JourneyBenchmarks"/> on the commit before telemetry for the price of the guards.
/// </summary>
[SettledJob]
[MemoryDiagnoser]
public class TelemetryCostBenchmarks
{
    private const int InFlight = 2_000;
    private const int HopsPerJourney = 32;

    [Params(TelemetryMode.Off, TelemetryMode.Unsampled, TelemetryMode.Traced)]
    public TelemetryMode Mode { get; set; }

    private ActorSystem _system = null!;
    private IActorRef _client = null!;
    private IActorRef _chainHead = null!;
    private IActorRef _chainDriver = null!;
    private LabTelemetry? _telemetry;
    private DiscardingExporter[] _exporters = [];

    [GlobalSetup]
    public void Setup()
    {
        var topology = JourneyBenchmarks.SeedLab();
        var exporters = new List<DiscardingExporter>();
        _telemetry = Mode switch
        {
            TelemetryMode.Off => null,
            TelemetryMode.Unsampled => LabTelemetry.Start(new TelemetrySettings
            {
                Sampler = new ParentBasedSampler(new TraceIdRatioBasedSampler(0)),
                ExporterPerNode = _ => Add(exporters),
            }, topology.Name, topology.Nodes.Select(n => (n.Name, "node"))),
            _ => LabTelemetry.Start(new TelemetrySettings
            {
                Sampler = new AlwaysOnSampler(),
                ExporterPerNode = _ => Add(exporters),
            }, topology.Name, topology.Nodes.Select(n => (n.Name, "node"))),
        };
        _exporters = exporters.ToArray();
        _system = ActorSystem.Create("telemetry-cost", LabRunner.AkkaConfig(serializeAll: false));
        var events = _system.ActorOf(Props.Create(() => new EventSink()), "events");
        var lab = LabBuilder.Build(_system, topology, new LabContext(_system.Scheduler.Now, 1, 1, events, null) { Roots = _telemetry?.Roots });
        _client = lab.Nodes["client"];
        var warm = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(30)).Result;
        if (warm.Received != 1) throw new InvalidOperationException("the seed lab did not answer its first ping");
        _chainDriver = _system.ActorOf(Props.Create(() => new JourneyBenchmarks.ChainDriver()), "chain-driver");
        _chainHead = _chainDriver;
        for (var i = 0; i < HopsPerJourney; i++) _chainHead = _system.ActorOf(Props.Create(() => new JourneyBenchmarks.Forwarder(_chainHead)), $"hop-{i}");
    }

    private static DiscardingExporter Add(List<DiscardingExporter> list)
    {
        var e = new DiscardingExporter();
        lock (list) list.Add(e);
        return e;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "32 hops through trivial actors, 2000 in flight")]
    public int BareActorHops() => _chainDriver.Ask<int>(new JourneyBenchmarks.ChainDriver.Run(_chainHead, InFlight), TimeSpan.FromSeconds(60)).Result;

    [Benchmark(OperationsPerInvoke = InFlight, Description = "ping journey through the seed lab, 2000 in flight")]
    public uint PingJourneys() => JourneyBenchmarks.Flood(_client, InFlight);

    [GlobalCleanup]
    public void Cleanup()
    {
        _system.Terminate().Wait();
        _telemetry?.Dispose();
        var exported = _exporters.Sum(e => e.Spans);
        if (Mode == TelemetryMode.Traced && exported == 0) throw new InvalidOperationException("tracing on, but no span was exported");
        if (Mode == TelemetryMode.Unsampled && exported != 0) throw new InvalidOperationException($"nothing sampled, yet {exported} spans were exported");
        Console.WriteLine($"// {Mode}: {exported} spans exported");
    }

    /// <summary>Counts spans and drops them: the cost of recording and batching without a network.</summary>
    private sealed class DiscardingExporter : BaseExporter<Activity>
    {
        private long _spans;

        public long Spans => Interlocked.Read(ref _spans);

        public override ExportResult Export(in Batch<Activity> batch)
        {
            Interlocked.Add(ref _spans, batch.Count);
            return ExportResult.Success;
        }
    }
}
