using Nodes.Actors.Lab;
using Nodes.Messages;

namespace Nodes.Actors.Tests;

/// <summary>Faults as messages on virtual time, every message serialized: what a node answers and what follows.</summary>
public class FaultSpec : VirtualLabSpec
{
    private LabActors StartLab(string scenario, uint count)
    {
        var lab = Build(Topology("azure-s2s-rras.yaml", scenario));
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = count, IntervalMs = 1000, Size = 32 }, CreateTestProbe().Ref);
        AdvanceUntil(() => Logged("client", "reply from 10.0.10.4"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "tunnel up");
        return lab;
    }

    [Fact]
    public void A_nat_rebind_must_be_answered_by_the_nat_router_and_followed_by_the_azure_gateway()
    {
        var lab = StartLab("nat-rebind", 10);
        var before = Status(lab.Nodes["azure-gw"]).Tunnels.Single();
        var probe = CreateTestProbe();
        lab.Nodes["isp-router"].Tell(new InjectFault { Id = "f1", Fault = "nat-rebind", Node = "isp-router", Origin = "test" }, probe.Ref);
        var applied = probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5));
        Assert.True(applied.Ok, applied.Detail);
        Assert.Equal("isp-router", applied.Target);
        Assert.Contains("mapping(s) forgotten", applied.Detail, StringComparison.Ordinal);
        Advance(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
        var after = Status(lab.Nodes["azure-gw"]).Tunnels.Single();
        Assert.Equal(before.InitiatorSpi, after.InitiatorSpi);
        Assert.Equal(before.ChildSas.Single().InboundSpi, after.ChildSas.Single().InboundSpi);
        Assert.NotEqual(before.RemoteEndpoint, after.RemoteEndpoint);
        Assert.True(Logged("azure-gw", "peer endpoint changed"));
    }

    [Fact]
    public void A_fault_with_a_bad_parameter_or_for_the_wrong_node_must_be_refused_and_change_nothing()
    {
        var lab = StartLab("default-gateway", 2);
        var probe = CreateTestProbe();
        lab.Nodes["isp-router"].Tell(new InjectFault { Id = "f1", Fault = "nat-expire", Params = { ["udp-timeout"] = "soon" } }, probe.Ref);
        var bad = probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5));
        Assert.False(bad.Ok);
        Assert.Contains("'soon' is not a duration", bad.Detail, StringComparison.Ordinal);
        lab.Nodes["vm"].Tell(new InjectFault { Id = "f2", Fault = "force-rekey" }, probe.Ref);
        var wrong = probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5));
        Assert.False(wrong.Ok);
        Assert.Contains("a host node cannot take 'force-rekey'", wrong.Detail, StringComparison.Ordinal);
        lab.Nodes["rras"].Tell(new InjectFault { Id = "f3", Fault = "no-such-fault" }, probe.Ref);
        Assert.Contains("unknown fault 'no-such-fault'", probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5)).Detail, StringComparison.Ordinal);
        Assert.Equal("Connected", Status(lab.Nodes["azure-gw"]).Tunnels.Single().State);
    }

    [Fact]
    public void A_crashed_node_must_drop_everything_and_a_restart_must_bring_it_back_without_its_state_but_with_its_counters()
    {
        var lab = StartLab("default-gateway", 30);
        var probe = CreateTestProbe();
        var rrasBefore = Status(lab.Nodes["rras"]);
        lab.Nodes["rras"].Tell(new InjectFault { Id = "c", Fault = "node-crash" }, probe.Ref);
        Assert.True(probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5)).Ok);
        Advance(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(10));
        var crashed = Status(lab.Nodes["rras"]);
        Assert.True(crashed.Drops.Single(d => d.Reason == "node-down").Count >= 2);
        // Anything but a restart is refused while it is down.
        lab.Nodes["rras"].Tell(new InjectFault { Id = "k", Fault = "force-rekey" }, probe.Ref);
        Assert.Contains("is down", probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5)).Detail, StringComparison.Ordinal);
        lab.Nodes["rras"].Tell(new InjectFault { Id = "r", Fault = "node-restart" }, probe.Ref);
        Assert.True(probe.ExpectMsg<FaultApplied>(TimeSpan.FromSeconds(5)).Ok);
        Advance(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(10));
        var restarted = Status(lab.Nodes["rras"]);
        // Counters carry over the restart; the tunnel is gone until the next ping dials it again.
        Assert.True(restarted.FramesIn >= rrasBefore.FramesIn);
        Assert.Contains(restarted.Drops, d => d.Reason == "node-down");
        AdvanceUntil(() => Status(lab.Nodes["rras"]).Tunnels.Single().State == "Connected", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30), "RRAS dials again");
        Assert.NotEqual(rrasBefore.Tunnels.Single().InitiatorSpi, Status(lab.Nodes["rras"]).Tunnels.Single().InitiatorSpi);
    }

    [Fact]
    public void An_unauthenticated_packet_from_a_new_endpoint_must_move_nothing()
    {
        var lab = StartLab("nat-rebind", 10);
        var before = Status(lab.Nodes["azure-gw"]).Tunnels.Single();
        var spi = before.ChildSas.Single().InboundSpi;
        // ESP in UDP from a port the gateway has never seen: the right SPI, a sequence number ahead, garbage for the rest.
        var esp = new byte[8 + 16 + 32 + 12]; // header, IV, two AES blocks, a 96-bit ICV (the seed lab's AES-256-CBC/HMAC-SHA1-96)
        esp[0] = (byte)(spi >> 24); esp[1] = (byte)(spi >> 16); esp[2] = (byte)(spi >> 8); esp[3] = (byte)spi;
        esp[7] = 200;
        var datagram = new byte[Wire.Ip.Ipv4PacketWriter.UdpDatagramLength(esp.Length)];
        Wire.Ip.Ipv4PacketWriter.WriteUdp(datagram, new Wire.Ip.Ipv4Template(Wire.Ip.Ipv4Address.Parse("203.0.113.10"), Wire.Ip.Ipv4Address.Parse("52.172.171.0"), 7, 64),
            40000, 4500, esp, Wire.Ip.UdpChecksumMode.Zero);
        lab.Nodes["azure-gw"].Tell(new Frame { Link = "spoof", Node = "azure-gw", Interface = "internet", Packet = Google.Protobuf.ByteString.CopyFrom(datagram) }, Akka.Actor.ActorRefs.NoSender);
        Advance(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(10));
        var after = Status(lab.Nodes["azure-gw"]);
        Assert.Equal(before.RemoteEndpoint, after.Tunnels.Single().RemoteEndpoint);
        Assert.True(after.Drops.Any(d => d.Reason == "esp-integrity"), string.Join(", ", after.Drops.Select(d => $"{d.Reason}={d.Count}")));
        Assert.False(Logged("azure-gw", "peer endpoint changed"));
    }
}
