using Nodes.Net.Bgp;
using Nodes.Net.Tcp;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Fuzz;

/// <summary>
/// A BGP speaker (Azure's side, AS 65515) with a neighbour whose bytes are the fuzz input: the neighbour's TCP
/// connection is a real <see cref="TcpConnection"/>, the speaker parses what arrives as the stream of a session.
/// With the first input byte odd the neighbour first sends a valid OPEN and KEEPALIVE, so the rest reaches the
/// Established state (UPDATE handling, the decision process, advertisements); even, the input is the whole stream
/// from the first byte (header and OPEN checks). The rest is cut into writes of the sizes <see cref="Frames"/> gives.
/// </summary>
public static class BgpTarget
{
    private static readonly Ipv4Address Azure = Ipv4Address.Parse("10.0.255.30");
    private static readonly Ipv4Address Neighbour = Ipv4Address.Parse("192.168.29.52");

    /// <summary>What the input did, before the timers ran: the session's state, the routes taken, the NOTIFICATIONs sent.</summary>
    public sealed record Outcome(BgpState State, int Routes, int NotificationsReceived);

    public static void Run(byte[] input) => Play(input);

    public static Outcome Play(byte[] input)
    {
        if (input.Length == 0) return new(BgpState.Idle, 0, 0);
        var wire = new Queue<(bool ToSpeaker, byte[] Datagram)>();
        var port = new Port(wire);
        var speaker = new BgpSpeaker(new BgpSpeakerOptions
        {
            Asn = 65515,
            Identifier = Azure,
            Networks = [Ipv4Prefix.Parse("10.0.0.0/16")],
            Peers = [new BgpPeerOptions { Name = "home", LocalAddress = Azure, PeerAddress = Neighbour, PeerAsn = 65010, Passive = true, MaxPrefixes = 4000 }],
            Import = (p, _) => p == Ipv4Prefix.Parse("10.0.0.0/16") ? "a VNet prefix" : null,
        }, port);
        var now = TimeSpan.Zero;
        speaker.Start(now);
        var tcp = TcpConnection.Open(new TcpConnectionOptions
        {
            Local = new Ipv4Endpoint(Neighbour, 50179),
            Remote = new Ipv4Endpoint(Azure, BgpSpeaker.Port),
            InitialSequenceNumber = 0x4000_0000,
        }, now, out var syn);
        var received = new List<byte>();
        void FromNeighbour(TcpOutput o)
        {
            foreach (var s in o.Segments) wire.Enqueue((true, Datagram(Neighbour, Azure, s)));
        }
        void Pump()
        {
            for (var steps = 0; steps < 10_000 && wire.TryDequeue(out var f); steps++)
            {
                Ipv4Header.TryParse(f.Datagram, out var ip, out _, out var payload, out _);
                if (!TcpHeader.TryParse(payload, ip.Source, ip.Destination, out var h, out var data, out _)) continue;
                if (f.ToSpeaker) speaker.Receive(ip.Source, ip.Destination, h, data, now);
                else
                {
                    FromNeighbour(tcp.Receive(h, data, now));
                    var buffer = new byte[tcp.ReadableBytes];
                    tcp.Read(buffer);
                    received.AddRange(buffer);
                    FromNeighbour(tcp.Flush(now));
                }
            }
        }
        FromNeighbour(syn);
        Pump();
        var stream = new List<byte[]>();
        if ((input[0] & 1) == 1)
        {
            stream.Add(BgpCodec.Write(BgpOpen.For(65010, 90, Neighbour)));
            stream.Add(BgpCodec.Keepalive());
        }
        foreach (var (_, bytes) in Frames.Split(input.AsSpan(1))) stream.Add(bytes);
        foreach (var chunk in stream)
        {
            if (tcp.State != TcpState.Established) break;
            var written = tcp.Write(chunk);
            FromNeighbour(tcp.Flush(now));
            now += TimeSpan.FromMilliseconds(10);
            Pump();
            if (written < chunk.Length) break;
        }
        var notifications = 0;
        var all = received.ToArray().AsSpan();
        while (BgpCodec.TryFrame(all, out var length, out _))
        {
            if (all[BgpCodec.MarkerLength + 2] == (byte)BgpMessageType.Notification) notifications++;
            all = all[length..];
        }
        var outcome = new Outcome(speaker.Peers(now).Single().State, speaker.BestRoutes.Count, notifications);
        // Then the timers: keepalives, the hold timer of a neighbour that went quiet, TCP retransmissions, retries.
        for (var i = 0; i < 8 && speaker.NextDeadline is { } d; i++)
        {
            now = d > now ? d : now + TimeSpan.FromMilliseconds(1);
            speaker.Tick(now);
            Pump();
        }
        return outcome;
    }

    private static byte[] Datagram(Ipv4Address from, Ipv4Address to, TcpSegment s)
    {
        var d = new byte[Ipv4PacketWriter.TcpDatagramLength(s.Header, s.Payload.Length)];
        Ipv4PacketWriter.WriteTcp(d, new Ipv4Template(from, to, 1, 64, DontFragment: true), s.Header, s.Payload);
        return d;
    }

    private sealed class Port(Queue<(bool ToSpeaker, byte[] Datagram)> wire) : IBgpPort
    {
        public void Send(Ipv4Endpoint local, Ipv4Endpoint remote, TcpSegment segment) => wire.Enqueue((false, Datagram(local.Address, remote.Address, segment)));
        public void Dropped(string reason, string? detail) { }
        public void Report(string text) { }
        public void RoutesChanged() { }
    }
}
