using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Tcp;

/// <summary>Configuration of one <see cref="TcpConnection"/>.</summary>
public sealed record TcpConnectionOptions
{
    /// <summary>This end's address and port.</summary>
    public required Ipv4Endpoint Local { get; init; }

    /// <summary>The peer's address and port.</summary>
    public required Ipv4Endpoint Remote { get; init; }

    /// <summary>The initial send sequence number (RFC 9293 §3.4.1); an input, so seeded runs repeat.</summary>
    public required uint InitialSequenceNumber { get; init; }

    /// <summary>The MSS this end announces in its SYN: the egress MTU minus 40 (RFC 9293 §3.7.1).</summary>
    public ushort MaximumSegmentSize { get; init; } = 1460;

    /// <summary>The path MTU this end starts with (the egress MTU, or what the host learnt for the destination).</summary>
    public int PathMtu { get; init; } = 1500;

    /// <summary>Octets the application may have written but not yet had acknowledged.</summary>
    public int SendBufferSize { get; init; } = 64 * 1024;

    /// <summary>Octets received in order but not yet read; the receive window offered is what is free of it.</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>Offer window scaling (RFC 7323 §2) so that a receive buffer above 64 KiB can be used.</summary>
    public bool WindowScaling { get; init; } = true;

    /// <summary>The retransmission timeout's first value (RFC 6298 §2.1: 1 s).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The lower bound of the retransmission timeout (RFC 6298 §2.4: 1 s; Linux uses 200 ms).</summary>
    public TimeSpan MinimumRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The upper bound of the retransmission timeout (RFC 6298 §2.5: at least 60 s).</summary>
    public TimeSpan MaximumRto { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retransmissions of a SYN before the open fails (R2 for a SYN, RFC 9293 §3.8.3; Linux tcp_syn_retries 6).</summary>
    public int MaximumSynRetransmissions { get; init; } = 6;

    /// <summary>Retransmissions of one segment before the connection is given up (R2; Linux tcp_retries2 15).</summary>
    public int MaximumRetransmissions { get; init; } = 15;

    /// <summary>How long TIME-WAIT lasts (RFC 9293 §3.4.2: 2 MSL; Linux 60 s).</summary>
    public TimeSpan TimeWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Outstanding data unacknowledged for this long counts as a stall.</summary>
    public TimeSpan StallThreshold { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>What a <see cref="TcpConnection"/> produced: segments to send, in order.</summary>
public sealed record TcpOutput(IReadOnlyList<TcpSegment> Segments)
{
    /// <summary>Nothing to send.</summary>
    public static TcpOutput Empty { get; } = new([]);
}

/// <summary>
/// One TCP connection as a pure engine (RFC 9293): the state machine of §3.3.2, the segment arrival
/// rules of §3.10.7 hardened as RFC 5961 asks (an RST or SYN that is not exactly expected only draws a
/// challenge ACK; an ACK outside the acceptable range changes nothing), retransmission with the
/// RFC 6298 timeout (SRTT/RTTVAR, Karn, backoff), RFC 5681 congestion control with fast retransmit,
/// flow control by the receive window (with RFC 7323 window scaling and a persist timer for a zero
/// window), and segments sized by the peer's MSS and the path MTU (RFC 1191 §6.4: a
/// fragmentation-needed lowers the segment size and resends). Out-of-order data within the window is
/// kept until the gap fills. Time is an argument of every call; <see cref="NextDeadline"/> says when
/// the engine next needs <see cref="Tick"/>. Not thread-safe: one owner drives it.
/// </summary>
public sealed class TcpConnection
{
    private const int IpAndTcpHeaders = 40;
    private const ushort DefaultPeerMss = 536; // RFC 9293 §3.7.1: assumed when the SYN carries no MSS option.
    private const int MaxWindowShift = 14; // RFC 7323 §2.3.
    private const int DuplicateAckThreshold = 3; // RFC 5681 §3.2.

    private readonly ByteQueue _send;
    private readonly ByteQueue _receive;
    private readonly RetransmissionTimeout _rto;
    private readonly List<TcpSegment> _out = [];
    private readonly List<(uint Seq, byte[] Data, bool Fin)> _outOfOrder = [];

    // Send sequence space (RFC 9293 §3.3.1).
    private readonly uint _iss;
    private uint _sndUna;
    private uint _sndNxt;
    private uint _sndMax; // highest sequence number sent, so that a go-back after a timeout knows what is a retransmission
    private uint _sndWnd;
    private uint _sndWl1;
    private uint _sndWl2;
    private uint _maxSndWnd;
    private uint _dataStart; // sequence number of the first octet in _send
    private bool _closeRequested;

    // Receive sequence space.
    private uint _irs;
    private uint _rcvNxt;
    private bool _finReceived;

    // Options agreed in the handshake.
    private int _sendShift;
    private int _receiveShift;
    private bool _offeredScale;
    private ushort _peerMss = DefaultPeerMss;
    private int _pathMtu;

    // Congestion control (RFC 5681).
    private uint _cwnd;
    private uint _ssthresh = uint.MaxValue;
    private int _duplicateAcks;
    private uint? _recover;

    // Timers.
    private TimeSpan? _retransmitAt;
    private TimeSpan? _persistAt;
    private TimeSpan _persistBackoff;
    private TimeSpan? _timeWaitUntil;
    private int _retries;
    private bool _synRetransmitted;
    private (uint Seq, TimeSpan SentAt)? _timed;
    private TimeSpan _lastProgress;
    private bool _lastWindowZero;

    private TcpConnection(TcpConnectionOptions options, TcpState state, TimeSpan now)
    {
        Options = options;
        State = state;
        _send = new ByteQueue(options.SendBufferSize);
        _receive = new ByteQueue(options.ReceiveBufferSize);
        _rto = new RetransmissionTimeout(options.InitialRto, options.MinimumRto, options.MaximumRto);
        _iss = options.InitialSequenceNumber;
        _sndUna = _iss;
        _sndNxt = _iss;
        _sndMax = _iss;
        _dataStart = _iss + 1;
        _pathMtu = options.PathMtu;
        _lastProgress = now;
        _offeredScale = options.WindowScaling;
    }

    /// <summary>The configuration.</summary>
    public TcpConnectionOptions Options { get; }

    /// <summary>The connection state.</summary>
    public TcpState State { get; private set; }

    /// <summary>Why the connection closed (None while open).</summary>
    public TcpCloseReason CloseReason { get; private set; }

    /// <summary>Octets per segment this end sends: the peer's MSS, lowered to the path MTU minus 40.</summary>
    public int EffectiveMss => Math.Max(1, Math.Min(_peerMss, _pathMtu - IpAndTcpHeaders));

    /// <summary>The MSS the peer announced (536 when its SYN carried none, before the handshake too).</summary>
    public ushort PeerMss => _peerMss;

    /// <summary>The path MTU the segments are sized for.</summary>
    public int PathMtu => _pathMtu;

    /// <summary>The retransmission timeout estimator.</summary>
    public RetransmissionTimeout Rto => _rto;

    /// <summary>Congestion window, octets.</summary>
    public uint CongestionWindow => _cwnd;

    /// <summary>The peer's receive window, octets (scaled).</summary>
    public uint SendWindow => _sndWnd;

    /// <summary>Octets sent and not yet acknowledged.</summary>
    public uint BytesInFlight => _sndNxt - _sndUna;

    /// <summary>Octets the application can write now.</summary>
    public int WritableBytes => _closeRequested || !CanSendData ? 0 : _send.Free;

    /// <summary>Octets received in order and waiting to be read.</summary>
    public int ReadableBytes => _receive.Count;

    /// <summary>True once the peer's FIN arrived in order (end of its data).</summary>
    public bool PeerClosed => _finReceived;

    /// <summary>True when everything written, and the FIN if closed, has been acknowledged.</summary>
    public bool AllAcknowledged => _send.Count == 0 && (!_closeRequested || FinAcknowledged);

    /// <summary>When the engine next needs <see cref="Tick"/>, or null when no timer runs.</summary>
    public TimeSpan? NextDeadline => Min(Min(_retransmitAt, _persistAt), _timeWaitUntil);

    /// <summary>Segments put on the wire (retransmissions included).</summary>
    public long SegmentsSent { get; private set; }

    /// <summary>Segments taken in (whether accepted or not).</summary>
    public long SegmentsReceived { get; private set; }

    /// <summary>Segments sent again: after a timeout, a fast retransmit or a lowered path MTU.</summary>
    public long Retransmissions { get; private set; }

    /// <summary>Expiries of the retransmission timer.</summary>
    public long Timeouts { get; private set; }

    /// <summary>Fast retransmits after three duplicate ACKs (RFC 5681 §3.2).</summary>
    public long FastRetransmits { get; private set; }

    /// <summary>Application octets the peer acknowledged.</summary>
    public long BytesAcknowledged { get; private set; }

    /// <summary>Application octets received in order.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Segments that were not acceptable (RFC 9293 §3.10.7.4 first check) or carried an unacceptable ACK.</summary>
    public long OutOfWindowSegments { get; private set; }

    /// <summary>Challenge ACKs sent for an RST or SYN that was in the window but not exact (RFC 5961 §3.2, §4.2).</summary>
    public long ChallengeAcks { get; private set; }

    /// <summary>Times outstanding data went unacknowledged for at least <see cref="TcpConnectionOptions.StallThreshold"/>.</summary>
    public int Stalls { get; private set; }

    /// <summary>The longest such wait that ended in progress.</summary>
    public TimeSpan LongestStall { get; private set; }

    /// <summary>How long outstanding data has waited for an acknowledgment at <paramref name="now"/> (zero when nothing waits).</summary>
    public TimeSpan StalledFor(TimeSpan now) =>
        State != TcpState.Closed && (_send.Count > 0 || (FinSent && !FinAcknowledged)) && now > _lastProgress ? now - _lastProgress : TimeSpan.Zero;

    /// <summary>
    /// True when <paramref name="sequence"/> lies in what this end has sent and not had acknowledged: an ICMP
    /// error quoting a segment is believed only then (RFC 5927 §4.1), so a blind attacker cannot shrink the MSS.
    /// </summary>
    public bool IsInFlight(uint sequence) => TcpSequence.Ge(sequence, _sndUna) && TcpSequence.Lt(sequence, _sndMax);

    /// <summary>When the connection reached ESTABLISHED, or null.</summary>
    public TimeSpan? EstablishedAt { get; private set; }

    private bool CanSendData => State is TcpState.Established or TcpState.CloseWait;

    private bool FinSent => _closeRequested && TcpSequence.Gt(_sndMax, DataEnd);

    private bool FinAcknowledged => _closeRequested && TcpSequence.Gt(_sndUna, DataEnd);

    private uint DataEnd => _dataStart + (uint)_send.Count;

    /// <summary>Active open (RFC 9293 §3.10.1): sends the SYN with the MSS option and enters SYN-SENT.</summary>
    public static TcpConnection Open(TcpConnectionOptions options, TimeSpan now, out TcpOutput output)
    {
        var connection = new TcpConnection(options, TcpState.SynSent, now);
        connection.SendSyn(now, ack: false);
        output = connection.Take();
        return connection;
    }

    /// <summary>
    /// Passive open: a listener took <paramref name="syn"/> (RFC 9293 §3.10.7.2, LISTEN with SYN):
    /// answers SYN,ACK and enters SYN-RECEIVED. The caller has checked the segment is a SYN without ACK or RST.
    /// </summary>
    public static TcpConnection Accept(TcpConnectionOptions options, in TcpHeader syn, TimeSpan now, out TcpOutput output)
    {
        var connection = new TcpConnection(options, TcpState.SynReceived, now);
        connection.SegmentsReceived++;
        connection.TakeSynOptions(syn);
        connection._irs = syn.SequenceNumber;
        connection._rcvNxt = syn.SequenceNumber + 1;
        connection._sndWnd = syn.Window; // RFC 7323 §2.2: the window in a SYN is never scaled.
        connection._sndWl1 = syn.SequenceNumber;
        connection.SendSyn(now, ack: true);
        output = connection.Take();
        return connection;
    }

    /// <summary>Queues application data; returns the octets taken (the send buffer's free space bounds it). Send them with <see cref="Flush"/>.</summary>
    public int Write(ReadOnlySpan<byte> data) => WritableBytes == 0 ? 0 : _send.Enqueue(data);

    /// <summary>Reads received data; a window update follows with the next <see cref="Flush"/> when the window opened enough.</summary>
    public int Read(Span<byte> destination)
    {
        var before = ReceiveWindow;
        var n = _receive.Dequeue(destination);

        // RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): announce an opened window once it grew by an MSS or half the buffer.
        var after = ReceiveWindow;
        if (n > 0 && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2
            && (before < EffectiveMss || _lastWindowZero) && after - before >= Math.Min(EffectiveMss, _receive.Capacity / 2))
        {
            SendAck();
        }

        return n;
    }

    /// <summary>Sends what the windows allow of the queued data (and the FIN once closed and drained).</summary>
    public TcpOutput Flush(TimeSpan now)
    {
        Dispatch(now);
        return Take();
    }

    /// <summary>CLOSE (RFC 9293 §3.10.4): a FIN follows the queued data.</summary>
    public TcpOutput Close(TimeSpan now)
    {
        switch (State)
        {
            case TcpState.SynSent:
                Terminate(TcpCloseReason.Closed);
                break;
            case TcpState.SynReceived or TcpState.Established or TcpState.CloseWait when !_closeRequested:
                _closeRequested = true;
                if (State == TcpState.Established) SetState(TcpState.FinWait1);
                else if (State == TcpState.CloseWait) SetState(TcpState.LastAck);
                Dispatch(now);
                break;
        }

        return Take();
    }

    /// <summary>ABORT (RFC 9293 §3.10.5): a RST, and the connection is CLOSED.</summary>
    public TcpOutput Abort(TimeSpan now)
    {
        if (State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait)
        {
            Emit(Header(_sndNxt, TcpFlags.Rst), []);
        }

        Terminate(TcpCloseReason.Aborted);
        return Take();
    }

    /// <summary>
    /// An ICMP fragmentation-needed reported <paramref name="mtu"/> for this path (RFC 1191 §6.4): the
    /// segment size drops to it, and what is in flight is sent again at the new size.
    /// </summary>
    public TcpOutput PathMtuChanged(int mtu, TimeSpan now)
    {
        // RFC 1191 §3: a report below 68 is not believed; a higher one never raises the estimate.
        if (mtu < 68 || mtu >= _pathMtu) return TcpOutput.Empty;
        var oldMss = EffectiveMss;
        _pathMtu = mtu;
        if (EffectiveMss < oldMss && State != TcpState.SynSent && TcpSequence.Gt(_sndNxt, _sndUna))
        {
            // Resend the flight at the new size, as after a timeout but without backing the timer off.
            _sndNxt = _sndUna;
            _timed = null;
            Dispatch(now);
        }

        return Take();
    }

    /// <summary>Runs the timers that are due: retransmission, persist, TIME-WAIT.</summary>
    public TcpOutput Tick(TimeSpan now)
    {
        if (_timeWaitUntil is { } until && now >= until)
        {
            _timeWaitUntil = null;
            Terminate(TcpCloseReason.Closed);
            return Take();
        }

        if (_retransmitAt is { } at && now >= at) OnRetransmissionTimeout(now);
        if (_persistAt is { } probe && now >= probe) OnPersistTimeout(now);
        return Take();
    }

    /// <summary>Takes a segment for this connection (ports and checksum already checked by the caller), per RFC 9293 §3.10.7.</summary>
    public TcpOutput Receive(in TcpHeader segment, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        SegmentsReceived++;
        switch (State)
        {
            case TcpState.Closed or TcpState.Listen:
                return TcpOutput.Empty;
            case TcpState.SynSent:
                ReceiveInSynSent(segment, now);
                return Take();
        }

        var length = (uint)TcpHeader.SegmentLength(segment.Flags, payload.Length);

        // First: is the segment acceptable (RFC 9293 §3.10.7.4, the four cases)?
        if (!Acceptable(segment.SequenceNumber, length))
        {
            OutOfWindowSegments++;
            if (!segment.Has(TcpFlags.Rst)) SendAck();
            return Take();
        }

        // Second: RST. RFC 5961 §3.2: only an RST at exactly RCV.NXT resets; one elsewhere in the window draws a challenge ACK.
        if (segment.Has(TcpFlags.Rst))
        {
            if (segment.SequenceNumber == _rcvNxt) Terminate(TcpCloseReason.Reset);
            else ChallengeAck();
            return Take();
        }

        // Fourth: SYN in a synchronized state. RFC 5961 §4.2: always a challenge ACK, never a reset.
        if (segment.Has(TcpFlags.Syn))
        {
            ChallengeAck();
            return Take();
        }

        // Fifth: ACK.
        if (!segment.Has(TcpFlags.Ack)) return Take();
        if (State == TcpState.SynReceived)
        {
            if (!(TcpSequence.Lt(_sndUna, segment.AcknowledgmentNumber) && TcpSequence.Le(segment.AcknowledgmentNumber, _sndMax)))
            {
                OutOfWindowSegments++;
                Emit(Header(segment.AcknowledgmentNumber, TcpFlags.Rst, withAck: false), []);
                return Take();
            }

            Establish(now);
            _sndWnd = (uint)segment.Window << _sendShift;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            _sndWl1 = segment.SequenceNumber;
            _sndWl2 = segment.AcknowledgmentNumber;
        }

        if (!ProcessAck(segment, payload.Length, now)) return Take();

        if (State == TcpState.FinWait1 && FinAcknowledged) SetState(TcpState.FinWait2);
        if (State == TcpState.Closing && FinAcknowledged) EnterTimeWait(now);
        if (State == TcpState.LastAck && FinAcknowledged)
        {
            Terminate(TcpCloseReason.Closed);
            return Take();
        }

        if (State == TcpState.TimeWait && segment.Has(TcpFlags.Fin))
        {
            // A retransmitted FIN: acknowledge it and restart the 2 MSL wait (RFC 9293 §3.10.7.4, eighth).
            SendAck();
            _timeWaitUntil = now + Options.TimeWait;
            return Take();
        }

        // Seventh and eighth: data and FIN.
        if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 && (payload.Length > 0 || segment.Has(TcpFlags.Fin)))
        {
            ReceiveData(segment.SequenceNumber, payload, segment.Has(TcpFlags.Fin), now);
        }

        Dispatch(now);
        return Take();
    }

    private void ReceiveInSynSent(in TcpHeader segment, TimeSpan now)
    {
        // RFC 9293 §3.10.7.3.
        var ackAcceptable = false;
        if (segment.Has(TcpFlags.Ack))
        {
            if (TcpSequence.Le(segment.AcknowledgmentNumber, _iss) || TcpSequence.Gt(segment.AcknowledgmentNumber, _sndMax))
            {
                OutOfWindowSegments++;
                if (!segment.Has(TcpFlags.Rst)) Emit(Header(segment.AcknowledgmentNumber, TcpFlags.Rst, withAck: false), []);
                return;
            }

            ackAcceptable = true;
        }

        if (segment.Has(TcpFlags.Rst))
        {
            // RFC 5961 §3.2 leaves SYN-SENT to the ACK check: only an RST acknowledging our SYN refuses the connection.
            if (ackAcceptable) Terminate(TcpCloseReason.Refused);
            else OutOfWindowSegments++;
            return;
        }

        if (!segment.Has(TcpFlags.Syn)) return;
        TakeSynOptions(segment);
        _irs = segment.SequenceNumber;
        _rcvNxt = segment.SequenceNumber + 1;
        if (ackAcceptable)
        {
            _sndUna = segment.AcknowledgmentNumber;
            _sndWnd = segment.Window;
            _maxSndWnd = _sndWnd;
            _sndWl1 = segment.SequenceNumber;
            _sndWl2 = segment.AcknowledgmentNumber;
            _retransmitAt = null;
            _retries = 0;
            if (_timed is { } t && TcpSequence.Gt(segment.AcknowledgmentNumber, t.Seq)) _rto.Sample(now - t.SentAt);
            _timed = null;
            Establish(now);
            SendAck();
            Dispatch(now);
            return;
        }

        // Simultaneous open: SYN-RECEIVED, SYN,ACK with the same ISS.
        SetState(TcpState.SynReceived);
        _sndWnd = segment.Window;
        _sndNxt = _iss;
        SendSyn(now, ack: true);
    }

    private bool Acceptable(uint seq, uint length)
    {
        var window = (uint)ReceiveWindow;
        if (length == 0)
        {
            return window == 0 ? seq == _rcvNxt : TcpSequence.InWindow(seq, _rcvNxt, window);
        }

        if (window == 0) return false;
        return TcpSequence.InWindow(seq, _rcvNxt, window) || TcpSequence.InWindow(seq + length - 1, _rcvNxt, window);
    }

    /// <summary>RFC 9293 §3.10.7.4 fifth check for the synchronized states, with RFC 5961 §5.2's acceptable range.</summary>
    private bool ProcessAck(in TcpHeader segment, int dataLength, TimeSpan now)
    {
        var ack = segment.AcknowledgmentNumber;
        if (TcpSequence.Gt(ack, _sndMax) || TcpSequence.Lt(ack, _sndUna - Math.Max(_maxSndWnd, 1)))
        {
            // RFC 5961 §5.2: an ACK for data never sent, or too old to be real, is answered with an ACK and dropped.
            OutOfWindowSegments++;
            SendAck();
            return false;
        }

        var window = (uint)segment.Window << _sendShift;
        if (TcpSequence.Gt(ack, _sndUna))
        {
            var acked = ack - _sndUna;
            var hadOutstanding = _send.Count > 0 || FinSent;
            _sndUna = ack;
            if (TcpSequence.Lt(_sndNxt, ack)) _sndNxt = ack;
            var data = (int)Math.Min((uint)_send.Count, TcpSequence.Gt(ack, _dataStart) ? ack - _dataStart : 0u);
            _send.Discard(data);
            _dataStart += (uint)data;
            BytesAcknowledged += data;
            if (hadOutstanding)
            {
                var waited = now - _lastProgress;
                if (waited >= Options.StallThreshold)
                {
                    Stalls++;
                    if (waited > LongestStall) LongestStall = waited;
                }
            }

            _lastProgress = now;

            // RFC 6298 §3 (Karn): only a segment sent once yields a sample; §5.3: restart the timer on new data acknowledged.
            if (_timed is { } t && TcpSequence.Gt(ack, t.Seq))
            {
                _rto.Sample(now - t.SentAt);
                _timed = null;
            }

            _retries = 0;
            _retransmitAt = _sndNxt == _sndUna ? null : now + _rto.Current;
            GrowCongestionWindow(acked);
            _duplicateAcks = 0;
        }
        else if (ack == _sndUna && dataLength == 0 && !segment.Has(TcpFlags.Fin) && window == _sndWnd && _sndNxt != _sndUna)
        {
            // RFC 5681 §2: a duplicate ACK.
            if (++_duplicateAcks == DuplicateAckThreshold && _recover is null) FastRetransmit(now);
        }

        // RFC 9293 §3.10.7.4: update the send window from newer segments only.
        if (TcpSequence.Lt(_sndWl1, segment.SequenceNumber) || (_sndWl1 == segment.SequenceNumber && TcpSequence.Le(_sndWl2, ack)))
        {
            _sndWnd = window;
            _maxSndWnd = Math.Max(_maxSndWnd, window);
            _sndWl1 = segment.SequenceNumber;
            _sndWl2 = ack;
            if (window > 0)
            {
                _persistAt = null;
                _persistBackoff = TimeSpan.Zero;
            }
        }

        return true;
    }

    private void GrowCongestionWindow(uint acked)
    {
        var mss = (uint)EffectiveMss;
        if (_recover is { } recover)
        {
            if (TcpSequence.Ge(_sndUna, recover))
            {
                // RFC 6582 §3.2 (5): full acknowledgment, recovery ends.
                _recover = null;
                _cwnd = _ssthresh;
            }
            else
            {
                // A partial acknowledgment: the next hole is lost too; resend it at once.
                RetransmitFirst();
            }

            return;
        }

        // RFC 5681 §3.1: slow start below ssthresh, congestion avoidance above it.
        if (_cwnd < _ssthresh) _cwnd += Math.Min(acked, mss);
        else _cwnd += Math.Max(1, mss * mss / Math.Max(_cwnd, 1));
    }

    private void FastRetransmit(TimeSpan now)
    {
        FastRetransmits++;
        var flight = _sndNxt - _sndUna;
        _ssthresh = Math.Max(flight / 2, 2 * (uint)EffectiveMss);
        _cwnd = _ssthresh + (3 * (uint)EffectiveMss);
        _recover = _sndMax;
        RetransmitFirst();
        _retransmitAt = now + _rto.Current;
    }

    private void RetransmitFirst()
    {
        var offset = TcpSequence.Gt(_sndUna, _dataStart) ? (int)(_sndUna - _dataStart) : 0;
        var length = Math.Min(EffectiveMss, _send.Count - offset);
        if (length > 0)
        {
            var payload = new byte[length];
            _send.Peek(offset, payload);
            Emit(Header(_sndUna, TcpFlags.Ack | TcpFlags.Psh), payload);
        }
        else if (_closeRequested && FinSent && !FinAcknowledged)
        {
            Emit(Header(DataEnd, TcpFlags.Fin | TcpFlags.Ack), []);
        }
        else
        {
            return;
        }

        Retransmissions++;
        if (_timed is { } t && TcpSequence.Ge(t.Seq, _sndUna)) _timed = null;
    }

    private void OnRetransmissionTimeout(TimeSpan now)
    {
        _retransmitAt = null;
        Timeouts++;
        _retries++;
        var synPhase = State is TcpState.SynSent or TcpState.SynReceived;
        var limit = synPhase ? Options.MaximumSynRetransmissions : Options.MaximumRetransmissions;
        if (_retries > limit)
        {
            Terminate(TcpCloseReason.TimedOut);
            return;
        }

        _rto.BackOff();
        _timed = null;
        if (synPhase)
        {
            _synRetransmitted = true;
            Retransmissions++;
            _sndNxt = _iss;
            SendSyn(now, ack: State == TcpState.SynReceived);
            return;
        }

        // RFC 5681 §3.1 eqn 4 and the loss window of one segment; go back to the first unacknowledged octet.
        var flight = _sndMax - _sndUna;
        _ssthresh = Math.Max(flight / 2, 2 * (uint)EffectiveMss);
        _cwnd = (uint)EffectiveMss;
        _recover = null;
        _duplicateAcks = 0;
        _sndNxt = _sndUna;
        Dispatch(now);
        _retransmitAt ??= now + _rto.Current;
    }

    private void OnPersistTimeout(TimeSpan now)
    {
        // RFC 9293 §3.8.6.1: probe a zero window. A segment one below SND.UNA is outside the peer's window
        // and so draws an ACK carrying its current window, without sending data the peer must discard.
        _persistAt = null;
        if (_sndWnd != 0 || _send.Count == 0) return;
        Emit(Header(_sndUna - 1, TcpFlags.Ack), []);
        _persistBackoff = _persistBackoff == TimeSpan.Zero ? _rto.Current : TimeSpan.FromTicks(Math.Min(_persistBackoff.Ticks * 2, Options.MaximumRto.Ticks));
        _persistAt = now + _persistBackoff;
    }

    private void ReceiveData(uint seq, ReadOnlySpan<byte> payload, bool fin, TimeSpan now)
    {
        // Trim what was received already and what lies beyond the window.
        var data = payload;
        if (TcpSequence.Lt(seq, _rcvNxt))
        {
            var skip = (int)Math.Min(_rcvNxt - seq, (uint)data.Length);
            data = data[skip..];
            seq += (uint)skip;
        }

        var room = ReceiveWindow - (int)Math.Max(0, (long)(seq - _rcvNxt));
        if (data.Length > room)
        {
            data = data[..Math.Max(0, room)];
            fin = false;
        }

        if (seq == _rcvNxt)
        {
            Deliver(data, fin, now);
            DrainOutOfOrder(now);
        }
        else if (data.Length > 0 || fin)
        {
            // RFC 9293 §3.10.7.4 seventh: segments beyond RCV.NXT SHOULD be held for later processing.
            var (at, length) = (seq, data.Length);
            if (!_outOfOrder.Exists(s => s.Seq == at && s.Data.Length >= length)) _outOfOrder.Add((seq, data.ToArray(), fin));
        }

        SendAck();
    }

    private void Deliver(ReadOnlySpan<byte> data, bool fin, TimeSpan now)
    {
        var taken = _receive.Enqueue(data);
        _rcvNxt += (uint)taken;
        BytesReceived += taken;
        if (!fin || taken < data.Length || _finReceived) return;
        _rcvNxt++;
        _finReceived = true;
        switch (State)
        {
            case TcpState.Established:
                SetState(TcpState.CloseWait);
                break;
            case TcpState.FinWait1 when FinAcknowledged:
                EnterTimeWait(now);
                break;
            case TcpState.FinWait1:
                SetState(TcpState.Closing);
                break;
            case TcpState.FinWait2:
                EnterTimeWait(now);
                break;
        }
    }

    private void DrainOutOfOrder(TimeSpan now)
    {
        var progressed = true;
        while (progressed && _outOfOrder.Count > 0)
        {
            progressed = false;
            for (var i = 0; i < _outOfOrder.Count; i++)
            {
                var (seq, data, fin) = _outOfOrder[i];
                var end = seq + (uint)data.Length;
                if (TcpSequence.Gt(seq, _rcvNxt)) continue;
                _outOfOrder.RemoveAt(i);
                if (TcpSequence.Ge(end, _rcvNxt) && !_finReceived)
                {
                    Deliver(data.AsSpan((int)(_rcvNxt - seq)), fin, now);
                }

                progressed = true;
                break;
            }
        }
    }

    private void Dispatch(TimeSpan now)
    {
        if (!(CanSendData || State is TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing)) return;
        var mss = EffectiveMss;
        while (true)
        {
            var offset = (int)(_sndNxt - _dataStart);
            var unsent = _send.Count - offset;
            var limit = _sndUna + Math.Min(_sndWnd, _cwnd);
            var usable = TcpSequence.Gt(limit, _sndNxt) ? limit - _sndNxt : 0u;

            if (unsent > 0 && usable > 0)
            {
                var length = (int)Math.Min((uint)Math.Min(mss, unsent), usable);

                // RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a window-limited runt waits while data is in flight.
                if (length < mss && length < unsent && _sndNxt != _sndUna) break;
                var payload = new byte[length];
                _send.Peek(offset, payload);
                var last = length == unsent;
                var flags = TcpFlags.Ack | (last ? TcpFlags.Psh : TcpFlags.None);
                if (last && _closeRequested && usable > length) flags |= TcpFlags.Fin;
                SendData(_sndNxt, payload, flags, now);
                continue;
            }

            if (unsent == 0 && _closeRequested && _sndNxt == DataEnd)
            {
                SendData(_sndNxt, [], TcpFlags.Fin | TcpFlags.Ack, now);
            }

            break;
        }

        if (_sndWnd == 0 && _send.Count > (int)(_sndNxt - _dataStart) && _sndNxt == _sndUna && _persistAt is null)
        {
            _persistBackoff = _rto.Current;
            _persistAt = now + _persistBackoff;
        }
    }

    private void SendData(uint seq, byte[] payload, TcpFlags flags, TimeSpan now)
    {
        var retransmission = TcpSequence.Lt(seq, _sndMax);
        Emit(Header(seq, flags), payload);
        var length = (uint)TcpHeader.SegmentLength(flags, payload.Length);
        _sndNxt = seq + length;
        if (retransmission)
        {
            Retransmissions++;
        }
        else if (_timed is null)
        {
            _timed = (seq, now);
        }

        _sndMax = TcpSequence.Max(_sndMax, _sndNxt);
        if (seq == _sndUna && !retransmission) _lastProgress = now; // the wait for an acknowledgment starts now
        _retransmitAt ??= now + _rto.Current;
    }

    private void SendSyn(TimeSpan now, bool ack)
    {
        var scale = _offeredScale ? ShiftFor(_receive.Capacity) : (byte?)null;
        var options = new TcpOptions(MaximumSegmentSize: Options.MaximumSegmentSize, WindowScale: scale, SackPermitted: false);
        var window = (ushort)Math.Min(_receive.Free, ushort.MaxValue); // RFC 7323 §2.2: never scaled in a SYN.
        var header = new TcpHeader(Options.Local.Port, Options.Remote.Port, _iss, ack ? _rcvNxt : 0,
            ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn, window, Options: options);
        Emit(header, []);
        if (_timed is null && !_synRetransmitted) _timed = (_iss, now);
        _sndNxt = _iss + 1;
        _sndMax = TcpSequence.Max(_sndMax, _sndNxt);
        _retransmitAt = now + _rto.Current;
    }

    private void TakeSynOptions(in TcpHeader syn)
    {
        if (syn.Options.MaximumSegmentSize is { } mss && mss > 0) _peerMss = mss;

        // RFC 7323 §2.2: scaling is used only when both SYNs carry the option; a SYN,ACK carries it only when the SYN did.
        var both = _offeredScale && syn.Options.WindowScale is not null;
        if (State == TcpState.SynReceived) _offeredScale = both;
        _sendShift = both ? Math.Min((int)syn.Options.WindowScale!.Value, MaxWindowShift) : 0;
        _receiveShift = both ? ShiftFor(_receive.Capacity) : 0;
    }

    private void Establish(TimeSpan now)
    {
        SetState(_closeRequested ? TcpState.FinWait1 : TcpState.Established);
        EstablishedAt = now;
        _sndUna = TcpSequence.Max(_sndUna, _iss + 1);
        _retransmitAt = null;
        _retries = 0;

        // RFC 5681 §3.1 with RFC 6928: an initial window of ten segments.
        _cwnd = (uint)Math.Min(10 * EffectiveMss, Math.Max(2 * EffectiveMss, 14600));
        if (_synRetransmitted)
        {
            // RFC 5681 §3.1: a lost SYN leaves an initial window of one segment; RFC 6298 §5.7: RTO back to 3 s.
            _cwnd = (uint)EffectiveMss;
            _rto.ResetAfterSynRetransmission();
        }

        _lastProgress = now;
    }

    private void EnterTimeWait(TimeSpan now)
    {
        SetState(TcpState.TimeWait);
        _retransmitAt = null;
        _persistAt = null;
        _timeWaitUntil = now + Options.TimeWait;
    }

    private void Terminate(TcpCloseReason reason)
    {
        SetState(TcpState.Closed);
        if (CloseReason == TcpCloseReason.None) CloseReason = reason;
        _retransmitAt = null;
        _persistAt = null;
        _timeWaitUntil = null;
        _outOfOrder.Clear();
    }

    private void SetState(TcpState next) => State = next;

    private void ChallengeAck()
    {
        ChallengeAcks++;
        SendAck();
    }

    private void SendAck() => Emit(Header(_sndNxt, TcpFlags.Ack), []);

    /// <summary>Free receive buffer, the window this end offers (rounded down to what the scale can express).</summary>
    private int ReceiveWindow
    {
        get
        {
            var free = State == TcpState.SynReceived || State == TcpState.SynSent ? Math.Min(_receive.Free, ushort.MaxValue) : _receive.Free;
            var max = ushort.MaxValue << _receiveShift;
            return Math.Min(free, max) >> _receiveShift << _receiveShift;
        }
    }

    private TcpHeader Header(uint seq, TcpFlags flags, bool withAck = true)
    {
        var window = (ushort)(ReceiveWindow >> _receiveShift);
        if (!withAck) flags &= ~TcpFlags.Ack;
        return new TcpHeader(Options.Local.Port, Options.Remote.Port, seq, (flags & TcpFlags.Ack) != 0 ? _rcvNxt : 0, flags, window);
    }

    private void Emit(TcpHeader header, byte[] payload)
    {
        SegmentsSent++;
        _lastWindowZero = header.Window == 0 && !header.Has(TcpFlags.Syn);
        _out.Add(new TcpSegment(header, payload));
    }

    private TcpOutput Take()
    {
        if (_out.Count == 0) return TcpOutput.Empty;
        var output = new TcpOutput([.. _out]);
        _out.Clear();
        return output;
    }

    private static byte ShiftFor(int capacity)
    {
        byte shift = 0;
        while (shift < MaxWindowShift && (ushort.MaxValue << shift) < capacity) shift++;
        return shift;
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;
}
