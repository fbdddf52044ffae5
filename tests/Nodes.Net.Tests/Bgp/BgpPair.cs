using System.Buffers.Binary;
using System.Collections.Immutable;
using Nodes.Net.Bgp;
using Nodes.Net.Tcp;
using Nodes.Wire;
using Nodes.Wire.Ip;
using Nodes.Wire.Bgp;
using Nodes.Wire.Tcp;

namespace Nodes.Net.Tests.Bgp;

/// <summary>
/// Two BGP speakers joined by a wire with a one-way delay, in virtual time. Every TCP segment is written as an IPv4
/// datagram with its checksums and parsed back, and kept for a capture. A filter may drop datagrams (a cut link),
/// and raw bytes can be injected into an established connection from a third party's TCP (an attacker's stream).
/// </summary>
internal sealed class BgpPair
{
    public static readonly Ipv4Address AzureAddress = Ipv4Address.Parse("10.0.255.30");
    public static readonly Ipv4Address RrasAddress = Ipv4Address.Parse("192.168.29.52");

    private readonly List<(TimeSpan At, int To, byte[] Datagram)> _wire = [];
    private ushort _id = 1;

    public BgpPair(Func<BgpSpeakerOptions, BgpSpeakerOptions>? azure = null, Func<BgpSpeakerOptions, BgpSpeakerOptions>? rras = null, TimeSpan? delay = null, bool rawNeighbour = false)
    {
        RawNeighbour = rawNeighbour;
        Delay = delay ?? TimeSpan.FromMilliseconds(15);
        var a = new BgpSpeakerOptions
        {
            Asn = 65515,
            Identifier = AzureAddress,
            Seed = 1,
            Networks = [Ipv4Prefix.Parse("10.0.0.0/16")],
            Peers = [new BgpPeerOptions { Name = "home-rras", LocalAddress = AzureAddress, PeerAddress = RrasAddress, PeerAsn = 65010 }],
        };
        var r = new BgpSpeakerOptions
        {
            Asn = 65010,
            Identifier = RrasAddress,
            Seed = 2,
            Networks = [Ipv4Prefix.Parse("192.168.29.0/24")],
            Peers = [new BgpPeerOptions { Name = "azure", LocalAddress = RrasAddress, PeerAddress = AzureAddress, PeerAsn = 65515 }],
        };
        Ports = [new Side(this, 0), new Side(this, 1)];
        Speakers = [new BgpSpeaker(azure?.Invoke(a) ?? a, Ports[0]), new BgpSpeaker(rras?.Invoke(r) ?? r, Ports[1])];
    }

    public TimeSpan Delay { get; }

    /// <summary>Side 1 is not a speaker but a bare TCP connection whose bytes the test writes (a hostile neighbour).</summary>
    public bool RawNeighbour { get; }

    /// <summary>False: the hostile neighbour never reads what arrives, so its receive window closes.</summary>
    public bool RawReads { get; set; } = true;

    /// <summary>The hostile neighbour's TCP connection, once <see cref="OpenRaw"/> opened it.</summary>
    public TcpConnection? Raw { get; private set; }

    private readonly List<byte> _rawReceived = [];
    public TimeSpan Now { get; private set; }
    public Side[] Ports { get; }
    public BgpSpeaker[] Speakers { get; }
    public BgpSpeaker Azure => Speakers[0];
    public BgpSpeaker Rras => Speakers[1];

    /// <summary>Returns false to lose a datagram (to speaker index, the datagram).</summary>
    public Func<int, byte[], bool> Pass { get; set; } = (_, _) => true;

    /// <summary>Every datagram that went on the wire, with its time.</summary>
    public List<(TimeSpan At, byte[] Datagram)> Capture { get; } = [];

    public void Start()
    {
        Azure.Start(Now);
        if (!RawNeighbour) Rras.Start(Now);
    }

    /// <summary>The hostile neighbour connects from RRAS's address to Azure's BGP port.</summary>
    public TcpConnection OpenRaw(ushort port = 50179)
    {
        Raw = TcpConnection.Open(new TcpConnectionOptions
        {
            Local = new Ipv4Endpoint(RrasAddress, port),
            Remote = new Ipv4Endpoint(AzureAddress, BgpSpeaker.Port),
            InitialSequenceNumber = 0x4000_0000,
        }, Now, out var syn);
        EmitRaw(syn);
        return Raw;
    }

    /// <summary>Writes <paramref name="bytes"/> into the hostile neighbour's stream.</summary>
    public void WriteRaw(byte[] bytes)
    {
        Assert.Equal(bytes.Length, Raw!.Write(bytes));
        EmitRaw(Raw.Flush(Now));
    }

    /// <summary>The BGP messages the hostile neighbour received so far.</summary>
    public List<BgpMessage> RawMessages()
    {
        var list = new List<BgpMessage>();
        var bytes = _rawReceived.ToArray().AsSpan();
        while (BgpCodec.TryFrame(bytes, out var length, out _))
        {
            Assert.True(BgpCodec.TryParse(bytes[..length], true, out var m, out var e), e.Text);
            list.Add(m!);
            bytes = bytes[length..];
        }
        return list;
    }

    private void EmitRaw(TcpOutput output)
    {
        foreach (var s in output.Segments) Ports[1].Send(Raw!.Options.Local, Raw.Options.Remote, s);
    }

    /// <summary>Runs the wire and both speakers' timers until <paramref name="until"/> (virtual time).</summary>
    public void RunUntil(TimeSpan until)
    {
        while (true)
        {
            var next = _wire.Count > 0 ? _wire.Min(w => w.At) : (TimeSpan?)null;
            if (RawNeighbour && Raw?.NextDeadline is { } rd && (next is null || rd < next)) next = rd;
            foreach (var s in Speakers)
                if (s.NextDeadline is { } d && (next is null || d < next)) next = d;
            if (next is null || next > until) break;
            Now = next.Value < Now ? Now : next.Value;
            var due = _wire.Where(w => w.At <= Now).ToList();
            _wire.RemoveAll(w => w.At <= Now);
            foreach (var (_, to, datagram) in due) Deliver(to, datagram);
            foreach (var s in Speakers)
                if (s.NextDeadline <= Now) s.Tick(Now);
            if (RawNeighbour && Raw?.NextDeadline <= Now) EmitRaw(Raw!.Tick(Now));
        }
        Now = until;
    }

    public void RunFor(TimeSpan span) => RunUntil(Now + span);

    /// <summary>Hands a datagram to speaker <paramref name="to"/> as the node would: IPv4 and TCP parsed, checksum checked.</summary>
    public void Deliver(int to, byte[] datagram)
    {
        Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _));
        Assert.True(TcpHeader.TryParse(payload, ip.Source, ip.Destination, out var tcp, out var data, out var error), error.ToString());
        if (to == 1 && RawNeighbour)
        {
            if (Raw is null) return;
            EmitRaw(Raw.Receive(tcp, data, Now));
            if (!RawReads) return;
            var buffer = new byte[Raw.ReadableBytes];
            Raw.Read(buffer);
            _rawReceived.AddRange(buffer);
            EmitRaw(Raw.Flush(Now));
            return;
        }
        Speakers[to].Receive(ip.Source, ip.Destination, tcp, data, Now);
    }

    /// <summary>A datagram as speaker <paramref name="to"/>'s neighbour would send it.</summary>
    public byte[] Datagram(Ipv4Endpoint from, Ipv4Endpoint to, TcpHeader header, byte[] payload)
    {
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(header, payload.Length)];
        Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(from.Address, to.Address, _id++, 64, DontFragment: true), header, payload);
        return datagram;
    }

    /// <summary>The pcap file of everything on the wire (link type raw IPv4).</summary>
    public byte[] Pcap()
    {
        using var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 101);
        ms.Write(h);
        Span<byte> r = stackalloc byte[16];
        foreach (var (at, d) in Capture)
        {
            var us = (long)(at.TotalMilliseconds * 1000);
            BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)(1_800_000_000 + us / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[4..], (uint)(us % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)d.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)d.Length);
            ms.Write(r);
            ms.Write(d);
        }
        return ms.ToArray();
    }

    /// <summary>The node around one speaker: it puts segments on the wire and keeps what the speaker reports.</summary>
    internal sealed class Side(BgpPair pair, int index) : IBgpPort
    {
        public List<string> Reports { get; } = [];
        public List<(string Reason, string? Detail)> Drops { get; } = [];
        public int RouteChanges { get; private set; }
        public List<byte[]> Sent { get; } = [];

        public void Send(Ipv4Endpoint local, Ipv4Endpoint remote, TcpSegment segment)
        {
            var datagram = pair.Datagram(local, remote, segment.Header, segment.Payload);
            Sent.Add(datagram);
            var to = 1 - index;
            if (!pair.Pass(to, datagram)) return;
            pair.Capture.Add((pair.Now, datagram));
            pair._wire.Add((pair.Now + pair.Delay, to, datagram));
        }

        public void Dropped(string reason, string? detail) => Drops.Add((reason, detail));
        public void Report(string text) => Reports.Add(text);
        public void RoutesChanged() => RouteChanges++;
    }
}
