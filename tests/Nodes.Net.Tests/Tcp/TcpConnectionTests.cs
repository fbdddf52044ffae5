using Nodes.Net.Tcp;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Tests.Tcp;

public class TcpConnectionTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    private static TimeSpan S(double s) => TimeSpan.FromSeconds(s);

    private static TcpPair Established(TimeSpan? delay = null)
    {
        var pair = new TcpPair(delay);
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Established, S(5)));
        return pair;
    }

    // ---------------------------------------------------------------------------------------------
    // Hostile segments first: nothing outside the window may change a synchronized connection.

    [Fact]
    public void Connection_must_ignore_an_rst_outside_the_window()
    {
        var pair = Established();
        var server = pair.Server!;
        var rcvNxt = pair.Trace.Last(t => !t.ToServer).Header.AcknowledgmentNumber;

        // RFC 9293 §3.10.7.4: an unacceptable RST is dropped without an answer.
        var output = pair.Inject(true, new TcpHeader(TcpPair.ClientEnd.Port, TcpPair.ServerEnd.Port, rcvNxt + 1_000_000, 0, TcpFlags.Rst, 0));
        Assert.Empty(output.Segments);
        Assert.Equal(TcpState.Established, server.State);
        Assert.Equal(1, server.OutOfWindowSegments);
    }

    [Fact]
    public void Connection_must_answer_an_rst_in_the_window_but_not_at_rcv_nxt_with_a_challenge_ack()
    {
        var pair = Established();
        var server = pair.Server!;
        var rcvNxt = pair.Trace.Last(t => !t.ToServer).Header.AcknowledgmentNumber;

        // RFC 5961 §3.2: a blind attacker guessing within the window only draws a challenge ACK.
        var output = pair.Inject(true, new TcpHeader(TcpPair.ClientEnd.Port, TcpPair.ServerEnd.Port, rcvNxt + 100, 0, TcpFlags.Rst, 0));
        var ack = Assert.Single(output.Segments).Header;
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(rcvNxt, ack.AcknowledgmentNumber);
        Assert.Equal(TcpState.Established, server.State);
        Assert.Equal(1, server.ChallengeAcks);

        // The RST at exactly RCV.NXT resets.
        pair.Inject(true, new TcpHeader(TcpPair.ClientEnd.Port, TcpPair.ServerEnd.Port, rcvNxt, 0, TcpFlags.Rst, 0));
        Assert.Equal(TcpState.Closed, server.State);
        Assert.Equal(TcpCloseReason.Reset, server.CloseReason);
    }

    [Theory]
    [InlineData("at RCV.NXT", 0L)]
    [InlineData("inside the window", 500L)]
    [InlineData("far outside the window", 3_000_000L)]
    public void Connection_must_never_reset_on_a_syn_in_a_synchronized_state(string where, long offset)
    {
        var pair = Established();
        var server = pair.Server!;
        var rcvNxt = pair.Trace.Last(t => !t.ToServer).Header.AcknowledgmentNumber;

        // RFC 5961 §4.2: whatever its sequence number, a SYN draws an ACK and changes nothing.
        var output = pair.Inject(true, new TcpHeader(TcpPair.ClientEnd.Port, TcpPair.ServerEnd.Port, rcvNxt + (uint)offset, 0, TcpFlags.Syn, 1000));
        Assert.Equal(TcpFlags.Ack, Assert.Single(output.Segments).Header.Flags);
        Assert.True(server.State == TcpState.Established, where);
        Assert.Equal(TcpCloseReason.None, server.CloseReason);
    }

    [Fact]
    public void Connection_must_not_move_snd_una_for_an_ack_of_data_never_sent()
    {
        var pair = Established();
        var client = pair.Client!;
        client.Write(new byte[100]);
        var sent = Assert.Single(client.Flush(pair.Now).Segments);
        var rcvNxt = sent.Header.AcknowledgmentNumber;

        // RFC 5961 §5.2: SEG.ACK beyond SND.NXT is answered with an ACK and dropped.
        var output = pair.Inject(false, new TcpHeader(TcpPair.ServerEnd.Port, TcpPair.ClientEnd.Port, rcvNxt, sent.Header.SequenceNumber + 5000, TcpFlags.Ack, 65535));
        Assert.Equal(TcpFlags.Ack, Assert.Single(output.Segments).Header.Flags);
        Assert.Equal(100u, client.BytesInFlight);
        Assert.Equal(0, client.BytesAcknowledged);
        Assert.Equal(1, client.OutOfWindowSegments);
    }

    [Fact]
    public void Connection_must_drop_data_outside_the_receive_window_and_say_where_it_stands()
    {
        var pair = Established();
        var server = pair.Server!;
        var rcvNxt = pair.Trace.Last(t => !t.ToServer).Header.AcknowledgmentNumber;
        var output = pair.Inject(true, new TcpHeader(TcpPair.ClientEnd.Port, TcpPair.ServerEnd.Port, rcvNxt + 200_000, 0, TcpFlags.Ack, 1000), new byte[10]);
        var ack = Assert.Single(output.Segments).Header;
        Assert.Equal(rcvNxt, ack.AcknowledgmentNumber);
        Assert.Equal(0, server.BytesReceived);
        Assert.Equal(0, server.ReadableBytes);
    }

    [Fact]
    public void Syn_sent_must_refuse_an_ack_that_does_not_acknowledge_its_syn_with_a_reset()
    {
        var pair = new TcpPair();
        var client = pair.Open();
        var syn = pair.Trace.Single().Header;

        // RFC 9293 §3.10.7.3: SEG.ACK =< ISS or > SND.NXT draws <SEQ=SEG.ACK><CTL=RST>; the connection stays.
        var output = pair.Inject(false, new TcpHeader(TcpPair.ServerEnd.Port, TcpPair.ClientEnd.Port, 77, syn.SequenceNumber + 9, TcpFlags.Syn | TcpFlags.Ack, 1000));
        var rst = Assert.Single(output.Segments).Header;
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(syn.SequenceNumber + 9, rst.SequenceNumber);
        Assert.Equal(TcpState.SynSent, client.State);

        // An RST without an acceptable ACK is ignored; one acknowledging the SYN refuses the connection.
        pair.Inject(false, new TcpHeader(TcpPair.ServerEnd.Port, TcpPair.ClientEnd.Port, 0, 0, TcpFlags.Rst, 0));
        Assert.Equal(TcpState.SynSent, client.State);
        pair.Inject(false, new TcpHeader(TcpPair.ServerEnd.Port, TcpPair.ClientEnd.Port, 0, syn.SequenceNumber + 1, TcpFlags.Rst | TcpFlags.Ack, 0));
        Assert.Equal(TcpCloseReason.Refused, client.CloseReason);
    }

    // ---------------------------------------------------------------------------------------------
    // Handshake, MSS, data, close.

    [Fact]
    public void Handshake_must_carry_the_mss_option_and_size_segments_by_the_smaller_mss()
    {
        var pair = new TcpPair(server: o => o with { MaximumSegmentSize = 1360 });
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Established, S(5)));

        // SYN -->, <-- SYN,ACK, ACK -->
        var (syn, synAck, ack) = (pair.Trace[0].Header, pair.Trace[1].Header, pair.Trace[2].Header);
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        Assert.Equal((ushort)1460, syn.Options.MaximumSegmentSize);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(syn.SequenceNumber + 1, synAck.AcknowledgmentNumber);
        Assert.Equal((ushort)1360, synAck.Options.MaximumSegmentSize);
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(synAck.SequenceNumber + 1, ack.AcknowledgmentNumber);
        // Each MSS bounds what the other side sends: the client sends 1360-octet segments, the server 1460.
        Assert.Equal(1360, pair.Client!.EffectiveMss);
        Assert.Equal(1460, pair.Server!.EffectiveMss);
    }

    [Fact]
    public void Bulk_transfer_must_deliver_every_octet_in_order_and_close_through_time_wait()
    {
        var pair = new TcpPair(delay: Ms(20)) { ClientApplication = TcpPair.Bulk(1_000_000) };
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Closed && pair.Client!.State == TcpState.TimeWait, S(60)));
        Assert.Equal(1_000_000, pair.ServerRead);
        Assert.Equal(1_000_000, pair.Client!.BytesAcknowledged);
        Assert.Equal(0, pair.Client.Retransmissions);
        Assert.All(pair.Trace.Where(t => t.ToServer && t.Length > 0), t => Assert.True(t.Length <= 1460));
        Assert.Equal(TcpCloseReason.Closed, pair.Server!.CloseReason);

        // RFC 9293 §3.4.2: the side that closed first waits 2 MSL (60 s here) from the peer's FIN, one delay before the server closed.
        var timeWait = pair.Now - pair.Delay;
        Assert.True(pair.RunUntil(() => pair.Client.State == TcpState.Closed, S(200)));
        Assert.Equal(TimeSpan.FromSeconds(60), pair.Now - timeWait);
    }

    [Fact]
    public void Simultaneous_close_must_pass_through_closing()
    {
        var pair = Established();
        pair.ServerReads = false;
        var fin1 = pair.Client!.Close(pair.Now);
        var fin2 = pair.Server!.Close(pair.Now);
        Assert.Equal(TcpState.FinWait1, pair.Client.State);
        pair.Put(true, fin1);
        pair.Put(false, fin2);
        Assert.True(pair.RunUntil(() => pair.Client.State == TcpState.TimeWait && pair.Server.State == TcpState.TimeWait, S(5)));
        Assert.Contains(pair.Trace, t => t.Header.Has(TcpFlags.Fin) && t.ToServer);
    }

    [Fact]
    public void A_lost_segment_must_be_fast_retransmitted_and_the_held_out_of_order_data_delivered()
    {
        var lost = false;
        var pair = new TcpPair(delay: Ms(20)) { ClientApplication = TcpPair.Bulk(200_000) };
        pair.Pass = (toServer, header, length) =>
        {
            // Lose the fifth data segment once.
            if (!toServer || length == 0 || lost || header.SequenceNumber != 0x1000_0001 + (4 * 1460)) return true;
            lost = true;
            return false;
        };
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Closed, S(60)));
        Assert.Equal(200_000, pair.ServerRead);
        Assert.Equal(1, pair.Client!.FastRetransmits);
        Assert.Equal(0, pair.Client.Timeouts);
        Assert.Equal(1, pair.Client.Retransmissions);
    }

    [Fact]
    public void Syn_retransmissions_must_back_off_and_leave_the_rtt_unmeasured_karn()
    {
        var synsLost = 2;
        var pair = new TcpPair();
        pair.Pass = (toServer, header, _) => !(toServer && header.Has(TcpFlags.Syn) && synsLost-- > 0);
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Established, S(10)));
        var syns = pair.Trace.Where(t => t.ToServer && t.Header.Has(TcpFlags.Syn)).Select(t => t.At).ToList();

        // RFC 6298 §2.1 and §5.5: first RTO 1 s, then doubled.
        Assert.Equal([TimeSpan.Zero, S(1), S(3)], syns);
        Assert.Null(pair.Client!.Rto.SmoothedRtt);

        // RFC 6298 §5.7: data starts with an RTO of 3 s after a retransmitted SYN.
        Assert.Equal(S(3), pair.Client.Rto.Current);
        Assert.Equal((uint)pair.Client.EffectiveMss, pair.Client.CongestionWindow);
    }

    [Fact]
    public void Retransmission_timeouts_must_back_off_until_the_connection_times_out()
    {
        var pair = Established();
        var client = pair.Client!;
        var blackHole = true;
        pair.Pass = (toServer, _, length) => !(blackHole && toServer && length > 0);
        client.Write(new byte[3000]);
        pair.Put(true, client.Flush(pair.Now));
        Assert.True(pair.RunUntil(() => client.State == TcpState.Closed, S(2000)));
        Assert.Equal(TcpCloseReason.TimedOut, client.CloseReason);
        Assert.Equal(16, client.Timeouts);

        // 1, 2, 4, ... capped at 60 s: the retransmissions of the first segment.
        var resends = pair.Trace.Where(t => t.ToServer && t.Length > 0).Select(t => t.At).Distinct().ToList();
        var gaps = resends.Zip(resends.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], gaps.Take(8));
        Assert.True(client.StalledFor(pair.Now) == TimeSpan.Zero);
    }

    [Fact]
    public void Rtt_samples_must_set_the_rto_per_rfc6298()
    {
        var rto = new RetransmissionTimeout(S(1), Ms(200), S(60));

        // First sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 300 ms.
        rto.Sample(Ms(100));
        Assert.Equal(Ms(100), rto.SmoothedRtt);
        Assert.Equal(Ms(50), rto.RttVariation);
        Assert.Equal(Ms(300), rto.Current);

        // Second: RTTVAR = 3/4·50 + 1/4·|100 − 140| = 47.5; SRTT = 7/8·100 + 1/8·140 = 105; RTO = 105 + 190 = 295 ms.
        rto.Sample(Ms(140));
        Assert.Equal(Ms(47.5), rto.RttVariation);
        Assert.Equal(Ms(105), rto.SmoothedRtt);
        Assert.Equal(Ms(295), rto.Current);

        rto.BackOff();
        Assert.Equal(Ms(590), rto.Current);

        // RFC 6298 §2.4: never below the minimum (1 s by default).
        var standard = new RetransmissionTimeout();
        standard.Sample(Ms(10));
        Assert.Equal(S(1), standard.Current);
        for (var i = 0; i < 10; i++) standard.BackOff();
        Assert.Equal(S(60), standard.Current);
    }

    [Fact]
    public void A_receiver_that_does_not_read_must_close_the_window_and_the_sender_must_probe_it()
    {
        var pair = new TcpPair(server: o => o with { ReceiveBufferSize = 8192 }) { ServerReads = false, ClientApplication = TcpPair.Bulk(200_000) };
        pair.Open();
        pair.RunUntil(() => false, S(10));
        var server = pair.Server!;
        var client = pair.Client!;

        // The sender never overruns the 8 KiB window, and keeps probing the zero window (RFC 9293 §3.8.6.1).
        Assert.Equal(8192, server.ReadableBytes);
        Assert.Equal(8192, client.BytesAcknowledged);
        Assert.Equal(0u, client.SendWindow);
        Assert.Equal(TcpState.Established, client.State);
        var probes = pair.Trace.Count(t => t.ToServer && t.Length == 0 && t.At > S(1));
        Assert.InRange(probes, 2, 10);

        // The application reads: a window update and the transfer completes.
        pair.ServerReads = true;
        Assert.True(pair.RunUntil(() => server.State == TcpState.Closed, S(200)));
        Assert.Equal(200_000, pair.ServerRead);
    }

    [Fact]
    public void Fragmentation_needed_must_lower_the_segment_size_and_resend_the_flight()
    {
        var pair = Established();
        var client = pair.Client!;
        var pathMtu = 1500;
        pair.Pass = (toServer, header, length) => !toServer || length + 40 <= pathMtu;
        client.Write(new byte[5000]);
        var first = client.Flush(pair.Now);
        Assert.All(first.Segments, s => Assert.True(s.Payload.Length <= 1460));
        pair.Put(true, first);

        // A router on the way reports next-hop MTU 1400 (RFC 1191): everything in flight goes again at 1360 octets.
        pathMtu = 1400;
        var again = client.PathMtuChanged(1400, pair.Now);
        Assert.Equal(1360, client.EffectiveMss);
        Assert.NotEmpty(again.Segments);
        Assert.All(again.Segments, s => Assert.True(s.Payload.Length <= 1360));
        pair.Put(true, again);
        pair.ServerReads = false;
        Assert.True(pair.RunUntil(() => client.BytesAcknowledged == 5000, S(10)));

        // A higher or absurd report never raises it.
        Assert.Empty(client.PathMtuChanged(1500, pair.Now).Segments);
        Assert.Empty(client.PathMtuChanged(40, pair.Now).Segments);
        Assert.Equal(1360, client.EffectiveMss);
    }

    [Fact]
    public void A_black_hole_for_full_sized_segments_must_stall_the_transfer_after_the_handshake()
    {
        var pair = new TcpPair(delay: Ms(20)) { ClientApplication = TcpPair.Bulk(100_000) };

        // Frames above 1400 octets vanish and nothing says so: the handshake's small segments pass, full ones do not.
        pair.Pass = (_, _, length) => length + 40 <= 1400;
        pair.Open();
        pair.RunUntil(() => false, S(30));
        var client = pair.Client!;
        Assert.Equal(TcpState.Established, client.State);
        Assert.Equal(0, pair.ServerRead);
        Assert.True(client.Timeouts >= 4);
        Assert.True(client.StalledFor(S(30)) >= S(29));
    }

    [Fact]
    public void Window_scaling_must_be_used_only_when_both_syns_offer_it()
    {
        var pair = new TcpPair(server: o => o with { ReceiveBufferSize = 256 * 1024 }) { ClientApplication = TcpPair.Bulk(600_000) };
        pair.Open();
        Assert.True(pair.RunUntil(() => pair.Server?.State == TcpState.Closed, S(60)));
        var synAck = pair.Trace[1].Header;
        Assert.Equal((byte)3, synAck.Options.WindowScale); // 65,535 << 3 covers 256 KiB
        Assert.True(pair.Trace.Where(t => t.ToServer && t.Length > 0).Max(t => t.Header.SequenceNumber - 0x1000_0001u) > 0);
        Assert.True(pair.Client!.SendWindow > 65535);

        var plain = new TcpPair(client: new TcpConnectionOptions { Local = TcpPair.ClientEnd, Remote = TcpPair.ServerEnd, InitialSequenceNumber = 1, WindowScaling = false },
            server: o => o with { ReceiveBufferSize = 256 * 1024 });
        plain.Open();
        Assert.True(plain.RunUntil(() => plain.Server?.State == TcpState.Established, S(5)));
        Assert.Null(plain.Trace[1].Header.Options.WindowScale);
        Assert.Equal(65535u, plain.Client!.SendWindow);
    }
}
