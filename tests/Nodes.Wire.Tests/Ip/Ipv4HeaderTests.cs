using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tests.Ip;

public class Ipv4HeaderTests
{
    private static readonly Ipv4Header PingHeader = new()
    {
        TypeOfService = 0,
        TotalLength = 60,
        Identification = 0x1c46,
        DontFragment = false,
        MoreFragments = false,
        FragmentOffset = 0,
        TimeToLive = 128,
        Protocol = IpProtocol.Icmp,
        Checksum = 0x2c98,
        Source = Ipv4Address.Parse("192.168.29.55"),
        Destination = Ipv4Address.Parse("10.0.10.4"),
        OptionsLength = 0,
    };

    [Fact]
    public void Packet_must_deconstruct_the_ping()
    {
        var bytes = Hex.Decode(Packets.Ping);
        Assert.True(Ipv4Packet.TryParse(bytes, out var packet, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(20, packet.Header.HeaderLength);
        Assert.Equal(0, packet.Header.Dscp);
        Assert.Equal(0, packet.Header.Ecn);
        Assert.Equal(60, packet.Header.TotalLength);
        Assert.Equal(0x1c46, packet.Header.Identification);
        Assert.False(packet.Header.DontFragment);
        Assert.False(packet.Header.MoreFragments);
        Assert.False(packet.Header.IsFragment);
        Assert.Equal(128, packet.Header.TimeToLive);
        Assert.Equal(IpProtocol.Icmp, packet.Header.Protocol);
        Assert.Equal(0x2c98, packet.Header.Checksum);
        Assert.Equal("192.168.29.55", packet.Header.Source.ToString());
        Assert.Equal("10.0.10.4", packet.Header.Destination.ToString());
        Assert.True(packet.Options.IsEmpty);
        Assert.Equal(bytes[20..], packet.Payload.ToArray());
        Assert.Equal(bytes, packet.Datagram.ToArray());
    }

    [Fact]
    public void Header_must_construct_the_ping()
    {
        var buffer = new byte[20];
        Assert.Equal(20, (PingHeader with { Checksum = 0 }).Encode(buffer));
        Assert.Equal(Hex.Decode(Packets.Ping)[..20], buffer);
    }

    [Fact]
    public void Header_must_check_length()
    {
        var bytes = Hex.Decode(Packets.Ping);
        Assert.False(Ipv4Header.TryParse(bytes.AsSpan(0, 19), out _, out var error));
        Assert.Equal(WireError.Truncated, error);
        Assert.False(Ipv4Header.TryParse(bytes.AsSpan(0, 59), out _, out error));
        Assert.Equal(WireError.BadTotalLength, error);
        Assert.True(Ipv4Header.TryParse(bytes, out _, out error));
    }

    [Fact]
    public void Header_must_parse_the_ping()
    {
        Assert.True(Ipv4Header.TryParse(Hex.Decode(Packets.Ping), out var header, out _));
        Assert.Equal(PingHeader, header);
    }

    [Fact]
    public void Header_must_emit_the_header_with_options()
    {
        var bytes = Hex.Decode(Packets.WithOptions);
        Assert.True(Ipv4Header.TryParse(bytes, out var header, out var options, out var payload, out _));
        Assert.Equal(24, header.HeaderLength);
        Assert.Equal(46, header.Dscp);
        Assert.True(header.DontFragment);
        Assert.Equal(Hex.Decode("01 01 01 00"), options.ToArray());
        Assert.Equal(10, payload.Length);
        var emitted = new byte[24];
        Assert.Equal(24, header.Encode(emitted, options));
        Assert.Equal(bytes[..24], emitted);

        Assert.True(Ipv4Packet.TryParse(bytes, out var packet, out _));
        var whole = new byte[bytes.Length];
        Assert.Equal(bytes.Length, packet.Encode(whole));
        Assert.Equal(bytes, whole);
    }

    [Fact]
    public void Header_must_report_buffer_length()
    {
        Assert.Equal(20, PingHeader.EncodedLength);
        Assert.Equal(40, PingHeader.PayloadLength);
        Assert.Equal(60, (PingHeader with { OptionsLength = 40 }).EncodedLength);
    }

    [Fact]
    public void TryParse_must_ignore_trailing_link_padding()
    {
        // A 29-octet keepalive arrives padded to Ethernet's 46-octet minimum payload.
        var padded = Hex.Decode(Packets.Keepalive + "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
        Assert.True(Ipv4Packet.TryParse(padded, out var packet, out _));
        Assert.Equal(29, packet.Datagram.Length);
        Assert.Equal(9, packet.Payload.Length);
    }

    [Fact]
    public void TryParse_must_verify_the_wikipedia_header()
    {
        Assert.True(Ipv4Header.TryParse(Hex.Decode(Packets.WikipediaHeader + new string('0', 2 * (0x73 - 20))), out var header, out _));
        Assert.Equal(0xb861, header.Checksum);
        Assert.True(header.DontFragment);
        Assert.Equal(IpProtocol.Udp, header.Protocol);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("19 octets", "45 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00", WireError.Truncated)]
    [InlineData("version 6", "65 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadVersion)]
    [InlineData("version 0", "05 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadVersion)]
    [InlineData("IHL 4", "44 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadHeaderLength)]
    [InlineData("IHL 0", "40 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadHeaderLength)]
    [InlineData("IHL 6 but only 20 octets", "46 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadHeaderLength)]
    [InlineData("total length 19, below the header", "45 00 00 13 00 00 00 00 40 11 66 d8 0a 00 00 01 0a 00 00 02", WireError.BadTotalLength)]
    [InlineData("total length 0", "45 00 00 00 00 00 00 00 40 11 66 eb 0a 00 00 01 0a 00 00 02", WireError.BadTotalLength)]
    [InlineData("total length 21 beyond 20 octets", "45 00 00 15 00 00 00 00 40 11 66 d6 0a 00 00 01 0a 00 00 02", WireError.BadTotalLength)]
    [InlineData("checksum off by one", "45 00 00 14 00 00 00 00 40 11 66 d6 0a 00 00 01 0a 00 00 02", WireError.BadChecksum)]
    [InlineData("checksum zero", "45 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02", WireError.BadChecksum)]
    [InlineData("reserved flag set", "45 00 00 14 00 00 80 00 40 11 e6 d6 0a 00 00 01 0a 00 00 02", WireError.BadValue)]
    public void TryParse_must_refuse_malformed_headers(string description, string hex, WireError expected)
    {
        Assert.False(Ipv4Header.TryParse(Hex.Decode(hex), out var header, out var options, out var payload, out var error), description);
        Assert.Equal(expected, error);
        Assert.Equal(default, header);
        Assert.True(options.IsEmpty && payload.IsEmpty);
    }

    [Fact]
    public void Malformed_table_rows_must_differ_from_a_valid_header_only_as_described()
    {
        // The base of the table rows above, with its correct checksum 0x66d7.
        Assert.True(Ipv4Header.TryParse(Hex.Decode("45 00 00 14 00 00 00 00 40 11 66 d7 0a 00 00 01 0a 00 00 02"), out _, out var error));
        Assert.Equal(WireError.None, error);
    }

    [Fact]
    public void Fragment_offset_must_be_exposed_in_units_and_octets()
    {
        var header = PingHeader with { MoreFragments = true, FragmentOffset = 185, TotalLength = 1500 };
        var buffer = new byte[20];
        header.Encode(buffer);
        Assert.Equal(0x20, buffer[6]);
        Assert.Equal(185, buffer[7]);
        Assert.True(Ipv4Header.TryParse(buffer.Concat(new byte[1480]).ToArray(), out var parsed, out _));
        Assert.Equal(185, parsed.FragmentOffset);
        Assert.Equal(1480, parsed.FragmentByteOffset);
        Assert.True(parsed.IsFragment);
    }

    [Fact]
    public void Encode_must_refuse_values_that_cannot_be_encoded()
    {
        var buffer = new byte[60];
        Assert.Throws<ArgumentException>(() => PingHeader.Encode(buffer.AsSpan(0, 19)));
        Assert.Throws<ArgumentException>(() => (PingHeader with { OptionsLength = 4 }).Encode(buffer));
        Assert.Throws<ArgumentException>(() => (PingHeader with { OptionsLength = 6 }).Encode(buffer, new byte[6]));
        Assert.Throws<ArgumentException>(() => (PingHeader with { FragmentOffset = 0x2000 }).Encode(buffer));
        Assert.Throws<ArgumentException>(() => (PingHeader with { TotalLength = 19 }).Encode(buffer));
    }

    [Fact]
    public void TryDecrementTimeToLive_must_patch_the_checksum_like_a_recompute()
    {
        var bytes = Hex.Decode(Packets.Ping);
        Assert.True(Ipv4Header.TryDecrementTimeToLive(bytes));
        Assert.Equal(127, bytes[8]);
        Assert.True(Ipv4Header.TryParse(bytes, out var header, out _));
        var recomputed = new byte[20];
        header.Encode(recomputed);
        Assert.Equal(recomputed, bytes[..20]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void TryDecrementTimeToLive_must_refuse_an_expiring_datagram(byte ttl)
    {
        var bytes = Hex.Decode(Packets.PingTtl1);
        bytes[8] = ttl;
        var before = bytes.ToArray();
        Assert.False(Ipv4Header.TryDecrementTimeToLive(bytes));
        Assert.Equal(before, bytes);
    }

    [Property(Arbitrary = [typeof(Generators)])]
    public bool Encode_then_TryParse_must_round_trip(Ipv4Header header, byte[] payloadSeed)
    {
        var optionsLength = header.OptionsLength;
        var options = new byte[optionsLength];
        for (var i = 0; i < optionsLength; i++) options[i] = (byte)(payloadSeed.Length == 0 ? 1 : payloadSeed[i % payloadSeed.Length]);
        var payloadLength = Math.Min(payloadSeed.Length, ushort.MaxValue - header.HeaderLength);
        var sized = header with { TotalLength = (ushort)(header.HeaderLength + payloadLength) };
        var buffer = new byte[sized.TotalLength];
        sized.Encode(buffer, options);
        payloadSeed.AsSpan(0, payloadLength).CopyTo(buffer.AsSpan(sized.HeaderLength));
        return Ipv4Header.TryParse(buffer, out var parsed, out var parsedOptions, out var payload, out _)
            && parsed with { Checksum = 0 } == sized with { Checksum = 0 }
            && parsedOptions.SequenceEqual(options)
            && payload.SequenceEqual(payloadSeed.AsSpan(0, payloadLength))
            && TtlDecrementAgreesWithRecompute(buffer);
    }

    [Property]
    public bool TryParse_must_never_throw_on_arbitrary_bytes(byte[] bytes)
    {
        var ok = Ipv4Header.TryParse(bytes, out _, out var options, out var payload, out var error);
        return ok == (error == WireError.None) && (ok || (options.IsEmpty && payload.IsEmpty));
    }

    private static bool TtlDecrementAgreesWithRecompute(byte[] datagram)
    {
        if (!Ipv4Header.TryDecrementTimeToLive(datagram)) return datagram[8] <= 1;
        return InternetChecksum.Verify(datagram.AsSpan(0, (datagram[0] & 0x0F) * 4));
    }

    public static class Generators
    {
        public static Arbitrary<Ipv4Header> Header() =>
            (from tos in ArbMap.Default.GeneratorFor<byte>()
             from id in ArbMap.Default.GeneratorFor<ushort>()
             from df in ArbMap.Default.GeneratorFor<bool>()
             from mf in ArbMap.Default.GeneratorFor<bool>()
             from offset in Gen.Choose(0, Ipv4Header.MaxFragmentOffset)
             from ttl in ArbMap.Default.GeneratorFor<byte>()
             from protocol in ArbMap.Default.GeneratorFor<byte>()
             from source in ArbMap.Default.GeneratorFor<uint>()
             from destination in ArbMap.Default.GeneratorFor<uint>()
             from words in Gen.Choose(0, 10)
             select new Ipv4Header
             {
                 TypeOfService = tos,
                 Identification = id,
                 DontFragment = df,
                 MoreFragments = mf,
                 FragmentOffset = (ushort)offset,
                 TimeToLive = ttl,
                 Protocol = (IpProtocol)protocol,
                 Source = new Ipv4Address(source),
                 Destination = new Ipv4Address(destination),
                 OptionsLength = words * 4,
             }).ToArbitrary();
    }
}
