using System.Net;
using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class SkMessageTests
{
    [Fact]
    public void Locate_must_split_published_ike_auth()
    {
        var bytes = IkeFixtures.IkeAuth;
        Assert.True(SkMessage.TryLocate(bytes, ivLength: 16, blockSize: 16, icvLength: 12, out var sections, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(IkePayloadType.IdentificationInitiator, sections.FirstInnerType);
        Assert.Equal(bytes[..32], sections.Aad.ToArray());
        Assert.Equal(Hex.Decode("b9132b7bb9f658dfdc648e5017a6322a"), sections.Iv.ToArray());
        Assert.Equal(176, sections.Body.Length);
        Assert.Equal(Hex.Decode("ae6e0f22abdad69ba8007d50"), sections.Icv.ToArray());
    }

    [Fact]
    public void Locate_must_split_published_empty_informational()
    {
        Assert.True(SkMessage.TryLocate(IkeFixtures.EmptyInformational, 16, 16, 12, out var sections, out _));
        Assert.Equal(IkePayloadType.None, sections.FirstInnerType);
        Assert.Equal(Hex.Decode("e376871750fdba9f7012446c5dc3f97a"), sections.Iv.ToArray());
        Assert.Equal(Hex.Decode("f83b48ba0dbc68bcc4a78136832100aa"), sections.Body.ToArray());
        Assert.Equal(Hex.Decode("4192f251cd4d1b97d298e550"), sections.Icv.ToArray());
    }

    [Fact]
    public void OpenInner_must_parse_published_decrypted_ike_auth()
    {
        Assert.True(SkMessage.TryOpenInner(IkeFixtures.IkeAuthDecryptedBody, IkePayloadType.IdentificationInitiator, out var payloads, out var error, out _));
        Assert.Equal(WireError.None, error);
        Assert.Equal(
            [
                IkePayloadType.IdentificationInitiator, IkePayloadType.IdentificationResponder, IkePayloadType.Authentication,
                IkePayloadType.SecurityAssociation, IkePayloadType.TrafficSelectorInitiator, IkePayloadType.TrafficSelectorResponder,
                IkePayloadType.Notify, IkePayloadType.Notify,
            ],
            payloads.Select(p => p.Type));
        var idr = Assert.IsType<IdentificationPayload>(payloads[1]);
        Assert.Equal(IPAddress.Parse("10.80.80.80"), idr.AsAddress());
        Assert.Equal(AuthMethod.SharedKeyMessageIntegrityCode, Assert.IsType<AuthenticationPayload>(payloads[2]).Method);
        Assert.Equal(TrafficSelector.AnyIpv4(), Assert.IsType<TrafficSelectorPayload>(payloads[4]).Selectors.Single());
        Assert.Equal(NotifyType.SetWindowSize, Assert.IsType<NotifyPayload>(payloads[7]).NotifyType);
    }

    [Fact]
    public void Layout_must_reproduce_published_ike_auth_plaintext_layout()
    {
        // The published IKE_AUTH carries 164 payload octets, 11 padding octets and Pad Length 11 (176, 16-byte blocks); the layout must
        // choose the same padding and place the sections where the published message has them.
        var decrypted = IkeFixtures.IkeAuthDecryptedBody;
        var inner = decrypted.AsSpan(0, decrypted.Length - 12);
        var published = IkeFixtures.IkeAuth;
        var destination = new byte[300];
        Assert.True(SkMessage.TryLayout(0x5f54bf6d8b48e6e1, 0x909232b3d1edcb5c, ExchangeType.IkeAuth, IkeFlags.Initiator, 1,
            IkePayloadType.IdentificationInitiator, inner, 16, 16, 12, destination, out var sections, out var written, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(published.Length, written);
        Assert.Equal(published[..32], sections.Aad.ToArray());
        Assert.Equal(decrypted, sections.Body.ToArray());
        Assert.Equal(16, sections.Iv.Length);
        Assert.Equal(12, sections.Icv.Length);
        Assert.Equal(SkMessage.SealedLength(inner.Length, 16, 16, 12), written);
    }

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(15, 16, 0)]
    [InlineData(16, 16, 15)]
    [InlineData(165, 16, 10)]
    [InlineData(7, 1, 0)]
    public void PaddingLength_must_fill_the_last_block(int innerLength, int blockSize, int expected)
    {
        Assert.Equal(expected, SkMessage.PaddingLength(innerLength, blockSize));
    }

    [Fact]
    public void Layout_must_refuse_a_short_buffer()
    {
        Assert.False(SkMessage.TryLayout(1, 2, ExchangeType.Informational, IkeFlags.None, 0, IkePayloadType.None, [], 8, 1, 16,
            new byte[28 + 4 + 8 + 1 + 15], out _, out _, out var error));
        Assert.Equal(WireError.BufferTooSmall, error);
    }

    [Theory]
    [InlineData("pad length longer than the body", "0000000f")]
    [InlineData("pad length equal to the body", "00000004")]
    [InlineData("empty body", "")]
    public void RemovePadding_must_refuse_bad_pad_lengths(string description, string hex)
    {
        Assert.False(SkMessage.TryRemovePadding(Hex.Decode(hex), out _, out var error), description);
        Assert.NotEqual(WireError.None, error);
    }

    [Theory]
    [InlineData("SK body shorter than IV and ICV", 16, 16, 12, 20)]
    [InlineData("SK body with IV and ICV only", 16, 16, 12, 28)]
    [InlineData("encrypted part not a whole block", 16, 16, 12, 45)]
    public void Locate_must_refuse_short_or_unaligned_sk_bodies(string description, int iv, int block, int icv, int bodyLength)
    {
        var datagram = new byte[32 + bodyLength];
        new IkeHeader(1, 2, IkePayloadType.Encrypted, ExchangeType.Informational, IkeFlags.Response, 0, (uint)datagram.Length).Encode(datagram);
        new IkePayloadHeader(IkePayloadType.None, false, (ushort)(4 + bodyLength)).Encode(datagram.AsSpan(28));
        Assert.False(SkMessage.TryLocate(datagram, iv, block, icv, out _, out var error), description);
        Assert.NotEqual(WireError.None, error);
    }

    [Fact]
    public void Locate_must_refuse_a_message_without_sk()
    {
        Assert.False(SkMessage.TryLocate(IkeFixtures.IkeSaInit, 16, 16, 12, out _, out var error));
        Assert.Equal(WireError.BadPayloadChain, error);
    }

    [Fact]
    public void OpenInner_must_refuse_sk_inside_sk()
    {
        Assert.False(SkMessage.TryOpenInner(Hex.Decode("00000008 00000000 00"), IkePayloadType.Encrypted, out _, out var error, out _));
        Assert.Equal(WireError.BadPayloadChain, error);
    }

    [Property]
    public bool Layout_then_locate_then_open_must_round_trip(ulong spiI, ulong spiR, uint messageId, byte ivChoice, byte[] vendor, uint spi)
    {
        // (IV, block, ICV) shapes of AES-GCM-16, AES-CBC with HMAC-SHA2-256-128, and 3DES with HMAC-SHA1-96.
        var (iv, block, icv) = (ivChoice % 3) switch { 0 => (8, 1, 16), 1 => (16, 16, 16), _ => (8, 8, 12) };
        IkePayload[] inner =
        [
            new DeletePayload(IkeProtocolId.Esp, new[] { spi }),
            new VendorIdPayload(OctetString.Copy(vendor)),
        ];
        var chain = IkePayloadChain.ToArray(inner);
        var buffer = new byte[SkMessage.SealedLength(chain.Length, iv, block, icv)];
        if (!SkMessage.TryLayout(spiI, spiR, ExchangeType.Informational, IkeFlags.Initiator, messageId, IkePayloadChain.FirstType(inner), chain, iv, block, icv, buffer, out var laid, out var written, out _))
            return false;
        var bodyLength = laid.Body.Length;
        if (written != buffer.Length || bodyLength % block != 0) return false;
        if (!IkeMessage.TryParse(buffer, out var outer, out _) || outer!.Payloads.Single() is not EncryptedPayload) return false;
        if (!SkMessage.TryLocate(buffer, iv, block, icv, out var found, out _) || found.Body.Length != bodyLength) return false;
        return SkMessage.TryOpenInner(found.Body, found.FirstInnerType, out var payloads, out _, out _) && payloads.SequenceEqual(inner);
    }
}
