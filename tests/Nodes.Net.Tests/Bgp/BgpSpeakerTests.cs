using System.Collections.Immutable;
using Nodes.Net.Bgp;
using Nodes.TestKit;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Tests.Bgp;

public class BgpSpeakerTests
{
    private static readonly Ipv4Prefix Home = Ipv4Prefix.Parse("192.168.29.0/24");
    private static readonly Ipv4Prefix Vnet = Ipv4Prefix.Parse("10.0.0.0/16");

    private static BgpPair Established(Func<BgpSpeakerOptions, BgpSpeakerOptions>? azure = null, Func<BgpSpeakerOptions, BgpSpeakerOptions>? rras = null)
    {
        var pair = new BgpPair(azure, rras);
        pair.Start();
        pair.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
        Assert.Equal(BgpState.Established, pair.Rras.Peers(pair.Now).Single().State);
        return pair;
    }

    [Fact]
    public void Two_speakers_that_both_connect_settle_on_one_session_and_learn_each_others_networks()
    {
        var pair = Established();
        var learned = Assert.Single(pair.Azure.BestRoutes.Values);
        Assert.Equal(Home, learned.Prefix);
        Assert.Equal("65010", learned.Attributes.AsPathText);
        Assert.Equal(BgpPair.RrasAddress, learned.Attributes.NextHop);
        Assert.Equal(BgpOrigin.Igp, learned.Attributes.Origin);
        var other = Assert.Single(pair.Rras.BestRoutes.Values);
        Assert.Equal(Vnet, other.Prefix);
        Assert.Equal("65515", other.Attributes.AsPathText);
        // Both opened a connection at once (section 6.8): one survived, neither session flapped.
        Assert.All(pair.Speakers.SelectMany(s => s.Peers(pair.Now)), p => Assert.Equal(0, p.Flaps));
        Assert.Equal(1, pair.Azure.Peers(pair.Now).Single().RoutesReceived);
        Assert.Equal(1, pair.Azure.Peers(pair.Now).Single().RoutesAdvertised);
        // The speaker with the higher identifier (192.168.29.52 > 10.0.255.30) kept the connection it opened.
        Assert.Contains(pair.Ports[0].Reports, r => r.Contains("Established"));
    }

    [Fact]
    public void A_withdrawn_network_leaves_the_neighbours_table_and_comes_back_when_announced_again()
    {
        var pair = Established();
        var changes = pair.Ports[0].RouteChanges;
        pair.Rras.SetNetworks([], pair.Now);
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Empty(pair.Azure.BestRoutes);
        Assert.True(pair.Ports[0].RouteChanges > changes);
        pair.Rras.SetNetworks([Home, Ipv4Prefix.Parse("172.16.0.0/12")], pair.Now);
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal([Ipv4Prefix.Parse("172.16.0.0/12"), Home], pair.Azure.BestRoutes.Keys.OrderBy(p => p.Network));
    }

    [Fact]
    public void A_silent_neighbour_is_given_up_after_the_hold_time_and_the_session_returns_when_the_path_heals()
    {
        var pair = Established();
        pair.Pass = (_, _) => false;
        // The last message came at the start (established within the first second): keepalives due every 30 s are
        // lost, and the hold time (90 s) runs out just after 90 s.
        pair.RunUntil(TimeSpan.FromSeconds(89));
        Assert.NotEmpty(pair.Azure.BestRoutes);
        pair.RunUntil(TimeSpan.FromSeconds(92));
        Assert.Empty(pair.Azure.BestRoutes);
        Assert.Empty(pair.Rras.BestRoutes);
        Assert.Contains(pair.Ports[0].Reports, r => r.Contains("Hold Timer Expired"));
        Assert.Equal(1, pair.Azure.Peers(pair.Now).Single().Flaps);
        pair.Pass = (_, _) => true;
        pair.RunFor(TimeSpan.FromSeconds(150));
        Assert.Equal(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
        Assert.Single(pair.Azure.BestRoutes);
    }

    [Fact]
    public void A_passive_speaker_never_opens_a_connection_and_the_neighbour_brings_the_session_up()
    {
        var pair = Established(azure: o => o with { Peers = [o.Peers[0] with { Passive = true }] });
        Assert.DoesNotContain(pair.Ports[0].Sent, d => Tcp(d).Has(TcpFlags.Syn) && !Tcp(d).Has(TcpFlags.Ack));
        Assert.Single(pair.Azure.BestRoutes);
    }

    [Fact]
    public void Hold_time_is_the_smaller_of_the_two_offers_and_keepalives_keep_a_quiet_session_up()
    {
        var pair = Established(rras: o => o with { Peers = [o.Peers[0] with { HoldTime = TimeSpan.FromSeconds(9) }] });
        Assert.Equal(TimeSpan.FromSeconds(9), pair.Azure.Peers(pair.Now).Single().NegotiatedHoldTime);
        pair.RunFor(TimeSpan.FromSeconds(60));
        var status = pair.Azure.Peers(pair.Now).Single();
        Assert.Equal(BgpState.Established, status.State);
        Assert.Equal(0, status.Flaps);
        Assert.True(status.MessagesReceived >= 60 / 3, $"{status.MessagesReceived} messages");
    }

    // ------------------------------------------------------------------------------------------------------
    // A hostile neighbour: bytes it chooses on a TCP connection from the neighbour's address.

    private static BgpPair Hostile(Func<BgpSpeakerOptions, BgpSpeakerOptions>? azure = null)
    {
        var pair = new BgpPair(azure: o => (azure?.Invoke(o) ?? o) with { Peers = [(azure?.Invoke(o) ?? o).Peers[0] with { Passive = true }] }, rawNeighbour: true);
        pair.Start();
        pair.OpenRaw();
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(Nodes.Net.Tcp.TcpState.Established, pair.Raw!.State);
        return pair;
    }

    private static byte[] Open(uint asn = 65010) => BgpCodec.Write(BgpOpen.For(asn, 90, BgpPair.RrasAddress));

    private static byte[] Announce(Ipv4Prefix prefix, params uint[] path) => BgpCodec.WriteUpdates([], new BgpPathAttributes
    {
        Origin = BgpOrigin.Igp,
        AsPath = [new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [.. path])],
        NextHop = BgpPair.RrasAddress,
    }, [prefix], fourOctetAs: true).Single();

    private static BgpPair HostileEstablished(Func<BgpSpeakerOptions, BgpSpeakerOptions>? azure = null)
    {
        var pair = Hostile(azure);
        pair.WriteRaw([.. Open(), .. BgpCodec.Keepalive()]);
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
        return pair;
    }

    private static BgpError Notification(BgpPair pair) => Assert.Single(pair.RawMessages().OfType<BgpNotification>()).Error;

    [Fact]
    public void An_open_naming_another_AS_is_refused_with_bad_peer_AS_and_nothing_after_it_is_believed()
    {
        var pair = Hostile();
        pair.WriteRaw([.. Open(65011), .. BgpCodec.Keepalive(), .. Announce(Home, 65011)]);
        pair.RunFor(TimeSpan.FromSeconds(2));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.OpenMessage, BgpError.BadPeerAs), (error.Code, error.Subcode));
        Assert.Empty(pair.Azure.BestRoutes);
        Assert.NotEqual(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
        Assert.Contains(pair.Ports[0].Drops, d => d.Reason == "bgp-open-bad-peer-as");
    }

    [Fact]
    public void An_update_before_the_session_is_established_is_a_state_machine_error_and_is_not_learned()
    {
        var pair = Hostile();
        pair.WriteRaw([.. Open(), .. Announce(Home, 65010)]);
        pair.RunFor(TimeSpan.FromSeconds(2));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.FiniteStateMachine, (byte)2), (error.Code, error.Subcode)); // RFC 6608: in OpenConfirm
        Assert.Empty(pair.Azure.BestRoutes);
    }

    [Fact]
    public void A_malformed_update_ends_the_session_and_every_route_learned_on_it_goes()
    {
        var pair = HostileEstablished();
        pair.WriteRaw(Announce(Home, 65010));
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Single(pair.Azure.BestRoutes);
        var bad = Announce(Ipv4Prefix.Parse("172.16.0.0/12"), 65010);
        bad[BgpCodec.HeaderLength + 4 + 2] = 2; // ORIGIN's length octet: 2 instead of 1
        pair.WriteRaw(bad);
        pair.RunFor(TimeSpan.FromSeconds(1));
        var error = Notification(pair);
        Assert.Equal(BgpErrorCode.UpdateMessage, error.Code);
        Assert.Empty(pair.Azure.BestRoutes);
        Assert.Equal(1, pair.Azure.Peers(pair.Now).Single().Flaps);
    }

    [Fact]
    public void A_path_that_does_not_start_with_the_neighbours_AS_is_a_malformed_AS_path()
    {
        var pair = HostileEstablished();
        pair.WriteRaw(Announce(Home, 64999, 65010));
        pair.RunFor(TimeSpan.FromSeconds(1));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.UpdateMessage, BgpError.MalformedAsPath), (error.Code, error.Subcode));
        Assert.Empty(pair.Azure.BestRoutes);
    }

    [Fact]
    public void A_route_whose_path_holds_our_own_AS_is_a_loop_and_is_not_accepted()
    {
        var pair = HostileEstablished();
        pair.WriteRaw([.. Announce(Home, 65010, 65515), .. Announce(Ipv4Prefix.Parse("172.16.0.0/12"), 65010)]);
        pair.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal([Ipv4Prefix.Parse("172.16.0.0/12")], pair.Azure.BestRoutes.Keys);
        Assert.Contains(pair.Ports[0].Drops, d => d.Reason == "bgp-route-refused" && d.Detail!.Contains("loop"));
        Assert.Equal(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
    }

    [Fact]
    public void More_prefixes_than_accepted_end_the_session_with_cease_maximum_prefixes()
    {
        var pair = HostileEstablished(o => o with { Peers = [o.Peers[0] with { MaxPrefixes = 3 }] });
        var prefixes = Enumerable.Range(0, 4).Select(i => new Ipv4Prefix(Ipv4Address.FromOctets(172, 16, (byte)i, 0), 24)).ToList();
        var update = BgpCodec.WriteUpdates([], new BgpPathAttributes
        {
            Origin = BgpOrigin.Igp,
            AsPath = [new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [65010])],
            NextHop = BgpPair.RrasAddress,
        }, prefixes, fourOctetAs: true).Single();
        pair.WriteRaw(update);
        pair.RunFor(TimeSpan.FromSeconds(1));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.Cease, BgpError.MaximumPrefixesReached), (error.Code, error.Subcode));
        Assert.Empty(pair.Azure.BestRoutes);
    }

    [Fact]
    public void A_neighbour_without_its_own_limit_is_held_to_the_speakers_prefix_limit()
    {
        var pair = HostileEstablished(o => o with { PrefixLimit = 3 });
        var prefixes = Enumerable.Range(0, 4).Select(i => new Ipv4Prefix(Ipv4Address.FromOctets(172, 16, (byte)i, 0), 24)).ToList();
        pair.WriteRaw(BgpCodec.WriteUpdates([], new BgpPathAttributes
        {
            Origin = BgpOrigin.Igp,
            AsPath = [new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [65010])],
            NextHop = BgpPair.RrasAddress,
        }, prefixes, fourOctetAs: true).Single());
        pair.RunFor(TimeSpan.FromSeconds(1));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.Cease, BgpError.OutOfResources), (error.Code, error.Subcode));
        Assert.Empty(pair.Azure.BestRoutes);
    }

    [Fact]
    public void A_neighbour_that_stops_reading_ends_its_session_instead_of_making_the_speaker_queue_without_bound()
    {
        var pair = HostileEstablished(o => o with { MaxQueuedBytes = 64 * 1024 });
        pair.RawReads = false;
        var many = Enumerable.Range(0, 2000).Select(i => new Ipv4Prefix(new Ipv4Address(0x0A000000u + ((uint)i << 8)), 24)).ToList();
        for (var i = 0; i < 40 && pair.Azure.Peers(pair.Now).Single().State == BgpState.Established; i++)
        {
            pair.Azure.SetNetworks(i % 2 == 0 ? many : [], pair.Now);
            pair.RunFor(TimeSpan.FromMilliseconds(200));
        }
        Assert.NotEqual(BgpState.Established, pair.Azure.Peers(pair.Now).Single().State);
        Assert.Contains(pair.Ports[0].Drops, d => d.Reason == "bgp-cease-out-of-resources");
    }

    [Fact]
    public void Bytes_without_the_marker_are_connection_not_synchronized()
    {
        var pair = Hostile();
        var garbage = Open();
        garbage[3] = 0;
        pair.WriteRaw(garbage);
        pair.RunFor(TimeSpan.FromSeconds(1));
        var error = Notification(pair);
        Assert.Equal((BgpErrorCode.MessageHeader, BgpError.ConnectionNotSynchronized), (error.Code, error.Subcode));
        Assert.Contains(pair.Ports[0].Drops, d => d.Reason == "bgp-header-not-synchronized");
    }

    [Fact]
    public void A_syn_from_an_address_that_is_not_a_neighbour_gets_a_reset_and_leaves_no_connection()
    {
        var pair = new BgpPair(azure: o => o with { Peers = [o.Peers[0] with { Passive = true }] }, rawNeighbour: true);
        pair.Start();
        var stranger = new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.66"), 40000);
        var syn = pair.Datagram(stranger, new Ipv4Endpoint(BgpPair.AzureAddress, BgpSpeaker.Port), new TcpHeader(40000, BgpSpeaker.Port, 7, 0, TcpFlags.Syn, 65535), []);
        pair.Deliver(0, syn);
        var reset = Tcp(Assert.Single(pair.Ports[0].Sent));
        Assert.True(reset.Has(TcpFlags.Rst | TcpFlags.Ack));
        Assert.Equal(8u, reset.AcknowledgmentNumber);
        Assert.Contains(pair.Ports[0].Drops, d => d.Reason == "bgp-no-peer");
        Assert.Null(pair.Azure.NextDeadline);
    }

    [Fact]
    public void Tshark_decodes_every_message_of_a_session_without_a_malformed_packet_or_an_expert_error()
    {
        var tshark = Tshark.Require();
        var pair = Established();
        pair.Rras.SetNetworks([Home, Ipv4Prefix.Parse("172.16.0.0/12")], pair.Now);
        pair.RunFor(TimeSpan.FromSeconds(1));
        pair.Rras.SetNetworks([Home], pair.Now);
        pair.RunFor(TimeSpan.FromSeconds(40));
        pair.Rras.Stop(pair.Now);
        pair.RunFor(TimeSpan.FromSeconds(3));
        var file = Path.Combine(Path.GetTempPath(), $"nodes-bgp-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(file, pair.Pcap());
            var rows = tshark.Fields(file, null, "bgp", "bgp.type", "bgp.update.nlri", "bgp.withdrawn_prefix", "bgp.notify.major_error", "_ws.malformed", "_ws.expert.severity");
            var types = rows.SelectMany(r => r[0].Split('|')).ToList();
            Assert.Contains("1", types); // OPEN
            Assert.Contains("2", types); // UPDATE
            Assert.Contains("3", types); // NOTIFICATION (the Cease of the stop)
            Assert.Contains("4", types); // KEEPALIVE
            Assert.Contains(rows, r => r[2] == "172.16.0.0"); // the withdrawal
            Assert.All(rows, r => Assert.Equal("", r[4]));
            // Severity 8388608 is "error" in Wireshark's expert info.
            Assert.DoesNotContain(rows, r => r[5].Split('|').Contains("8388608"));
            var tcpErrors = tshark.Count(file, null, "tcp.analysis.flags && !tcp.analysis.window_update && !tcp.analysis.keep_alive");
            Assert.Equal(0, tcpErrors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static TcpHeader Tcp(byte[] datagram)
    {
        Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _));
        Assert.True(TcpHeader.TryParse(payload, ip.Source, ip.Destination, out var tcp, out _, out _));
        return tcp;
    }
}
