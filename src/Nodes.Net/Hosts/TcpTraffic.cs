using Nodes.Net.Tcp;
using Nodes.Wire.Ip;

namespace Nodes.Net.Hosts;

/// <summary>What a TCP client flow does once connected.</summary>
public enum TcpFlowKind : byte
{
    /// <summary>Writes <see cref="TcpFlowOptions.Bytes"/> octets, then closes (like iperf or a file copy).</summary>
    Bulk,

    /// <summary>Sends a request, waits for the whole response, again, <see cref="TcpFlowOptions.Requests"/> times (like netperf TCP_RR).</summary>
    RequestResponse,
}

/// <summary>A TCP client flow to <paramref name="Destination"/>.</summary>
/// <param name="Bytes">Octets a bulk transfer writes.</param>
/// <param name="Requests">Exchanges of a request/response flow.</param>
/// <param name="RequestSize">Octets per request.</param>
/// <param name="ResponseSize">Octets per response (the server must be listening with the same sizes).</param>
public sealed record TcpFlowOptions(Ipv4Endpoint Destination, TcpFlowKind Kind, long Bytes = 0, int Requests = 0, int RequestSize = 0, int ResponseSize = 0);

/// <summary>What a listening port does with each connection it accepts.</summary>
/// <param name="RequestSize">0: read and discard everything (a sink for bulk transfers); above 0: answer every
/// <paramref name="RequestSize"/> octets read with <paramref name="ResponseSize"/> octets.</param>
public sealed record TcpListenOptions(ushort Port, int RequestSize = 0, int ResponseSize = 0);

/// <summary>How a TCP flow ended.</summary>
public enum TcpFlowOutcome : byte
{
    /// <summary>Still running.</summary>
    Running,

    /// <summary>Everything was sent, acknowledged (and answered) and the connection closed.</summary>
    Completed,

    /// <summary>The SYN went unanswered, or retransmissions ran out (R2).</summary>
    TimedOut,

    /// <summary>The server answered the SYN with a RST: nothing listens on the port.</summary>
    Refused,

    /// <summary>An acceptable RST ended it.</summary>
    Reset,

    /// <summary>No route to the destination.</summary>
    NoRoute,

    /// <summary>Still running when its time limit came; the client aborted it.</summary>
    Unfinished,
}

/// <summary>
/// One TCP client flow and its accounting: octets sent and acknowledged, exchanges completed with their
/// times, and the engine's retransmissions, timeouts and stalls. Owned by its <see cref="HostStack"/>.
/// </summary>
public sealed class TcpFlow
{
    private readonly List<TimeSpan> _exchangeTimes = [];
    private long _written;
    private long _responseRead;
    private TimeSpan? _requestSentAt;

    internal TcpFlow(TcpFlowOptions options, ushort localPort, TimeSpan now)
    {
        Options = options;
        LocalPort = localPort;
        StartedAt = now;
    }

    /// <summary>What this flow does.</summary>
    public TcpFlowOptions Options { get; }

    /// <summary>The client's port.</summary>
    public ushort LocalPort { get; }

    /// <summary>The connection (null when it could not be opened).</summary>
    public TcpConnection? Connection { get; internal set; }

    /// <summary>When the flow started (the SYN).</summary>
    public TimeSpan StartedAt { get; }

    /// <summary>When the last octet was acknowledged (bulk) or the last response read (request/response).</summary>
    public TimeSpan? FinishedAt { get; private set; }

    /// <summary>How it ended.</summary>
    public TcpFlowOutcome Outcome { get; internal set; }

    /// <summary>Exchanges completed.</summary>
    public int Exchanges => _exchangeTimes.Count;

    /// <summary>Time from each request's first octet written to its response's last octet read.</summary>
    public IReadOnlyList<TimeSpan> ExchangeTimes => _exchangeTimes;

    /// <summary>Octets the application wrote.</summary>
    public long BytesWritten => _written;

    /// <summary>Octets the peer acknowledged.</summary>
    public long BytesAcknowledged => Connection?.BytesAcknowledged ?? 0;

    /// <summary>Octets received (responses).</summary>
    public long BytesReceived => Connection?.BytesReceived ?? 0;

    /// <summary>True once the flow ended, either way.</summary>
    public bool Done => Outcome != TcpFlowOutcome.Running;

    /// <summary>Application octets acknowledged per second from the SYN to <see cref="FinishedAt"/> (or <paramref name="now"/>).</summary>
    public double Throughput(TimeSpan now)
    {
        var end = FinishedAt ?? now;
        var seconds = (end - StartedAt).TotalSeconds;
        return seconds <= 0 ? 0 : BytesAcknowledged / seconds;
    }

    /// <summary>Drives the application after every event of the connection.</summary>
    internal void Run(TcpConnection c, TimeSpan now, List<TcpSegment> sent)
    {
        if (Done) return;
        if (c.State == TcpState.Closed)
        {
            Outcome = c.CloseReason switch
            {
                TcpCloseReason.Closed when Finished => TcpFlowOutcome.Completed,
                TcpCloseReason.Refused => TcpFlowOutcome.Refused,
                TcpCloseReason.Reset => TcpFlowOutcome.Reset,
                _ => TcpFlowOutcome.TimedOut,
            };
            return;
        }

        if (c.State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.TimeWait)) return;
        if (Options.Kind == TcpFlowKind.Bulk) RunBulk(c, now, sent);
        else RunRequestResponse(c, now, sent);
        if (Finished && c.State is TcpState.FinWait2 or TcpState.TimeWait) Outcome = TcpFlowOutcome.Completed;
    }

    private bool Finished => FinishedAt is not null;

    private void RunBulk(TcpConnection c, TimeSpan now, List<TcpSegment> sent)
    {
        Span<byte> chunk = stackalloc byte[4096];
        while (_written < Options.Bytes && c.WritableBytes > 0)
        {
            var n = (int)Math.Min(Math.Min(chunk.Length, c.WritableBytes), Options.Bytes - _written);
            Pattern(chunk[..n], _written);
            _written += c.Write(chunk[..n]);
        }

        Discard(c);
        if (_written == Options.Bytes) sent.AddRange(c.Close(now).Segments);
        if (FinishedAt is null && c.BytesAcknowledged == Options.Bytes) FinishedAt = now;
    }

    private void RunRequestResponse(TcpConnection c, TimeSpan now, List<TcpSegment> sent)
    {
        _responseRead += Discard(c);
        if (_requestSentAt is { } requested && _responseRead >= Options.ResponseSize)
        {
            _responseRead -= Options.ResponseSize;
            _exchangeTimes.Add(now - requested);
            _requestSentAt = null;
        }

        if (_requestSentAt is null && Exchanges < Options.Requests && c.WritableBytes >= Options.RequestSize)
        {
            var request = new byte[Options.RequestSize];
            Pattern(request, _written);
            _written += c.Write(request);
            _requestSentAt = now;
        }

        if (Exchanges == Options.Requests && FinishedAt is null)
        {
            FinishedAt = now;
            sent.AddRange(c.Close(now).Segments);
        }
    }

    private static long Discard(TcpConnection c)
    {
        Span<byte> sink = stackalloc byte[4096];
        long total = 0;
        int n;
        while ((n = c.Read(sink)) > 0) total += n;
        return total;
    }

    /// <summary>The octets a flow writes: position modulo 251, so a receiver can tell a lost or reordered octet.</summary>
    internal static void Pattern(Span<byte> destination, long position)
    {
        for (var i = 0; i < destination.Length; i++) destination[i] = (byte)((position + i) % 251);
    }
}

/// <summary>A connection a listening port accepted, and what the host's server application did with it.</summary>
public sealed class TcpServerSession
{
    private long _unanswered;
    private long _owed;

    internal TcpServerSession(TcpListenOptions options, TcpConnection connection)
    {
        Options = options;
        Connection = connection;
    }

    /// <summary>The listening port's behaviour.</summary>
    public TcpListenOptions Options { get; }

    /// <summary>The accepted connection.</summary>
    public TcpConnection Connection { get; }

    /// <summary>Octets read.</summary>
    public long BytesRead { get; private set; }

    internal void Run(TimeSpan now, List<TcpSegment> sent)
    {
        var c = Connection;
        if (c.State is TcpState.Closed or TcpState.SynReceived) return;
        Span<byte> buffer = stackalloc byte[4096];
        int n;
        while ((n = c.Read(buffer)) > 0)
        {
            BytesRead += n;
            _unanswered += n;
        }

        if (Options.RequestSize > 0)
        {
            while (_unanswered >= Options.RequestSize)
            {
                _unanswered -= Options.RequestSize;
                _owed += Options.ResponseSize;
            }

            while (_owed > 0 && c.WritableBytes > 0)
            {
                var chunk = buffer[..(int)Math.Min(Math.Min(buffer.Length, c.WritableBytes), _owed)];
                TcpFlow.Pattern(chunk, 0);
                _owed -= c.Write(chunk);
            }
        }

        if (c.PeerClosed && c.State == TcpState.CloseWait && _owed == 0) sent.AddRange(c.Close(now).Segments);
    }
}
