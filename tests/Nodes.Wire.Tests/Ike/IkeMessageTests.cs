using System.Net;
using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class IkeMessageTests
{
    private static IkeMessage FixtureMessage() => new(
        0x8f54bf6d8b48e6e1, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, new IkePayload[]
        {
            new SecurityAssociationPayload(new[]
            {
                Proposal.Ike(1, null,
                    Transform.WithKeyLength(TransformType.Encryption, 12, 128),
                    new Transform(TransformType.Integrity, 2),
                    new Transform(TransformType.DiffieHellmanGroup, 2),
                    new Transform(TransformType.PseudorandomFunction, 2)),
            }),
            new KeyExchangePayload(2, OctetString.Copy(Hex.Decode(IkeFixtures.IkeSaInitKeData))),
            new NoncePayload(OctetString.Copy(Hex.Decode(IkeFixtures.IkeSaInitNonce))),
            NotifyPayload.NatDetection(NotifyType.NatDetectionSourceIp, Hex.Decode("e54f73b7d83f6beb881eab2051d8663f421d10b0")),
            NotifyPayload.NatDetection(NotifyType.NatDetectionDestinationIp, Hex.Decode("d915368ca036004cb578ae3e3fb268509aeab190")),
            new VendorIdPayload(OctetString.Copy(Hex.Decode("699369228741c6d4ca094c93e242c9de19e7b7c60000000500000500"))),
        });

    [Fact]
    public void Message_must_deconstruct_published_ike_sa_init()
    {
        Assert.True(IkeMessage.TryParse(IkeFixtures.IkeSaInit, out var message, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(FixtureMessage(), message);
        Assert.Equal(2, message!.Notifications(NotifyType.NatDetectionSourceIp).Concat(message.Notifications(NotifyType.NatDetectionDestinationIp)).Count());
        Assert.Equal(2, message.PayloadsOf<KeyExchangePayload>().Single().Group);
    }

    [Fact]
    public void Message_must_construct_published_ike_sa_init()
    {
        var message = FixtureMessage();
        Assert.Equal(336, message.EncodedLength);
        Assert.Equal(IkeFixtures.IkeSaInit, message.ToArray());
        Assert.Equal(IkePayloadType.SecurityAssociation, message.Header.NextPayload);
    }

    [Fact]
    public void Message_must_preserve_unknown_non_critical_payloads()
    {
        var bytes = IkeFixtures.IkeSaInit;
        bytes[IkeHeader.Field.NextPayload] = 0xff;
        Assert.True(IkeMessage.TryParse(bytes, out var message, out _));
        var opaque = Assert.IsType<OpaquePayload>(message!.Payloads[0]);
        Assert.Equal((IkePayloadType)0xff, opaque.Type);
        Assert.Equal(bytes, message.ToArray());
    }

    [Fact]
    public void Message_must_report_unsupported_critical_payload_type()
    {
        var bytes = IkeFixtures.IkeSaInit;
        bytes[IkeHeader.Field.NextPayload] = 0xff;
        bytes[IkeHeader.Size + 1] = 0x80;
        Assert.False(IkeMessage.TryParse(bytes, out var message, out var error, out var type));
        Assert.Null(message);
        Assert.Equal(WireError.UnsupportedCriticalPayload, error);
        Assert.Equal((IkePayloadType)0xff, type);
    }

    [Fact]
    public void Message_must_keep_sk_opaque_with_its_first_inner_type()
    {
        Assert.True(IkeMessage.TryParse(IkeFixtures.IkeAuth, out var message, out _));
        var sk = Assert.IsType<EncryptedPayload>(Assert.Single(message!.Payloads));
        Assert.Equal(IkePayloadType.IdentificationInitiator, sk.FirstInnerType);
        Assert.Equal(204, sk.Body.Length);
        Assert.Equal(IkeFixtures.IkeAuth, message.ToArray());
    }

    [Theory]
    [InlineData("first payload length 0", 30, 0x00)]
    [InlineData("last payload length one too long", 28 + 278 + 1, 0x21)]
    public void Message_must_refuse_corrupted_lengths(string description, int offset, byte value)
    {
        var bytes = IkeFixtures.IkeSaInit;
        bytes[offset] = value;
        if (offset == 30) bytes[31] = 0;
        Assert.False(IkeMessage.TryParse(bytes, out _, out var error), description);
        Assert.NotEqual(WireError.None, error);
    }

    [Fact]
    public void Message_must_refuse_trailing_bytes_and_bad_bodies()
    {
        var longer = IkeFixtures.IkeSaInit.Concat(new byte[2]).ToArray();
        longer[IkeHeader.Field.Length + 3] += 2;
        Assert.False(IkeMessage.TryParse(longer, out _, out var error));
        Assert.Equal(WireError.BadPayloadChain, error);

        // RFC 7296 section 3.9: a 15-byte nonce inside an otherwise consistent message.
        var message = FixtureMessage() with { Payloads = FixtureMessage().Payloads.Select(p => p is NoncePayload ? new OpaquePayload(IkePayloadType.Nonce, OctetString.Copy(new byte[15])) : p).ToArray() };
        Assert.False(IkeMessage.TryParse(message.ToArray(), out _, out error));
        Assert.Equal(WireError.BadLength, error);
    }

    [Fact]
    public void Message_must_refuse_to_encode_sk_before_another_payload()
    {
        var message = new IkeMessage(1, 2, ExchangeType.Informational, IkeFlags.None, 3, new IkePayload[]
        {
            new EncryptedPayload(IkePayloadType.None, OctetString.Copy(new byte[8])),
            new VendorIdPayload(OctetString.Empty),
        });
        Assert.Throws<InvalidOperationException>(() => message.ToArray());
    }

    [Property]
    public bool Message_must_round_trip(ulong spiI, ulong spiR, bool response, uint messageId, byte[] nonceSeed, uint spi, byte[] vendor, byte address)
    {
        var nonce = new byte[16 + nonceSeed.Length % 241];
        nonceSeed.AsSpan(0, Math.Min(nonceSeed.Length, nonce.Length)).CopyTo(nonce);
        var payloads = new List<IkePayload>
        {
            IdentificationPayload.Address(IkePayloadType.IdentificationInitiator, new IPAddress([10, 0, 0, address])),
            new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, OctetString.Copy(nonce.AsSpan(0, 16))),
            new SecurityAssociationPayload(new[] { Proposal.Esp(1, spi, Transform.WithKeyLength(TransformType.Encryption, 20, 256), new Transform(TransformType.ExtendedSequenceNumbers, 0)) }),
            new NoncePayload(OctetString.Copy(nonce)),
            new TrafficSelectorPayload(IkePayloadType.TrafficSelectorInitiator, new[] { TrafficSelector.AnyIpv4() }),
            new TrafficSelectorPayload(IkePayloadType.TrafficSelectorResponder, new[] { TrafficSelector.Prefix(new IPAddress([10, 1, address, 0]), 24) }),
            new DeletePayload(IkeProtocolId.Esp, new[] { spi }),
            new ConfigurationPayload(CfgType.Request, new[] { new ConfigAttribute(ConfigAttributeType.InternalIp4Address, OctetString.Empty) }),
            new VendorIdPayload(OctetString.Copy(vendor)),
            NotifyPayload.Status(NotifyType.InitialContact),
        };
        var flags = response ? IkeFlags.Response : IkeFlags.Initiator;
        var message = new IkeMessage(spiI, spiR, ExchangeType.CreateChildSa, flags, messageId, payloads);
        var bytes = message.ToArray();
        return IkeMessage.TryParse(bytes, out var parsed, out _) && parsed == message && parsed.ToArray().AsSpan().SequenceEqual(bytes);
    }
}
