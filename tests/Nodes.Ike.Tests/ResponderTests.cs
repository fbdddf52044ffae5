using Nodes.Crypto;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Ike.Tests;

public class ResponderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    /// <summary>An initiator's first IKE_SA_INIT, as bytes, from a fresh engine seeded with <paramref name="seed"/>.</summary>
    private static (IkeSa Sa, byte[] Init) NewInitiator(ulong seed, Ipv4Endpoint local)
    {
        var sa = IkeSa.CreateInitiator(IkePair.Rras(), new IkeEnvironment(new SeededRandomSource(seed, "peer")), local, IkePair.AzureGw);
        sa.Start(T0);
        return (sa, sa.TakeOutputs().OfType<IkeSend>().Single().Message);
    }

    private static IkeResponder Gateway(int? threshold, bool invalidIkeSpi = false) =>
        new(new IkeEnvironment(new SeededRandomSource(9, "gw")), [new IkeConnection(IkePair.Azure())],
            new IkeResponderOptions { CookieThreshold = threshold, ReportInvalidIkeSpi = invalidIkeSpi });

    private static IkeMessage Parse(byte[] b)
    {
        Assert.True(IkeMessage.TryParse(b, out var m, out _));
        return m!;
    }

    /// <summary>Gives the same bytes for every draw: every SA of a responder using it picks the same SPI.</summary>
    private sealed class SameBytesRandom : IRandomSource
    {
        public void Fill(Span<byte> destination) => destination.Fill(0x5a);
    }

    [Fact]
    public void A_responder_SPI_drawn_twice_must_leave_the_second_request_unanswered_and_the_first_SA_untouched()
    {
        using var gw = new IkeResponder(new IkeEnvironment(new SameBytesRandom()), [new IkeConnection(IkePair.Azure())], new IkeResponderOptions());
        var first = NewInitiator(201, new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.1"), 500));
        var second = NewInitiator(202, new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.2"), 500));
        gw.Receive(first.Init, first.Sa.Local, IkePair.AzureGw, T0);
        var answered = gw.TakeOutputs();
        Assert.Single(answered.Select(o => o.Output).OfType<IkeSend>(), s => s.To == first.Sa.Local);

        gw.Receive(second.Init, second.Sa.Local, IkePair.AzureGw, T0);
        var outputs = gw.TakeOutputs().Select(o => o.Output).ToList();
        // No answer names the first SA's SPI to the second initiator (its IKE_AUTH would reach the wrong SA).
        Assert.DoesNotContain(outputs.OfType<IkeSend>(), s => s.To == second.Sa.Local);
        Assert.Contains(outputs.OfType<IkeDropped>(), d => d.Reason == IkeDropReason.SpiCollision);
        var sa = Assert.Single(gw.Sas);
        Assert.Equal(first.Sa.InitiatorSpi, sa.InitiatorSpi);
        Assert.Equal(IkeSaState.InitAnswered, sa.State);
    }

    // IKE_SA_INIT { SA, KE, Ni, N(NAT_D) x2 }                -->
    //                                                        <--  { N(COOKIE) }            (SPIr = 0, no state kept)
    // IKE_SA_INIT { N(COOKIE), SA, KE, Ni, N(NAT_D) x2 }     -->
    //                                                        <--  { SA, KE, Nr, N(NAT_D) x2 }
    // IKE_AUTH ...                                           <->
    [Fact]
    public void Responder_under_load_must_challenge_with_a_cookie_and_the_initiator_must_retry_with_it_and_establish()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure(), gateway: new IkeResponderOptions { CookieThreshold = 0 });
        pair.Start();

        Assert.Equal(IkeSaState.Established, pair.Initiator.State);
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        Assert.Equal(6, pair.Wire.Count);
        var first = Parse(pair.Wire[0].Payload);
        var challenge = Parse(pair.Wire[1].Payload);
        var retry = Parse(pair.Wire[2].Payload);
        Assert.Equal(0UL, challenge.ResponderSpi);
        var cookie = Assert.IsType<NotifyPayload>(Assert.Single(challenge.Payloads));
        Assert.Equal(NotifyType.Cookie, cookie.NotifyType);
        Assert.Equal(IkeCookies.Length, cookie.Data.Length);
        // RFC 7296 section 2.6: the cookie first, every other payload unchanged.
        var echoed = Assert.IsType<NotifyPayload>(retry.Payloads[0]);
        Assert.Equal(NotifyType.Cookie, echoed.NotifyType);
        Assert.True(echoed.Data.Span.SequenceEqual(cookie.Data.Span));
        Assert.Equal(first.Payloads, retry.Payloads.Skip(1).ToList());
        Assert.Equal(first.InitiatorSpi, retry.InitiatorSpi);
        Assert.Equal(1, pair.Gateway.CookiesSent);
        Assert.Contains(pair.InitiatorOutputs, o => o is IkeEvent { Name: "cookie challenge" });
        Assert.Single(pair.Initiator.ChildSas);
    }

    [Fact]
    public void Responder_must_ask_for_cookies_only_once_the_half_open_threshold_is_reached()
    {
        using var gw = Gateway(threshold: 2);
        var peers = Enumerable.Range(0, 3).Select(i => NewInitiator((ulong)i + 100, new Ipv4Endpoint(Ipv4Address.Parse($"198.51.100.{i + 1}"), 500))).ToList();
        for (var i = 0; i < 2; i++) gw.Receive(peers[i].Init, peers[i].Sa.Local, IkePair.AzureGw, T0);
        Assert.Equal(2, gw.HalfOpen);
        Assert.Equal(0, gw.CookiesSent);

        // The third, without a cookie: a stateless challenge, no SA.
        gw.Receive(peers[2].Init, peers[2].Sa.Local, IkePair.AzureGw, T0);
        Assert.Equal(2, gw.Sas.Count);
        var challenge = gw.TakeOutputs().Where(o => o.Sa is null).Select(o => o.Output).OfType<IkeSend>().Single();
        Assert.Equal(peers[2].Sa.Local, challenge.To);
        var cookie = Parse(challenge.Message).Notifications(NotifyType.Cookie).Single();

        // A forged cookie (one bit changed) is challenged again and creates nothing.
        var forged = cookie.Data.Span.ToArray();
        forged[^1] ^= 1;
        gw.Receive(WithCookie(peers[2].Init, forged), peers[2].Sa.Local, IkePair.AzureGw, T0);
        Assert.Equal(2, gw.Sas.Count);
        Assert.Equal(2, gw.CookiesSent);
        // The right cookie from another address is refused too: the cookie covers IPi.
        gw.Receive(WithCookie(peers[2].Init, cookie.Data.Span.ToArray()), new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.99"), 500), IkePair.AzureGw, T0);
        Assert.Equal(2, gw.Sas.Count);
        Assert.Equal(3, gw.CookiesSent);

        // The initiator's own retry, from the outputs of its engine, is accepted.
        peers[2].Sa.Receive(challenge.Message, IkePair.AzureGw, peers[2].Sa.Local, T0);
        var retry = peers[2].Sa.TakeOutputs().OfType<IkeSend>().Single();
        gw.Receive(retry.Message, peers[2].Sa.Local, IkePair.AzureGw, T0 + TimeSpan.FromSeconds(1));
        Assert.Equal(3, gw.Sas.Count);
        Assert.Equal(3, gw.HalfOpen);

        // Half-open SAs expire; below the threshold again, no cookie is asked.
        gw.Tick(T0 + TimeSpan.FromMinutes(5));
        gw.TakeOutputs();
        Assert.Equal(0, gw.HalfOpen);
        var late = NewInitiator(200, new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.50"), 500));
        gw.Receive(late.Init, late.Sa.Local, IkePair.AzureGw, T0 + TimeSpan.FromMinutes(5));
        Assert.Equal(1, gw.HalfOpen);
        Assert.Equal(3, gw.CookiesSent);
        foreach (var p in peers) p.Sa.Dispose();
        late.Sa.Dispose();
    }

    private static byte[] WithCookie(byte[] init, byte[] cookie)
    {
        var m = Parse(init);
        var payloads = new List<IkePayload> { NotifyPayload.Cookie(cookie) };
        payloads.AddRange(m.Payloads);
        return (m with { Payloads = EquatableList<IkePayload>.Of(payloads) }).ToArray();
    }

    [Fact]
    public void Cookie_secret_must_rotate_and_accept_the_previous_version_only()
    {
        using var cookies = new IkeCookies(new SeededRandomSource(1, "c"), TimeSpan.FromSeconds(60));
        var ni = new byte[32];
        var ip = Ipv4Address.Parse("203.0.113.10");
        var c = cookies.Make(ni, ip, 42, T0);
        Assert.True(cookies.Verify(c, ni, ip, 42, T0 + TimeSpan.FromSeconds(59)));
        Assert.False(cookies.Verify(c, ni, ip, 43, T0));
        Assert.True(cookies.Verify(c, ni, ip, 42, T0 + TimeSpan.FromSeconds(61))); // previous secret
        Assert.Equal(2, cookies.SecretsGenerated);
        Assert.False(cookies.Verify(c, ni, ip, 42, T0 + TimeSpan.FromSeconds(121))); // two versions old
        var fresh = cookies.Make(ni, ip, 42, T0 + TimeSpan.FromSeconds(121));
        Assert.NotEqual(c[0], fresh[0]);
        Assert.False(c.AsSpan(1).SequenceEqual(fresh.AsSpan(1)));
    }

    [Fact]
    public void Queued_key_exchanges_must_wait_their_turn_absorb_copies_refuse_beyond_the_bound_and_not_hold_up_sas_under_way()
    {
        using var gw = new IkeResponder(new IkeEnvironment(new SeededRandomSource(9, "gw")), [new IkeConnection(IkePair.Azure())],
            new IkeResponderOptions { CookieThreshold = null, KeyExchangeQueue = 2 });
        var (a, initA) = NewInitiator(5, new Ipv4Endpoint(IkePair.NatPublic, 500));
        var (b, initB) = NewInitiator(6, new Ipv4Endpoint(IkePair.NatPublic, 501));
        var (c, initC) = NewInitiator(7, new Ipv4Endpoint(IkePair.NatPublic, 502));

        // A waits: no answer, no SA, nothing of the request kept but its place in the queue.
        gw.Receive(initA, a.Local, IkePair.AzureGw, T0, tag: "a");
        Assert.Empty(gw.TakeOutputs());
        Assert.Equal(1, gw.Queued);
        Assert.Equal(T0, gw.OldestQueuedAt);
        Assert.Empty(gw.Sas);
        // A's retransmission while it waits is dropped: the queued copy gets the answer.
        gw.Receive(initA, a.Local, IkePair.AzureGw, T0 + TimeSpan.FromSeconds(4));
        Assert.Equal(IkeDropReason.AlreadyQueued, Assert.IsType<IkeDropped>(Assert.Single(gw.TakeOutputs()).Output).Reason);
        gw.Receive(initB, b.Local, IkePair.AzureGw, T0, tag: "b");
        Assert.Empty(gw.TakeOutputs());
        // Beyond the bound: dropped, its initiator retransmits later.
        gw.Receive(initC, c.Local, IkePair.AzureGw, T0);
        Assert.Equal(IkeDropReason.Overloaded, Assert.IsType<IkeDropped>(Assert.Single(gw.TakeOutputs()).Output).Reason);
        Assert.Equal(2, gw.Queued);
        Assert.Equal(0, gw.KeyExchangesAnswered);

        // A's turn: its answer, its SA, with the tag it came with.
        var t1 = T0 + TimeSpan.FromSeconds(5);
        Assert.True(gw.RunQueued(t1, out var tag));
        Assert.Equal("a", tag);
        var answer = gw.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single();
        Assert.Equal(ExchangeType.IkeSaInit, answer.Exchange);
        Assert.Single(gw.Sas);
        Assert.Equal(1, gw.KeyExchangesAnswered);

        // A's IKE_AUTH is answered at once, with B still waiting for its key exchange.
        a.Receive(answer.Message, answer.From, answer.To, t1);
        var auth = a.TakeOutputs().OfType<IkeSend>().Single(s => s.Exchange == ExchangeType.IkeAuth);
        gw.Receive(auth.Message, auth.From, auth.To, t1);
        Assert.Contains(gw.TakeOutputs().Select(o => o.Output), o => o is IkeSend { Exchange: ExchangeType.IkeAuth, IsResponse: true });
        Assert.Equal(IkeSaState.Established, Assert.Single(gw.Sas).State);
        Assert.Equal(1, gw.Queued);

        Assert.True(gw.RunQueued(t1, out tag));
        Assert.Equal("b", tag);
        Assert.Equal(ExchangeType.IkeSaInit, gw.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single().Exchange);
        Assert.False(gw.RunQueued(t1, out _));
        Assert.Null(gw.OldestQueuedAt);
        Assert.Equal(2, gw.KeyExchangesAnswered);
        a.Dispose();
        b.Dispose();
        c.Dispose();
    }

    [Fact]
    public void A_spoofed_flood_must_not_fill_the_key_exchange_queue_past_the_cookie_threshold_nor_displace_a_queued_request()
    {
        using var gw = new IkeResponder(new IkeEnvironment(new SeededRandomSource(9, "gw")), [new IkeConnection(IkePair.Azure())],
            new IkeResponderOptions { CookieThreshold = 3, KeyExchangeQueue = 100 });
        var (a, initA) = NewInitiator(5, new Ipv4Endpoint(IkePair.NatPublic, 500));
        gw.Receive(initA, a.Local, IkePair.AzureGw, T0, tag: "a");
        Assert.Equal(1, gw.Queued);

        // A forged request naming A's SPIi from A's address (another key exchange, another nonce) does not take A's place.
        var (forger, forgedInit) = NewInitiator(77, a.Local);
        BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(a.InitiatorSpi)).CopyTo(forgedInit, 0);
        gw.Receive(forgedInit, a.Local, IkePair.AzureGw, T0, tag: "forged");
        Assert.Equal(IkeDropReason.AlreadyQueued, Assert.IsType<IkeDropped>(Assert.Single(gw.TakeOutputs()).Output).Reason);

        // A flood from spoofed addresses: queued requests count as half-open, so past the threshold each gets a
        // stateless cookie challenge that a sender without the return path never sees; nothing else is kept.
        var flooders = new List<IkeSa>();
        for (var i = 0; i < 200; i++)
        {
            var (f, init) = NewInitiator(1000 + (ulong)i, new Ipv4Endpoint(new Ipv4Address(0xC6336400u + (uint)i), 500));
            flooders.Add(f);
            gw.Receive(init, f.Local, IkePair.AzureGw, T0);
        }
        var outputs = gw.TakeOutputs().Select(o => o.Output).ToList();
        Assert.Equal(3, gw.Queued);
        Assert.Equal(198, gw.CookiesSent);
        Assert.Equal(198, outputs.OfType<IkeDropped>().Count(d => d.Reason == IkeDropReason.CookieRequired));
        Assert.Empty(gw.Sas);

        // A's own request is the one answered: its initiator takes the answer and goes on to IKE_AUTH.
        Assert.True(gw.RunQueued(T0, out var tag));
        Assert.Equal("a", tag);
        var answer = gw.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single();
        a.Receive(answer.Message, answer.From, answer.To, T0);
        Assert.Contains(a.TakeOutputs(), o => o is IkeSend { Exchange: ExchangeType.IkeAuth });
        Assert.Equal(IkeSaState.AuthSent, a.State);
        a.Dispose();
        forger.Dispose();
        foreach (var f in flooders) f.Dispose();
    }

    [Fact]
    public void Responder_must_answer_a_retransmitted_ike_sa_init_with_the_same_bytes_and_keep_one_sa()
    {
        using var gw = Gateway(threshold: null);
        var (peer, init) = NewInitiator(5, new Ipv4Endpoint(IkePair.NatPublic, 500));
        gw.Receive(init, peer.Local, IkePair.AzureGw, T0);
        var first = gw.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single();
        gw.Receive(init, peer.Local, IkePair.AzureGw, T0 + TimeSpan.FromSeconds(4));
        var again = gw.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single();
        Assert.Equal(first.Message, again.Message);
        Assert.True(again.IsRetransmission);
        Assert.Single(gw.Sas);
        peer.Dispose();
    }

    [Fact]
    public void Responder_must_drop_messages_for_unknown_spis_with_a_reason_and_optionally_report_invalid_ike_spi()
    {
        var message = new IkeMessage(0x1111, 0x2222, ExchangeType.Informational, IkeFlags.Initiator, 7, new IkePayload[] { NotifyPayload.Status(NotifyType.InitialContact) }).ToArray();
        var from = new Ipv4Endpoint(IkePair.NatPublic, 4500);
        var to = IkePair.AzureGw with { Port = 4500 };

        using (var quiet = Gateway(threshold: null))
        {
            quiet.Receive(message, from, to, T0);
            var outputs = quiet.TakeOutputs();
            var drop = Assert.IsType<IkeDropped>(Assert.Single(outputs).Output);
            Assert.Equal(IkeDropReason.UnknownSpi, drop.Reason);
            Assert.Equal("ike-unknown-spi", drop.Name);
            Assert.Contains("unknown IKE SA 0000000000001111_i 0000000000002222_r", drop.Detail);
        }

        using var loud = Gateway(threshold: null, invalidIkeSpi: true);
        loud.Receive(message, from, to, T0);
        var send = loud.TakeOutputs().Select(o => o.Output).OfType<IkeSend>().Single();
        Assert.Equal(from, send.To);
        var reply = Parse(send.Message);
        Assert.Equal((0x1111UL, 0x2222UL, 7u), (reply.InitiatorSpi, reply.ResponderSpi, reply.MessageId));
        Assert.Equal(IkeFlags.Response, reply.Flags);
        Assert.Equal(NotifyType.InvalidIkeSpi, Assert.IsType<NotifyPayload>(Assert.Single(reply.Payloads)).NotifyType);

        // A response for an unknown SA is never answered (RFC 7296 section 2.21.4).
        var response = new IkeMessage(0x1111, 0x2222, ExchangeType.Informational, IkeFlags.Response, 7, new IkePayload[] { }).ToArray();
        loud.Receive(response, from, to, T0);
        Assert.DoesNotContain(loud.TakeOutputs(), o => o.Output is IkeSend);
    }

    [Fact]
    public void Responder_must_pick_the_connection_bound_to_the_address_the_request_came_to()
    {
        // An active-active gateway: one connection per instance for the same peer, told apart by our own address.
        var first = IkePair.Azure() with { Name = "in0" };
        var second = IkePair.Azure() with { Name = "in1" };
        var peer = Ipv4Address.Parse("198.51.100.7");
        var ip1 = Ipv4Address.Parse("52.172.171.0");
        var ip2 = Ipv4Address.Parse("52.172.171.2");
        using var gw = new IkeResponder(new IkeEnvironment(new SeededRandomSource(3, "gw")),
            [new IkeConnection(first, peer, ip1), new IkeConnection(second, peer, ip2)]);
        Assert.Equal("in0", gw.ConfigFor(peer, ip1)!.Name);
        Assert.Equal("in1", gw.ConfigFor(peer, ip2)!.Name);
        Assert.Null(gw.ConfigFor(Ipv4Address.Parse("198.51.100.8"), ip2));
        var (initiator, init) = NewInitiator(8, new Ipv4Endpoint(peer, 500));
        gw.Receive(init, initiator.Local, new Ipv4Endpoint(ip2, 500), T0);
        Assert.Equal("in1", Assert.Single(gw.Sas).Config.Name);
        initiator.Dispose();
    }

    [Fact]
    public void Responder_must_pick_the_connection_of_the_peers_address_else_the_default()
    {
        var special = IkePair.Azure(psk: "other") with { Name = "special" };
        using var gw = new IkeResponder(new IkeEnvironment(new SeededRandomSource(3, "gw")),
            [new IkeConnection(IkePair.Azure()), new IkeConnection(special, Ipv4Address.Parse("198.51.100.7"))]);
        Assert.Equal("special", gw.ConfigFor(Ipv4Address.Parse("198.51.100.7"))!.Name);
        Assert.Equal("to-rras", gw.ConfigFor(Ipv4Address.Parse("198.51.100.8"))!.Name);

        using var strict = new IkeResponder(new IkeEnvironment(new SeededRandomSource(3, "gw")), [new IkeConnection(special, Ipv4Address.Parse("198.51.100.7"))]);
        var (peer, init) = NewInitiator(8, new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.8"), 500));
        strict.Receive(init, peer.Local, IkePair.AzureGw, T0);
        Assert.Empty(strict.Sas);
        Assert.Contains(strict.TakeOutputs(), o => o.Output is IkeDropped { Reason: IkeDropReason.NoConnection } e && e.Detail.Contains("no configured peer"));
        peer.Dispose();
    }

    // Two endpoints, each an IkeResponder: one initiates through it, the other answers; every message is routed by SPI.
    [Fact]
    public void Initiated_sas_must_be_routed_by_their_spi_through_the_same_table()
    {
        using var rras = new IkeResponder(new IkeEnvironment(new SeededRandomSource(1, "rras")), []);
        using var azure = new IkeResponder(new IkeEnvironment(new SeededRandomSource(1, "azure")), [new IkeConnection(IkePair.Azure())]);
        var now = T0;
        var sa = rras.Initiate(IkePair.Rras(), new Ipv4Endpoint(IkePair.NatPublic, 500), IkePair.AzureGw, now);
        for (var round = 0; round < 20; round++)
        {
            var moved = false;
            foreach (var o in rras.TakeOutputs().Select(o => o.Output).OfType<IkeSend>()) { azure.Receive(o.Message, o.From, o.To, now); moved = true; }
            foreach (var o in azure.TakeOutputs().Select(o => o.Output).OfType<IkeSend>()) { rras.Receive(o.Message, o.From, o.To, now); moved = true; }
            if (!moved) break;
        }
        Assert.Equal(IkeSaState.Established, sa.State);
        Assert.Equal(IkeSaState.Established, Assert.Single(azure.Sas).State);
    }
}
