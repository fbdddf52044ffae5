using System.Buffers.Binary;
using Nodes.Net.Routing;
using Nodes.Net.Tcp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Hosts;

/// <summary>
/// TCP on the host: listening ports with a server application, client flows, one <see cref="TcpConnection"/>
/// per (local port, remote endpoint), RSTs for segments nobody wants (RFC 9293 §3.10.7.1), and ICMP
/// fragmentation-needed handed to the connections it concerns. Every segment leaves with DF set
/// (RFC 1191 §3), sized for the path MTU the host knows.
/// </summary>
public sealed partial class HostStack
{
    private const int EphemeralFirst = 49152; // RFC 6335 §6: the dynamic port range.
    private readonly Dictionary<(ushort Local, Ipv4Endpoint Remote), TcpEndpoint> _tcp = new();
    private readonly Dictionary<ushort, TcpListenOptions> _tcpListeners = new();
    private DeterministicRandom? _tcpRandom;
    private int _nextEphemeral;

    private sealed record TcpEndpoint(TcpConnection Connection, TcpFlow? Flow, TcpServerSession? Session);

    /// <summary>Connections a listening port accepted, in order (kept after they close, for the accounting).</summary>
    public List<TcpServerSession> TcpSessions { get; } = [];

    /// <summary>When a TCP timer next runs, or null when none does.</summary>
    public TimeSpan? NextTcpDeadline
    {
        get
        {
            // Asked after every datagram the host handles: a loop, not a query that allocates three iterators.
            TimeSpan? next = null;
            foreach (var e in _tcp.Values)
                if (e.Connection.NextDeadline is { } d && (next is null || d < next)) next = d;
            return next;
        }
    }

    /// <summary>Open TCP connections (TIME-WAIT included).</summary>
    public int TcpConnections => _tcp.Count;

    /// <summary>Accepts connections on <paramref name="options"/>.Port from now on; replaces an earlier listener on that port.</summary>
    public void ListenTcp(TcpListenOptions options) => _tcpListeners[options.Port] = options;

    /// <summary>Opens a client flow: a SYN from an ephemeral port, then the flow's application.</summary>
    public TcpFlow StartTcp(TcpFlowOptions options, TimeSpan now, out HostOutput output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Requests);
        var port = NextEphemeralPort(options.Destination);
        var flow = new TcpFlow(options, port, now);
        if (!TryRoute(options.Destination.Address, out _, out var egress))
        {
            flow.Outcome = TcpFlowOutcome.NoRoute;
            Drops.Add(DropReason.NoRoute);
            output = new HostOutput([], [], DropReason.NoRoute);
            return flow;
        }

        var connection = TcpConnection.Open(ConnectionOptions(new Ipv4Endpoint(egress.Address, port), options.Destination, egress), now, out var syn);
        flow.Connection = connection;
        var endpoint = new TcpEndpoint(connection, flow, null);
        _tcp[(port, options.Destination)] = endpoint;
        output = new HostOutput(Settle(endpoint, syn, now), [], DropReason.None);
        return flow;
    }

    /// <summary>Ends a flow that is still running (its time limit came): a RST, and the flow counts as unfinished.</summary>
    public HostOutput AbortTcp(TcpFlow flow, TimeSpan now)
    {
        if (flow.Done || flow.Connection is not { } c) return HostOutput.Empty;
        flow.Outcome = TcpFlowOutcome.Unfinished;
        var output = c.Abort(now);
        _tcp.Remove((c.Options.Local.Port, c.Options.Remote));
        return new HostOutput(EmitTcp(c.Options.Local, c.Options.Remote, output.Segments), [], DropReason.None);
    }

    private TcpConnectionOptions ConnectionOptions(Ipv4Endpoint local, Ipv4Endpoint remote, IpInterface egress)
    {
        _tcpRandom ??= new DeterministicRandom(DeterministicRandom.Derive(Options.Seed, "tcp-isn"));
        return new TcpConnectionOptions
        {
            Local = local,
            Remote = remote,
            InitialSequenceNumber = (uint)_tcpRandom.NextUInt64(),

            // RFC 9293 §3.7.1: the MSS announced is the MTU of the interface minus the IP and TCP headers.
            MaximumSegmentSize = (ushort)Math.Max(IpInterface.MinimumMtu - 40, egress.Mtu - 40),
            PathMtu = Math.Min(egress.Mtu, PathMtu(remote.Address) ?? egress.Mtu),
        };
    }

    private ushort NextEphemeralPort(Ipv4Endpoint remote)
    {
        for (var i = 0; i < 65536 - EphemeralFirst; i++)
        {
            var port = (ushort)(EphemeralFirst + ((_nextEphemeral++ + (int)(Options.Seed % 1000)) % (65536 - EphemeralFirst)));
            if (!_tcp.ContainsKey((port, remote))) return port;
        }

        throw new InvalidOperationException($"every ephemeral port to {remote} is in use");
    }

    private HostOutput ReceiveTcp(Ipv4Header header, byte[] segment, TimeSpan now)
    {
        if (!TcpHeader.TryParse(segment, header.Source, header.Destination, out var tcp, out var payload, out var error))
        {
            return Drop(error == Wire.WireError.BadChecksum ? DropReason.TcpChecksum : DropReason.Malformed);
        }

        var remote = new Ipv4Endpoint(header.Source, tcp.SourcePort);
        if (_tcp.TryGetValue((tcp.DestinationPort, remote), out var endpoint))
        {
            var output = endpoint.Connection.Receive(tcp, payload, now);
            return new HostOutput(Settle(endpoint, output, now), [], DropReason.None);
        }

        // RFC 9293 §3.10.7.2: a listener takes a SYN; an ACK draws a RST; an RST is ignored.
        if (_tcpListeners.TryGetValue(tcp.DestinationPort, out var listen) && !tcp.Has(TcpFlags.Rst))
        {
            if (tcp.Has(TcpFlags.Syn) && !tcp.Has(TcpFlags.Ack) && TryRoute(header.Source, out _, out var egress))
            {
                var local = new Ipv4Endpoint(header.Destination, tcp.DestinationPort);
                var connection = TcpConnection.Accept(ConnectionOptions(local, remote, egress), tcp, now, out var synAck);
                var session = new TcpServerSession(listen, connection);
                TcpSessions.Add(session);
                var accepted = new TcpEndpoint(connection, null, session);
                _tcp[(tcp.DestinationPort, remote)] = accepted;
                return new HostOutput(Settle(accepted, synAck, now), [], DropReason.None);
            }
        }

        if (tcp.Has(TcpFlags.Rst)) return Drop(DropReason.NoListener);

        // RFC 9293 §3.10.7.1 (CLOSED): an ACK gets <SEQ=SEG.ACK><CTL=RST>, anything else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
        var reset = tcp.Has(TcpFlags.Ack)
            ? new TcpHeader(tcp.DestinationPort, tcp.SourcePort, tcp.AcknowledgmentNumber, 0, TcpFlags.Rst, 0)
            : new TcpHeader(tcp.DestinationPort, tcp.SourcePort, 0, tcp.SequenceNumber + (uint)TcpHeader.SegmentLength(tcp.Flags, payload.Length), TcpFlags.Rst | TcpFlags.Ack, 0);
        Drops.Add(DropReason.NoListener);
        var sent = EmitTcp(new Ipv4Endpoint(header.Destination, tcp.DestinationPort), remote, [new TcpSegment(reset, [])]);
        return new HostOutput(sent, [], DropReason.NoListener);
    }

    private List<Transmission> TickTcp(TimeSpan now)
    {
        var sent = new List<Transmission>();
        foreach (var endpoint in _tcp.Values.Where(e => e.Connection.NextDeadline <= now).ToList())
        {
            sent.AddRange(Settle(endpoint, endpoint.Connection.Tick(now), now));
        }

        return sent;
    }

    /// <summary>
    /// A fragmentation-needed about a TCP segment (RFC 1191 §6.4): the connections to that destination size
    /// their segments for the path MTU now known, when the quoted segment is one they have in flight.
    /// </summary>
    private List<Transmission> TcpPathMtuChanged(Ipv4Header quoted, ReadOnlySpan<byte> quotedPayload, TimeSpan now)
    {
        if (quotedPayload.Length < 8 || PathMtu(quoted.Destination) is not { } mtu) return [];
        var localPort = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[TcpHeader.Field.SourcePort..]);
        var remote = new Ipv4Endpoint(quoted.Destination, BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[TcpHeader.Field.DestinationPort..]));
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(quotedPayload[TcpHeader.Field.SequenceNumber..]);
        if (!_tcp.TryGetValue((localPort, remote), out var endpoint) || !endpoint.Connection.IsInFlight(sequence))
        {
            Drops.Add(DropReason.UnmatchedIcmp);
            return [];
        }

        return Settle(endpoint, endpoint.Connection.PathMtuChanged(mtu, now), now);
    }

    /// <summary>
    /// After any event of a connection: its application runs (writes, reads, closes), what the engine then has to
    /// send goes out, and a CLOSED connection is forgotten.
    /// </summary>
    private List<Transmission> Settle(TcpEndpoint endpoint, TcpOutput output, TimeSpan now)
    {
        var c = endpoint.Connection;
        var segments = new List<TcpSegment>(output.Segments);
        for (var round = 0; round < 64; round++)
        {
            var before = segments.Count;
            endpoint.Flow?.Run(c, now, segments);
            endpoint.Session?.Run(now, segments);
            segments.AddRange(c.Flush(now).Segments);
            if (segments.Count == before) break;
        }

        endpoint.Flow?.Run(c, now, segments);
        if (c.State == TcpState.Closed) _tcp.Remove((c.Options.Local.Port, c.Options.Remote));
        return EmitTcp(c.Options.Local, c.Options.Remote, segments);
    }

    private List<Transmission> EmitTcp(Ipv4Endpoint local, Ipv4Endpoint remote, IReadOnlyList<TcpSegment> segments)
    {
        var sent = new List<Transmission>();
        if (segments.Count == 0 || !TryRoute(remote.Address, out Route route, out var egress)) return sent;
        foreach (var s in segments)
        {
            var template = new Ipv4Template(local.Address, remote.Address, _identification++, Options.TimeToLive, DontFragment: true);
            var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(s.Header, s.Payload.Length)];
            Ipv4PacketWriter.WriteTcp(datagram, template, s.Header, s.Payload);
            sent.AddRange(Emit(datagram, route, egress, out _));
        }

        return sent;
    }
}
