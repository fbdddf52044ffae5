using System.Threading.Channels;
using Nodes.Actors.Lab;
using Nodes.Capture;
using Nodes.Messages;
using Nodes.Topology.Model;
using Nodes.Wire.Esp;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Bgp;
using Nodes.Wire.Tcp;
using Nodes.Wire.Udp;

namespace Nodes.Web;

/// <summary>One hop: a frame one node sent onto one link, and the node(s) the link hands it to.</summary>
/// <param name="T">Milliseconds since the recording started.</param>
/// <param name="Protocol">IKE, ESP, ICMP, UDP or IP: what the filter matches.</param>
public sealed record Hop(long Id, double T, string Link, string From, string FromInterface, IReadOnlyList<string> To, string Protocol, string Summary, int Length)
{
    internal byte[] Bytes { get; init; } = [];
}

/// <summary>A node event or a fault answer, on the same clock as the hops.</summary>
public sealed record LabEvent(long Id, double T, string Node, string Kind, string Text, bool Fault, bool Ok);

/// <summary>
/// Records what the lab's links carry (as the capture sees it) and what the nodes say, for the web view: every hop
/// with its bytes, every node event and fault, and the keys every SA exported for Wireshark. Everything recorded is
/// handed to the page's streams in order. Called from many actor threads, so it locks.
/// </summary>
public sealed class LabRecorder : ICaptureTap, IKeyRing
{
    /// <summary>How many hops are kept; past it, new hops are counted but not kept (a page can hold this many).</summary>
    public const int MaxHops = 200_000;

    private readonly object _gate = new();
    private readonly List<Hop> _hops = [];
    private readonly List<LabEvent> _events = [];
    private readonly WiresharkKeys _keys = new();
    private readonly Dictionary<uint, EspSaKeyEntry> _esp = [];
    private readonly Dictionary<(ulong, ulong), IkeSaKeyEntry> _ike = [];
    private readonly List<Channel<object>> _subscribers = [];
    private readonly List<(string Link, Channel<(DateTimeOffset, byte[])> Channel)> _captures = [];
    private readonly Dictionary<string, LinkSpec> _links;
    private readonly List<(DateTimeOffset At, string Link, byte[] Bytes)> _wire = [];

    public LabRecorder(TopologySpec lab, DateTimeOffset epoch)
    {
        Lab = lab;
        Epoch = epoch;
        _links = lab.Links.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    public TopologySpec Lab { get; }

    public DateTimeOffset Epoch { get; }

    /// <summary>Hops seen after <see cref="MaxHops"/> were kept.</summary>
    public long Unrecorded { get; private set; }

    public void Frame(string link, string fromNode, string fromInterface, Ipv4Address nextHop, DateTimeOffset at, ReadOnlySpan<byte> packet)
    {
        var bytes = packet.ToArray();
        var (protocol, summary) = Classify(bytes);
        var to = Receivers(link, fromNode, fromInterface, nextHop);
        lock (_gate)
        {
            if (_wire.Count < MaxHops) _wire.Add((at, link, bytes));
            foreach (var (l, c) in _captures) if (l == link) c.Writer.TryWrite((at, bytes));
            if (_hops.Count >= MaxHops)
            {
                Unrecorded++;
                return;
            }
            var hop = new Hop(_hops.Count, (at - Epoch).TotalMilliseconds, link, fromNode, fromInterface, to, protocol, summary, bytes.Length) { Bytes = bytes };
            _hops.Add(hop);
            Publish(hop);
        }
    }

    public void Keys(EspSaKeyEntry esp)
    {
        lock (_gate)
        {
            _esp[esp.Spi] = esp;
            _keys.Add(esp);
        }
    }

    public void Keys(IkeSaKeyEntry ike)
    {
        lock (_gate)
        {
            _ike[(ike.InitiatorSpi, ike.ResponderSpi)] = ike;
            _keys.Add(ike);
        }
    }

    public EspSaKeyEntry? Esp(uint spi)
    {
        lock (_gate) return _esp.GetValueOrDefault(spi);
    }

    public IkeSaKeyEntry? Ike(ulong initiatorSpi, ulong responderSpi)
    {
        lock (_gate) return _ike.GetValueOrDefault((initiatorSpi, responderSpi));
    }

    /// <summary>The esp_sa file's text as it stands now (key bytes: served only on loopback, as a capture folder holds them).</summary>
    public string EspSaFile()
    {
        lock (_gate) return _keys.EspSaFile();
    }

    public string IkeFile()
    {
        lock (_gate) return _keys.IkeFile();
    }

    public void Event(NodeEvent e) => AddEvent(e.AtUnixMs, e.Node, e.Kind, e.Text, fault: false, ok: true);

    public void Fault(FaultApplied f) =>
        AddEvent(f.AtUnixMs, f.Target, f.Origin, $"{f.Fault}{(f.Ok ? "" : " refused")}: {f.Detail}", fault: true, ok: f.Ok);

    private void AddEvent(long atUnixMs, string node, string kind, string text, bool fault, bool ok)
    {
        lock (_gate)
        {
            var e = new LabEvent(_events.Count, (DateTimeOffset.FromUnixTimeMilliseconds(atUnixMs) - Epoch).TotalMilliseconds, node, kind, text, fault, ok);
            _events.Add(e);
            Publish(e);
        }
    }

    /// <summary>Tells every page (the status of nodes and links changed).</summary>
    public void Publish(object message)
    {
        lock (_gate)
            foreach (var s in _subscribers) s.Writer.TryWrite(message);
    }

    public Hop? FindHop(long id)
    {
        lock (_gate) return id >= 0 && id < _hops.Count ? _hops[(int)id] : null;
    }

    public IReadOnlyList<Hop> Hops()
    {
        lock (_gate) return _hops.ToArray();
    }

    public IReadOnlyList<LabEvent> Events()
    {
        lock (_gate) return _events.ToArray();
    }

    /// <summary>A page's stream: everything recorded so far, then whatever comes; disposing ends it.</summary>
    public Subscription Subscribe(object? first = null)
    {
        var channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            if (first is not null) channel.Writer.TryWrite(first);
            // Hops and events interleaved by time, as they happened.
            var merged = _hops.Cast<object>().Concat(_events).OrderBy(o => o is Hop h ? h.T : ((LabEvent)o).T);
            foreach (var o in merged) channel.Writer.TryWrite(o);
            channel.Writer.TryWrite(CaughtUp.Instance);
            _subscribers.Add(channel);
        }
        return new Subscription(channel.Reader, () =>
        {
            lock (_gate) _subscribers.Remove(channel);
            channel.Writer.TryComplete();
        });
    }

    /// <summary>A link's frames: those recorded so far, then each new one, until disposed.</summary>
    public CaptureSubscription SubscribeCapture(string link)
    {
        var channel = Channel.CreateUnbounded<(DateTimeOffset, byte[])>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            foreach (var (at, l, bytes) in _wire) if (l == link) channel.Writer.TryWrite((at, bytes));
            _captures.Add((link, channel));
        }
        return new CaptureSubscription(channel.Reader, () =>
        {
            lock (_gate) _captures.RemoveAll(c => c.Channel == channel);
            channel.Writer.TryComplete();
        });
    }

    /// <summary>Ends every stream (the run is over).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            foreach (var s in _subscribers) s.Writer.TryComplete();
            foreach (var (_, c) in _captures) c.Writer.TryComplete();
        }
    }

    /// <summary>Follows the history in a page's stream: what comes after it is live.</summary>
    public sealed class CaughtUp
    {
        public static readonly CaughtUp Instance = new();
    }

    public sealed class Subscription(ChannelReader<object> reader, Action dispose) : IDisposable
    {
        public ChannelReader<object> Reader => reader;

        public void Dispose() => dispose();
    }

    public sealed class CaptureSubscription(ChannelReader<(DateTimeOffset At, byte[] Bytes)> reader, Action dispose) : IDisposable
    {
        public ChannelReader<(DateTimeOffset At, byte[] Bytes)> Reader => reader;

        public void Dispose() => dispose();
    }

    /// <summary>
    /// Who takes a frame: on a point-to-point link the other end; on a segment the end that owns the next hop (all
    /// other ends for a broadcast), as the link actor delivers it.
    /// </summary>
    private IReadOnlyList<string> Receivers(string link, string fromNode, string fromInterface, Ipv4Address nextHop)
    {
        if (!_links.TryGetValue(link, out var spec)) return [];
        var others = spec.Endpoints.Where(e => e.Node != fromNode || e.Interface != fromInterface).ToList();
        if (spec.Segment is null && spec.Endpoints.Length == 2) return others.Select(e => e.Node).ToArray();
        if (nextHop == Ipv4Address.Broadcast) return others.Select(e => e.Node).ToArray();
        return others.Where(e => Lab.FindNode(e.Node)?.Interfaces.FirstOrDefault(i => i.Name == e.Interface)?.Address == nextHop).Select(e => e.Node).ToArray();
    }

    /// <summary>The protocol the filter matches and a one-line summary, from the outer headers (no decryption).</summary>
    public static (string Protocol, string Summary) Classify(byte[] packet)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out var error)) return ("IP", $"malformed IPv4 ({error})");
        var addresses = $"{ip.Source} → {ip.Destination}";
        if (ip.FragmentOffset != 0) return ("IP", $"{addresses} fragment at {ip.FragmentByteOffset}");
        switch (ip.Protocol)
        {
            case IpProtocol.Esp:
                return EspHeader.TryParse(payload, out var esp, out _, out _) ? ("ESP", $"{addresses} ESP SPI 0x{esp.Spi:x8} seq {esp.SequenceNumber}") : ("ESP", $"{addresses} ESP (malformed)");
            case IpProtocol.Icmp:
                if (!Icmpv4Header.TryParse(payload, out var icmp, out _, out _)) return ("ICMP", $"{addresses} ICMP (malformed)");
                return ("ICMP", icmp.Type switch
                {
                    Icmpv4Type.EchoRequest => $"{addresses} ICMP echo request id 0x{icmp.Identifier:x4} seq {icmp.SequenceNumber}",
                    Icmpv4Type.EchoReply => $"{addresses} ICMP echo reply id 0x{icmp.Identifier:x4} seq {icmp.SequenceNumber}",
                    var t => $"{addresses} ICMP {t} code {icmp.Code}",
                });
            case IpProtocol.Udp:
                if (!UdpHeader.TryParse(payload, out var udp, out var data, out _)) return ("UDP", $"{addresses} UDP (malformed)");
                var ports = $"{ip.Source}:{udp.SourcePort} → {ip.Destination}:{udp.DestinationPort}";
                ReadOnlySpan<byte> ike = default;
                if (udp.SourcePort == UdpPorts.Ike || udp.DestinationPort == UdpPorts.Ike) ike = data;
                else if (udp.SourcePort == UdpPorts.IkeNatTraversal || udp.DestinationPort == UdpPorts.IkeNatTraversal)
                {
                    if (!UdpEncapsulation.TryClassify(data, out var kind, out var content, out _)) return ("UDP", $"{ports} UDP-encapsulated (malformed)");
                    if (kind == EncapsulatedKind.Keepalive) return ("UDP", $"{ports} NAT-keepalive");
                    if (kind == EncapsulatedKind.Esp)
                        return EspHeader.TryParse(content, out var e2, out _, out _) ? ("ESP", $"{ports} ESP SPI 0x{e2.Spi:x8} seq {e2.SequenceNumber}") : ("ESP", $"{ports} ESP (malformed)");
                    ike = content;
                }
                if (ike.Length > 0)
                    return IkeHeader.TryParse(ike, out var h, out _)
                        ? ("IKE", $"{ports} {FrameDecoder.ExchangeName(h.Exchange)} {(h.IsResponse ? "response" : "request")} MID {h.MessageId}")
                        : ("IKE", $"{ports} IKE (malformed)");
                return ("UDP", $"{ports} UDP {data.Length} bytes");
            case IpProtocol.Tcp:
            {
                if (!TcpHeader.TryParse(payload, out var tcp, out var segment, out _)) return ("TCP", $"{addresses} TCP (malformed)");
                var ends = $"{ip.Source}:{tcp.SourcePort} → {ip.Destination}:{tcp.DestinationPort}";
                var flags = string.Join(",", new[] { (TcpFlags.Syn, "SYN"), (TcpFlags.Fin, "FIN"), (TcpFlags.Rst, "RST"), (TcpFlags.Psh, "PSH"), (TcpFlags.Ack, "ACK") }
                    .Where(f => tcp.Has(f.Item1)).Select(f => f.Item2));
                var head = $"{ends} TCP [{flags}] seq {tcp.SequenceNumber} len {segment.Length}";
                if (segment.Length == 0 || (tcp.SourcePort != 179 && tcp.DestinationPort != 179)) return ("TCP", head);
                // The BGP messages whose headers the segment holds (a message may go on in the next segment).
                var types = new List<string>();
                var rest = segment;
                while (rest.Length >= BgpCodec.HeaderLength && rest[..BgpCodec.MarkerLength].IndexOfAnyExcept((byte)0xff) < 0)
                {
                    types.Add(FrameDecoder.BgpName((BgpMessageType)rest[BgpCodec.MarkerLength + 2]));
                    var size = rest[BgpCodec.MarkerLength] << 8 | rest[BgpCodec.MarkerLength + 1];
                    if (size < BgpCodec.HeaderLength || size > rest.Length) break;
                    rest = rest[size..];
                }
                return ("BGP", types.Count > 0 ? $"{head} BGP {string.Join(", ", types)}" : $"{head} BGP (continued)");
            }
            default:
                return ("IP", $"{addresses} protocol {(byte)ip.Protocol}");
        }
    }
}
