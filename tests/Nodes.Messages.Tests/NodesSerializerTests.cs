using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using Nodes.Messages;

namespace Nodes.Messages.Tests;

public sealed class NodesSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-spec", NodesSerializer.Configuration());

    public void Dispose() => _system.Dispose();

    public static TheoryData<IMessage> Samples() => new()
    {
        new Frame { Link = "rras:wan -- isp-router:lan", Node = "rras", Interface = "wan", Packet = ByteString.CopyFrom(1, 2, 3, 4), Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Sequence = 7 },
        new StartPing { Host = "client", Destination = "10.0.10.4", Count = 4, IntervalMs = 1000, Size = 56 },
        new PingResult { Host = "client", Destination = "10.0.10.4", Sequence = 1, Answered = true, RttMs = 0.5 },
        new PingSummary { Host = "client", Destination = "10.0.10.4", Sent = 4, Received = 4, RttMinMs = 0.4, RttAvgMs = 0.5, RttMaxMs = 0.7 },
        new QueryStatus { Requester = "driver" },
        new NodeStatus { Node = "azure-gw", Kind = "azure-vpn-gateway", Tunnels = { new TunnelStatus { Name = "to-rras", State = "Connected", ChildSas = { new ChildSaStatus { InboundSpi = 0xc0ffee01 } } } } },
        new NodeEvent { Node = "rras", Kind = "ike", Text = "IKE_SA_INIT sent", AtUnixMs = 1 },
        new StartUdp { Host = "client", Destination = "10.0.10.4", Port = 5001, Packets = 100, Size = 1200, RatePps = 50 },
        new UdpSummary { Host = "client", Destination = "10.0.10.4", Port = 5001, Sent = 100 },
        new ListenUdp { Host = "vm", Port = 5001 },
        new QueryUdp { Host = "vm", Port = 5001 },
        new UdpCounts { Host = "vm", Port = 5001, Packets = 99, Distinct = 99, OutOfOrder = 2 },
        new InjectFault { Id = "f1", Fault = "nat-rebind", Node = "isp-router", Params = { ["address"] = "203.0.113.12" }, Origin = "live" },
        new FaultApplied { Id = "f1", Fault = "nat-rebind", Target = "isp-router", Ok = true, Detail = "2 mappings forgotten", AtUnixMs = 5 },
        new ListenTcp { Host = "vm", Port = 8080, RequestSize = 100, ResponseSize = 4000 },
        new TcpListening { Host = "vm", Port = 8080 },
        new StartTcp { Host = "client", Destination = "10.0.10.4", Port = 5001, Bytes = 1_000_000, LimitMs = 30_000 },
        new TcpSummary { Host = "client", Destination = "10.0.10.4", Port = 5001, Outcome = "completed", BytesAcknowledged = 1_000_000, Retransmissions = 3, Stalls = 1, LongestStallMs = 1000, Mss = 1310 },
        new QueryIkeActivity { Node = "azure-gw" },
        new IkeActivityLog { Node = "azure-gw", Recorded = true, Records = { new IkeActivityRecord { AtUnixMs = 9, Sent = true, Local = "52.172.171.0:500", Remote = "203.0.113.10:500", Exchange = 34, Response = true, InitiatorSpi = 1, ResponderSpi = 2, Notifies = { 14 } }, new IkeActivityRecord { AtUnixMs = 10, Connection = "home-rras", Text = "InitAnswered → Established (authenticated 192.168.29.52)" } } },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_message_must_survive_the_serializer(IMessage message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<NodesSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        Assert.Equal(message, back);
    }

    [Fact]
    public void Manifests_must_stay_what_they_are_on_the_wire()
    {
        Assert.Equal(
            ["fr", "sp", "pr", "ps", "qs", "ns", "ne", "su", "us", "lu", "qu", "uc", "if", "fa", "ltc", "tcl", "stc", "tcs", "qia", "ial"],
            NodesSerializer.Bindings.Select(b => b.Manifest));
        Assert.Equal(NodesSerializer.Bindings.Count, NodesSerializer.Bindings.Select(b => b.Manifest).Distinct().Count());
    }

    [Fact]
    public void An_unknown_manifest_must_be_a_serialization_exception()
    {
        var s = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(Frame));
        Assert.Throws<SerializationException>(() => s.FromBinary([1, 2, 3], "zz"));
        Assert.Throws<SerializationException>(() => s.FromBinary([0xff, 0xff, 0xff], "fr"));
    }

    [Fact]
    public void Verification_must_pass_with_the_bindings_and_fail_without_them()
    {
        NodesSerializer.VerifyBindings(_system);
        using var bare = ActorSystem.Create("bare");
        var e = Assert.Throws<InvalidOperationException>(() => NodesSerializer.VerifyBindings(bare));
        Assert.Contains("Frame would be serialized by", e.Message);
    }
}
