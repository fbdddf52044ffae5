using Akka.Actor;
using Google.Protobuf;
using Nodes.Actors.Lab;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Messages;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Tests;

/// <summary>
/// The seed lab's gateways against an attacker on the internet, on virtual time with every message serialized: a
/// spoofed IKE_SA_INIT for the established tunnel, cleartext aimed at the protected networks, IKE_SA_INIT for a
/// connection that does not respond, and large pings whose ESP has to be fragmented on the way.
/// </summary>
public class HostileGatewaySpec : VirtualLabSpec
{
    private static readonly Ipv4Address Attacker = Ipv4Address.Parse("198.51.100.66");
    private static readonly Ipv4Address AzurePublic = Ipv4Address.Parse("52.172.171.0");
    private static readonly Ipv4Address HomePublic = Ipv4Address.Parse("203.0.113.10");

    private LabActors StartLab(uint count, TopologySpec? topology = null)
    {
        var lab = Build(topology ?? Topology("azure-s2s-rras.yaml", "default-gateway"));
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = count, IntervalMs = 1000, Size = 32 }, CreateTestProbe().Ref);
        AdvanceUntil(() => Logged("client", "reply from 10.0.10.4"), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20), "tunnel up");
        return lab;
    }

    private int Replies()
    {
        lock (Events) return Events.Count(e => e.Node == "client" && e.Text.Contains("reply from 10.0.10.4", StringComparison.Ordinal));
    }

    private static void Inject(IActorRef node, string name, string iface, byte[] datagram) =>
        node.Tell(new Frame { Link = "attacker", Node = name, Interface = iface, Packet = ByteString.CopyFrom(datagram) }, ActorRefs.NoSender);

    /// <summary>An IKE_SA_INIT as a real initiator would send it (RRAS's proposals), from <paramref name="from"/> to the Azure gateway.</summary>
    private static byte[] IkeSaInit(Ipv4Address from)
    {
        var config = new IkeSaConfig
        {
            Name = "attacker",
            LocalId = IkeIdentity.Address(from),
            SharedKey = new SecretKey("not the key"u8.ToArray()),
            IkeProposals = Ike.Proposals.DeviceDefaults.WindowsIke,
            EspProposals = Ike.Proposals.DeviceDefaults.WindowsEsp,
        };
        using var sa = IkeSa.CreateInitiator(config, new IkeEnvironment(new SeededRandomSource(66, "attacker")), new Ipv4Endpoint(from, 500), new Ipv4Endpoint(AzurePublic, 500));
        sa.Start(DateTimeOffset.UnixEpoch);
        var ike = sa.TakeOutputs().OfType<IkeSend>().Single().Message;
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(ike.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from, AzurePublic, 4242, 64), 500, 500, ike, UdpChecksumMode.Compute);
        return datagram;
    }

    private static byte[] Echo(Ipv4Address from, Ipv4Address to)
    {
        var packet = new byte[Ipv4Header.MinLength + 8 + 32];
        var n = Ipv4PacketWriter.WriteIcmpEcho(packet, new Ipv4Template(from, to, 4343, 64), reply: false, 0x6666, 1, new byte[32]);
        return packet[..n];
    }

    private static long Dropped(NodeStatus s, string reason) => (long)(s.Drops.FirstOrDefault(d => d.Reason == reason)?.Count ?? 0);

    [Fact]
    public void A_spoofed_ike_sa_init_must_not_take_over_the_established_tunnel()
    {
        var lab = StartLab(count: 20);
        var gw = lab.Nodes["azure-gw"];
        var before = Status(gw).Tunnels.Single();
        Assert.Equal("Connected", before.State);

        // From an address that is no peer: refused outright. From the peer's own public address (spoofed): a half-open
        // SA the attacker can never authenticate, which must not become the tunnel's.
        Inject(gw, "azure-gw", "internet", IkeSaInit(Attacker));
        Inject(gw, "azure-gw", "internet", IkeSaInit(HomePublic));
        var replies = Replies();
        Advance(TimeSpan.FromSeconds(6), TimeSpan.FromMilliseconds(10));

        var after = Status(gw);
        var tunnel = after.Tunnels.Single();
        Assert.Equal("Connected", tunnel.State);
        Assert.Equal(before.InitiatorSpi, tunnel.InitiatorSpi);
        Assert.Equal(before.ResponderSpi, tunnel.ResponderSpi);
        Assert.Equal(before.ChildSas.Single().InboundSpi, tunnel.ChildSas.Single().InboundSpi);
        Assert.Equal(1, Dropped(after, "ike-no-connection"));
        // Azure → on-premises still flows: the replies keep coming.
        Assert.True(Replies() >= replies + 5, $"{Replies() - replies} replies after the spoofed IKE_SA_INIT");
    }

    [Fact]
    public void An_ike_sa_init_for_a_connection_that_only_initiates_must_be_dropped_without_losing_anything()
    {
        var text = File.ReadAllText(Path.Combine(Repo(), "topology", "azure-s2s-rras.yaml")).Replace("connection-mode: Default", "connection-mode: InitiatorOnly");
        var file = Path.Combine(Path.GetTempPath(), $"nodes-initiator-only-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, text);
        try
        {
            var loaded = TopologyLoader.Load(file);
            Assert.Empty(loaded.Diagnostics);
            Assert.True(loaded.Topology!.TrySelectScenario("default-gateway", out var s, out _));
            var lab = Build(loaded.Topology.ForScenario(s!));
            var gw = lab.Nodes["azure-gw"];
            Inject(gw, "azure-gw", "internet", IkeSaInit(HomePublic));
            Inject(gw, "azure-gw", "internet", IkeSaInit(Attacker));
            Advance(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(10));
            var status = Status(gw);
            // Counted, which a restarted actor would have forgotten.
            Assert.Equal(2, Dropped(status, "ike-no-connection"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Cleartext_toward_the_protected_networks_must_be_discarded_in_both_directions()
    {
        var lab = StartLab(count: 20);
        var gw = lab.Nodes["azure-gw"];
        var vmBefore = Status(lab.Nodes["vm"]).FramesIn;
        var childBefore = Status(gw).Tunnels.Single().ChildSas.Single().PacketsOut;

        // From the internet straight at the VNet, and claiming to be the VM toward on-premises.
        Inject(gw, "azure-gw", "internet", Echo(Attacker, Ipv4Address.Parse("10.0.10.4")));
        Inject(gw, "azure-gw", "internet", Echo(Ipv4Address.Parse("10.0.10.4"), Ipv4Address.Parse("192.168.29.55")));
        // On the home LAN, a packet claiming to come from the VNet (the SPD says that traffic arrives in the tunnel).
        var rras = lab.Nodes["rras"];
        var clientBefore = Status(lab.Nodes["client"]).FramesIn;
        Inject(rras, "rras", "lan", Echo(Ipv4Address.Parse("10.0.10.4"), Ipv4Address.Parse("192.168.29.55")));
        Advance(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(10));

        var after = Status(gw);
        Assert.Equal(2, Dropped(after, "spd-discard"));
        Assert.Equal(1, Dropped(Status(rras), "spd-discard"));
        // Nothing hostile reached a host (the pings of the lab may: a ping a second, none in these 200 ms is ours).
        Assert.True(Status(lab.Nodes["vm"]).FramesIn - vmBefore <= 1);
        Assert.True(Status(lab.Nodes["client"]).FramesIn - clientBefore <= 1);
        Assert.True(Status(gw).Tunnels.Single().ChildSas.Single().PacketsOut - childBefore <= 1);
    }

    [Fact]
    public void A_large_ping_without_df_must_cross_the_tunnel_in_fragments_both_ways()
    {
        var lab = StartLab(count: 1);
        var probe = CreateTestProbe();
        lab.Nodes["client"].Tell(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 4, IntervalMs = 1000, Size = 1460, DontFragment = false }, probe.Ref);
        var before = Replies();
        AdvanceUntil(() => Replies() >= before + 4, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10), "4 replies to 1,460-byte pings");
        Assert.Equal(0, Dropped(Status(lab.Nodes["isp-router"]), "malformed"));
    }
}
