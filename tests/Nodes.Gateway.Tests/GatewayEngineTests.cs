using Nodes.Crypto;
using Nodes.Ike;
using Nodes.TestKit;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Gateway.Tests;

/// <summary>The two gateway engines of the seed lab, without actors, one arrow at a time.</summary>
public sealed class GatewayEngineTests
{
    private static IkeSaState? State(GatewayEngine g) => g.Tunnels.Single().CurrentSa?.State;

    [Fact]
    public void A_demand_dial_ping_must_wait_for_an_authenticated_tunnel_and_then_reach_the_vm()
    {
        using var lab = new GatewayLab();
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        Assert.Equal(1, lab.Rras.Tunnels.Single().HeldCount);
        Assert.Equal(IkeSaState.InitSent, State(lab.Rras));

        // One frame at a time: the ping never leaves before both sides have authenticated each other.
        var arrows = 0;
        while (lab.Step())
        {
            arrows++;
            if (lab.ToVnet.Count > 0)
            {
                Assert.Equal(IkeSaState.Established, State(lab.Rras));
                Assert.Equal(IkeSaState.Established, State(lab.Azure));
            }
            foreach (var d in lab.OnInternet)
                Assert.False(Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Icmp, "a ping crossed the internet in clear");
        }
        // IKE_SA_INIT, the gateway's turn at its queued key exchange, the answer, IKE_AUTH, its answer, the ping in ESP.
        Assert.Equal(6, arrows);
        Assert.Equal(0, lab.Rras.Tunnels.Single().HeldCount);
        var delivered = Assert.Single(lab.ToVnet);
        Assert.True(Ipv4Header.TryParse(delivered, out var ip, out _));
        Assert.Equal(GatewayLab.Client, ip.Source);
        Assert.Equal(GatewayLab.Vm, ip.Destination);
        Assert.Equal("Connected", lab.Azure.ConnectionStatus(lab.Azure.Tunnels.Single()));

        // The VM's answer goes back through the tunnel to the client.
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 1, reply: true));
        lab.Run();
        var back = Assert.Single(lab.ToHomeLan);
        Assert.True(Ipv4Header.TryParse(back, out var r, out _));
        Assert.Equal(GatewayLab.Vm, r.Source);
        Assert.Equal(GatewayLab.Client, r.Destination);
        var child = Assert.Single(lab.Rras.ChildrenOf(lab.Rras.Tunnels.Single()));
        Assert.Equal(1, child.PacketsOut);
        Assert.Equal(1, child.PacketsIn);
        Assert.True(lab.Rras.Tunnels.Single().CurrentSa!.Encapsulated, "behind the NAT, ESP travels in UDP 4500");
    }

    [Fact]
    public void The_same_seed_must_put_the_same_bytes_on_the_wire()
    {
        static List<string> Wire()
        {
            using var lab = new GatewayLab(seed: 7);
            lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
            lab.Run(TimeSpan.FromSeconds(1));
            return lab.OnInternet.Select(Convert.ToHexString).ToList();
        }
        var first = Wire();
        Assert.True(first.Count >= 5);
        Assert.Equal(first, Wire());
    }

    [Fact]
    public void A_replayed_esp_packet_must_be_dropped_by_the_window_and_reach_nobody()
    {
        using var lab = Up();
        var before = lab.ToVnet.Count;
        var esp = lab.OnInternet.Last(IsEspToAzure);
        lab.AtAzureFromInternet(esp.ToArray());
        Assert.Equal(before, lab.ToVnet.Count);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-replay"));
    }

    [Fact]
    public void Esp_for_an_unknown_spi_or_that_does_not_verify_must_be_dropped_with_its_reason()
    {
        using var lab = Up();
        var esp = lab.OnInternet.Last(IsEspToAzure).ToArray();
        esp[Ipv4PacketWriter.UdpPayloadOffset] ^= 0xff; // another SPI
        lab.AtAzureFromInternet(esp);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-unknown-spi"));
        var tampered = lab.OnInternet.Last(IsEspToAzure).ToArray();
        // A sequence number the window has not seen, which the ICV does not cover as sent: it must not verify.
        tampered[Ipv4PacketWriter.UdpPayloadOffset + 4] = 0x7f;
        lab.AtAzureFromInternet(tampered);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-integrity"));
        Assert.Single(lab.ToVnet);
    }

    [Fact]
    public void Cleartext_from_the_internet_toward_the_vnet_must_be_discarded_by_policy()
    {
        using var lab = Up();
        lab.AtAzureFromInternet(GatewayLab.Echo(Ipv4Address.Parse("198.51.100.66"), GatewayLab.Vm, 9));
        lab.AtAzureFromInternet(GatewayLab.Echo(GatewayLab.HomePublic, GatewayLab.Vm, 10));
        Assert.Equal(2, lab.AzurePort.Dropped("spd-discard"));
        Assert.Single(lab.ToVnet);
    }

    // Found by the gateway-engine fuzz target (tests/Nodes.Fuzz/regressions/gateway-engine/vnet-source-ttl-0): cleartext
    // on the internet side with the VM's address as its source and TTL 0 made the gateway answer "time exceeded"
    // into the VNet; with a larger TTL it was routed back out to the internet.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    public void Cleartext_from_the_internet_claiming_a_vnet_source_must_be_discarded_and_answer_nobody(byte ttl)
    {
        using var lab = Up();
        var forged = GatewayLab.Echo(GatewayLab.Vm, Ipv4Address.Parse("192.143.29.55"), 3);
        forged[8] = ttl;
        forged[10] = forged[11] = 0;
        var sum = Nodes.Wire.InternetChecksum.Compute(forged.AsSpan(0, Ipv4Header.MinLength));
        (forged[10], forged[11]) = ((byte)(sum >> 8), (byte)sum);
        var internet = lab.OnInternet.Count;
        lab.AtAzureFromInternet(forged);
        lab.Run();
        Assert.Single(lab.ToVnet);
        Assert.Equal(internet, lab.OnInternet.Count);
        Assert.Equal(1, lab.AzurePort.Dropped("spd-discard"));
    }

    [Fact]
    public void Cleartext_claiming_the_vm_address_must_not_reach_the_client()
    {
        using var lab = Up();
        // A forged "reply from the VM", in clear, through the NAT's open mapping for the ping's ICMP id is not
        // possible (the NAT maps UDP 4500 only); sent straight at RRAS's LAN side from the internet it is discarded.
        lab.Rras.Receive(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 1, reply: true), "lan", "", lab.Time);
        Assert.Equal(1, lab.RrasPort.Dropped("spd-discard"));
        Assert.Empty(lab.ToHomeLan);
    }

    [Fact]
    public void A_spoofed_ike_sa_init_from_the_peer_address_must_not_take_over_the_tunnel()
    {
        using var lab = Up();
        var tunnel = lab.Azure.Tunnels.Single();
        var sa = tunnel.CurrentSa;
        var spoof = lab.OnInternet.First(d => IsIkeToAzure(d)).ToArray(); // the real IKE_SA_INIT, replayed
        lab.AtAzureFromInternet(spoof);
        lab.Run(TimeSpan.FromSeconds(2));
        Assert.Same(sa, tunnel.CurrentSa);
        Assert.Equal(IkeSaState.Established, sa!.State);
        lab.FromVnet(GatewayLab.Echo(GatewayLab.Vm, GatewayLab.Client, 2, reply: true));
        lab.Run();
        Assert.Single(lab.ToHomeLan);
    }

    [Fact]
    public void An_ike_sa_init_from_an_address_without_a_connection_must_be_dropped_and_keep_every_sa()
    {
        using var lab = Up();
        var spoof = lab.OnInternet.First(d => IsIkeToAzure(d)).ToArray();
        // The same request from another source address.
        var attacker = Ipv4Address.Parse("198.51.100.66");
        attacker.Write(spoof.AsSpan(12));
        RewriteChecksums(spoof);
        lab.AtAzureFromInternet(spoof);
        Assert.Equal(1, lab.AzurePort.Dropped("ike-no-connection"));
        Assert.Equal(IkeSaState.Established, State(lab.Azure));
    }

    [Fact]
    public void An_initiator_only_connection_must_drop_ike_sa_init_instead_of_answering()
    {
        using var lab = new GatewayLab(edit: t => t.Replace("connection-mode: Default", "connection-mode: InitiatorOnly"));
        // Azure dials RRAS itself (InitiatorOnly); a request RRAS started anyway is refused without harm.
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Step();
        Assert.True(lab.AzurePort.Dropped("ike-no-connection") >= 1);
    }

    [Fact]
    public void Fragments_addressed_to_the_gateway_must_be_reassembled_and_answered()
    {
        using var lab = new GatewayLab();
        var big = GatewayLab.Echo(GatewayLab.Client, GatewayLab.RrasLan, 3, data: 1432);
        Assert.True(Net.Fragmentation.Ipv4Fragmenter.TryFragment(big, 576, out var fragments));
        Assert.True(fragments.Count > 1);
        foreach (var f in fragments) lab.FromClient(f);
        var reply = Assert.Single(lab.ToHomeLan, d => Ipv4Header.TryParse(d, out var h, out _) && h.Destination == GatewayLab.Client && !h.IsFragment);
        Assert.Equal(big.Length, reply.Length);
    }

    [Theory]
    [InlineData(null, 1460)]
    [InlineData(1350, 1350)]
    public void An_mss_clamp_must_lower_the_syns_crossing_the_tunnel_in_both_directions(int? clamp, int expected)
    {
        using var lab = new GatewayLab(edit: clamp is null ? null : text => text.Replace("      public-address: 52.172.171.0\n",
            $"      public-address: 52.172.171.0\n      mss-clamp: {clamp}\n", StringComparison.Ordinal));
        Assert.Equal((ushort?)clamp, lab.Azure.Profile.MssClamp);
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run(TimeSpan.FromMilliseconds(100));
        lab.ToVnet.Clear();

        // The client's SYN leaves the Azure gateway's tunnel toward the VM; the VM's SYN,ACK enters it toward the client.
        lab.FromClient(Syn(GatewayLab.Client, GatewayLab.Vm, ack: false));
        lab.Run();
        AssertMss(Assert.Single(lab.ToVnet), expected);
        lab.FromVnet(Syn(GatewayLab.Vm, GatewayLab.Client, ack: true));
        lab.Run();
        AssertMss(Assert.Single(lab.ToHomeLan, d => Ipv4Header.TryParse(d, out var h, out _) && h.Protocol == IpProtocol.Tcp), expected);
    }

    [Fact]
    public void A_clamping_gateway_must_drop_a_forged_esp_syn_and_leave_a_syn_with_malformed_options_as_it_is()
    {
        using var lab = new GatewayLab(edit: text => text.Replace("      public-address: 52.172.171.0\n", "      public-address: 52.172.171.0\n      mss-clamp: 1350\n", StringComparison.Ordinal));
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run(TimeSpan.FromMilliseconds(100));
        lab.ToVnet.Clear();
        byte[]? sealedSyn = null;
        lab.Intercept = d => IsEspToAzure(d) && (sealedSyn ??= d) == d;
        lab.FromClient(Syn(GatewayLab.Client, GatewayLab.Vm, ack: false));
        lab.Run();
        lab.Intercept = null;
        Assert.NotNull(sealedSyn);

        // Without the key nobody can make the gateway rewrite, or deliver, a SYN: a changed ICV is dropped before the clamp.
        var forged = sealedSyn.ToArray();
        forged[^1] ^= 0x01;
        lab.AtAzureFromInternet(forged);
        Assert.Equal(1, lab.AzurePort.Dropped("esp-integrity"));
        Assert.Empty(lab.ToVnet);
        lab.AtAzureFromInternet(sealedSyn);
        AssertMss(Assert.Single(lab.ToVnet), 1350);

        // A SYN whose option list runs past its header is forwarded untouched, never read beyond its bytes.
        var odd = Syn(GatewayLab.Client, GatewayLab.Vm, ack: false);
        odd[Ipv4PacketWriter.TransportOffset + 20] = 30; // an unknown kind first ...
        odd[Ipv4PacketWriter.TransportOffset + 21] = 40; // ... whose length is past the header
        var sent = odd.ToArray();
        lab.ToVnet.Clear();
        lab.FromClient(odd);
        lab.Run();
        var delivered = Assert.Single(lab.ToVnet);
        Assert.Equal(sent[Ipv4PacketWriter.TransportOffset..], delivered[Ipv4PacketWriter.TransportOffset..]);
    }

    private static byte[] Syn(Ipv4Address from, Ipv4Address to, bool ack)
    {
        var tcp = new TcpHeader(49152, 5001, 1000, ack ? 2000u : 0, ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn, 64240, Options: new TcpOptions(MaximumSegmentSize: 1460, WindowScale: 8, SackPermitted: true));
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(tcp, 0)];
        Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(from, to, 7, 128), tcp, []);
        return datagram;
    }

    private static void AssertMss(byte[] datagram, int mss)
    {
        Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _, out var segment, out _));
        Assert.True(TcpHeader.VerifyChecksum(segment, ip.Source, ip.Destination), "the clamp must leave a valid TCP checksum");
        Assert.True(TcpHeader.TryParse(segment, out var tcp, out _, out _));
        Assert.Equal((ushort)mss, tcp.Options.MaximumSegmentSize);
    }

    private static GatewayLab Up()
    {
        var lab = new GatewayLab();
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run(TimeSpan.FromMilliseconds(100));
        Assert.Single(lab.ToVnet);
        return lab;
    }

    private static bool IsEspToAzure(byte[] d) =>
        Ipv4Header.TryParse(d, out var h, out _) && h.Destination == GatewayLab.AzurePublic && d.Length > 28 && d[22] == 0x11 && d[23] == 0x94
        && (d[28] | d[29] | d[30] | d[31]) != 0;

    private static bool IsIkeToAzure(byte[] d) =>
        Ipv4Header.TryParse(d, out var h, out _) && h.Destination == GatewayLab.AzurePublic && d.Length > 28 && d[22] == 0x01 && d[23] == 0xf4;

    private static void RewriteChecksums(byte[] datagram)
    {
        datagram[10] = datagram[11] = 0;
        var sum = Wire.InternetChecksum.Compute(datagram.AsSpan(0, 20));
        datagram[10] = (byte)(sum >> 8);
        datagram[11] = (byte)sum;
        datagram[26] = datagram[27] = 0; // UDP checksum 0: not computed (RFC 768)
    }
}

/// <summary>A man in the middle of IKE_SA_INIT who does not have the shared key, against the engines one arrow at a time.</summary>
public sealed class ManInTheMiddleTests
{
    [Fact]
    public void An_answer_from_someone_without_the_shared_key_must_never_get_the_held_ping()
    {
        using var lab = new GatewayLab();
        var azure = lab.Azure.Profile.Tunnels.Single().Responder;
        // The attacker answers as the Azure gateway would, with its own key exchange and nonce, but a guessed key.
        using var attacker = new IkeResponder(new IkeEnvironment(new SeededRandomSource(66, "mitm")),
            [new IkeConnection(azure with { SharedKey = new SecretKey("a guess"u8) }, GatewayLab.HomePublic)]);
        lab.Intercept = datagram =>
        {
            Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _, out var udpAndAbove, out _));
            var port = (ushort)(udpAndAbove[2] << 8 | udpAndAbove[3]);
            var ike = udpAndAbove[8..].ToArray();
            if (port == 4500)
            {
                if (ike.Length < 4 || ike[0] != 0 || ike[1] != 0 || ike[2] != 0 || ike[3] != 0) return true; // ESP: the attacker has no keys for it
                ike = ike[4..];
            }
            attacker.Receive(ike, new Ipv4Endpoint(ip.Source, (ushort)(udpAndAbove[0] << 8 | udpAndAbove[1])), new Ipv4Endpoint(ip.Destination, port), lab.Now);
            foreach (var o in attacker.TakeOutputs().Select(x => x.Output).OfType<IkeSend>())
            {
                var payload = o.NeedsNonEspMarker ? [0, 0, 0, 0, .. o.Message] : o.Message;
                var answer = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
                Ipv4PacketWriter.WriteUdp(answer, new Ipv4Template(o.From.Address, o.To.Address, 1, 64), o.From.Port, o.To.Port, payload, UdpChecksumMode.Compute);
                lab.AtRrasFromInternet(answer);
            }
            return true; // the real gateway never hears of it
        };
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        var tunnel = lab.Rras.Tunnels.Single();
        while (lab.Step())
        {
            // After every arrow: never Established, nothing installed, the ping still held or dropped, never sent.
            Assert.NotEqual(IkeSaState.Established, tunnel.CurrentSa?.State);
            Assert.Empty(lab.RrasPort.Installed);
            Assert.DoesNotContain(lab.OnInternet, d => Ipv4Header.TryParse(d, out var h, out _) && h.Source == GatewayLab.HomePublic && d.Length > 32
                && d[22] == 0x11 && d[23] == 0x94 && (d[28] | d[29] | d[30] | d[31]) != 0);
        }
        Assert.Contains(tunnel.Failures, f => f.Contains("AUTHENTICATION_FAILED"));
        Assert.Empty(lab.ToVnet);
    }
}
