using System.Collections.Immutable;
using Nodes.Net.Tcp;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Bgp;

/// <summary>
/// A BGP-4 speaker (RFC 4271) as a pure engine over <see cref="TcpConnection"/>s: one finite state machine per
/// connection (section 8), a peer object per configured neighbour that opens connections or waits for them, resolves
/// a collision of two (section 6.8) and restarts after an error; Adj-RIB-In per neighbour, the decision process
/// (section 9.1: shortest AS path, lowest ORIGIN, lowest MED from the same AS, lowest identifier) and Adj-RIB-Out per
/// neighbour, sent as differences. What comes in is checked before anything is kept: a message that does not parse,
/// or is not allowed in the state, ends the connection with the NOTIFICATION section 6 names, and nothing from it is
/// remembered; a SYN from anyone but a configured neighbour to the right address gets a RST.
/// </summary>
/// <remarks>
/// Time is an argument of every call (time since the lab started); <see cref="NextDeadline"/> says when the speaker
/// next needs <see cref="Tick"/>. Everything it sends goes through <see cref="IBgpPort"/>. Not thread-safe.
/// </remarks>
public sealed class BgpSpeaker
{
    /// <summary>BGP's TCP port (RFC 4271 section 8.2.1).</summary>
    public const ushort Port = 179;

    /// <summary>The Hold Timer while waiting for the neighbour's OPEN (section 8.2.2: "a large value", 4 minutes suggested).</summary>
    private static readonly TimeSpan OpenSentHold = TimeSpan.FromMinutes(4);

    private readonly BgpSpeakerOptions _options;
    private readonly IBgpPort _port;
    private readonly DeterministicRandom _random;
    private readonly List<Peer> _peers = [];
    private readonly Dictionary<(Ipv4Endpoint Local, Ipv4Endpoint Remote), Connection> _connections = [];
    private Dictionary<Ipv4Prefix, BgpRoute> _best = [];
    private bool _started;
    private ImmutableArray<Ipv4Prefix> _networks;

    public BgpSpeaker(BgpSpeakerOptions options, IBgpPort port)
    {
        _options = options;
        _port = port;
        _random = new DeterministicRandom(DeterministicRandom.Derive(options.Seed, "bgp"));
        foreach (var p in options.Peers) _peers.Add(new Peer(p));
        _networks = options.Networks;
    }

    public BgpSpeakerOptions Options => _options;

    /// <summary>The best route to each prefix learned from the neighbours.</summary>
    public IReadOnlyDictionary<Ipv4Prefix, BgpRoute> BestRoutes => _best;

    /// <summary>Every neighbour's session.</summary>
    public IEnumerable<BgpPeerStatus> Peers(TimeSpan now) => _peers.Select(p => Status(p, now));

    /// <summary>The routes a neighbour sent that were accepted (its Adj-RIB-In).</summary>
    public IEnumerable<BgpRoute> RoutesFrom(string peer) => _peers.Where(p => p.Options.Name == peer).SelectMany(p => p.AdjIn.Values);

    /// <summary>What is advertised to a neighbour now (its Adj-RIB-Out): prefix and path attributes.</summary>
    public IEnumerable<(Ipv4Prefix Prefix, BgpPathAttributes Attributes)> AdvertisedTo(string peer) =>
        _peers.Where(p => p.Options.Name == peer).SelectMany(p => p.AdjOut.Select(kv => (kv.Key, kv.Value)));

    /// <summary>True when <paramref name="address"/> is one this speaker holds sessions on.</summary>
    public bool Owns(Ipv4Address address)
    {
        foreach (var p in _peers) if (p.Options.LocalAddress == address) return true;
        return false;
    }

    /// <summary>When a timer of the speaker or of one of its TCP connections next runs, or null.</summary>
    public TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            void Min(TimeSpan? t)
            {
                if (t is { } v && (next is null || v < next)) next = v;
            }
            foreach (var p in _peers) Min(p.RetryAt);
            foreach (var c in _connections.Values)
            {
                Min(c.Tcp.NextDeadline);
                Min(c.HoldAt);
                Min(c.KeepaliveAt);
            }
            return next;
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // Inputs

    /// <summary>ManualStart (section 8.1.2): active neighbours get a TCP connection, passive ones are waited for.</summary>
    public void Start(TimeSpan now)
    {
        _started = true;
        foreach (var p in _peers) StartPeer(p, now);
    }

    /// <summary>ManualStop of every session (section 8.1.2): Cease / Administrative Shutdown, routes withdrawn.</summary>
    public void Stop(TimeSpan now)
    {
        _started = false;
        foreach (var p in _peers)
        {
            p.RetryAt = null;
            foreach (var c in p.Connections.ToList()) Close(c, BgpError.Cease(BgpError.AdministrativeShutdown), now, "stopped");
        }
    }

    /// <summary>
    /// Ends every session with Cease / Administrative Reset (RFC 4486 section 4); each starts again after its idle
    /// hold time. Returns how many were Established.
    /// </summary>
    public int Reset(TimeSpan now)
    {
        var established = 0;
        foreach (var p in _peers)
            foreach (var c in p.Connections.ToList())
            {
                if (c.State == BgpState.Established) established++;
                Close(c, BgpError.Cease(BgpError.AdministrativeReset), now, "administrative reset");
            }
        return established;
    }

    /// <summary>A TCP segment for one of this speaker's addresses (the owner checked its checksum).</summary>
    public void Receive(Ipv4Address source, Ipv4Address destination, in TcpHeader tcp, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var local = new Ipv4Endpoint(destination, tcp.DestinationPort);
        var remote = new Ipv4Endpoint(source, tcp.SourcePort);
        if (_connections.TryGetValue((local, remote), out var known))
        {
            Settle(known, known.Tcp.Receive(tcp, payload, now), now);
            return;
        }
        if (tcp.Has(TcpFlags.Rst)) return; // RFC 9293 section 3.10.7.1: an RST for nothing is ignored
        var peer = tcp.DestinationPort == Port ? _peers.Find(p => p.Options.PeerAddress == source && p.Options.LocalAddress == destination && p.Options.Enabled && !p.Suspended) : null;
        if (peer is null || !_started || !tcp.Has(TcpFlags.Syn) || tcp.Has(TcpFlags.Ack))
        {
            _port.Dropped(peer is null ? "bgp-no-peer" : "bgp-unexpected-segment", $"TCP {remote} → {local}: {(peer is null ? "not a configured BGP neighbour" : "no connection")}");
            Reset(local, remote, tcp, payload.Length);
            return;
        }
        // Section 6.8: a connection while the session is Established is refused; a second one while an OPEN
        // exchange is under way is taken, and the collision resolved when both OPENs are in.
        if (peer.Connections.Exists(c => c.State == BgpState.Established) || peer.Connections.Count(c => !c.Detached) >= 2)
        {
            _port.Dropped("bgp-collision", $"{peer.Options.Name}: a connection from {remote} while one is {peer.State}");
            Reset(local, remote, tcp, payload.Length);
            return;
        }
        var connection = new Connection(peer, TcpConnection.Accept(TcpOptions(peer, local, remote), tcp, now, out var synAck), outgoing: false)
        {
            State = BgpState.Active,
        };
        Attach(connection);
        peer.RetryAt = null;
        Settle(connection, synAck, now);
    }

    /// <summary>Timers: TCP retransmissions, hold and keepalive timers, connection retries.</summary>
    public void Tick(TimeSpan now)
    {
        foreach (var c in _connections.Values.ToList())
        {
            if (!_connections.ContainsKey(c.Key)) continue;
            if (c.Tcp.NextDeadline <= now) Settle(c, c.Tcp.Tick(now), now);
            if (c.Detached) continue;
            if (c.HoldAt <= now)
            {
                _port.Report($"bgp: {c.Peer.Options.Name}: no message from {c.Peer.Options.PeerAddress} within the hold time: Hold Timer Expired");
                Close(c, new BgpError(BgpErrorCode.HoldTimerExpired, 0), now, "hold timer expired");
                continue;
            }
            if (c.KeepaliveAt <= now && c.State is BgpState.OpenConfirm or BgpState.Established)
            {
                Send(c, BgpCodec.Keepalive(), now);
                Flush(c, now);
            }
        }
        foreach (var p in _peers)
            if (p.RetryAt <= now)
            {
                p.RetryAt = null;
                StartPeer(p, now);
            }
    }

    /// <summary>
    /// The networks this speaker originates change (a route appears or is withdrawn, as a network statement or a
    /// custom route is added or removed): every neighbour hears the difference.
    /// </summary>
    public void SetNetworks(IEnumerable<Ipv4Prefix> networks, TimeSpan now)
    {
        _networks = [.. networks];
        foreach (var p in _peers)
            if (p.Established is not null) Advertise(p, now);
    }

    /// <summary>The networks this speaker originates now.</summary>
    public ImmutableArray<Ipv4Prefix> Networks => _networks;

    /// <summary>
    /// Stops advertising <paramref name="networks"/> of its own to one neighbour only (the others still hear them), or
    /// with <paramref name="withhold"/> false advertises them to it again; false when there is no such neighbour.
    /// </summary>
    public bool Withhold(string peer, IEnumerable<Ipv4Prefix> networks, bool withhold, TimeSpan now)
    {
        if (_peers.FirstOrDefault(x => x.Options.Name == peer) is not { } p) return false;
        foreach (var n in networks)
            if (withhold) p.WithheldNow.Add(n);
            else p.WithheldNow.Remove(n);
        Advertise(p, now);
        return true;
    }

    /// <summary>
    /// Takes one neighbour's sessions down: with Cease / Administrative Shutdown when <paramref name="graceful"/>, or
    /// aborted (what it sends goes nowhere when its path is gone too); the neighbour is not tried again until
    /// <see cref="ResumePeer"/>.
    /// </summary>
    public void SuspendPeer(string peer, bool graceful, string why, TimeSpan now)
    {
        foreach (var p in _peers.Where(p => p.Options.Name == peer))
        {
            p.Suspended = true;
            p.RetryAt = null;
            foreach (var c in p.Connections.ToList())
            {
                if (graceful) Close(c, BgpError.Cease(BgpError.AdministrativeShutdown), now, why);
                else Drop(c, why, now, abort: true);
            }
            p.RetryAt = null;
        }
    }

    /// <summary>The neighbour may be reached again: an active one is connected at once.</summary>
    public void ResumePeer(string peer, TimeSpan now)
    {
        foreach (var p in _peers.Where(p => p.Options.Name == peer && p.Suspended))
        {
            p.Suspended = false;
            StartPeer(p, now);
        }
    }

    /// <summary>The neighbour's address became unreachable or the path to it went away (its tunnel is down): its sessions end at once.</summary>
    public void PeerLost(string peer, string why, TimeSpan now)
    {
        foreach (var p in _peers.Where(p => p.Options.Name == peer))
            foreach (var c in p.Connections.ToList())
            {
                if (c.State == BgpState.Established) _port.Report($"bgp: {p.Options.Name}: session with {p.Options.PeerAddress} down: {why}");
                Drop(c, why, now, abort: true);
            }
    }

    // -------------------------------------------------------------------------------------------------------
    // Peers and connections

    private sealed class Peer(BgpPeerOptions options)
    {
        public BgpPeerOptions Options { get; } = options;
        public List<Connection> Connections { get; } = [];
        public TimeSpan? RetryAt { get; set; }
        public Dictionary<Ipv4Prefix, BgpRoute> AdjIn { get; } = [];
        public Dictionary<Ipv4Prefix, BgpPathAttributes> AdjOut { get; } = [];
        /// <summary>Networks of its own no longer advertised to this neighbour alone (<see cref="Withhold"/>).</summary>
        public HashSet<Ipv4Prefix> WithheldNow { get; } = [];
        public TimeSpan? EstablishedAt { get; set; }
        public long MessagesSent { get; set; }
        public long MessagesReceived { get; set; }
        public int Flaps { get; set; }
        public bool Suspended { get; set; }
        public string? LastError { get; set; }
        public TimeSpan? LastErrorAt { get; set; }
        public bool Passive => Options.Passive;

        public BgpState State
        {
            get
            {
                var best = BgpState.Idle;
                foreach (var c in Connections) if (!c.Detached && c.State > best) best = c.State;
                if (best != BgpState.Idle) return best;
                return RetryAt is not null ? BgpState.Idle : Passive ? BgpState.Active : BgpState.Idle;
            }
        }

        public Connection? Established => Connections.Find(c => c.State == BgpState.Established && !c.Detached);
    }

    private sealed class Connection(Peer peer, TcpConnection tcp, bool outgoing)
    {
        public Peer Peer { get; } = peer;
        public TcpConnection Tcp { get; } = tcp;
        public bool Outgoing { get; } = outgoing;
        public BgpState State { get; set; }
        public bool Detached { get; set; }
        public byte[] Buffer { get; set; } = new byte[BgpCodec.MaxMessageLength * 2];
        public int Buffered { get; set; }
        public Queue<byte[]> Pending { get; } = new();
        public int PendingOffset { get; set; }
        public int PendingBytes { get; set; }
        public BgpOpen? PeerOpen { get; set; }
        public bool FourOctetAs { get; set; }
        public TimeSpan HoldTime { get; set; }
        public TimeSpan? HoldAt { get; set; }
        public TimeSpan? KeepaliveAt { get; set; }
        public (Ipv4Endpoint Local, Ipv4Endpoint Remote) Key => (Tcp.Options.Local, Tcp.Options.Remote);
    }

    private void StartPeer(Peer p, TimeSpan now)
    {
        if (!_started || p.Passive || p.Suspended || !p.Options.Enabled || p.Connections.Exists(c => !c.Detached)) return;
        var local = new Ipv4Endpoint(p.Options.LocalAddress, EphemeralPort(p.Options.PeerAddress));
        var remote = new Ipv4Endpoint(p.Options.PeerAddress, Port);
        var c = new Connection(p, TcpConnection.Open(TcpOptions(p, local, remote), now, out var syn), outgoing: true) { State = BgpState.Connect };
        Attach(c);
        Settle(c, syn, now);
    }

    private void Attach(Connection c)
    {
        _connections[c.Key] = c;
        c.Peer.Connections.Add(c);
    }

    private ushort EphemeralPort(Ipv4Address remote)
    {
        for (var i = 0; i < 1024; i++)
        {
            var port = (ushort)(49152 + _random.NextInt(16384));
            if (!_connections.Keys.Any(k => k.Local.Port == port && k.Remote.Address == remote)) return port;
        }
        throw new InvalidOperationException($"no free ephemeral port towards {remote}");
    }

    private TcpConnectionOptions TcpOptions(Peer p, Ipv4Endpoint local, Ipv4Endpoint remote) => new()
    {
        Local = local,
        Remote = remote,
        InitialSequenceNumber = (uint)_random.NextUInt64(),
        MaximumSegmentSize = p.Options.MaximumSegmentSize,
        PathMtu = p.Options.MaximumSegmentSize + 40,
        TimeWait = TimeSpan.FromSeconds(2),
    };

    /// <summary>After any event of a connection: what TCP sends goes out, an OPEN once it is up, messages read and handled.</summary>
    private void Settle(Connection c, TcpOutput output, TimeSpan now)
    {
        Emit(c, output);
        if (!c.Detached && c.Tcp.State == TcpState.Established && c.State is BgpState.Connect or BgpState.Active)
        {
            // Section 8.2.2, Connect/Active on TcpConnectionConfirmed: send OPEN, Hold Timer to a large value.
            var hold = (ushort)Math.Min(ushort.MaxValue, (int)c.Peer.Options.HoldTime.TotalSeconds);
            Send(c, BgpCodec.Write(BgpOpen.For(_options.Asn, hold, _options.Identifier)), now);
            c.State = BgpState.OpenSent;
            c.HoldAt = now + _options.Scale(OpenSentHold);
        }
        if (!c.Detached) ReadMessages(c, now);
        Flush(c, now);
        if (c.Tcp.State == TcpState.Closed)
        {
            _connections.Remove(c.Key);
            if (!c.Detached) Lost(c, c.Tcp.CloseReason switch
            {
                TcpCloseReason.Refused => "connection refused",
                TcpCloseReason.TimedOut => "TCP timed out",
                TcpCloseReason.Reset => "connection reset",
                _ => "connection closed",
            }, now);
            c.Peer.Connections.Remove(c);
        }
        else if (!c.Detached && c.Tcp.PeerClosed)
        {
            // The neighbour closed its side (TcpConnectionFails): the session ends.
            Drop(c, "the neighbour closed the connection", now, abort: false);
        }
    }

    private void Emit(Connection c, TcpOutput output)
    {
        foreach (var s in output.Segments) _port.Send(c.Tcp.Options.Local, c.Tcp.Options.Remote, s);
    }

    private void Send(Connection c, byte[] message, TimeSpan now)
    {
        if (c.Detached) return;
        if (c.PendingBytes + message.Length > _options.MaxQueuedBytes)
        {
            _port.Dropped("bgp-cease-out-of-resources", $"{c.Peer.Options.Name}: {c.PendingBytes} bytes wait for {c.Peer.Options.PeerAddress} to read");
            Close(c, BgpError.Cease(BgpError.OutOfResources), now, $"the neighbour stopped reading ({c.PendingBytes} bytes waiting)");
            return;
        }
        c.Pending.Enqueue(message);
        c.PendingBytes += message.Length;
        c.Peer.MessagesSent++;
        if (c.State is BgpState.OpenConfirm or BgpState.Established && c.HoldTime > TimeSpan.Zero)
            c.KeepaliveAt = now + _options.Scale(c.HoldTime) / 3; // a third of the hold time as the lab runs it
    }

    /// <summary>Moves queued messages into TCP's send buffer as far as it has room, and lets TCP send.</summary>
    private void Flush(Connection c, TimeSpan now)
    {
        while (c.Pending.TryPeek(out var m) && c.Tcp.WritableBytes > 0)
        {
            var n = c.Tcp.Write(m.AsSpan(c.PendingOffset));
            c.PendingOffset += n;
            c.PendingBytes -= n;
            if (c.PendingOffset < m.Length) break;
            c.Pending.Dequeue();
            c.PendingOffset = 0;
        }
        Emit(c, c.Tcp.Flush(now));
    }

    private void ReadMessages(Connection c, TimeSpan now)
    {
        while (!c.Detached)
        {
            if (c.Tcp.ReadableBytes > 0 && c.Buffered < c.Buffer.Length)
                c.Buffered += c.Tcp.Read(c.Buffer.AsSpan(c.Buffered));
            if (!BgpCodec.TryFrame(c.Buffer.AsSpan(0, c.Buffered), out var length, out var error))
            {
                if (!error.IsNone) Refuse(c, error, now);
                if (error.IsNone && c.Tcp.ReadableBytes > 0 && c.Buffered < c.Buffer.Length) continue;
                return;
            }
            var message = c.Buffer.AsSpan(0, length);
            if (!BgpCodec.TryParse(message, c.FourOctetAs, out var parsed, out error))
            {
                Refuse(c, error, now);
                return;
            }
            c.Buffer.AsSpan(length, c.Buffered - length).CopyTo(c.Buffer);
            c.Buffered -= length;
            c.Peer.MessagesReceived++;
            Handle(c, parsed!, now);
        }
    }

    private void Refuse(Connection c, BgpError error, TimeSpan now)
    {
        _port.Dropped("bgp-" + error.Name, $"{c.Peer.Options.Name}: message from {c.Peer.Options.PeerAddress} refused: {error.Text}");
        Close(c, error, now, error.Text);
    }

    // -------------------------------------------------------------------------------------------------------
    // The finite state machine (section 8.2.2), one connection

    private void Handle(Connection c, BgpMessage m, TimeSpan now)
    {
        if (m is BgpNotification n)
        {
            var text = n.Error.Text;
            c.Peer.LastError = $"NOTIFICATION received: {text}";
            c.Peer.LastErrorAt = now;
            _port.Report($"bgp: {c.Peer.Options.Name}: NOTIFICATION from {c.Peer.Options.PeerAddress}: {text}");
            Drop(c, $"NOTIFICATION received: {text}", now, abort: false);
            return;
        }
        switch (c.State)
        {
            case BgpState.OpenSent when m is BgpOpen open:
                ReceiveOpen(c, open, now);
                return;
            case BgpState.OpenConfirm when m is BgpKeepalive:
                Establish(c, now);
                return;
            case BgpState.Established when m is BgpKeepalive:
                RestartHold(c, now);
                return;
            case BgpState.Established when m is BgpUpdate update:
                RestartHold(c, now);
                ReceiveUpdate(c, update, now);
                return;
            case BgpState.Established when m is BgpRouteRefresh { Afi: 1, Safi: 1 }:
                RestartHold(c, now);
                c.Peer.AdjOut.Clear();
                Advertise(c.Peer, now);
                return;
            case BgpState.Established when m is BgpRouteRefresh:
                return; // RFC 2918 section 4: an AFI/SAFI not negotiated is ignored
        }
        // RFC 6608 section 4: an event the state does not allow, with the state it came in.
        var subcode = c.State switch { BgpState.OpenSent => (byte)1, BgpState.OpenConfirm => (byte)2, BgpState.Established => (byte)3, _ => (byte)0 };
        _port.Dropped("bgp-fsm-error", $"{c.Peer.Options.Name}: {m.Type} in {c.State}");
        Close(c, new BgpError(BgpErrorCode.FiniteStateMachine, subcode), now, $"{m.Type} in {c.State}");
    }

    private void ReceiveOpen(Connection c, BgpOpen open, TimeSpan now)
    {
        var p = c.Peer;
        var error = BgpError.None;
        if (open.Asn != p.Options.PeerAsn)
            error = BgpError.Open(BgpError.BadPeerAs, open.MyAs == BgpOpen.AsTrans ? null : [(byte)(open.MyAs >> 8), (byte)open.MyAs]);
        else if (open.Asn == _options.Asn && open.Identifier == _options.Identifier)
            error = BgpError.Open(BgpError.BadBgpIdentifier); // RFC 6286 section 2.2: unique within the AS
        else if (open.FourOctetAs && open.MyAs != (open.Asn > ushort.MaxValue ? BgpOpen.AsTrans : open.Asn))
            error = BgpError.Open(BgpError.BadPeerAs); // RFC 6793 section 4.1: the two AS fields disagree
        if (!error.IsNone)
        {
            _port.Dropped("bgp-" + error.Name, $"{p.Options.Name}: OPEN from {p.Options.PeerAddress} says AS {open.Asn}, identifier {open.Identifier}; expected AS {p.Options.PeerAsn}");
            Close(c, error, now, error.Text);
            return;
        }
        // Section 4.2: the smaller of the two Hold Times; keepalives every third of it.
        var offered = TimeSpan.FromSeconds(open.HoldTimeSeconds);
        c.HoldTime = offered < p.Options.HoldTime ? offered : p.Options.HoldTime;
        c.PeerOpen = open;
        c.FourOctetAs = open.FourOctetAs;
        c.State = BgpState.OpenConfirm;
        Send(c, BgpCodec.Keepalive(), now);
        RestartHold(c, now);
        ResolveCollision(p, now);
    }

    /// <summary>
    /// Section 6.8: two connections with the same neighbour that both have its OPEN. The one opened by the speaker
    /// with the higher BGP Identifier stays; the other ends with Cease / Connection Collision Resolution.
    /// </summary>
    private void ResolveCollision(Peer p, TimeSpan now)
    {
        var open = p.Connections.Where(c => !c.Detached && c.PeerOpen is not null).ToList();
        if (open.Count < 2) return;
        var established = open.Find(c => c.State == BgpState.Established);
        var remoteId = open[0].PeerOpen!.Identifier;
        var closeOutgoing = _options.Identifier.Value < remoteId.Value;
        foreach (var c in open)
        {
            var loses = established is not null ? c != established : c.Outgoing == closeOutgoing;
            if (loses) Close(c, BgpError.Cease(BgpError.ConnectionCollisionResolution), now, "connection collision");
        }
    }

    private void Establish(Connection c, TimeSpan now)
    {
        var p = c.Peer;
        c.State = BgpState.Established;
        RestartHold(c, now);
        p.EstablishedAt = now; // the last error stays: why the session went down before, for the summary
        _port.Report($"bgp: {p.Options.Name}: session with {p.Options.PeerAddress} (AS {p.Options.PeerAsn}) Established, hold time {c.HoldTime.TotalSeconds:0} s");
        foreach (var other in p.Connections.Where(o => o != c && !o.Detached).ToList())
            Close(other, BgpError.Cease(BgpError.ConnectionCollisionResolution), now, "connection collision");
        p.AdjOut.Clear();
        Advertise(p, now);
        Send(c, BgpCodec.EndOfRib(), now);
        Flush(c, now);
    }

    private void RestartHold(Connection c, TimeSpan now) => c.HoldAt = c.HoldTime > TimeSpan.Zero ? now + _options.Scale(c.HoldTime) : null;

    /// <summary>Ends a connection with a NOTIFICATION (when <paramref name="error"/> is one) and a FIN.</summary>
    private void Close(Connection c, BgpError error, TimeSpan now, string why)
    {
        if (c.Detached) return;
        if (!error.IsNone && c.Tcp.State is TcpState.Established or TcpState.CloseWait)
        {
            c.Pending.Clear();
            c.PendingOffset = 0;
            var notification = BgpCodec.Write(new BgpNotification(error));
            c.Pending.Enqueue(notification);
            c.PendingBytes = notification.Length;
            c.Peer.MessagesSent++;
            // A collision's loser is not the session's trouble: the other connection carries on.
            if (error.Code != BgpErrorCode.Cease || error.Subcode != BgpError.ConnectionCollisionResolution)
            {
                c.Peer.LastError = $"NOTIFICATION sent: {error.Text}";
                c.Peer.LastErrorAt = now;
                _port.Report($"bgp: {c.Peer.Options.Name}: NOTIFICATION to {c.Peer.Options.PeerAddress}: {error.Text}");
            }
        }
        Drop(c, why, now, abort: false);
    }

    /// <summary>The connection leaves the session: closed gracefully (after what is queued) or aborted with a RST.</summary>
    private void Drop(Connection c, string why, TimeSpan now, bool abort)
    {
        if (c.Detached) return;
        if (!abort) Flush(c, now);
        var output = abort ? c.Tcp.Abort(now) : c.Tcp.Close(now);
        c.Detached = true;
        Lost(c, why, now);
        Emit(c, output);
        if (c.Tcp.State == TcpState.Closed)
        {
            _connections.Remove(c.Key);
            c.Peer.Connections.Remove(c);
        }
    }

    /// <summary>A connection is gone: if it carried the session, the neighbour's routes go with it and it restarts later.</summary>
    private void Lost(Connection c, string why, TimeSpan now)
    {
        c.Detached = true;
        c.HoldAt = c.KeepaliveAt = null;
        var p = c.Peer;
        if (c.State == BgpState.Established)
        {
            p.Flaps++;
            p.EstablishedAt = null;
            // The NOTIFICATION that ended it, when there was one just now; otherwise why the connection went.
            if (p.LastErrorAt != now) p.LastError = why;
            p.LastErrorAt = now;
            _port.Report($"bgp: {p.Options.Name}: session with {p.Options.PeerAddress} ended: {why}; {p.AdjIn.Count} route(s) withdrawn");
            p.AdjOut.Clear();
            if (p.AdjIn.Count > 0)
            {
                p.AdjIn.Clear();
                Decide(now);
            }
        }
        c.State = BgpState.Idle;
        if (!_started || p.Passive || p.Suspended || p.Connections.Exists(o => !o.Detached) || p.RetryAt is not null) return;
        // Section 8.2.2: after a failed TCP attempt the ConnectRetryTimer; after a session, the idle hold time.
        p.RetryAt = now + _options.Scale(c.Outgoing && c.PeerOpen is null && why is "connection refused" or "TCP timed out" ? p.Options.ConnectRetry : p.Options.IdleHold);
    }

    // -------------------------------------------------------------------------------------------------------
    // Routes

    private void ReceiveUpdate(Connection c, BgpUpdate u, TimeSpan now)
    {
        var p = c.Peer;
        if (u.Attributes is { } a && !u.Nlri.IsEmpty)
        {
            // Section 6.3: from an external neighbour the path must start with its AS.
            if (p.Options.PeerAsn != _options.Asn && a.FirstAs != p.Options.PeerAsn)
            {
                Refuse(c, BgpError.Update(BgpError.MalformedAsPath), now);
                return;
            }
        }
        var changed = false;
        var learned = new List<Ipv4Prefix>();
        var withdrawn = new List<Ipv4Prefix>();
        foreach (var w in u.Withdrawn)
            if (p.AdjIn.Remove(w)) withdrawn.Add(w);
        changed |= withdrawn.Count > 0;
        if (u.Attributes is { } attributes)
        {
            foreach (var prefix in u.Nlri)
            {
                string? refused = null;
                if (attributes.ContainsAs(_options.Asn) && p.Options.PeerAsn != _options.Asn) refused = $"AS path {attributes.AsPathText} holds our AS {_options.Asn} (a loop)";
                else if (Owns(attributes.NextHop)) refused = $"its next hop {attributes.NextHop} is our own address";
                else refused = _options.Import?.Invoke(prefix, p.Options);
                if (refused is not null)
                {
                    // Treated as a withdrawal of that prefix (section 9.1.2; RFC 7606 section 2).
                    changed |= p.AdjIn.Remove(prefix);
                    _port.Dropped("bgp-route-refused", $"{p.Options.Name}: {prefix} from {p.Options.PeerAddress} not accepted: {refused}");
                    continue;
                }
                p.AdjIn[prefix] = new BgpRoute(prefix, p.Options.Name, p.Options.PeerAddress, p.Options.PeerAsn, c.PeerOpen!.Identifier, attributes, now);
                learned.Add(prefix);
                changed = true;
            }
        }
        if (p.Options.MaxPrefixes is null && p.AdjIn.Count > _options.PrefixLimit)
        {
            _port.Report($"bgp: {p.Options.Name}: {p.AdjIn.Count} prefixes from {p.Options.PeerAddress}, more than the {_options.PrefixLimit} one neighbour may make this speaker hold");
            _port.Dropped("bgp-cease-out-of-resources", $"{p.Options.Name}: more than {_options.PrefixLimit} prefixes");
            Close(c, BgpError.Cease(BgpError.OutOfResources), now, $"more than {_options.PrefixLimit} prefixes");
            return;
        }
        if (p.Options.MaxPrefixes is { } max && p.AdjIn.Count > max)
        {
            _port.Report($"bgp: {p.Options.Name}: {p.AdjIn.Count} prefixes from {p.Options.PeerAddress}, more than the {max} accepted");
            _port.Dropped("bgp-cease-max-prefixes", $"{p.Options.Name}: more than {max} prefixes");
            Close(c, BgpError.Cease(BgpError.MaximumPrefixesReached, [1, 0, 1, (byte)(max >> 24), (byte)(max >> 16), (byte)(max >> 8), (byte)max]), now, $"more than {max} prefixes");
            return;
        }
        if (learned.Count + withdrawn.Count > 0)
            _port.Report($"bgp: {p.Options.Name}: UPDATE from {p.Options.PeerAddress}: {Few(learned, "learned", u.Attributes)}{(learned.Count > 0 && withdrawn.Count > 0 ? "; " : "")}{Few(withdrawn, "withdrawn", null)}");
        if (changed) Decide(now);
    }

    /// <summary>"3 prefixes learned (10.0.0.0/16, ...) AS path 65515", at most four prefixes named.</summary>
    private static string Few(List<Ipv4Prefix> prefixes, string what, BgpPathAttributes? a) => prefixes.Count == 0 ? "" :
        $"{prefixes.Count} prefix{(prefixes.Count == 1 ? "" : "es")} {what} ({string.Join(", ", prefixes.Take(4))}{(prefixes.Count > 4 ? ", ..." : "")}){(a is null ? "" : $", AS path {a.AsPathText}")}";

    /// <summary>The decision process (section 9.1): the best route to each prefix over every neighbour; then what each is told.</summary>
    private void Decide(TimeSpan now)
    {
        var best = new Dictionary<Ipv4Prefix, BgpRoute>();
        foreach (var p in _peers)
        {
            if (p.Established is null) continue;
            foreach (var r in p.AdjIn.Values)
                if (!best.TryGetValue(r.Prefix, out var current) || Better(r, current)) best[r.Prefix] = r;
        }
        _best = best;
        // Some neighbour's routes changed (Decide runs for nothing else): the owner installs them even when the best
        // ones stay, since a multipath owner installs every equally good route.
        _port.RoutesChanged();
        foreach (var p in _peers)
            if (p.Established is not null) Advertise(p, now);
    }

    private static bool Better(BgpRoute a, BgpRoute b)
    {
        var x = a.Attributes;
        var y = b.Attributes;
        if (x.LocalPref != y.LocalPref) return (x.LocalPref ?? 100) > (y.LocalPref ?? 100);
        if (x.AsPathLength != y.AsPathLength) return x.AsPathLength < y.AsPathLength;
        if (x.Origin != y.Origin) return x.Origin < y.Origin;
        if (x.FirstAs == y.FirstAs && (x.MultiExitDisc ?? 0) != (y.MultiExitDisc ?? 0)) return (x.MultiExitDisc ?? 0) < (y.MultiExitDisc ?? 0);
        if (a.PeerIdentifier != b.PeerIdentifier) return a.PeerIdentifier < b.PeerIdentifier;
        return a.PeerAddress < b.PeerAddress;
    }

    /// <summary>Sends <paramref name="p"/> the difference between what it should hear and what it heard (its Adj-RIB-Out).</summary>
    private void Advertise(Peer p, TimeSpan now)
    {
        if (p.Established is not { } c) return;
        var local = new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [_options.Asn]);
        var own = new BgpPathAttributes { Origin = BgpOrigin.Igp, AsPath = [local], NextHop = p.Options.LocalAddress };
        var want = new Dictionary<Ipv4Prefix, BgpPathAttributes>();
        foreach (var n in _networks)
            if (!p.Options.Withheld.Contains(n) && !p.WithheldNow.Contains(n)) want[n] = own;
        foreach (var r in _best.Values)
        {
            if (want.ContainsKey(r.Prefix) || r.Peer == p.Options.Name || r.PeerAsn == p.Options.PeerAsn) continue;
            if (_options.Export is { } export && !export(r, p.Options)) continue;
            want[r.Prefix] = new BgpPathAttributes
            {
                Origin = r.Attributes.Origin,
                AsPath = Prepend(r.Attributes.AsPath, _options.Asn),
                NextHop = p.Options.LocalAddress,
                AtomicAggregate = r.Attributes.AtomicAggregate,
                Other = r.Attributes.Other,
            };
        }
        var withdrawn = p.AdjOut.Keys.Where(k => !want.ContainsKey(k)).ToList();
        foreach (var w in withdrawn) p.AdjOut.Remove(w);
        var groups = new Dictionary<string, (BgpPathAttributes Attributes, List<Ipv4Prefix> Prefixes)>();
        foreach (var (prefix, attributes) in want)
        {
            if (p.AdjOut.TryGetValue(prefix, out var sent) && Key(sent) == Key(attributes)) continue;
            p.AdjOut[prefix] = attributes;
            var key = Key(attributes);
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = (attributes, []);
            g.Prefixes.Add(prefix);
        }
        if (withdrawn.Count > 0)
            foreach (var m in BgpCodec.WriteUpdates(withdrawn, null, [], c.FourOctetAs)) Send(c, m, now);
        foreach (var (attributes, prefixes) in groups.Values)
            foreach (var m in BgpCodec.WriteUpdates([], attributes, prefixes, c.FourOctetAs)) Send(c, m, now);
        Flush(c, now);
    }

    private static ImmutableArray<BgpAsPathSegment> Prepend(ImmutableArray<BgpAsPathSegment> path, uint asn)
    {
        if (path.Length > 0 && path[0].Type == BgpAsPathSegmentType.AsSequence && path[0].Asns.Length < 255)
            return path.SetItem(0, path[0] with { Asns = path[0].Asns.Insert(0, asn) });
        return path.Insert(0, new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [asn]));
    }

    /// <summary>Path attributes compared by value (ImmutableArray compares by reference).</summary>
    private static string Key(BgpPathAttributes a) =>
        $"{a.Origin}|{a.AsPathText}|{a.NextHop}|{a.MultiExitDisc}|{a.LocalPref}|{a.AtomicAggregate}|{string.Join(",", a.Other.Select(o => $"{o.Flags}:{o.TypeCode}:{Convert.ToHexString(o.Value.AsSpan())}"))}";

    // -------------------------------------------------------------------------------------------------------

    private BgpPeerStatus Status(Peer p, TimeSpan now) => new(
        p.Options.Name, p.Options.LocalAddress, p.Options.PeerAddress, p.Options.PeerAsn, p.State,
        p.EstablishedAt is { } at ? now - at : null, p.MessagesSent, p.MessagesReceived, p.AdjIn.Count, p.AdjOut.Count, p.Flaps, p.LastError,
        p.Established?.HoldTime);

    /// <summary>RFC 9293 section 3.10.7.1: the RST a segment for no connection gets.</summary>
    private void Reset(Ipv4Endpoint local, Ipv4Endpoint remote, in TcpHeader tcp, int payloadLength)
    {
        var reset = tcp.Has(TcpFlags.Ack)
            ? new TcpHeader(local.Port, remote.Port, tcp.AcknowledgmentNumber, 0, TcpFlags.Rst, 0)
            : new TcpHeader(local.Port, remote.Port, 0, tcp.SequenceNumber + (uint)TcpHeader.SegmentLength(tcp.Flags, payloadLength), TcpFlags.Rst | TcpFlags.Ack, 0);
        _port.Send(local, remote, new TcpSegment(reset, []));
    }
}
