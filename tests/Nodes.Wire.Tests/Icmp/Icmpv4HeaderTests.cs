using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tests.Icmp;

public class Icmpv4HeaderTests
{
    private static byte[] IcmpOf(string packetHex) => Hex.Decode(packetHex)[20..];

    [Fact]
    public void Header_must_deconstruct_the_echo_request()
    {
        Assert.True(Icmpv4Header.TryParse(IcmpOf(Packets.Ping), out var header, out var data, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(Icmpv4Type.EchoRequest, header.Type);
        Assert.Equal(0, header.Code);
        Assert.Equal(0x4d3a, header.Checksum);
        Assert.Equal(1, header.Identifier);
        Assert.Equal(33, header.SequenceNumber);
        Assert.False(header.IsError);
        Assert.Equal("abcdefghijklmnopqrstuvwabcdefghi", System.Text.Encoding.ASCII.GetString(data));
    }

    [Fact]
    public void Header_must_construct_the_echo_request()
    {
        var message = new byte[40];
        var length = Icmpv4Header.EchoRequest(1, 33).Encode(message, "abcdefghijklmnopqrstuvwabcdefghi"u8);
        Assert.Equal(40, length);
        Assert.Equal(IcmpOf(Packets.Ping), message);
    }

    [Fact]
    public void Header_must_check_length()
    {
        var message = IcmpOf(Packets.Ping);
        Assert.False(Icmpv4Header.TryParse(message.AsSpan(0, 7), out _, out _, out var error));
        Assert.Equal(WireError.Truncated, error);

        // Cutting the data breaks the checksum, which covers the whole message.
        Assert.False(Icmpv4Header.TryParse(message.AsSpan(0, 39), out _, out _, out error));
        Assert.Equal(WireError.BadChecksum, error);
    }

    [Fact]
    public void Header_must_parse_time_exceeded_and_its_quote()
    {
        Assert.True(Icmpv4Header.TryParse(IcmpOf(Packets.TimeExceeded), out var header, out var data, out _));
        Assert.Equal(Icmpv4Header.TimeExceeded(TimeExceededCode.TtlExceededInTransit), header with { Checksum = 0 });
        Assert.True(header.IsError);
        Assert.True(Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var leading, out _));
        Assert.Equal(Ipv4Address.Parse("10.0.10.4"), quoted.Destination);
        Assert.Equal(1, quoted.TimeToLive);
        Assert.Equal(IpProtocol.Icmp, quoted.Protocol);
        Assert.Equal(Hex.Decode("08 00 4d 3a 00 01 00 21"), leading.ToArray());
    }

    [Fact]
    public void Header_must_parse_fragmentation_needed_with_next_hop_mtu()
    {
        Assert.True(Icmpv4Header.TryParse(IcmpOf(Packets.FragmentationNeeded), out var header, out var data, out _));
        Assert.Equal(Icmpv4Type.DestinationUnreachable, header.Type);
        Assert.Equal((byte)DestinationUnreachableCode.FragmentationNeeded, header.Code);
        Assert.Equal(1400, header.NextHopMtu);
        Assert.Equal(Icmpv4Header.FragmentationNeeded(1400), header with { Checksum = 0 });
        Assert.True(Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var leading, out _));
        Assert.True(quoted.DontFragment);
        Assert.Equal(IpProtocol.Udp, quoted.Protocol);
        Assert.Equal(Hex.Decode("11 94 11 94 00 18 00 00"), leading.ToArray());
    }

    [Fact]
    public void Header_must_emit_fragmentation_needed()
    {
        var quote = IcmpOf(Packets.FragmentationNeeded)[8..];
        var message = new byte[8 + quote.Length];
        Icmpv4Header.FragmentationNeeded(1400).Encode(message, quote);
        Assert.Equal(IcmpOf(Packets.FragmentationNeeded), message);
    }

    [Fact]
    public void Header_must_report_buffer_length()
    {
        Assert.Equal(8, Icmpv4Header.EchoReply(1, 1).EncodedLength);
        Assert.Throws<ArgumentException>(() => Icmpv4Header.EchoReply(1, 1).Encode(new byte[11], new byte[4]));
    }

    [Fact]
    public void Unknown_types_must_parse_generically()
    {
        // Type 42 (extended echo request, RFC 8335) is not modelled: type, code and rest are still exposed.
        var message = new byte[12];
        new Icmpv4Header((Icmpv4Type)42, 0, 0x12340100).Encode(message, Hex.Decode("de ad be ef"));
        Assert.True(Icmpv4Header.TryParse(message, out var header, out var data, out _));
        Assert.Equal((Icmpv4Type)42, header.Type);
        Assert.Equal(0x12340100u, header.RestOfHeader);
        Assert.Equal(4, data.Length);
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("seven octets", "08 00 f7 ff 00 00 00")]
    public void TryParse_must_refuse_truncated_messages(string description, string hex)
    {
        Assert.False(Icmpv4Header.TryParse(Hex.Decode(hex), out _, out _, out var error), description);
        Assert.Equal(WireError.Truncated, error);
    }

    [Theory]
    [InlineData("time exceeded without a quote", 11, "", WireError.Truncated)]
    [InlineData("unreachable quoting 19 octets", 3, "45 00 00 3c 1c 46 00 00 01 01 ab 98 c0 a8 1d 37 0a 00 0a", WireError.Truncated)]
    [InlineData("unreachable quoting an IPv6 header", 3, "60 00 00 00 00 08 11 40 fe 80 00 00 00 00 00 00 00 00 00 00", WireError.BadVersion)]
    [InlineData("parameter problem quoting IHL 4", 12, "44 00 00 3c 1c 46 00 00 01 01 ab 98 c0 a8 1d 37 0a 00 0a 04", WireError.BadHeaderLength)]
    [InlineData("redirect quoting IHL 6 with 20 octets", 5, "46 00 00 3c 1c 46 00 00 01 01 ab 98 c0 a8 1d 37 0a 00 0a 04", WireError.BadHeaderLength)]
    [InlineData("source quench quoting 4 octets", 4, "45 00 00 3c", WireError.Truncated)]
    public void TryParse_must_refuse_errors_without_a_quoted_header(string description, byte type, string quoteHex, WireError expected)
    {
        // The checksum is made correct so that only the quote is at fault.
        var quote = Hex.Decode(quoteHex);
        var message = new byte[8 + quote.Length];
        new Icmpv4Header((Icmpv4Type)type, 0, 0).Encode(message, quote);
        Assert.False(Icmpv4Header.TryParse(message, out var header, out var data, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, header);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void TryParse_must_refuse_a_corrupted_checksum()
    {
        var message = IcmpOf(Packets.Ping);
        message[^1] ^= 0x20;
        Assert.False(Icmpv4Header.TryParse(message, out _, out _, out var error));
        Assert.Equal(WireError.BadChecksum, error);
    }

    [Fact]
    public void Errors_quoting_fewer_than_eight_data_octets_must_parse()
    {
        // A datagram with 4 data octets is quoted whole (RFC 792 asks for at most 64 bits).
        var quote = Hex.Decode("45 00 00 18 00 01 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02 01 f4 01 f4");
        var message = new byte[8 + quote.Length];
        Icmpv4Header.DestinationUnreachable(DestinationUnreachableCode.PortUnreachable).Encode(message, quote);
        Assert.True(Icmpv4Header.TryParse(message, out _, out var data, out _));
        Assert.True(Icmpv4Header.TryParseQuotedDatagram(data, out _, out var leading, out _));
        Assert.Equal(4, leading.Length);
    }

    [Property]
    public bool Echo_must_round_trip(bool reply, ushort identifier, ushort sequence, byte[] data)
    {
        var header = reply ? Icmpv4Header.EchoReply(identifier, sequence) : Icmpv4Header.EchoRequest(identifier, sequence);
        var message = new byte[8 + data.Length];
        header.Encode(message, data);
        return Icmpv4Header.TryParse(message, out var parsed, out var parsedData, out _)
            && parsed with { Checksum = 0 } == header
            && parsed.Identifier == identifier
            && parsed.SequenceNumber == sequence
            && parsedData.SequenceEqual(data);
    }

    [Property]
    public bool Errors_must_round_trip_with_their_quote(byte code, uint rest, bool timeExceeded, byte ttl)
    {
        var quote = Hex.Decode(Packets.PingTtl1)[..28];
        quote[8] = ttl;
        var header = new Icmpv4Header(timeExceeded ? Icmpv4Type.TimeExceeded : Icmpv4Type.DestinationUnreachable, code, rest);
        var message = new byte[8 + quote.Length];
        header.Encode(message, quote);
        return Icmpv4Header.TryParse(message, out var parsed, out var data, out _)
            && parsed with { Checksum = 0 } == header
            && Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var leading, out _)
            && quoted.TimeToLive == ttl
            && leading.Length == 8;
    }

    [Property]
    public bool TryParse_must_never_throw_on_arbitrary_bytes(byte[] bytes) =>
        Icmpv4Header.TryParse(bytes, out _, out _, out var error) == (error == WireError.None);
}
