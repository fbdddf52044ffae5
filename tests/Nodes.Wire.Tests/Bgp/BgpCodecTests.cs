using System.Collections.Immutable;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tests.Bgp;

public class BgpCodecTests
{
    private static BgpPathAttributes Path(params uint[] asns) => new()
    {
        Origin = BgpOrigin.Igp,
        AsPath = [new BgpAsPathSegment(BgpAsPathSegmentType.AsSequence, [.. asns])],
        NextHop = Ipv4Address.Parse("169.254.21.2"),
    };

    private static BgpMessage Parse(byte[] m, bool fourOctet = true)
    {
        Assert.True(BgpCodec.TryParse(m, fourOctet, out var parsed, out var error), error.Text);
        return parsed!;
    }

    private static BgpError Refused(byte[] m, bool fourOctet = true)
    {
        Assert.False(BgpCodec.TryParse(m, fourOctet, out _, out var error));
        return error;
    }

    [Fact]
    public void An_open_carries_version_4_the_AS_hold_time_identifier_and_capabilities()
    {
        var bytes = BgpCodec.Write(BgpOpen.For(65515, 90, Ipv4Address.Parse("10.0.255.30")));
        // RFC 4271 section 4.2: version 4, My AS, Hold Time, BGP Identifier, Opt Parm Len; then one Capabilities parameter.
        Assert.Equal(Convert.FromHexString("04FFEB005A0A00FF1E"), bytes[19..28]);
        Assert.Equal(bytes.Length - 29, bytes[28]);
        var open = Assert.IsType<BgpOpen>(Parse(bytes));
        Assert.Equal(65515u, open.Asn);
        Assert.True(open.FourOctetAs);
        Assert.NotNull(open.Capability(BgpCapability.Multiprotocol));
    }

    [Fact]
    public void A_four_octet_AS_travels_as_AS_TRANS_with_the_real_number_in_its_capability()
    {
        var open = Assert.IsType<BgpOpen>(Parse(BgpCodec.Write(BgpOpen.For(4_200_000_001, 180, Ipv4Address.Parse("192.0.2.1")))));
        Assert.Equal(BgpOpen.AsTrans, open.MyAs);
        Assert.Equal(4_200_000_001u, open.Asn);
    }

    [Fact]
    public void An_update_round_trips_and_large_ones_are_split_within_4096_octets()
    {
        var prefixes = Enumerable.Range(0, 1500).Select(i => new Ipv4Prefix(new Ipv4Address(0x0A000000u + ((uint)i << 8)), 24)).ToList();
        var messages = BgpCodec.WriteUpdates([Ipv4Prefix.Parse("172.16.0.0/12")], Path(65010, 65020), prefixes, fourOctetAs: true);
        Assert.True(messages.Count >= 3);
        Assert.All(messages, m => Assert.InRange(m.Length, BgpCodec.UpdateMinLength, BgpCodec.MaxMessageLength));
        var updates = messages.Select(m => Assert.IsType<BgpUpdate>(Parse(m))).ToList();
        Assert.Equal(new[] { Ipv4Prefix.Parse("172.16.0.0/12") }, updates[0].Withdrawn.ToArray());
        Assert.Equal(prefixes, updates.SelectMany(u => u.Nlri));
        Assert.All(updates.Skip(1), u => Assert.Equal("65010 65020", u.Attributes!.AsPathText));
    }

    [Fact]
    public void On_a_two_octet_session_a_large_AS_becomes_AS_TRANS_and_the_path_is_rebuilt_from_AS4_PATH()
    {
        var m = BgpCodec.WriteUpdates([], Path(65010, 4_200_000_001), [Ipv4Prefix.Parse("192.168.29.0/24")], fourOctetAs: false).Single();
        var u = Assert.IsType<BgpUpdate>(Parse(m, fourOctet: false));
        Assert.Equal("65010 4200000001", u.Attributes!.AsPathText);
        Assert.Contains(u.Attributes.Other, a => a.TypeCode == BgpCodec.As4Path);
    }

    [Fact]
    public void Keepalive_notification_and_route_refresh_round_trip()
    {
        Assert.IsType<BgpKeepalive>(Parse(BgpCodec.Keepalive()));
        var n = Assert.IsType<BgpNotification>(Parse(BgpCodec.Write(new BgpNotification(BgpError.Cease(BgpError.MaximumPrefixesReached, [1, 0, 1, 0, 0, 15, 160])))));
        Assert.Equal("Cease / Maximum Number of Prefixes Reached", n.Error.Text);
        Assert.Equal(7, n.Error.Data!.Length);
        Assert.Equal(new BgpRouteRefresh(1, 1), Parse(BgpCodec.Write(new BgpRouteRefresh(1, 1))));
        Assert.True(Assert.IsType<BgpUpdate>(Parse(BgpCodec.EndOfRib())).IsEndOfRib);
    }

    [Fact]
    public void Header_errors_carry_the_subcode_and_data_section_6_1_asks_for()
    {
        var k = BgpCodec.Keepalive();
        k[0] = 0;
        Assert.Equal(BgpError.ConnectionNotSynchronized, Refused(k).Subcode);
        k = BgpCodec.Keepalive();
        k[17] = 20; // a KEEPALIVE of 20 octets
        var e = Refused([.. k, 0]);
        Assert.Equal((BgpErrorCode.MessageHeader, BgpError.BadMessageLength), (e.Code, e.Subcode));
        Assert.Equal(new byte[] { 0, 20 }, e.Data);
        k = BgpCodec.Keepalive();
        k[18] = 9;
        e = Refused(k);
        Assert.Equal(BgpError.BadMessageType, e.Subcode);
        Assert.Equal(new byte[] { 9 }, e.Data);
        Assert.False(BgpCodec.TryFrame(BgpCodec.Keepalive().AsSpan(0, 18), out _, out e));
        Assert.True(e.IsNone); // not an error: more bytes are needed
    }

    [Fact]
    public void Open_errors_name_the_field_at_fault()
    {
        var o = BgpCodec.Write(BgpOpen.For(65010, 90, Ipv4Address.Parse("192.168.29.52")));
        var bad = (byte[])o.Clone();
        bad[19] = 3;
        Assert.Equal(BgpError.UnsupportedVersionNumber, Refused(bad).Subcode);
        bad = (byte[])o.Clone();
        bad[22] = 0; bad[23] = 2; // hold time 2 s
        Assert.Equal(BgpError.UnacceptableHoldTime, Refused(bad).Subcode);
        bad = (byte[])o.Clone();
        bad[24] = bad[25] = bad[26] = bad[27] = 0;
        Assert.Equal(BgpError.BadBgpIdentifier, Refused(bad).Subcode);
        bad = (byte[])o.Clone();
        bad[29] = 1; // the old authentication parameter
        Assert.Equal(BgpError.UnsupportedOptionalParameter, Refused(bad).Subcode);
        bad = (byte[])o.Clone();
        bad[28]++; // Opt Parm Len one longer than what follows
        Assert.Equal(BgpErrorCode.MessageHeader, Refused(bad).Code);
    }

    [Fact]
    public void Update_errors_follow_section_6_3()
    {
        var good = BgpCodec.WriteUpdates([], Path(65010), [Ipv4Prefix.Parse("192.168.29.0/24")], true).Single();
        const int attrs = BgpCodec.HeaderLength + 4; // first attribute: ORIGIN (flags, type, length, value)
        var bad = (byte[])good.Clone();
        bad[attrs] = 0xC0; // ORIGIN flagged optional
        Assert.Equal(BgpError.AttributeFlagsError, Refused(bad).Subcode);
        bad = (byte[])good.Clone();
        bad[attrs + 3] = 3; // ORIGIN 3
        Assert.Equal(BgpError.InvalidOriginAttribute, Refused(bad).Subcode);
        bad = (byte[])good.Clone();
        bad[attrs + 1] = 99; bad[attrs] = 0x40; // a well-known attribute nobody knows
        Assert.Equal(BgpError.UnrecognizedWellKnownAttribute, Refused(bad).Subcode);
        bad = (byte[])good.Clone();
        bad[attrs + 1] = 6; bad[attrs + 2] = 1; // ORIGIN turned into ATOMIC_AGGREGATE with a length
        Assert.Equal(BgpError.AttributeLengthError, Refused(bad).Subcode);
        bad = (byte[])good.Clone();
        bad[attrs + 1] = 200; bad[attrs] = 0x80; // ORIGIN replaced by an unknown optional one: ORIGIN is missing
        var e = Refused(bad);
        Assert.Equal(BgpError.MissingWellKnownAttribute, e.Subcode);
        Assert.Equal(new byte[] { BgpCodec.Origin }, e.Data);
        bad = (byte[])good.Clone();
        bad[^4] = 33; // NLRI prefix length 33
        Assert.Equal(BgpError.InvalidNetworkField, Refused(bad).Subcode);
        var zeroHop = BgpCodec.WriteUpdates([], Path(65010) with { NextHop = Ipv4Address.Any }, [Ipv4Prefix.Parse("192.168.29.0/24")], true).Single();
        Assert.Equal(BgpError.InvalidNextHopAttribute, Refused(zeroHop).Subcode);
        bad = (byte[])good.Clone();
        bad[attrs + 4 + 3 + 1] = 0; // the AS_PATH segment claims no AS numbers (RFC 7606 section 7.2)
        Assert.Equal(BgpError.MalformedAsPath, Refused(bad).Subcode);
        bad = (byte[])good.Clone();
        bad[BgpCodec.HeaderLength + 2] = 0xFF; // Total Path Attribute Length past the message
        Assert.Equal(BgpError.MalformedAttributeList, Refused(bad).Subcode);
    }

    [Fact]
    public void Every_truncation_and_every_single_bit_flip_of_a_session_is_refused_or_parsed_without_an_exception()
    {
        var messages = new List<byte[]>
        {
            BgpCodec.Write(BgpOpen.For(65010, 90, Ipv4Address.Parse("192.168.29.52"))),
            BgpCodec.WriteUpdates([Ipv4Prefix.Parse("10.1.0.0/16")], Path(65010, 65020), [Ipv4Prefix.Parse("192.168.29.0/24"), Ipv4Prefix.Parse("0.0.0.0/0")], false)[1],
            BgpCodec.Write(new BgpNotification(BgpError.Update(BgpError.MalformedAsPath))),
        };
        foreach (var m in messages)
        {
            for (var n = 0; n < m.Length; n++) BgpCodec.TryParse(m.AsSpan(0, n), true, out _, out _);
            for (var bit = 0; bit < m.Length * 8; bit++)
            {
                var copy = (byte[])m.Clone();
                copy[bit / 8] ^= (byte)(1 << (bit % 8));
                BgpCodec.TryParse(copy, bit % 2 == 0, out _, out _);
            }
        }
    }
}
