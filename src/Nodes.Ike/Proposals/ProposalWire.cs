using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Wire.Ike;
using WireProposal = Nodes.Wire.Ike.Proposal;

namespace Nodes.Ike.Proposals;

/// <summary>Between Nodes' proposals and the SA payload's proposal substructures (RFC 7296 section 3.3).</summary>
public static class ProposalWire
{
    /// <summary>The SA payload for a list of proposals, numbered from 1; <paramref name="spi"/> is the SPI each carries.</summary>
    public static SecurityAssociationPayload ToPayload(IReadOnlyList<Proposal> proposals, IkeProtocolId protocol, ReadOnlySpan<byte> spi)
    {
        var list = new List<WireProposal>(proposals.Count);
        for (var i = 0; i < proposals.Count; i++) list.Add(ToWire(proposals[i], (byte)(i + 1), protocol, spi));
        return new SecurityAssociationPayload(list);
    }

    /// <summary>One proposal substructure with the given number.</summary>
    public static WireProposal ToWire(Proposal p, byte number, IkeProtocolId protocol, ReadOnlySpan<byte> spi)
    {
        var transforms = new List<Transform>();
        foreach (var e in p.Encryption)
        {
            transforms.Add(e.Algorithm is EncryptionAlgorithm.Des3Cbc or EncryptionAlgorithm.Null
                ? new Transform(TransformType.Encryption, (ushort)e.Algorithm, default)
                : Transform.WithKeyLength(TransformType.Encryption, (ushort)e.Algorithm, (ushort)e.KeyBits));
        }
        foreach (var prf in p.Prf) transforms.Add(new Transform(TransformType.PseudorandomFunction, (ushort)prf, default));
        foreach (var integ in p.Integrity) transforms.Add(new Transform(TransformType.Integrity, (ushort)integ, default));
        foreach (var g in p.Groups) transforms.Add(new Transform(TransformType.DiffieHellmanGroup, (ushort)g, default));
        if (protocol == IkeProtocolId.Esp)
        {
            var esn = p.Esn.IsDefaultOrEmpty ? [false] : p.Esn;
            foreach (var on in esn) transforms.Add(new Transform(TransformType.ExtendedSequenceNumbers, on ? (ushort)1 : (ushort)0, default));
        }
        return new WireProposal(number, protocol, OctetString.Copy(spi), transforms);
    }

    /// <summary>
    /// Reads a received proposal into Nodes' form. Transforms Nodes does not implement are left out: a type whose
    /// every offered transform is unknown ends up empty, and the selection never chooses a proposal lacking a type
    /// it needs, which is how RFC 7296 section 3.3.6 wants unknown transforms treated.
    /// </summary>
    public static Proposal FromWire(WireProposal w)
    {
        var enc = ImmutableArray.CreateBuilder<EncryptionChoice>();
        var integ = ImmutableArray.CreateBuilder<IntegrityAlgorithm>();
        var prf = ImmutableArray.CreateBuilder<PrfAlgorithm>();
        var groups = ImmutableArray.CreateBuilder<DhGroup>();
        var esn = ImmutableArray.CreateBuilder<bool>();
        var unsupported = ImmutableArray.CreateBuilder<UnsupportedTransform>();
        foreach (var t in w.Transforms)
        {
            var known = true;
            switch (t.TransformType)
            {
                case TransformType.Encryption:
                    var alg = (EncryptionAlgorithm)t.Id;
                    int bits = t.KeyLength ?? (alg == EncryptionAlgorithm.Des3Cbc ? 192 : alg == EncryptionAlgorithm.Null ? 0 : -1);
                    if (Enum.IsDefined(alg) && new CipherSuite(alg, bits, alg is EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.Des3Cbc or EncryptionAlgorithm.Null ? IntegrityAlgorithm.HmacSha1_96 : IntegrityAlgorithm.None).Problem is null)
                        enc.Add(new EncryptionChoice(alg, bits));
                    else
                    {
                        // A known algorithm with a key length it cannot take is named with that length.
                        unsupported.Add(new UnsupportedTransform(t.TransformType, t.Id, Enum.IsDefined(alg) ? t.KeyLength : null));
                    }
                    break;
                case TransformType.Integrity:
                    var i = (IntegrityAlgorithm)t.Id;
                    if (Enum.IsDefined(i)) integ.Add(i);
                    else known = false;
                    break;
                case TransformType.PseudorandomFunction:
                    var f = (PrfAlgorithm)t.Id;
                    if (Enum.IsDefined(f)) prf.Add(f);
                    else known = false;
                    break;
                case TransformType.DiffieHellmanGroup:
                    var g = (DhGroup)t.Id;
                    if (t.Id == 0) break; // NONE: "no key exchange", the same as leaving the type out
                    if (KeyExchange.IsSupported(g)) groups.Add(g);
                    else known = false;
                    break;
                case TransformType.ExtendedSequenceNumbers:
                    if (t.Id <= 1) esn.Add(t.Id == 1);
                    else known = false;
                    break;
                default:
                    known = false;
                    break;
            }
            if (!known) unsupported.Add(new UnsupportedTransform(t.TransformType, t.Id, null));
        }
        return new Proposal(enc.ToImmutable(), integ.ToImmutable(), prf.ToImmutable(), groups.ToImmutable(), esn.ToImmutable()) { Unsupported = unsupported.ToImmutable() };
    }

    /// <summary>The single proposal a responder returns: the chosen transforms with the offered proposal's number.</summary>
    public static SecurityAssociationPayload Chosen(IkeSuite s, byte number, ReadOnlySpan<byte> spi) =>
        new(new[] { ToWire(Proposal.ForIke(s), number, IkeProtocolId.Ike, spi) });

    /// <summary>The single ESP proposal a responder returns.</summary>
    public static SecurityAssociationPayload Chosen(ChildSuite s, byte number, uint spi)
    {
        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, spi);
        return new(new[] { ToWire(Proposal.ForEsp(s), number, IkeProtocolId.Esp, b) });
    }
}
