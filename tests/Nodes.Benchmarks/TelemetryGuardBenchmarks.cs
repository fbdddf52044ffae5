using System.Diagnostics;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Telemetry;

namespace Nodes.Benchmarks;

/// <summary>
/// What tracing off costs a journey, measured without a second build: the telemetry code that stays in the hot path
/// when nothing listens is a set of guards (is the source listened to, is the counter enabled, is there a span). This
/// runs, per journey, more guards than a journey evaluates, against the journey itself in the same run. The Ratio
/// column is the share of a journey's time that tracing off costs, an upper bound.
/// </summary>
/// <remarks>
/// The guards of one hop with tracing off, read off the node actors: packets-in and packets-out counters' Enabled,
/// <see cref="Spans.Continue"/> (which asks the source for listeners), <see cref="Spans.Context"/> of no span, the
/// egress tagging's look at <see cref="Activity.Current"/>, <see cref="Spans.Listening"/>, <see cref="Spans.Child"/> of
/// no parent (NAT, fragmentation) and one more counter's Enabled (SA bytes, drops): eight. A journey is 32 hops
/// (<see cref="JourneyBenchmarks"/>), and not every hop evaluates all eight, so 256 guards bound it from above.
/// </remarks>
[SettledJob]
[MemoryDiagnoser]
public class TelemetryGuardBenchmarks
{
    private const int InFlight = 2_000;
    private const int Hops = 32;

    private ActorSystem _system = null!;
    private IActorRef _client = null!;
    private string _traceparent = "";

    [GlobalSetup]
    public void Setup()
    {
        if (NodesTelemetry.Source.HasListeners()) throw new InvalidOperationException("something listens to the Nodes source: this measures tracing off");
        _system = ActorSystem.Create("guards", LabRunner.AkkaConfig(serializeAll: false));
        var events = _system.ActorOf(Props.Create(() => new EventSink()), "events");
        var lab = LabBuilder.Build(_system, JourneyBenchmarks.SeedLab(), new LabContext(_system.Scheduler.Now, 1, 1, events, null));
        _client = lab.Nodes["client"];
        var warm = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(30)).Result;
        if (warm.Received != 1) throw new InvalidOperationException("the seed lab did not answer its first ping");
        // With tracing off, hosts send no trace context: frames carry an empty traceparent.
        _traceparent = "";
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "ping journey, tracing off, 2000 in flight")]
    public uint PingJourneys() => JourneyBenchmarks.Flood(_client, InFlight);

    [Benchmark(Description = "telemetry guards of one journey, tracing off (32 hops x 8)")]
    public int GuardsOfOneJourney()
    {
        var taken = 0;
        var tp = _traceparent;
        for (var hop = 0; hop < Hops; hop++)
        {
            if (NodesTelemetry.PacketsIn.Enabled) taken++;
            if (NodesTelemetry.PacketsOut.Enabled) taken++;
            var span = Spans.Continue("rras", SpanNames.Forward, tp);
            if (span is not null) taken++;
            tp = Spans.Context(span, tp);
            if (Activity.Current is { } current && current.Source == NodesTelemetry.Source) taken++;
            if (Spans.Listening) taken++;
            if (Spans.Child(span, "rras", SpanNames.Nat) is not null) taken++;
            if (NodesTelemetry.SaBytes.Enabled) taken++;
        }
        return taken;
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();
}
