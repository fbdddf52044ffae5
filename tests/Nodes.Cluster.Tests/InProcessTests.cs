using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using Google.Protobuf;
using Nodes.Actors.Cluster;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Loading;

namespace Nodes.Cluster.Tests;

/// <summary>Members as actor systems inside the test process, on loopback ports: serializers, ports, TLS, the readiness barrier.</summary>
public sealed class InProcessTests : IDisposable
{
    private readonly List<ActorSystem> _systems = [];

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private ActorSystem Member(int port, string seed, string[] roles, TlsOptions? tls = null)
    {
        var s = new ClusterSettings { Port = port, SeedNodes = [seed], Roles = [ClusterSettings.LabRole, .. roles], Tls = tls }.CreateSystem();
        _systems.Add(s);
        return s;
    }

    private static async Task<bool> UpWithin(ActorSystem system, int members, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        var cluster = Akka.Cluster.Cluster.Get(system);
        while (DateTime.UtcNow < until)
        {
            if (cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) >= members) return true;
            await Task.Delay(100);
        }
        return false;
    }

    [Fact]
    public void A_member_refuses_to_start_when_a_message_would_fall_back_to_another_serializer()
    {
        var overrides = ConfigurationFactory.ParseString("""
            akka.actor.serialization-bindings { "Nodes.Messages.Frame, Nodes.Messages" = proto }
            """);
        var e = Assert.Throws<InvalidOperationException>(() => new ClusterSettings { Port = FreePort(), Overrides = overrides }.CreateSystem());
        Assert.Contains("Frame would be serialized by ProtobufSerializer", e.Message);
    }

    [Fact]
    public void Control_messages_round_trip_through_their_serializer()
    {
        var system = new ClusterSettings { Port = FreePort() }.CreateSystem();
        _systems.Add(system);
        var info = new MemberInfo("azure", ["azure-gw", "vm"], ["link-2"], "azure-s2s-rras", "0123456789abcdef", "static-route", 29, 2.5, ["port-node-internet"]);
        var s = system.Serialization.FindSerializerFor(info);
        Assert.IsType<ClusterControlSerializer>(s);
        var back = (MemberInfo)((Akka.Serialization.SerializerWithStringManifest)s).FromBinary(s.ToBinary(info), ((Akka.Serialization.SerializerWithStringManifest)s).Manifest(info));
        Assert.Equal(info.Process, back.Process);
        Assert.Equal(info.Nodes, back.Nodes);
        Assert.Equal(info.Links, back.Links);
        Assert.Equal(info.Waiting, back.Waiting);
        Assert.Equal((info.Topology, info.Fingerprint, info.Scenario, info.Seed, info.TimeScale), (back.Topology, back.Fingerprint, back.Scenario, back.Seed, back.TimeScale));
    }

    [Fact]
    public void Scale_run_messages_round_trip_through_their_serializer()
    {
        var system = new ClusterSettings { Port = FreePort() }.CreateSystem();
        _systems.Add(system);
        var s = (Akka.Serialization.SerializerWithStringManifest)system.Serialization.FindSerializerFor(new MemberFiguresRequest(true));
        T Back<T>(T m) where T : notnull => (T)s.FromBinary(s.ToBinary(m), s.Manifest(m));
        Assert.Equal(new RunHostedPings(1, 120_000), Back(new RunHostedPings(1, 120_000)));
        Assert.Equal(new HostedPingsDone("branches-2", 25_000, 24_998), Back(new HostedPingsDone("branches-2", 25_000, 24_998)));
        Assert.True(Back(new MemberFiguresRequest(true)).Collect);
        var f = new MemberFigures("hub", 0, 5_000_000_000, 300_000_000, 6_000_000_000, 400_000_000, 7_000_000_000, 1234.5, 100_000, 99_999, 7, 5, 100_000,
            [new("ike-cookie-required", 99_950), new("ike-overloaded", 3)]) { NotConnected = ["branch7 (Connecting)"] };
        var back = Back(f);
        Assert.Equal(f with { IkeDrops = [], NotConnected = [] }, back with { IkeDrops = [], NotConnected = [] });
        Assert.Equal(f.IkeDrops, back.IkeDrops);
        Assert.Equal(f.NotConnected, back.NotConnected);
        // A truncated message is a serialization error, never a half-read figure.
        var bytes = s.ToBinary(f);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => s.FromBinary(bytes[..^1], "mf"));
    }

    [Fact]
    public async Task A_port_that_finds_its_peer_before_the_member_lists_its_ports_is_not_left_waiting()
    {
        var system = ActorSystem.Create("lab-actor-test");
        _systems.Add(system);
        var lab = system.ActorOf(MemberLabActor.Props(new MemberInfo("p", [], [], "t", "f", "s", 1, 1, []), null, []));
        // A member building tens of thousands of nodes makes its first ports long before it has made them all.
        lab.Tell(new RemotePort.PortState("port-node-internet", true));
        lab.Tell(new MemberLabActor.ExpectPorts(["port-node-internet", "port-link-7"]));
        var info = await lab.Ask<MemberInfo>(MemberInfoRequest.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(["port-link-7"], info.Waiting);
        lab.Tell(new RemotePort.PortState("port-link-7", true));
        lab.Tell(new RemotePort.PortState("port-node-internet", false));
        info = await lab.Ask<MemberInfo>(MemberInfoRequest.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(["port-node-internet"], info.Waiting);
    }

    [Fact]
    public void A_member_hosting_a_whole_placement_process_has_that_process_as_its_role_not_every_node()
    {
        var hub = HubTopology.Generate(1000, members: 3);
        var roles = Actors.Lab.LabBuilder.MemberRoles(hub, hub.Placement!.Processes[1].Nodes.ToHashSet());
        Assert.Equal(["process:branches-1"], roles);
        // Nodes named one by one, not a whole process, keep their own roles.
        Assert.Equal(["vm", "internet"], Actors.Lab.LabBuilder.MemberRoles(hub, ["vm", "internet"]));
        Assert.Equal(["process:hub", "branch1-nat"], Actors.Lab.LabBuilder.MemberRoles(hub, ["internet", "azure-gw", "vnet-router", "vm", "branch1-nat"]));
    }

    [Fact]
    public void A_capture_feed_batch_round_trips_with_its_frames_and_keys()
    {
        var system = new ClusterSettings { Port = FreePort() }.CreateSystem();
        _systems.Add(system);
        var gcm = new Nodes.Crypto.CipherSuite(Nodes.Crypto.EncryptionAlgorithm.AesGcm16, 256, Nodes.Crypto.IntegrityAlgorithm.None);
        var cbc = new Nodes.Crypto.CipherSuite(Nodes.Crypto.EncryptionAlgorithm.AesCbc, 128, Nodes.Crypto.IntegrityAlgorithm.HmacSha256_128);
        var batch = new CapturedFrames(
            [new CapturedFrame("home-lan", "rras", "wan", 0xc0a81d01, 1_764_000_000_123_456, [0x45, 0, 0, 20, 1, 2, 3])],
            [new Nodes.Capture.EspSaKeyEntry("203.0.113.10", "52.172.171.0", 0xc1a0_0001, gcm, new Nodes.Crypto.SecretKey([1, 2, 3, 4]), null)],
            [new Nodes.Capture.IkeSaKeyEntry(0x1122334455667788, 0x99aabbccddeeff00, cbc, new([5]), new([6]), new([7, 7]), null)],
            42, 1_764_000_000_200_000);
        var s = (Akka.Serialization.SerializerWithStringManifest)system.Serialization.FindSerializerFor(batch);
        Assert.IsType<CaptureFeedSerializer>(s);
        var back = (CapturedFrames)s.FromBinary(s.ToBinary(batch), s.Manifest(batch));
        var f = Assert.Single(back.Frames);
        Assert.Equal(("home-lan", "rras", "wan", 0xc0a81d01u, 1_764_000_000_123_456L), (f.Link, f.FromNode, f.FromInterface, f.NextHop, f.AtUnixUs));
        Assert.Equal(batch.Frames[0].Packet, f.Packet);
        var esp = Assert.Single(back.Esp);
        Assert.Equal(("203.0.113.10", "52.172.171.0", 0xc1a0_0001u, gcm), (esp.Source, esp.Destination, esp.Spi, esp.Suite));
        Assert.Equal([1, 2, 3, 4], esp.EncryptionKey.Expose().ToArray());
        Assert.Null(esp.IntegrityKey);
        var ike = Assert.Single(back.Ike);
        Assert.Equal((0x1122334455667788ul, 0x99aabbccddeeff00ul, cbc), (ike.InitiatorSpi, ike.ResponderSpi, ike.Suite));
        Assert.Equal(("05", "06", "0707"), (Convert.ToHexString(ike.SkEi.Expose()), Convert.ToHexString(ike.SkEr.Expose()), Convert.ToHexString(ike.SkAi!.Expose())));
        Assert.Null(ike.SkAr);
        Assert.Equal((42, 1_764_000_000_200_000L), (back.Missed, back.SentAtUnixUs));
        // What a log line would show of it: counts, never key bytes.
        Assert.DoesNotContain("1, 2, 3", back.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("redacted", batch.ToString(), StringComparison.Ordinal);
        Assert.Contains("1 frames", batch.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Takes capture batches and acknowledges none of them: a view that stopped reading.</summary>
    private sealed class SlowView : ReceiveActor
    {
        public SlowView(List<CapturedFrames> got, IActorRef feed)
        {
            Receive<CapturedFrames>(b => { lock (got) got.Add(b); });
            feed.Tell(SubscribeCapture.Instance);
        }
    }

    [Fact]
    public async Task A_capture_feed_never_holds_more_than_its_bound_for_a_view_that_stops_acknowledging()
    {
        var system = new ClusterSettings { Port = FreePort() }.CreateSystem();
        _systems.Add(system);
        var tap = new CaptureFeedTap();
        var feed = system.ActorOf(CaptureFeedActor.Props(tap));
        var got = new List<CapturedFrames>();
        system.ActorOf(Props.Create(() => new SlowView(got, feed)));
        var packet = new byte[1000];
        // Before anyone subscribes nothing is kept: one frame at a time until the first batch arrives (one of four
        // unacknowledged), then far more than the bound at once.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            lock (got) if (got.Count > 0) break;
            Assert.True(DateTime.UtcNow < until, "the feed sent nothing to its subscriber");
            tap.Frame("l", "a", "e", default, DateTimeOffset.UtcNow, packet);
            await Task.Delay(20);
        }
        await Task.Delay(200);
        for (var i = 0; i < CaptureFeedTap.Capacity * 4; i++) tap.Frame("l", "a", "e", default, DateTimeOffset.UtcNow, packet);
        await Task.Delay(500);
        int sent;
        lock (got) sent = got.Sum(b => b.Frames.Count);
        lock (got) Assert.True(CaptureFeedActor.InFlight == got.Count, $"batches {got.Count}, dropped {tap.Dropped}, sent {sent}");
        // Four batches went out unacknowledged; the tap's queue is full, and the rest was dropped, counted.
        Assert.True(tap.Dropped >= CaptureFeedTap.Capacity * 4 - CaptureFeedTap.Capacity - sent, $"dropped {tap.Dropped}, sent {sent}");
        Assert.True(sent <= CaptureFeedActor.InFlight * (CaptureFeedActor.BatchBytes / 1000 + 1), $"sent {sent}");
    }

    /// <summary>Receives frames in the far member and hands them to the test.</summary>
    private sealed class Probe : ReceiveActor
    {
        public Probe(TaskCompletionSource<Frame> got) => Receive<Frame>(f => got.TrySetResult(f));
    }

    [Fact]
    public async Task A_frame_crosses_members_through_a_port_found_by_role_with_bytes_and_trace_context_intact()
    {
        var p1 = FreePort();
        var seed = LabCommandLine.Address("127.0.0.1", p1);
        var far = Member(p1, seed, ["vm"]);
        var near = Member(FreePort(), seed, ["client"]);
        var got = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
        far.ActorOf(Props.Create(() => new Probe(got)), "node-vm");
        // Sent before the port found its peer: it waits in the port's start-up buffer.
        var port = near.ActorOf(RemotePort.Props("port-node-vm", "vm", "node-vm"), "port-node-vm");
        var frame = new Frame
        {
            Link = "vnet-router:workload--vm:eth0", Node = "vm", Interface = "eth0", Packet = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(1400)),
            Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Tracestate = "nodes=1", Sequence = 77, NextHop = 0x0A000A04,
        };
        port.Tell(frame);
        var arrived = await got.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotSame(frame, arrived);
        Assert.Equal(frame, arrived);
        Assert.Equal(frame.Traceparent, arrived.Traceparent);
        Assert.Equal(frame.Tracestate, arrived.Tracestate);
    }

    private static X509Certificate2 SelfSigned(string path, string password, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pkcs12, password));
        return cert;
    }

    [Fact]
    public async Task Members_with_the_labs_certificate_join_over_TLS_and_a_member_with_another_certificate_cannot()
    {
        var dir = Directory.CreateTempSubdirectory("nodes-tls-");
        try
        {
            var labPfx = Path.Combine(dir.FullName, "lab.pfx");
            var otherPfx = Path.Combine(dir.FullName, "other.pfx");
            SelfSigned(labPfx, "lab-secret", "nodes-lab");
            SelfSigned(otherPfx, "other-secret", "intruder");
            var lab = new TlsOptions { CertificatePath = labPfx, Password = "lab-secret" };
            var p1 = FreePort();
            var seed = LabCommandLine.Address("127.0.0.1", p1, tls: true);
            var first = Member(p1, seed, ["internet"], lab);
            var second = Member(FreePort(), seed, ["azure-gw"], lab);
            Assert.True(await UpWithin(first, 2, TimeSpan.FromSeconds(30)), "two members with the lab's certificate did not form a cluster over TLS");

            var got = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
            first.ActorOf(Props.Create(() => new Probe(got)), "node-internet");
            second.ActorOf(RemotePort.Props("port-node-internet", "internet", "node-internet"), "port").Tell(new Frame { Node = "internet", Packet = ByteString.CopyFromUtf8("over tls") });
            Assert.Equal("over tls", (await got.Task.WaitAsync(TimeSpan.FromSeconds(20))).Packet.ToStringUtf8());

            var intruder = Member(FreePort(), seed, ["vm"], new TlsOptions { CertificatePath = otherPfx, Password = "other-secret" });
            Assert.False(await UpWithin(intruder, 1, TimeSpan.FromSeconds(8)), "a member with a certificate the lab does not accept joined");
            Assert.Equal(2, Akka.Cluster.Cluster.Get(first).State.Members.Count);

            var plain = Member(FreePort(), LabCommandLine.Address("127.0.0.1", p1), ["client"]);
            Assert.False(await UpWithin(plain, 1, TimeSpan.FromSeconds(5)), "a member without TLS joined a TLS lab");
        }
        finally
        {
            foreach (var s in _systems) await s.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
            _systems.Clear();
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_wrong_password_stops_a_member_with_a_reason()
    {
        var dir = Directory.CreateTempSubdirectory("nodes-tls-");
        try
        {
            var pfx = Path.Combine(dir.FullName, "lab.pfx");
            SelfSigned(pfx, "right", "nodes-lab");
            var tls = new TlsOptions { CertificatePath = pfx, Password = "wrong" };
            Assert.ThrowsAny<CryptographicException>(() => new ClusterSettings { Port = FreePort(), Tls = tls }.CreateSystem());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_every_node_the_driver_starts_no_traffic_and_names_the_missing_nodes_and_where_they_were_expected()
    {
        var path = Path.Combine(AppContext.BaseDirectory, LabCommandLine.Topology);
        var topology = TopologyLoader.Load(path).Topology!;
        Assert.True(topology.TrySelectScenario(null, out var scenario, out _));
        var port = FreePort();
        var address = LabCommandLine.Address("127.0.0.1", port);
        var fingerprint = Host.ClusterMember.FingerprintOf(File.ReadAllText(path));
        await using var home = Host.ClusterMember.Start(topology, scenario!, new ClusterSettings { Port = port, SeedNodes = [address] },
            new MemberOptions { Nodes = ["client", "rras", "isp-router"], Process = "home", Fingerprint = fingerprint });
        var e = await Assert.ThrowsAsync<LabNotReadyException>(() => ClusterDriver.RunAsync(topology, scenario!,
            new DriverOptions { ClusterAddress = address, Fingerprint = fingerprint, ReadyTimeout = TimeSpan.FromSeconds(6) }));
        Assert.Contains("no traffic was started", e.Message);
        foreach (var (node, process) in new[] { ("internet", "internet"), ("azure-gw", "azure"), ("vnet-router", "azure"), ("vm", "azure") })
            Assert.Contains($"{node} (expected on process '{process}' of the placement", e.Message);
        Assert.DoesNotContain("client (expected", e.Message);
        Assert.Contains("home at akka.tcp://nodes@127.0.0.1:" + port + " waits for", e.Message);
    }

    public void Dispose()
    {
        foreach (var s in _systems) s.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
