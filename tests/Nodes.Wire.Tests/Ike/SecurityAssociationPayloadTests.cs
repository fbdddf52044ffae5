using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class SecurityAssociationPayloadTests
{
    // Body of the published IKE_SA_INIT's SA payload (see IkeFixtures): one IKE proposal, no SPI, four transforms.
    private const string FixtureBody =
        "0000002c01010004" +
        "0300000c0100000c800e0080" + // ENCR_AES_CBC (12), Key Length 128
        "0300000803000002" +         // AUTH_HMAC_SHA1_96 (2)
        "0300000804000002" +         // DH group 2
        "0000000802000002";          // PRF_HMAC_SHA1 (2)

    private static readonly SecurityAssociationPayload FixturePayload = new(new[]
    {
        Proposal.Ike(1, null,
            Transform.WithKeyLength(TransformType.Encryption, 12, 128),
            new Transform(TransformType.Integrity, 2),
            new Transform(TransformType.DiffieHellmanGroup, 2),
            new Transform(TransformType.PseudorandomFunction, 2)),
    });

    [Fact]
    public void Sa_must_deconstruct_published_proposal()
    {
        Assert.True(SecurityAssociationPayload.TryParse(Hex.Decode(FixtureBody), out var sa, out var error));
        Assert.Equal(WireError.None, error);
        var proposal = Assert.Single(sa!.Proposals);
        Assert.Equal(1, proposal.Number);
        Assert.Equal(IkeProtocolId.Ike, proposal.Protocol);
        Assert.Equal(0, proposal.Spi.Length);
        Assert.Equal(4, proposal.Transforms.Count);
        Assert.Equal(TransformType.Encryption, proposal.Transforms[0].TransformType);
        Assert.Equal(12, proposal.Transforms[0].Id);
        Assert.Equal((ushort)128, proposal.Transforms[0].KeyLength);
        Assert.Null(proposal.Transforms[1].KeyLength);
        Assert.Equal(TransformType.PseudorandomFunction, proposal.Transforms[3].TransformType);
    }

    [Fact]
    public void Sa_must_construct_published_bytes()
    {
        var bytes = new byte[FixturePayload.BodyLength];
        Assert.Equal(44, FixturePayload.EncodeBody(bytes));
        Assert.Equal(Hex.Decode(FixtureBody), bytes);
    }

    [Fact]
    public void Sa_must_check_length_of_every_truncation()
    {
        var bytes = Hex.Decode(FixtureBody);
        for (var length = 0; length < bytes.Length; length++)
            Assert.False(SecurityAssociationPayload.TryParse(bytes.AsSpan(0, length), out _, out _), $"{length} bytes");
    }

    [Fact]
    public void Sa_must_parse_an_esp_proposal_with_spi()
    {
        // SA of the published IKE_AUTH (IkeFixtures.IkeAuthDecryptedBody): ESP, SPI 2ad4c0a2, AES-CBC-128, HMAC-SHA1-96, no ESN.
        var body = Hex.Decode("00000028010304032ad4c0a20300000c0100000c800e008003000008030000020000000805000000");
        Assert.True(SecurityAssociationPayload.TryParse(body, out var sa, out _));
        var proposal = sa!.Proposals[0];
        Assert.Equal(IkeProtocolId.Esp, proposal.Protocol);
        Assert.Equal(0x2ad4c0a2u, proposal.Spi32);
        Assert.Equal(
            Proposal.Esp(1, 0x2ad4c0a2, Transform.WithKeyLength(TransformType.Encryption, 12, 128), new Transform(TransformType.Integrity, 2), new Transform(TransformType.ExtendedSequenceNumbers, 0)),
            proposal);
    }

    [Fact]
    public void Sa_must_emit_last_substructure_markers_by_position()
    {
        var sa = new SecurityAssociationPayload(new[]
        {
            Proposal.Esp(1, 0x01020304, new Transform(TransformType.Encryption, 20), new Transform(TransformType.ExtendedSequenceNumbers, 0)),
            Proposal.Esp(2, 0x01020304, new Transform(TransformType.Encryption, 12)),
        });
        var bytes = new byte[sa.BodyLength];
        sa.EncodeBody(bytes);
        Assert.Equal(Proposal.MoreFollow, bytes[0]);
        Assert.Equal(Transform.MoreFollow, bytes[12]);
        Assert.Equal(0, bytes[20]);
        Assert.Equal(0, bytes[28]);
        Assert.Equal(0, bytes[40]);
        Assert.True(SecurityAssociationPayload.TryParse(bytes, out var parsed, out _));
        Assert.Equal(sa, parsed);
    }

    [Fact]
    public void Sa_must_report_its_buffer_length()
    {
        Assert.Equal(44, FixturePayload.BodyLength);
        Assert.Equal(48, FixturePayload.EncodedLength);
        Assert.Equal(12, Transform.WithKeyLength(TransformType.Encryption, 12, 256).EncodedLength);
    }

    [Theory]
    [InlineData("empty SA", "")]
    [InlineData("bytes after the last proposal", "0000000801010000 00")]
    [InlineData("last substructure 1", "0100000801010000")]
    [InlineData("last proposal marked 'more follow'", "0200000801010000")]
    [InlineData("non-last proposal marked last", "0000000801010000 0200000801010000")]
    [InlineData("proposal length beyond SA", "0000000c01010000")]
    [InlineData("proposal length below its SPI", "0000000b010304000a0b0c0d")]
    [InlineData("IKE proposal with 4-byte SPI", "0000000c010104000a0b0c0d")]
    [InlineData("ESP proposal without SPI", "0000000801030000")]
    [InlineData("ESP proposal with 8-byte SPI", "00000010010308000102030405060708")]
    [InlineData("unknown protocol 9", "0000000801090000")]
    [InlineData("num transforms 2, one present", "0000001001010002 0000000803000002")]
    [InlineData("num transforms 1, two present", "0000001801010001 0300000803000002 0000000804000002")]
    [InlineData("transform length 7", "0000001001010001 0000000703000002")]
    [InlineData("transform length beyond proposal", "0000001001010001 0000000c03000002")]
    [InlineData("transform length short of its attribute", "0000001401010001 0000000a0100000c 800e0080")]
    [InlineData("last transform marked 'more follow'", "0000001001010001 0300000803000002")]
    [InlineData("transform last substructure 2", "0000001801010002 0200000803000002 0000000804000002")]
    [InlineData("key length attribute in TLV form", "0000001601010001 0000000e0100000c 000e0002 0080")]
    [InlineData("TLV attribute overrunning transform", "0000001401010001 0000000c0100000c 00070009")]
    public void Sa_must_refuse_malformed_input(string description, string hex)
    {
        Assert.False(SecurityAssociationPayload.TryParse(Hex.Decode(hex), out var sa, out var error), description);
        Assert.Null(sa);
        Assert.NotEqual(WireError.None, error);
    }

    [Fact]
    public void Sa_must_keep_unknown_attributes()
    {
        var body = Hex.Decode("0000001801010001 000000100100000c 00070000 8abc0005");
        Assert.True(SecurityAssociationPayload.TryParse(body, out var sa, out _));
        var attributes = sa!.Proposals[0].Transforms[0].Attributes;
        Assert.Equal(2, attributes.Count);
        Assert.False(attributes[0].IsTv);
        Assert.Equal(7, attributes[0].AttributeType);
        Assert.True(attributes[1].IsTv);
        Assert.Equal(0x0abc, attributes[1].AttributeType);
        Assert.Equal(5, attributes[1].TvValue);
        var bytes = new byte[sa.BodyLength];
        sa.EncodeBody(bytes);
        Assert.Equal(body, bytes);
    }

    [Property]
    public bool Sa_must_round_trip(int seed)
    {
        var random = new Random(seed);
        var proposals = new Proposal[random.Next(1, 4)];
        for (var p = 0; p < proposals.Length; p++)
        {
            var transforms = new Transform[random.Next(0, 6)];
            for (var t = 0; t < transforms.Length; t++)
            {
                var attributes = new List<TransformAttribute>();
                if (random.Next(2) == 0) attributes.Add(TransformAttribute.KeyLength((ushort)random.Next(65536)));
                if (random.Next(4) == 0)
                {
                    var value = new byte[random.Next(0, 9)];
                    random.NextBytes(value);
                    attributes.Add(new TransformAttribute((ushort)random.Next(1, 14), false, 0, OctetString.Copy(value)));
                }
                transforms[t] = new Transform((TransformType)random.Next(1, 6), (ushort)random.Next(65536), attributes);
            }
            proposals[p] = random.Next(3) switch
            {
                0 => Proposal.Ike((byte)(p + 1), null, transforms),
                1 => Proposal.Ike((byte)(p + 1), (ulong)random.NextInt64(), transforms),
                _ => Proposal.Esp((byte)(p + 1), (uint)random.Next(), transforms),
            };
        }
        var sa = new SecurityAssociationPayload(proposals);
        var bytes = new byte[sa.BodyLength];
        sa.EncodeBody(bytes);
        return SecurityAssociationPayload.TryParse(bytes, out var parsed, out _) && parsed == sa;
    }
}
