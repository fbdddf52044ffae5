using Nodes.Capture;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Web.Tests;

/// <summary>The packet tree of the web view for TCP and the BGP it carries, without a browser.</summary>
public class FrameDecoderTests
{
    private sealed class NoKeys : IKeyRing
    {
        public EspSaKeyEntry? Esp(uint spi) => null;
        public IkeSaKeyEntry? Ike(ulong initiatorSpi, ulong responderSpi) => null;
    }

    private static byte[] Segment(byte[] payload, TcpFlags flags = TcpFlags.Ack | TcpFlags.Psh)
    {
        var header = new TcpHeader(50179, 179, 1000, 2000, flags, 64240);
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(header, payload.Length)];
        Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(Ipv4Address.Parse("192.168.29.52"), Ipv4Address.Parse("10.0.255.30"), 9, 128, DontFragment: true), header, payload);
        return datagram;
    }

    [Fact]
    public void A_segment_of_bgp_messages_is_shown_message_by_message_under_its_tcp_header()
    {
        var update = BgpCodec.WriteUpdates([], new BgpPathAttributes
        {
            Origin = BgpOrigin.Igp,
            AsPath = [new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [65010])],
            NextHop = Ipv4Address.Parse("192.168.29.52"),
        }, [Ipv4Prefix.Parse("192.168.29.0/24")], fourOctetAs: true).Single();
        byte[] stream = [.. BgpCodec.Write(BgpOpen.For(65010, 90, Ipv4Address.Parse("192.168.29.52"))), .. BgpCodec.Keepalive(), .. update];
        var frame = FrameDecoder.Decode(Segment(stream), new NoKeys());
        var names = frame.Layers.Select(l => l.Name).ToList();
        Assert.Contains(names, n => n.StartsWith("Transmission Control Protocol, Src Port: 50179, Dst Port: 179", StringComparison.Ordinal) && n.EndsWith("[PSH,ACK]", StringComparison.Ordinal));
        var tcp = frame.Layers.Single(l => l.Name.StartsWith("Transmission Control Protocol", StringComparison.Ordinal));
        Assert.Contains(tcp.Fields, f => f.Name == "Checksum" && f.Value.EndsWith("[verified]", StringComparison.Ordinal));
        var open = frame.Layers.Single(l => l.Name == "Border Gateway Protocol - OPEN Message");
        Assert.Contains(open.Fields, f => f.Name == "Capabilities" && f.Value.Contains("4-octet AS 65010", StringComparison.Ordinal));
        Assert.Contains(open.Fields, f => f.Name == "Hold time" && f.Value == "90 s");
        Assert.Contains(names, n => n == "Border Gateway Protocol - KEEPALIVE Message");
        var u = frame.Layers.Single(l => l.Name == "Border Gateway Protocol - UPDATE Message");
        Assert.Contains(u.Fields, f => f.Name == "Network layer reachability" && f.Value == "192.168.29.0/24");
        Assert.Contains(u.Fields, f => f.Name == "Path attributes" && f.Value.Contains("AS_PATH 65010", StringComparison.Ordinal));
        // Every field points inside its frame.
        Assert.All(frame.Layers.SelectMany(l => l.Fields), f => Assert.InRange(f.Offset + f.Length, 0, Segment(stream).Length));
    }

    [Fact]
    public void A_syn_shows_its_mss_and_a_message_cut_by_the_segment_end_is_a_continuation_not_an_error()
    {
        var syn = FrameDecoder.Decode(Syn(), new NoKeys());
        var tcp = Assert.Single(syn.Layers, l => l.Name.Contains("[SYN]", StringComparison.Ordinal));
        Assert.Contains(tcp.Fields, f => f.Name == "Options" && f.Value == "MSS 1360");
        Assert.Contains(tcp.Fields, f => f.Name == "Acknowledgment number" && f.Value == "(not set)");
        var cut = BgpCodec.Write(BgpOpen.For(65010, 90, Ipv4Address.Parse("192.168.29.52")))[..25];
        var frame = FrameDecoder.Decode(Segment(cut), new NoKeys());
        Assert.Contains(frame.Layers, l => l.Name.StartsWith("BGP: part of a message continued", StringComparison.Ordinal));
        var corrupt = Segment(cut);
        corrupt[^1] ^= 0xFF; // the checksum no longer verifies
        Assert.Contains(FrameDecoder.Decode(corrupt, new NoKeys()).Layers.SelectMany(l => l.Fields), f => f.Name == "Checksum" && f.Value.EndsWith("[WRONG]", StringComparison.Ordinal));
    }

    [Fact]
    public void The_hop_list_names_tcp_and_bgp_with_flags_and_message_types()
    {
        var (protocol, summary) = LabRecorder.Classify(Syn());
        Assert.Equal("TCP", protocol);
        Assert.Equal("192.168.29.52:50179 → 10.0.255.30:179 TCP [SYN] seq 1000 len 0", summary);
        byte[] stream = [.. BgpCodec.Keepalive(), .. BgpCodec.Write(BgpOpen.For(65010, 90, Ipv4Address.Parse("192.168.29.52")))];
        (protocol, summary) = LabRecorder.Classify(Segment(stream));
        Assert.Equal("BGP", protocol);
        Assert.EndsWith("TCP [PSH,ACK] seq 1000 len 64 BGP KEEPALIVE, OPEN", summary);
        (protocol, summary) = LabRecorder.Classify(Segment(stream[19..30]));
        Assert.Equal(("BGP", true), (protocol, summary.EndsWith("BGP (continued)", StringComparison.Ordinal)));
        var broken = Segment([]);
        broken[32] = 0x10; // a data offset of 4 bytes, shorter than the header
        Assert.Equal("TCP", LabRecorder.Classify(broken).Protocol);
        Assert.EndsWith("TCP (malformed)", LabRecorder.Classify(broken).Summary);
    }

    /// <summary>A SYN with the MSS option, as a host sends it.</summary>
    private static byte[] Syn()
    {
        var header = new TcpHeader(50179, 179, 1000, 0, TcpFlags.Syn, 64240, Options: new TcpOptions(MaximumSegmentSize: 1360));
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(header, 0)];
        Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(Ipv4Address.Parse("192.168.29.52"), Ipv4Address.Parse("10.0.255.30"), 9, 128, DontFragment: true), header, []);
        return datagram;
    }
}
