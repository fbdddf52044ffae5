using System.Collections.Immutable;
using Nodes.Crypto;
using Nodes.Wire.Ike;

namespace Nodes.Ike.Proposals;

/// <summary>An encryption transform with its key length, as one choice inside a proposal.</summary>
public readonly record struct EncryptionChoice(EncryptionAlgorithm Algorithm, int KeyBits);

/// <summary>A transform a peer offered that Nodes does not implement (or not with this key length), kept to be named in a refusal.</summary>
public readonly record struct UnsupportedTransform(TransformType Type, ushort Id, ushort? KeyBits)
{
    /// <summary>"ENCR_CHACHA20_POLY1305 (28)", "ENCR_AES_CBC (12) with a 100-bit key".</summary>
    public override string ToString() => TransformNames.Describe(Type, Id) + (KeyBits is { } k ? $" with a {k}-bit key" : "");
}

/// <summary>
/// One proposal substructure (RFC 7296 section 3.3.1): for each transform type a list of acceptable choices,
/// in order of preference. A peer may offer several choices per type in one proposal (strongSwan does); the
/// responder picks one of each. An empty list means the type is absent from the proposal (no integrity for
/// AES-GCM, no key exchange in an ESP proposal without PFS).
/// </summary>
public sealed record Proposal(
    ImmutableArray<EncryptionChoice> Encryption,
    ImmutableArray<IntegrityAlgorithm> Integrity,
    ImmutableArray<PrfAlgorithm> Prf,
    ImmutableArray<DhGroup> Groups,
    ImmutableArray<bool> Esn)
{
    /// <summary>A proposal with one choice of each type, for IKE.</summary>
    public static Proposal ForIke(IkeSuite s) => new(
        [new EncryptionChoice(s.Cipher.Encryption, s.Cipher.KeyBits)],
        s.Cipher.IsAead ? [] : [s.Cipher.Integrity],
        [s.Prf],
        [s.Group],
        []);

    /// <summary>A proposal with one choice of each type, for ESP.</summary>
    public static Proposal ForEsp(ChildSuite s) => new(
        [new EncryptionChoice(s.Cipher.Encryption, s.Cipher.KeyBits)],
        s.Cipher.IsAead ? [] : [s.Cipher.Integrity],
        [],
        s.Pfs is { } g ? [g] : [],
        [s.Esn]);

    /// <summary>
    /// What a received proposal offered beyond what Nodes implements; never chosen, only named when nothing matched.
    /// Not part of equality: two proposals are the same when they offer the same usable choices.
    /// </summary>
    public ImmutableArray<UnsupportedTransform> Unsupported { get; init; } = [];

    public override string ToString() => ProposalText.Describe(this);

    public bool Equals(Proposal? other) =>
        other is not null
        && Encryption.SequenceEqual(other.Encryption)
        && Integrity.SequenceEqual(other.Integrity)
        && Prf.SequenceEqual(other.Prf)
        && Groups.SequenceEqual(other.Groups)
        && Esn.SequenceEqual(other.Esn);

    public override int GetHashCode() => HashCode.Combine(Encryption.Length, Integrity.Length, Prf.Length, Groups.Length);
}
