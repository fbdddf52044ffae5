using Nodes.Actors.Nodes;
using Nodes.Crypto;
using Nodes.Gateway;
using Nodes.Ike;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Actors.Tests;

/// <summary>
/// The attackers' packets against the real IKE engines, without actors: a man in the middle of RRAS's IKE_SA_INIT,
/// checked after every message, and the gateway-side adversary's forged and crafted messages as the Azure gateway's
/// IKE endpoint sees them.
/// </summary>
public class AdversaryTests
{
    private static readonly Ipv4Endpoint Rras = new(Ipv4Address.Parse("192.168.29.52"), 500);
    private static readonly Ipv4Endpoint Azure = new(Ipv4Address.Parse("52.172.171.0"), 500);
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static IkeSaConfig Config(string name, string key) => new()
    {
        Name = name,
        LocalId = IkeIdentity.Address(name == "rras" ? Rras.Address : Azure.Address),
        SharedKey = new SecretKey(System.Text.Encoding.ASCII.GetBytes(key)),
        IkeProposals = Ike.Proposals.DeviceDefaults.WindowsIke,
        EspProposals = Ike.Proposals.DeviceDefaults.WindowsEsp,
    };

    private static byte[] Datagram(Ipv4Endpoint from, Ipv4Endpoint to, byte[] ike)
    {
        var payload = to.Port == UdpPorts.IkeNatTraversal || from.Port == UdpPorts.IkeNatTraversal ? [0, 0, 0, 0, .. ike] : ike;
        var d = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(d, new Ipv4Template(from.Address, to.Address, 1, 64), from.Port, to.Port, payload, UdpChecksumMode.Compute);
        return d;
    }

    /// <summary>The IKE message in an adversary's datagram, and where it claims to come from.</summary>
    private static (byte[] Ike, Ipv4Endpoint From, Ipv4Endpoint To) Open(byte[] datagram)
    {
        Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _));
        Assert.True(UdpHeader.TryParse(payload, out var udp, out var body, out _));
        var ike = udp.SourcePort == UdpPorts.IkeNatTraversal ? body[4..].ToArray() : body.ToArray();
        return (ike, new Ipv4Endpoint(ip.Source, udp.SourcePort), new Ipv4Endpoint(ip.Destination, udp.DestinationPort));
    }

    [Fact]
    public void A_man_in_the_middle_without_the_key_must_never_get_the_initiator_established()
    {
        using var rras = IkeSa.CreateInitiator(Config("rras", "Nodes4LabSharedKey"), new IkeEnvironment(new SeededRandomSource(7, "rras")), Rras, Azure);
        using var mitm = PathAdversary.ManInTheMiddle(new SeededRandomSource(7, "mitm"), count: 1);
        var outputs = new List<IkeOutput>();
        var answered = 0;

        // IKE_SA_INIT { SAi1, KEi, Ni, N(NAT_D) } -->   (the adversary answers it before the real responder can)
        rras.Start(T0);
        for (var round = 0; round < 4; round++)
        {
            var sent = rras.TakeOutputs();
            outputs.AddRange(sent);
            // After every message: never established, no Child SA, nothing for held packets.
            Assert.NotEqual(IkeSaState.Established, rras.State);
            Assert.DoesNotContain(outputs, o => o is ChildSaUp or ChildSaOutboundActive or IkeStateChange { To: IkeSaState.Established });
            foreach (var s in sent.OfType<IkeSend>())
            {
                foreach (var answer in mitm.Observe(Datagram(s.From, s.To, s.Message)))
                {
                    answered++;
                    var (ike, from, _) = Open(answer);
                    Assert.Equal(s.To, from); // it speaks as the real responder
                    rras.Receive(ike, from, s.From, T0.AddMilliseconds(10 * round));
                }
            }
        }

        // <-- IKE_SA_INIT { SAr1, KEr, Nr }, then <-- IKE_AUTH { IDr, AUTH (guessed key), SAr2, TSi, TSr }
        Assert.Equal(2, answered);
        Assert.Equal(1, mitm.AuthAnswers);
        Assert.True(mitm.Done);
        Assert.Contains(outputs, o => o is IkeStateChange { To: IkeSaState.AuthSent });
        var failure = Assert.Single(outputs.OfType<IkeFailure>());
        Assert.Equal(NotifyType.AuthenticationFailed, failure.Notify);
        Assert.False(failure.ReportedByPeer);
        Assert.Equal(IkeSaState.Deleting, rras.State);
        Assert.Empty(rras.ChildSas);
    }

    [Fact]
    public void A_man_in_the_middle_must_let_requests_beyond_its_count_pass_unanswered()
    {
        using var mitm = PathAdversary.ManInTheMiddle(new SeededRandomSource(7, "mitm"), count: 0);
        using var rras = IkeSa.CreateInitiator(Config("rras", "k"), new IkeEnvironment(new SeededRandomSource(7, "rras")), Rras, Azure);
        rras.Start(T0);
        var init = rras.TakeOutputs().OfType<IkeSend>().Single();
        Assert.Empty(mitm.Observe(Datagram(init.From, init.To, init.Message)));
        Assert.Equal(0, mitm.Answers);
    }

    [Fact]
    public void A_forged_init_error_must_answer_with_the_notify_alone_and_only_once_per_count()
    {
        using var forger = PathAdversary.ForgedInitError(new SeededRandomSource(7, "forger"), NotifyType.InvalidSyntax, count: 1);
        using var rras = IkeSa.CreateInitiator(Config("rras", "k"), new IkeEnvironment(new SeededRandomSource(7, "rras")), Rras, Azure);
        rras.Start(T0);
        var init = rras.TakeOutputs().OfType<IkeSend>().Single();
        var answer = Assert.Single(forger.Observe(Datagram(init.From, init.To, init.Message)));
        Assert.True(IkeMessage.TryParse(Open(answer).Ike, out var m, out _));
        Assert.True(m!.Header.IsResponse);
        Assert.Equal(rras.InitiatorSpi, m.InitiatorSpi);
        Assert.Equal(0ul, m.ResponderSpi);
        Assert.Equal(NotifyType.InvalidSyntax, Assert.IsType<NotifyPayload>(Assert.Single(m.Payloads)).NotifyType);
        Assert.True(forger.Done);
    }

    /// <summary>Azure's IKE endpoint with one established SA, made by a real RRAS initiator over an in-memory wire.</summary>
    private static (IkeResponder Azure, IkeSa Sa, List<IkeSaOutput> Outputs, IkeSa Rras) Established()
    {
        var rras = IkeSa.CreateInitiator(Config("rras", "Nodes4LabSharedKey"), new IkeEnvironment(new SeededRandomSource(9, "rras")), Rras, Azure);
        var azure = new IkeResponder(new IkeEnvironment(new SeededRandomSource(9, "azure")), [new IkeConnection(Config("azure", "Nodes4LabSharedKey"), Rras.Address)]);
        var outputs = new List<IkeSaOutput>();
        rras.Start(T0);
        for (var round = 0; round < 10; round++)
        {
            foreach (var s in rras.TakeOutputs().OfType<IkeSend>()) azure.Receive(s.Message, s.From, s.To, T0);
            var back = azure.TakeOutputs();
            outputs.AddRange(back);
            foreach (var s in back.Select(o => o.Output).OfType<IkeSend>()) rras.Receive(s.Message, s.From, s.To, T0);
        }
        Assert.Equal(IkeSaState.Established, rras.State);
        return (azure, azure.Sas.Single(), outputs, rras);
    }

    private static List<IkeSaOutput> Deliver(IkeResponder azure, IEnumerable<byte[]> datagrams)
    {
        foreach (var d in datagrams)
        {
            var (ike, from, to) = Open(d);
            azure.Receive(ike, from, to, T0.AddSeconds(1));
        }
        return [.. azure.TakeOutputs()];
    }

    [Theory]
    [InlineData("invalid-ike-spi")]
    [InlineData("authentication-failed")]
    [InlineData("delete")]
    public void Forged_informationals_must_be_dropped_as_unprotected(string kind)
    {
        var (azure, sa, _, rras) = Established();
        using var _a = azure;
        using var _r = rras;
        var salvo = new Adversary(new SeededRandomSource(3, "adversary")).ForgedInformationals(azure.Sas, kind);
        var after = Deliver(azure, [Assert.Single(salvo.Datagrams)]);

        Assert.Equal(IkeSaState.Established, sa.State);
        var dropped = Assert.IsType<IkeDropped>(Assert.Single(after).Output);
        Assert.Equal(IkeDropReason.Unprotected, dropped.Reason);
    }

    [Theory]
    [InlineData("payload-length", IkeDropReason.Malformed)]
    [InlineData("ke-length", IkeDropReason.InvalidKeyExchange)]
    [InlineData("notify-spi", IkeDropReason.Malformed)]
    [InlineData("responder-spi", IkeDropReason.InitWithResponderSpi)]
    public void Crafted_ike_sa_inits_must_each_be_dropped_with_their_reason(string kind, IkeDropReason reason)
    {
        var (azure, sa, _, rras) = Established();
        using var _a = azure;
        using var _r = rras;
        var salvo = new Adversary(new SeededRandomSource(3, "adversary")).Crafted(Config("azure", "x"), azure.Sas, kind, Rras.Address, Azure.Address);
        var after = Deliver(azure, salvo.Datagrams);

        Assert.Equal(IkeSaState.Established, sa.State);
        Assert.Single(azure.Sas);
        Assert.Equal(reason, Assert.Single(after.Select(o => o.Output).OfType<IkeDropped>()).Reason);
        Assert.DoesNotContain(after, o => o.Sa is not null);
    }

    [Fact]
    public void A_misbehaving_peer_must_send_a_second_delete_for_the_same_child_sa()
    {
        var (azure, sa, _, rras) = Established();
        using var _a = azure;
        using var _r = rras;
        var old = rras.ChildSas.Single();
        Assert.NotNull(MisbehavingPeer.DuplicateDelete([rras], T0));
        var deletes = new List<uint>();
        for (var round = 0; round < 10; round++)
        {
            foreach (var s in rras.TakeOutputs().OfType<IkeSend>()) azure.Receive(s.Message, s.From, s.To, T0);
            foreach (var o in azure.TakeOutputs())
            {
                if (o.Output is IkeDropped { Reason: IkeDropReason.DeleteForUnknownSa }) deletes.Add(old.InboundSpi);
                if (o.Output is IkeSend s) rras.Receive(s.Message, s.From, s.To, T0);
            }
        }
        Assert.Single(deletes);
        Assert.Equal(IkeSaState.Established, sa.State);
        Assert.Equal(IkeSaState.Established, rras.State);
        Assert.NotEqual(old.InboundSpi, rras.ChildSas.Single().InboundSpi);
        Assert.Single(sa.ChildSas);
    }
}
