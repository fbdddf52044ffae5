using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Benchmarks;

/// <summary>
/// Frames per second from one cluster member to another over Akka.Remote on loopback. Both members are actor systems
/// in this process built by <see cref="ClusterSettings.CreateSystem"/>, the configuration <c>nodes host</c> uses
/// (cluster provider, DotNetty TCP, the split-brain resolver, Nodes' serializers), joined into one cluster.
/// A sender in the first member keeps 1,000 messages in flight to a sink in the second, which answers once every
/// 1,000. Measured: lab frames through <see cref="NodesSerializer"/> (a 1,400-byte packet with link, node, interface,
/// traceparent, sequence and next hop, as a link actor delivers them) against the baseline, the same traffic as a
/// minimal protobuf message holding only the 1,400 bytes, through a minimal serializer, over the same two members.
/// </summary>
[QuickJob(iterationCount: 15)]
[MedianColumn]
[MemoryDiagnoser]
public class ClusterFrameThroughputBenchmarks
{
    private const int InFlight = 1_000;
    private const int PacketBytes = 1_400;

    private ActorSystem _first = null!;
    private ActorSystem _second = null!;
    private IActorRef _frameSender = null!;
    private IActorRef _blobSender = null!;

    [GlobalSetup]
    public void Setup()
    {
        var firstPort = ClusterBench.FreePort();
        var seed = $"akka.tcp://{ClusterSettings.SystemName}@127.0.0.1:{firstPort}";
        var overrides = MinimalProtobufSerializer.Configuration();
        _first = new ClusterSettings { Port = firstPort, SeedNodes = [seed], Roles = [ClusterSettings.LabRole], Overrides = overrides }.CreateSystem();
        _second = new ClusterSettings { Port = ClusterBench.FreePort(), SeedNodes = [seed], Roles = [ClusterSettings.LabRole], Overrides = overrides }.CreateSystem();
        ClusterBench.WaitUntilUp([_first, _second], 2, TimeSpan.FromSeconds(30));

        if (_first.Serialization.FindSerializerFor(new Frame()) is not NodesSerializer)
            throw new InvalidOperationException("frames are not serialized by the Nodes serializer");
        if (_first.Serialization.FindSerializerFor(new Blob([])) is not MinimalProtobufSerializer)
            throw new InvalidOperationException("the baseline message is not serialized by its minimal serializer");

        _second.ActorOf(Props.Create(() => new Sink(InFlight)), "sink");
        var secondAddress = Akka.Cluster.Cluster.Get(_second).SelfAddress;
        var sink = _first.ActorSelection(new RootActorPath(secondAddress) / "user" / "sink").ResolveOne(TimeSpan.FromSeconds(10)).Result;

        var payload = new byte[PacketBytes];
        new Random(7).NextBytes(payload);
        const string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        _frameSender = _first.ActorOf(Props.Create(() => new BatchSender(sink, InFlight, i => new Frame
        {
            Link = "link-2",
            Node = "internet",
            Interface = "eth0",
            Packet = ByteString.CopyFrom(payload),
            Traceparent = traceparent,
            Sequence = (ulong)i,
            NextHop = 0xC0A81D01,
        })), "frame-sender");
        _blobSender = _first.ActorOf(Props.Create(() => new BatchSender(sink, InFlight, _ => new Blob((byte[])payload.Clone()))), "blob-sender");

        // Both paths carry traffic, alternately, for a few seconds before measuring: the association, the serializers'
        // caches and the remoting code's tiered JIT settle for both, so the one measured first is not the one that pays.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(3))
        {
            FrameBatch();
            BlobBatch();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "1400-byte minimal protobuf, minimal serializer, 1000 in flight")]
    public int BlobBatch() => _blobSender.Ask<int>(BatchSender.Go.Instance, TimeSpan.FromSeconds(60)).Result;

    [Benchmark(OperationsPerInvoke = InFlight, Description = "Frame (1400-byte packet, traceparent) via NodesSerializer, 1000 in flight")]
    public int FrameBatch() => _frameSender.Ask<int>(BatchSender.Go.Instance, TimeSpan.FromSeconds(60)).Result;

    [GlobalCleanup]
    public void Cleanup() => ClusterBench.Stop([_second, _first]);

    /// <summary>Sends a batch to the sink in the other member and answers when the sink has taken all of it.</summary>
    private sealed class BatchSender : ReceiveActor
    {
        public sealed class Go
        {
            public static readonly Go Instance = new();
        }

        private IActorRef? _replyTo;

        public BatchSender(IActorRef sink, int count, Func<int, object> make)
        {
            Receive<Go>(_ =>
            {
                _replyTo = Sender;
                for (var i = 0; i < count; i++) sink.Tell(make(i));
            });
            // The sink's answer is a message of the same kind, empty.
            Receive<Frame>(_ => _replyTo!.Tell(count));
            Receive<Blob>(_ => _replyTo!.Tell(count));
        }
    }

    /// <summary>Takes frames and blobs; after every <c>batch</c> of one kind answers the sender with an empty one.</summary>
    private sealed class Sink : ReceiveActor
    {
        public Sink(int batch)
        {
            var frames = 0;
            var blobs = 0;
            Receive<Frame>(_ =>
            {
                if (++frames < batch) return;
                frames = 0;
                Sender.Tell(new Frame());
            });
            Receive<Blob>(_ =>
            {
                if (++blobs < batch) return;
                blobs = 0;
                Sender.Tell(new Blob([]));
            });
        }
    }
}

/// <summary>The baseline's message: nothing but the packet's bytes.</summary>
public sealed class Blob(byte[] payload)
{
    public byte[] Payload { get; } = payload;
}

/// <summary>
/// The smallest protobuf serializer for <see cref="Blob"/>: field 1, length-delimited, written and read by hand.
/// </summary>
public sealed class MinimalProtobufSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => 4_190;

    public override string Manifest(object o) => "b";

    public override byte[] ToBinary(object obj)
    {
        var payload = ((Blob)obj).Payload;
        var length = (uint)payload.Length;
        var header = 1 + VarintSize(length);
        var bytes = new byte[header + payload.Length];
        bytes[0] = 0x0A; // field 1, wire type 2
        var at = 1;
        while (length >= 0x80)
        {
            bytes[at++] = (byte)(length | 0x80);
            length >>= 7;
        }
        bytes[at] = (byte)length;
        payload.CopyTo(bytes.AsSpan(header));
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (bytes.Length == 0) return new Blob([]);
        if (bytes[0] != 0x0A) throw new System.Runtime.Serialization.SerializationException("not a blob");
        uint length = 0;
        var at = 1;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            length |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        return new Blob(bytes.AsSpan(at, (int)length).ToArray());
    }

    private static int VarintSize(uint v) => v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : v < 1 << 28 ? 4 : 5;

    public static Akka.Configuration.Config Configuration() => ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers { minimal-proto = "{{typeof(MinimalProtobufSerializer).FullName}}, {{typeof(MinimalProtobufSerializer).Assembly.GetName().Name}}" }
          serialization-bindings { "{{typeof(Blob).FullName}}, {{typeof(Blob).Assembly.GetName().Name}}" = minimal-proto }
        }
        """);
}

/// <summary>
/// One ping journey at a time through the seed lab split as its placement says, each part in its own cluster member:
/// home (client, RRAS, ISP router), internet, and azure (Azure gateway, VNet router, VM), three actor systems in this
/// process started by <see cref="ClusterMember.Start"/> exactly as <c>nodes host --process NAME</c> starts them, on
/// loopback. The echo request crosses home → internet → azure and the reply comes back: four crossings of
/// Akka.Remote per journey, through <see cref="RemotePort"/>s and <see cref="NodesSerializer"/>. The ping is started
/// on the client in the home member. The baseline is the same lab in one actor system, measured in the same run.
/// </summary>
[QuickJob(iterationCount: 10)]
[MedianColumn]
public class ClusterJourneyLatencyBenchmarks
{
    private readonly List<ClusterMember> _members = [];
    private ActorSystem? _single;
    private IActorRef _singleClient = null!;
    private IActorRef _clusterClient = null!;

    private static StartPing OnePing() => new() { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true };

    [GlobalSetup(Target = nameof(OneProcess))]
    public void SetupOneProcess()
    {
        _single = ActorSystem.Create("latency", LabRunner.AkkaConfig(serializeAll: false));
        var events = _single.ActorOf(Props.Create(() => new EventSink()), "events");
        var lab = LabBuilder.Build(_single, JourneyBenchmarks.SeedLab(), new LabContext(_single.Scheduler.Now, 1, 1, events, null));
        _singleClient = lab.Nodes["client"];
        Warm(_singleClient);
    }

    [GlobalSetup(Target = nameof(AcrossMembers))]
    public void SetupAcrossMembers() => StartMembers(perNode: false);

    [GlobalSetup(Target = nameof(AcrossSevenMembers))]
    public void SetupAcrossSevenMembers() => StartMembers(perNode: true);

    /// <summary>The seed lab over cluster members: as its placement says, or one member per node (every hop remote).</summary>
    private void StartMembers(bool perNode)
    {
        var topology = JourneyBenchmarks.SeedLab();
        if (!topology.TrySelectScenario("default-gateway", out var scenario, out var problem)) throw new InvalidOperationException(problem);
        var placement = topology.Placement ?? throw new InvalidOperationException("the seed lab has no placement");
        if (perNode)
        {
            placement = placement with { Processes = topology.Nodes.Select(n => new ProcessPlacement(n.Name, [n.Name], placement.Location)).ToImmutableArray() };
            topology = topology with { Placement = placement };
        }
        var ports = placement.Processes.Select(_ => ClusterBench.FreePort()).ToArray();
        var seed = $"akka.tcp://{ClusterSettings.SystemName}@127.0.0.1:{ports[0]}";
        for (var i = 0; i < placement.Processes.Length; i++)
        {
            var p = placement.Processes[i];
            _members.Add(ClusterMember.Start(topology, scenario!, new ClusterSettings { Port = ports[i], SeedNodes = [seed] },
                new MemberOptions { Nodes = p.Nodes, Process = p.Name, Fingerprint = "benchmark", Seed = 1, TimeScale = 1 }));
        }
        ClusterBench.WaitUntilUp(_members.Select(m => m.System).ToArray(), _members.Count, TimeSpan.FromSeconds(30));
        // The readiness barrier the driver uses: every member's ports have found their peers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_members.All(m => m.Lab.Ask<MemberInfo>(MemberInfoRequest.Instance, TimeSpan.FromSeconds(5)).Result.Connected))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("the members' ports did not find their peers");
            Thread.Sleep(200);
        }
        var home = _members.Single(m => m.Actors.Nodes.ContainsKey("client"));
        _clusterClient = home.Actors.Nodes["client"];
        Warm(_clusterClient);
    }

    /// <summary>Brings the tunnel up (the first ping dials it) and checks that pings are answered.</summary>
    private static void Warm(IActorRef client)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var s = client.Ask<PingSummary>(OnePing(), TimeSpan.FromSeconds(30)).Result;
            if (s.Received == 1) return;
        }
        throw new InvalidOperationException("the seed lab did not answer its first pings");
    }

    [Benchmark(Baseline = true, Description = "one ping journey, seed lab in one actor system")]
    public double OneProcess() => Journey(_singleClient);

    [Benchmark(Description = "one ping journey, seed lab across 3 cluster members")]
    public double AcrossMembers() => Journey(_clusterClient);

    [Benchmark(Description = "one ping journey, seed lab across 7 cluster members, one per node")]
    public double AcrossSevenMembers() => Journey(_clusterClient);

    private static double Journey(IActorRef client)
    {
        var s = client.Ask<PingSummary>(OnePing(), TimeSpan.FromSeconds(10)).Result;
        if (s.Received != 1) throw new InvalidOperationException("journey lost");
        return s.RttAvgMs;
    }

    [GlobalCleanup(Target = nameof(OneProcess))]
    public void CleanupOneProcess() => _single?.Terminate().Wait(TimeSpan.FromSeconds(10));

    [GlobalCleanup(Targets = [nameof(AcrossMembers), nameof(AcrossSevenMembers)])]
    public void CleanupAcrossMembers()
    {
        ClusterBench.Stop(_members.Select(m => m.System).Reverse().ToArray());
        _members.Clear();
    }
}

internal static class ClusterBench
{
    /// <summary>A loopback TCP port free at the time of asking.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Waits until every system sees <paramref name="members"/> members Up.</summary>
    public static void WaitUntilUp(ActorSystem[] systems, int members, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!systems.All(s => Akka.Cluster.Cluster.Get(s).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) >= members))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"the cluster did not reach {members} members Up");
            Thread.Sleep(100);
        }
    }

    /// <summary>Each member leaves the cluster gracefully in turn (the seed, given last, last), as a stopped member does.</summary>
    public static void Stop(ActorSystem[] systems)
    {
        foreach (var s in systems)
        {
            CoordinatedShutdown.Get(s).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).Wait(TimeSpan.FromSeconds(15));
            s.WhenTerminated.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
