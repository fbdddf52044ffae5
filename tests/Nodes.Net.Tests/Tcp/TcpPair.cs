using Nodes.Net.Tcp;
using Nodes.Wire;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Tests.Tcp;

/// <summary>
/// Two TCP engines joined by a wire with a one-way delay, in virtual time. Every segment is encoded to
/// bytes with its checksum and parsed back, so the codec carries the whole conversation. A filter may drop
/// segments (loss, black holes); a trace keeps every segment that went on the wire.
/// </summary>
internal sealed class TcpPair
{
    public static readonly Ipv4Endpoint ClientEnd = new(Ipv4Address.Parse("192.168.29.55"), 50000);
    public static readonly Ipv4Endpoint ServerEnd = new(Ipv4Address.Parse("10.0.10.4"), 5001);

    private readonly List<(TimeSpan At, bool ToServer, byte[] Bytes)> _wire = [];

    public TcpPair(TimeSpan? delay = null, TcpConnectionOptions? client = null, Func<TcpConnectionOptions, TcpConnectionOptions>? server = null)
    {
        Delay = delay ?? TimeSpan.FromMilliseconds(10);
        ClientOptions = client ?? new TcpConnectionOptions { Local = ClientEnd, Remote = ServerEnd, InitialSequenceNumber = 0x1000_0000 };
        ServerOptions = server?.Invoke(ServerDefaults()) ?? ServerDefaults();
    }

    private static TcpConnectionOptions ServerDefaults() => new() { Local = ServerEnd, Remote = ClientEnd, InitialSequenceNumber = 0xfff0_0000 };

    public TimeSpan Delay { get; }
    public TimeSpan Now { get; private set; }
    public TcpConnectionOptions ClientOptions { get; }
    public TcpConnectionOptions ServerOptions { get; }
    public TcpConnection? Client { get; private set; }
    public TcpConnection? Server { get; private set; }

    /// <summary>Returns false to lose a segment on the wire.</summary>
    public Func<bool, TcpHeader, int, bool> Pass { get; set; } = (_, _, _) => true;

    /// <summary>What the server application does whenever it runs: read everything by default.</summary>
    public bool ServerReads { get; set; } = true;

    public List<(TimeSpan At, bool ToServer, TcpHeader Header, int Length)> Trace { get; } = [];

    public long ServerRead { get; private set; }

    public TcpConnection Open()
    {
        Client = TcpConnection.Open(ClientOptions, Now, out var output);
        Put(true, output);
        return Client;
    }

    /// <summary>Sends a crafted segment to one side as if it came from the other (an attacker knows the ports).</summary>
    public TcpOutput Inject(bool toServer, TcpHeader header, byte[]? payload = null)
    {
        var bytes = Encode(toServer, header, payload ?? []);
        var (from, to) = toServer ? (ClientEnd, ServerEnd) : (ServerEnd, ClientEnd);
        Assert.True(TcpHeader.TryParse(bytes, from.Address, to.Address, out var parsed, out var data, out _));
        var target = toServer ? Server! : Client!;
        return target.Receive(parsed, data, Now);
    }

    public void Put(bool toServer, TcpOutput output)
    {
        foreach (var s in output.Segments)
        {
            Trace.Add((Now, toServer, s.Header, s.Payload.Length));
            if (!Pass(toServer, s.Header, s.Payload.Length)) continue;
            _wire.Add((Now + Delay, toServer, Encode(toServer, s.Header, s.Payload)));
        }
    }

    private static byte[] Encode(bool toServer, TcpHeader header, byte[] payload)
    {
        var (from, to) = toServer ? (ClientEnd, ServerEnd) : (ServerEnd, ClientEnd);
        var bytes = new byte[header.EncodedLength + payload.Length];
        header.Encode(bytes);
        payload.CopyTo(bytes, header.EncodedLength);
        TcpHeader.WriteChecksum(bytes, from.Address, to.Address);
        return bytes;
    }

    /// <summary>Runs until <paramref name="done"/> holds or nothing is left to happen before <paramref name="limit"/>.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan limit)
    {
        while (!done())
        {
            var next = _wire.Count == 0 ? (TimeSpan?)null : _wire.Min(w => w.At);
            foreach (var c in new[] { Client, Server })
            {
                if (c?.NextDeadline is { } d && (next is null || d < next)) next = d;
            }

            if (next is null || next > limit) return done();
            Now = next.Value > Now ? next.Value : Now;
            var due = _wire.Where(w => w.At <= Now).ToList();
            _wire.RemoveAll(w => w.At <= Now);
            foreach (var (_, toServer, bytes) in due) Deliver(toServer, bytes);
            if (Client?.NextDeadline <= Now) Put(true, Client.Tick(Now));
            if (Server?.NextDeadline <= Now) Put(false, Server.Tick(Now));
            Application();
        }

        return true;
    }

    /// <summary>Both applications: the client writes what it was given; the server reads all (when it reads) and closes after the client.</summary>
    public Action<TcpPair>? ClientApplication { get; set; }

    private void Application()
    {
        ClientApplication?.Invoke(this);
        if (Server is { } server && ServerReads)
        {
            var buffer = new byte[65536];
            int n;
            while ((n = server.Read(buffer)) > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    if (buffer[i] != (byte)((ServerRead + i) % 251)) throw new InvalidOperationException($"octet {ServerRead + i} arrived corrupted or out of order");
                }

                ServerRead += n;
            }

            Put(false, server.Flush(Now));
            if (server.PeerClosed && server.State == TcpState.CloseWait) Put(false, server.Close(Now));
        }
    }

    private void Deliver(bool toServer, byte[] bytes)
    {
        var (from, to) = toServer ? (ClientEnd, ServerEnd) : (ServerEnd, ClientEnd);
        if (!TcpHeader.TryParse(bytes, from.Address, to.Address, out var header, out var payload, out var error))
        {
            throw new InvalidOperationException($"the engine sent an unparsable segment: {error}");
        }

        if (toServer)
        {
            if (Server is null || Server.State == TcpState.Closed)
            {
                if (header.Flags == TcpFlags.Syn)
                {
                    Server = TcpConnection.Accept(ServerOptions, header, Now, out var output);
                    Put(false, output);
                }

                return;
            }

            Put(false, Server.Receive(header, payload, Now));
        }
        else if (Client is not null)
        {
            Put(true, Client.Receive(header, payload, Now));
        }
    }

    /// <summary>A client application that writes <paramref name="total"/> octets of a counting pattern, then closes.</summary>
    public static Action<TcpPair> Bulk(long total)
    {
        long written = 0;
        return pair =>
        {
            var c = pair.Client!;
            if (c.State is not (TcpState.Established or TcpState.CloseWait)) return;
            while (written < total && c.WritableBytes > 0)
            {
                var chunk = new byte[(int)Math.Min(c.WritableBytes, total - written)];
                for (var i = 0; i < chunk.Length; i++) chunk[i] = (byte)((written + i) % 251);
                written += c.Write(chunk);
            }

            pair.Put(true, c.Flush(pair.Now));
            if (written == total) pair.Put(true, c.Close(pair.Now));
        };
    }
}
