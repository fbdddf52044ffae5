using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Wire.Tests.Tcp;

/// <summary>
/// The TCP codec against segments Linux 6 sent: a connection 192.168.29.55:33720 → 192.168.29.52:5001
/// between two network namespaces over a veth pair with checksum offload off, captured with tcpdump;
/// tshark reported every TCP checksum "Good". The datagrams are the IPv4 packets (Ethernet header removed).
/// </summary>
public class TcpHeaderTests
{
    private static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    private static readonly Ipv4Address Server = Ipv4Address.Parse("192.168.29.52");

    /// <summary>SYN: Seq 0x9c4f3886, Win 64240, MSS 1460, SACK_PERM, TSval 3802751617, NOP, WS 10 (the Linux layout).</summary>
    private const string Syn =
        "45 00 00 3c 2d e3 40 00 40 06 51 1d c0 a8 1d 37 c0 a8 1d 34" +
        "83 b8 13 89 9c 4f 38 86 00 00 00 00 a0 02 fa f0 e0 0d 00 00" +
        "02 04 05 b4 04 02 08 0a e2 a9 62 81 00 00 00 00 01 03 03 0a";

    /// <summary>SYN,ACK: Seq 0x435e5daa, Ack 0x9c4f3887, Win 65160, the same options echoing TSval.</summary>
    private const string SynAck =
        "45 00 00 3c 00 00 40 00 40 06 7f 00 c0 a8 1d 34 c0 a8 1d 37" +
        "13 89 83 b8 43 5e 5d aa 9c 4f 38 87 a0 12 fe 88 b2 4f 00 00" +
        "02 04 05 b4 04 02 08 0a ab 0a de 01 e2 a9 62 81 01 03 03 0a";

    /// <summary>PSH,ACK with "ping": Win 63 (scaled by 1024), NOP NOP Timestamps.</summary>
    private const string Data =
        "45 00 00 38 2d e5 40 00 40 06 51 1f c0 a8 1d 37 c0 a8 1d 34" +
        "83 b8 13 89 9c 4f 38 87 43 5e 5d ab 80 18 00 3f 00 8a 00 00" +
        "01 01 08 0a e2 a9 62 83 ab 0a de 01 70 69 6e 67";

    /// <summary>FIN,ACK from the server.</summary>
    private const string Fin =
        "45 00 00 34 9b e4 40 00 40 06 e3 23 c0 a8 1d 34 c0 a8 1d 37" +
        "13 89 83 b8 43 5e 5d af 9c 4f 38 8c 80 11 00 40 df 52 00 00" +
        "01 01 08 0a ab 0a de 0a e2 a9 62 83";

    private static byte[] SegmentOf(string hex) => Hex.Decode(hex)[20..];

    [Fact]
    public void Header_must_deconstruct_the_linux_syn()
    {
        Assert.True(TcpHeader.TryParse(SegmentOf(Syn), Client, Server, out var h, out var payload, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(33720, h.SourcePort);
        Assert.Equal(5001, h.DestinationPort);
        Assert.Equal(0x9c4f3886u, h.SequenceNumber);
        Assert.Equal(0u, h.AcknowledgmentNumber);
        Assert.Equal(TcpFlags.Syn, h.Flags);
        Assert.Equal(64240, h.Window);
        Assert.Equal(0xe00d, h.Checksum);
        Assert.Equal(new TcpOptions(1460, 10, SackPermitted: true, new TcpTimestamps(3802751617, 0)), h.Options);
        Assert.Equal(40, h.EncodedLength);
        Assert.True(payload.IsEmpty);
        Assert.Equal(1, TcpHeader.SegmentLength(h.Flags, payload.Length));
    }

    [Fact]
    public void Header_must_deconstruct_data_and_fin()
    {
        Assert.True(TcpHeader.TryParse(SegmentOf(Data), Client, Server, out var data, out var payload, out _));
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, data.Flags);
        Assert.Equal(0x435e5dabu, data.AcknowledgmentNumber);
        Assert.Equal(63, data.Window);
        Assert.Equal(new TcpOptions(Timestamps: new TcpTimestamps(3802751619, 2869616129)), data.Options);
        Assert.Equal("ping"u8.ToArray(), payload.ToArray());

        Assert.True(TcpHeader.TryParse(SegmentOf(Fin), Server, Client, out var fin, out payload, out _));
        Assert.True(fin.Has(TcpFlags.Fin | TcpFlags.Ack));
        Assert.Equal(1, TcpHeader.SegmentLength(fin.Flags, payload.Length));
    }

    [Theory]
    [InlineData(Syn, true)]
    [InlineData(SynAck, false)]
    public void Header_must_construct_the_linux_handshake(string hex, bool fromClient)
    {
        var expected = SegmentOf(hex);
        var (source, destination) = fromClient ? (Client, Server) : (Server, Client);
        Assert.True(TcpHeader.TryParse(expected, out var parsed, out _, out _));
        var header = parsed with { Checksum = 0 };
        var segment = new byte[header.EncodedLength];
        Assert.Equal(40, header.Encode(segment));
        TcpHeader.WriteChecksum(segment, source, destination);
        Assert.Equal(expected, segment);
    }

    [Fact]
    public void Writer_must_emit_the_whole_data_datagram()
    {
        var expected = Hex.Decode(Data);
        Assert.True(TcpHeader.TryParse(expected.AsSpan(20), out var header, out var payload, out _));
        var template = new Ipv4Template(Client, Server, 0x2de5, 64, DontFragment: true);
        var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(header, payload.Length)];
        Assert.Equal(56, Ipv4PacketWriter.WriteTcp(datagram, template, header with { Checksum = 0 }, payload));
        Assert.Equal(expected, datagram);
    }

    [Fact]
    public void Header_must_check_length()
    {
        var segment = SegmentOf(Syn);
        Assert.False(TcpHeader.TryParse(segment.AsSpan(0, 19), out _, out _, out var error));
        Assert.Equal(WireError.Truncated, error);

        // Data Offset 10 words, but only 39 octets.
        Assert.False(TcpHeader.TryParse(segment.AsSpan(0, 39), out _, out _, out error));
        Assert.Equal(WireError.Truncated, error);
    }

    [Fact]
    public void Options_must_report_buffer_length_in_whole_words()
    {
        Assert.Equal(0, TcpOptions.None.EncodedLength);
        Assert.Equal(4, new TcpOptions(1460).EncodedLength);
        Assert.Equal(8, new TcpOptions(1460, WindowScale: 8).EncodedLength);
        Assert.Equal(8, new TcpOptions(1460, SackPermitted: true).EncodedLength);
        Assert.Equal(20, new TcpOptions(1460, 7, true, new TcpTimestamps(1, 2)).EncodedLength);
        Assert.Equal(12, new TcpOptions(Timestamps: new TcpTimestamps(1, 2)).EncodedLength);
        Assert.Throws<ArgumentException>(() => new TcpHeader(1, 2, 3, 4, TcpFlags.Syn, 5, Options: new TcpOptions(1460)).Encode(new byte[23]));
    }

    [Fact]
    public void Options_must_parse_the_windows_layout_and_skip_unknown_kinds()
    {
        // Windows 10/11 SYN: MSS 1460, NOP, WS 8, NOP, NOP, SACK_PERM; then an unknown kind 254 of length 4 and EOL.
        Assert.True(TcpOptions.TryParse(Hex.Decode("02 04 05 b4 01 03 03 08 01 01 04 02 fe 04 12 34 00 00 00 00"), out var options, out _));
        Assert.Equal(new TcpOptions(1460, 8, SackPermitted: true), options);

        // SACK blocks (kind 5) are skipped, not refused.
        Assert.True(TcpOptions.TryParse(Hex.Decode("01 01 05 0a 00 00 00 01 00 00 00 02"), out options, out _));
        Assert.Equal(TcpOptions.None, options);
    }

    [Theory]
    [InlineData("length 0", "02 00 05 b4")]
    [InlineData("length 1", "02 01 05 b4")]
    [InlineData("length past the list", "08 0a 00 00 00 01")]
    [InlineData("MSS of length 3", "02 03 05 00")]
    [InlineData("window scale of length 4", "03 04 07 00")]
    [InlineData("SACK-permitted of length 3", "04 03 00 00")]
    [InlineData("timestamps of length 8", "08 08 00 00 00 01 00 00")]
    [InlineData("kind without length", "01 01 01 02")]
    public void Options_must_refuse_malformed_lists(string description, string hex)
    {
        Assert.False(TcpOptions.TryParse(Hex.Decode(hex), out var options, out var error), description);
        Assert.Equal(WireError.BadValue, error);
        Assert.Equal(TcpOptions.None, options);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("data offset 4", "83 b8 13 89 9c 4f 38 86 00 00 00 00 40 02 fa f0 e0 0d 00 00", WireError.BadHeaderLength)]
    [InlineData("data offset 0", "83 b8 13 89 9c 4f 38 86 00 00 00 00 00 02 fa f0 e0 0d 00 00", WireError.BadHeaderLength)]
    [InlineData("data offset 6 with 20 octets", "83 b8 13 89 9c 4f 38 86 00 00 00 00 60 02 fa f0 e0 0d 00 00", WireError.Truncated)]
    [InlineData("checksum zero", "83 b8 13 89 9c 4f 38 86 00 00 00 00 50 02 fa f0 00 00 00 00", WireError.BadChecksum)]
    public void TryParse_must_refuse_malformed_segments(string description, string hex, WireError expected)
    {
        Assert.False(TcpHeader.TryParse(Hex.Decode(hex), Client, Server, out var header, out var payload, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, header);
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void TryParse_must_refuse_a_flipped_bit_and_a_wrong_pseudo_header()
    {
        var segment = SegmentOf(Data);
        segment[^1] ^= 0x01;
        Assert.False(TcpHeader.TryParse(segment, Client, Server, out _, out _, out var error));
        Assert.Equal(WireError.BadChecksum, error);
        Assert.False(TcpHeader.TryParse(SegmentOf(Data), Client, Ipv4Address.Parse("192.168.29.53"), out _, out _, out error));
        Assert.Equal(WireError.BadChecksum, error);
    }

    [Property]
    public bool Checksummed_segments_must_round_trip(ushort sp, ushort dp, uint seq, uint ack, byte flags, ushort window, ushort? mss, byte? scale, bool sack, byte[] payload)
    {
        var header = new TcpHeader(sp, dp, seq, ack, (TcpFlags)flags, window, Options: new TcpOptions(mss, scale, sack));
        var segment = new byte[header.EncodedLength + payload.Length];
        header.Encode(segment);
        payload.CopyTo(segment, header.EncodedLength);
        TcpHeader.WriteChecksum(segment, Client, Server);
        return TcpHeader.TryParse(segment, Client, Server, out var parsed, out var data, out _)
            && parsed with { Checksum = 0 } == header
            && data.SequenceEqual(payload);
    }

    [Property]
    public bool TryParse_must_never_throw_on_arbitrary_bytes(byte[] bytes) =>
        TcpHeader.TryParse(bytes, Client, Server, out _, out _, out var error) == (error == WireError.None);
}
