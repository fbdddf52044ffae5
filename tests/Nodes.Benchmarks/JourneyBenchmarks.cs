using System.Collections.Immutable;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Benchmarks;

/// <summary>
/// Ping journeys through the whole seed lab in one process: the client's echo request goes through RRAS (ESP seal),
/// the home NAT, the internet router, the Azure gateway (ESP open), the VNet router to the VM, and the reply back the
/// same way — about sixteen actor hops each way plus four ESP operations. No link delay, no tracing. The baseline is
/// the same number of hops through trivial forwarding actors, measured in the same run.
/// <para>The journey runs through a few hundred methods of the lab, which the JIT optimises only after they have run
/// a while (the first iterations are up to four times slower): twelve iterations of warm-up, ten measured.</para>
/// </summary>
[QuickJob(iterationCount: 10, warmupCount: 12)]
[MemoryDiagnoser]
public class JourneyBenchmarks
{
    private const int InFlight = 2_000;
    private const int HopsPerJourney = 32;

    private ActorSystem _system = null!;
    private IActorRef _client = null!;
    private IActorRef _chainHead = null!;
    private IActorRef _chainDriver = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("journeys", LabRunner.AkkaConfig(serializeAll: false));
        var topology = SeedLab();
        var events = _system.ActorOf(Props.Create(() => new EventSink()), "events");
        var lab = LabBuilder.Build(_system, topology, new LabContext(_system.Scheduler.Now, 1, 1, events, null));
        _client = lab.Nodes["client"];
        // Bring the tunnel up before measuring.
        var warm = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(30)).Result;
        if (warm.Received != 1) throw new InvalidOperationException("the seed lab did not answer its first ping");
        _chainDriver = _system.ActorOf(Props.Create(() => new ChainDriver()), "chain-driver");
        _chainHead = _chainDriver;
        for (var i = 0; i < HopsPerJourney; i++) _chainHead = _system.ActorOf(Props.Create(() => new Forwarder(_chainHead)), $"hop-{i}");
    }

    /// <summary>The seed lab with every link impairment removed.</summary>
    internal static TopologySpec SeedLab()
    {
        // The benchmarks run from the repository (dotnet run --project tests/Nodes.Benchmarks) or from its build output.
        string? dir = null;
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            dir = start;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Nodes.sln"))) dir = Path.GetDirectoryName(dir);
            if (dir is not null) break;
        }
        var loaded = TopologyLoader.Load(Path.Combine(dir ?? throw new InvalidOperationException("Nodes.sln not found above the benchmark"), "topology", "azure-s2s-rras.yaml"));
        var t = loaded.Topology ?? throw new InvalidOperationException(string.Join('\n', loaded.Diagnostics));
        t.TrySelectScenario("default-gateway", out var s, out _);
        t = t.ForScenario(s!);
        return t with { Links = t.Links.Select(l => l with { Impairments = ImpairmentSpec.None }).ToImmutableArray() };
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "32 hops through trivial actors, 2000 in flight")]
    public int BareActorHops() => _chainDriver.Ask<int>(new ChainDriver.Run(_chainHead, InFlight), TimeSpan.FromSeconds(60)).Result;

    [Benchmark(OperationsPerInvoke = InFlight, Description = "ping journey through the seed lab, 2000 in flight")]
    public uint PingJourneys() => Flood(_client, InFlight);

    /// <summary>Sends <paramref name="count"/> echo requests back to back from the seed lab's client and waits for every reply.</summary>
    internal static uint Flood(IActorRef client, int count)
    {
        var s = client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = (uint)count, IntervalMs = 0, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(60)).Result;
        if (s.Received != count) throw new InvalidOperationException($"{count - s.Received} journeys lost");
        return s.Received;
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    /// <summary>A hop that does nothing but pass the message on: the baseline of a journey's actor hops.</summary>
    internal sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef next) => ReceiveAny(m => next.Tell(m));
    }

    /// <summary>Sends a batch of 1400-byte frames down a chain of forwarders and answers when all came back.</summary>
    internal sealed class ChainDriver : ReceiveActor
    {
        public sealed record Run(IActorRef Head, int Count);

        private IActorRef? _replyTo;
        private int _remaining;

        public ChainDriver()
        {
            var payload = new byte[1400];
            Receive<Run>(r =>
            {
                _replyTo = Sender;
                _remaining = r.Count;
                for (var i = 0; i < r.Count; i++) r.Head.Tell(new Frame { Packet = Google.Protobuf.ByteString.CopyFrom(payload), Sequence = (ulong)i });
            });
            Receive<Frame>(_ =>
            {
                if (--_remaining == 0) _replyTo!.Tell(0);
            });
        }
    }
}

/// <summary>One journey at a time through the seed lab: the round trip a ping sees, actor hops and ESP included.</summary>
[QuickJob(iterationCount: 10)]
[MedianColumn]
public class JourneyLatencyBenchmarks
{
    private ActorSystem _system = null!;
    private IActorRef _client = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("latency", LabRunner.AkkaConfig(serializeAll: false));
        var events = _system.ActorOf(Props.Create(() => new EventSink()), "events");
        var lab = LabBuilder.Build(_system, JourneyBenchmarks.SeedLab(), new LabContext(_system.Scheduler.Now, 1, 1, events, null));
        _client = lab.Nodes["client"];
        var warm = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(30)).Result;
        if (warm.Received != 1) throw new InvalidOperationException("the seed lab did not answer its first ping");
    }

    [Benchmark(Description = "one ping journey, request and reply")]
    public double OneJourney()
    {
        var s = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(10)).Result;
        if (s.Received != 1) throw new InvalidOperationException("journey lost");
        return s.RttAvgMs;
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();
}

/// <summary>Swallows node events: benchmarks measure packets, not the terminal.</summary>
internal sealed class EventSink : ReceiveActor
{
    public EventSink() => ReceiveAny(_ => { });
}
