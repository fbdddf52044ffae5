using System.Net;
using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class PayloadBodyTests
{
    private static byte[] Body(IkePayload payload)
    {
        var bytes = new byte[payload.BodyLength];
        Assert.Equal(payload.BodyLength, payload.EncodeBody(bytes));
        return bytes;
    }

    private static IkePayload Parse(IkePayloadType type, string hex)
    {
        Assert.True(IkePayload.TryParse(type, IkePayloadType.None, Hex.Decode(hex), out var payload, out var error), error.ToString());
        return payload;
    }

    // Bodies below are the payloads of IkeFixtures.IkeSaInit and IkeFixtures.IkeAuthDecryptedBody.
    [Theory]
    [InlineData(IkePayloadType.Nonce, "c39b7f368f4681b89fa9b7be6465abd7c5f68b6ed5d3b4c72cb4240eb5c46412")]
    [InlineData(IkePayloadType.Notify, "00004004e54f73b7d83f6beb881eab2051d8663f421d10b0")]
    [InlineData(IkePayloadType.Notify, "0000400100000001")]
    [InlineData(IkePayloadType.VendorId, "699369228741c6d4ca094c93e242c9de19e7b7c60000000500000500")]
    [InlineData(IkePayloadType.IdentificationInitiator, "010000000a50500d")]
    [InlineData(IkePayloadType.Authentication, "02000000df7c038aefaaa32d3f44b228b52a332744dfb2c1")]
    [InlineData(IkePayloadType.TrafficSelectorInitiator, "01000000070000100000ffff00000000ffffffff")]
    [InlineData(IkePayloadType.Delete, "030400020a0b0c0d01020304")]
    [InlineData(IkePayloadType.Delete, "01000000")]
    [InlineData(IkePayloadType.Configuration, "01000000 00010000 00030000")]
    [InlineData(IkePayloadType.Configuration, "02000000 000100040a000002")]
    [InlineData(IkePayloadType.Certificate, "04308201")]
    public void Payload_must_emit_the_bytes_it_parsed(IkePayloadType type, string hex)
    {
        Assert.Equal(Hex.Decode(hex), Body(Parse(type, hex)));
    }

    [Fact]
    public void Ke_must_deconstruct_and_construct()
    {
        var body = Hex.Decode("00020000" + IkeFixtures.IkeSaInitKeData);
        var ke = Assert.IsType<KeyExchangePayload>(Parse(IkePayloadType.KeyExchange, Hex.Encode(body)));
        Assert.Equal(2, ke.Group);
        Assert.Equal(128, ke.Data.Length);
        Assert.Equal(body, Body(new KeyExchangePayload(2, OctetString.Copy(Hex.Decode(IkeFixtures.IkeSaInitKeData)))));
        Assert.Equal(132, ke.BodyLength);
    }

    [Fact]
    public void Notify_must_deconstruct_nat_detection()
    {
        var n = Assert.IsType<NotifyPayload>(Parse(IkePayloadType.Notify, "00004005d915368ca036004cb578ae3e3fb268509aeab190"));
        Assert.Equal(NotifyType.NatDetectionDestinationIp, n.NotifyType);
        Assert.Equal(IkeProtocolId.None, n.Protocol);
        Assert.Equal(0, n.Spi.Length);
        Assert.Equal(20, n.Data.Length);
        Assert.False(n.IsError);
        Assert.Equal(n, NotifyPayload.NatDetection(NotifyType.NatDetectionDestinationIp, Hex.Decode("d915368ca036004cb578ae3e3fb268509aeab190")));
    }

    [Fact]
    public void Notify_helpers_must_build_rfc_shapes()
    {
        Assert.Equal(Hex.Decode("00000011 000e"), Body(NotifyPayload.InvalidKePayload(14)));
        Assert.True(NotifyPayload.InvalidKePayload(14).TryGetAcceptedGroup(out var group));
        Assert.Equal(14, group);
        Assert.True(NotifyPayload.InvalidKePayload(14).IsError);
        Assert.Equal(Hex.Decode("00004006 0102"), Body(NotifyPayload.Cookie([1, 2])));
        Assert.Equal(Hex.Decode("03044009 c0ffee01"), Body(NotifyPayload.ForChildSa(IkeProtocolId.Esp, 0xc0ffee01, NotifyType.RekeySa)));
        Assert.Throws<ArgumentException>(() => NotifyPayload.Cookie(new byte[65]));
        Assert.Throws<ArgumentException>(() => NotifyPayload.NatDetection(NotifyType.NatDetectionSourceIp, new byte[19]));
    }

    [Fact]
    public void Identification_must_expose_what_auth_signs()
    {
        var id = IdentificationPayload.Address(IkePayloadType.IdentificationInitiator, IPAddress.Parse("10.80.80.13"));
        Assert.Equal(Hex.Decode("010000000a50500d"), id.SignedOctets());
        Assert.Equal(IPAddress.Parse("10.80.80.13"), id.AsAddress());
        var fqdn = IdentificationPayload.Fqdn(IkePayloadType.IdentificationResponder, "gw.example");
        Assert.Equal(Hex.Decode("02000000 67772e6578616d706c65"), Body(fqdn));
        Assert.Equal("gw.example", fqdn.AsName());
        Assert.Equal(Hex.Decode("0b000000 abcd"), Body(IdentificationPayload.KeyId(IkePayloadType.IdentificationInitiator, [0xab, 0xcd])));
        Assert.Equal(IkePayloadType.IdentificationResponder, Parse(IkePayloadType.IdentificationResponder, "010000000a505050").Type);
    }

    [Fact]
    public void TrafficSelector_helpers_must_build_any_and_prefix_ranges()
    {
        var any = new TrafficSelectorPayload(IkePayloadType.TrafficSelectorInitiator, new[] { TrafficSelector.AnyIpv4() });
        Assert.Equal(Hex.Decode("01000000070000100000ffff00000000ffffffff"), Body(any));
        var prefix = TrafficSelector.Prefix(IPAddress.Parse("10.1.2.3"), 16);
        Assert.Equal(IPAddress.Parse("10.1.0.0"), prefix.StartAddress);
        Assert.Equal(IPAddress.Parse("10.1.255.255"), prefix.EndAddress);
        var v6 = TrafficSelector.Prefix(IPAddress.Parse("2001:db8::"), 32);
        Assert.Equal(40, v6.EncodedLength);
        Assert.Equal(IPAddress.Parse("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), v6.EndAddress);
        var payload = new TrafficSelectorPayload(IkePayloadType.TrafficSelectorResponder, new[] { prefix, v6 });
        Assert.True(TrafficSelectorPayload.TryParse(IkePayloadType.TrafficSelectorResponder, Body(payload), out var parsed, out _));
        Assert.Equal(payload, parsed);
    }

    [Fact]
    public void Delete_must_deconstruct_child_and_ike_deletes()
    {
        var child = Assert.IsType<DeletePayload>(Parse(IkePayloadType.Delete, "030400020a0b0c0d01020304"));
        Assert.Equal(IkeProtocolId.Esp, child.Protocol);
        Assert.Equal([0x0a0b0c0du, 0x01020304u], child.Spis);
        Assert.Equal(DeletePayload.IkeSa(), Parse(IkePayloadType.Delete, "01000000"));
    }

    [Fact]
    public void Config_must_deconstruct_a_reply()
    {
        var cp = Assert.IsType<ConfigurationPayload>(Parse(IkePayloadType.Configuration, "02000000 000100040a000002 00030000"));
        Assert.Equal(CfgType.Reply, cp.CfgType);
        Assert.Equal(ConfigAttributeType.InternalIp4Address, cp.Attributes[0].AttributeType);
        Assert.Equal(Hex.Decode("0a000002"), cp.Attributes[0].Value.Span.ToArray());
        Assert.Equal(ConfigAttributeType.InternalIp4Dns, cp.Attributes[1].AttributeType);
    }

    [Fact]
    public void OctetString_must_not_print_its_content()
    {
        var secret = OctetString.Copy(Hex.Decode("deadbeef"));
        Assert.Equal("4 octets", secret.ToString());
        Assert.DoesNotContain("dead", new NoncePayload(OctetString.Copy(new byte[16])).ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("KE without group", IkePayloadType.KeyExchange, "000e00", WireError.Truncated)]
    [InlineData("nonce of 15 bytes", IkePayloadType.Nonce, "000102030405060708090a0b0c0d0e", WireError.BadLength)]
    [InlineData("empty nonce", IkePayloadType.Nonce, "", WireError.BadLength)]
    [InlineData("notify header cut short", IkePayloadType.Notify, "000040", WireError.Truncated)]
    [InlineData("notify SPI beyond body", IkePayloadType.Notify, "03044009 c0ffee", WireError.BadLength)]
    // RFC 7296 section 3.10: a notify about the IKE SA has an empty SPI; AH and ESP SPIs have 4 octets (libreswan CVE-2023-38710).
    [InlineData("REKEY_SA with protocol id 0 and an SPI", IkePayloadType.Notify, "00044009 c0ffee01", WireError.BadValue)]
    [InlineData("REKEY_SA with protocol id 1 (IKE) and an SPI", IkePayloadType.Notify, "01044009 c0ffee01", WireError.BadValue)]
    [InlineData("notify with protocol id 1 and an 8-byte SPI", IkePayloadType.Notify, "01084009 0102030405060708", WireError.BadValue)]
    [InlineData("ESP notify with a 3-byte SPI", IkePayloadType.Notify, "03034009 c0ffee", WireError.BadValue)]
    [InlineData("notify of unknown protocol 7 with an SPI", IkePayloadType.Notify, "07044009 c0ffee01", WireError.BadValue)]
    [InlineData("INVALID_KE_PAYLOAD with 1-byte group", IkePayloadType.Notify, "00000011 0e", WireError.BadLength)]
    [InlineData("NAT detection hash of 19 bytes", IkePayloadType.Notify, "00004004 e54f73b7d83f6beb881eab2051d8663f421d10", WireError.BadLength)]
    [InlineData("empty COOKIE", IkePayloadType.Notify, "00004006", WireError.BadLength)]
    [InlineData("COOKIE of 65 bytes", IkePayloadType.Notify, "00004006 0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", WireError.BadLength)]
    [InlineData("delete header cut short", IkePayloadType.Delete, "030400", WireError.Truncated)]
    [InlineData("IKE delete with SPI size 8", IkePayloadType.Delete, "01080000", WireError.BadValue)]
    [InlineData("ESP delete with SPI size 8", IkePayloadType.Delete, "030800010102030405060708", WireError.BadValue)]
    [InlineData("ESP delete with fewer SPIs than counted", IkePayloadType.Delete, "030400020a0b0c0d", WireError.BadLength)]
    [InlineData("delete of unknown protocol", IkePayloadType.Delete, "07040000", WireError.BadValue)]
    [InlineData("ID header cut short", IkePayloadType.IdentificationInitiator, "010000", WireError.Truncated)]
    [InlineData("ID_IPV4_ADDR of 5 bytes", IkePayloadType.IdentificationInitiator, "010000000a50500d00", WireError.BadLength)]
    [InlineData("ID_IPV6_ADDR of 4 bytes", IkePayloadType.IdentificationResponder, "050000000a50500d", WireError.BadLength)]
    [InlineData("AUTH header cut short", IkePayloadType.Authentication, "020000", WireError.Truncated)]
    [InlineData("TS header cut short", IkePayloadType.TrafficSelectorInitiator, "010000", WireError.Truncated)]
    [InlineData("TS selector length 15", IkePayloadType.TrafficSelectorInitiator, "01000000 0700000f0000ffff00000000ffffffff", WireError.BadTrafficSelector)]
    [InlineData("TS selector length 17", IkePayloadType.TrafficSelectorInitiator, "01000000 070000110000ffff00000000ffffffff00", WireError.BadTrafficSelector)]
    [InlineData("IPv6 selector of length 16", IkePayloadType.TrafficSelectorInitiator, "01000000 080000100000ffff00000000ffffffff", WireError.BadTrafficSelector)]
    [InlineData("unknown selector type 9", IkePayloadType.TrafficSelectorInitiator, "01000000 090000100000ffff00000000ffffffff", WireError.BadTrafficSelector)]
    [InlineData("selector cut short", IkePayloadType.TrafficSelectorInitiator, "01000000 070000100000ffff00000000ffff", WireError.Truncated)]
    [InlineData("two selectors counted, one present", IkePayloadType.TrafficSelectorInitiator, "02000000 070000100000ffff00000000ffffffff", WireError.Truncated)]
    [InlineData("one selector counted, bytes left over", IkePayloadType.TrafficSelectorInitiator, "01000000 070000100000ffff00000000ffffffff 00", WireError.BadTrafficSelector)]
    [InlineData("CP header cut short", IkePayloadType.Configuration, "0200", WireError.Truncated)]
    [InlineData("CP attribute overrunning", IkePayloadType.Configuration, "02000000 000100050a000002", WireError.BadLength)]
    [InlineData("CP attribute header cut short", IkePayloadType.Configuration, "02000000 0001", WireError.BadLength)]
    public void Payload_must_refuse_malformed_bodies(string description, IkePayloadType type, string hex, WireError expected)
    {
        Assert.False(IkePayload.TryParse(type, IkePayloadType.None, Hex.Decode(hex), out _, out var error), description);
        Assert.Equal(expected, error);
    }

    [Property]
    public bool TrafficSelectors_must_round_trip(uint start, uint end, ushort startPort, ushort endPort, byte protocol, bool responder)
    {
        static IPAddress V4(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
        var type = responder ? IkePayloadType.TrafficSelectorResponder : IkePayloadType.TrafficSelectorInitiator;
        var payload = new TrafficSelectorPayload(type, new[]
        {
            new TrafficSelector(TrafficSelectorType.Ipv4AddressRange, protocol, startPort, endPort, V4(start), V4(end)),
            TrafficSelector.Prefix(V4(start), (int)(end % 33)),
        });
        return TrafficSelectorPayload.TryParse(type, Body(payload), out var parsed, out _) && parsed == payload;
    }

    [Property]
    public bool Notify_must_round_trip(byte protocol, byte[] spi, ushort type, byte[] data)
    {
        // Data shapes checked at parse time are made valid so every generated value is a legal notification.
        var notifyType = (NotifyType)type;
        var fixedData = notifyType switch
        {
            NotifyType.InvalidKePayload => [1, 2],
            NotifyType.NatDetectionSourceIp or NotifyType.NatDetectionDestinationIp => new byte[20],
            NotifyType.Cookie => [7],
            _ => data,
        };
        // So is the SPI: empty, or the 4 octets of an AH or ESP SPI (RFC 7296 section 3.10).
        var fixedSpi = protocol is (byte)IkeProtocolId.Ah or (byte)IkeProtocolId.Esp && spi.Length >= 4 ? spi.AsSpan(0, 4) : [];
        var notify = new NotifyPayload((IkeProtocolId)protocol, OctetString.Copy(fixedSpi), notifyType, OctetString.Copy(fixedData));
        return NotifyPayload.TryParse(Body(notify), out var parsed, out _) && parsed == notify;
    }
}
