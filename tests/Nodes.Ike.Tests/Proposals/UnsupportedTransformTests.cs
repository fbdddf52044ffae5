using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using WireProposal = Nodes.Wire.Ike.Proposal;

namespace Nodes.Ike.Tests.Proposals;

/// <summary>A refusal names what the peer offered, also the transforms Nodes does not implement (IANA "IKEv2 Parameters" names and ids).</summary>
public class UnsupportedTransformTests
{
    private static WireProposal Offer(params Transform[] transforms) => new(1, IkeProtocolId.Ike, OctetString.Empty, EquatableList<Transform>.Of(transforms));

    [Fact]
    public void A_peer_offering_chacha20_poly1305_must_be_told_by_name_and_id()
    {
        // What strongSwan sends for chacha20poly1305-prfsha256-modp1024: ENCR 28 (RFC 7634) with no key length.
        var offered = ProposalWire.FromWire(Offer(
            new Transform(TransformType.Encryption, 28, default),
            new Transform(TransformType.PseudorandomFunction, 5, default),
            new Transform(TransformType.DiffieHellmanGroup, 2, default)));
        Assert.Empty(offered.Encryption);
        var reason = ProposalSelection.NoProposalChosenReason([offered], DeviceDefaults.AzureIke, weOffered: false);
        Assert.StartsWith("the peer offered ENCR_CHACHA20_POLY1305 (28)/PRFSHA256/MODP1024; we accept only", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_transforms_of_every_type_must_be_named_and_an_unassigned_id_shown_as_a_number()
    {
        var offered = ProposalWire.FromWire(Offer(
            Transform.WithKeyLength(TransformType.Encryption, 12, 256),
            Transform.WithKeyLength(TransformType.Encryption, 12, 100),
            new Transform(TransformType.Integrity, 5, default),
            new Transform(TransformType.PseudorandomFunction, 4, default),
            new Transform(TransformType.DiffieHellmanGroup, 21, default),
            new Transform(TransformType.DiffieHellmanGroup, 1000, default)));
        Assert.Equal("AES256|ENCR_AES_CBC (12) with a 100-bit key/AUTH_AES_XCBC_96 (5)/PRF_AES128_XCBC (4)/ECP_521 (21)|key exchange method 1000", ProposalText.Describe(offered));
    }

    [Fact]
    public void Proposals_nodes_implements_must_read_as_before() =>
        Assert.Equal("AES256/SHA1/MODP1024", ProposalText.Describe(ProposalWire.FromWire(ProposalWire.ToWire(ProposalText.Parse("aes256-sha1-modp1024", forIke: true), 1, IkeProtocolId.Ike, []))));
}
