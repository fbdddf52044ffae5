using System.Collections.Immutable;
using Nodes.Crypto;

namespace Nodes.Ike.Proposals;

/// <summary>
/// The responder's choice among the initiator's proposals (RFC 7296 sections 2.7 and 3.3.6): the first of the
/// initiator's proposals that the local policy accepts wins, and inside it the initiator's first acceptable choice
/// of each transform type. A proposal is acceptable when one local proposal accepts a choice for every type the
/// initiator's proposal carries and the initiator's proposal carries every type the local one requires.
/// </summary>
public static class ProposalSelection
{
    /// <summary>Picks an IKE suite, or null when nothing matches (the caller answers NO_PROPOSAL_CHOSEN).</summary>
    public static (int ProposalIndex, IkeSuite Suite)? SelectIke(IReadOnlyList<Proposal> offered, IReadOnlyList<Proposal> accepted)
    {
        for (var i = 0; i < offered.Count; i++)
        {
            var o = offered[i];
            foreach (var a in accepted)
            {
                if (First(o.Encryption, a.Encryption) is not { } enc) continue;
                var aead = new CipherSuite(enc.Algorithm, enc.KeyBits, IntegrityAlgorithm.None).IsAead;
                IntegrityAlgorithm integ;
                if (aead)
                {
                    // RFC 7296 section 3.3.3: a combined-mode cipher comes without integrity, or with NONE.
                    if (o.Integrity.Any(x => x != IntegrityAlgorithm.None)) continue;
                    integ = IntegrityAlgorithm.None;
                }
                else if (First(o.Integrity, a.Integrity) is { } chosen && chosen != IntegrityAlgorithm.None) integ = chosen;
                else continue;
                if (First(o.Prf, a.Prf) is not { } prf) continue;
                if (First(o.Groups, a.Groups) is not { } group) continue;
                var suite = new CipherSuite(enc.Algorithm, enc.KeyBits, integ);
                if (suite.Problem is not null) continue;
                return (i, new IkeSuite(suite, prf, group));
            }
        }
        return null;
    }

    /// <summary>
    /// Picks an ESP suite, or null. With <paramref name="keyExchangePresent"/> (CREATE_CHILD_SA with PFS) both
    /// sides must share a DH group; without it (IKE_AUTH, or a rekey without PFS) groups are not compared.
    /// </summary>
    public static (int ProposalIndex, ChildSuite Suite)? SelectEsp(IReadOnlyList<Proposal> offered, IReadOnlyList<Proposal> accepted, bool keyExchangePresent)
    {
        for (var i = 0; i < offered.Count; i++)
        {
            var o = offered[i];
            foreach (var a in accepted)
            {
                if (First(o.Encryption, a.Encryption) is not { } enc) continue;
                var aead = new CipherSuite(enc.Algorithm, enc.KeyBits, IntegrityAlgorithm.None).IsAead;
                IntegrityAlgorithm integ;
                if (aead)
                {
                    if (o.Integrity.Any(x => x != IntegrityAlgorithm.None)) continue;
                    integ = IntegrityAlgorithm.None;
                }
                else if (First(o.Integrity, a.Integrity) is { } chosen) integ = chosen;
                else continue;
                DhGroup? pfs;
                if (keyExchangePresent)
                {
                    if (First(o.Groups, a.Groups) is not { } g) continue;
                    pfs = g;
                }
                else
                {
                    // The first Child SA rides IKE_AUTH, which carries no KE: any DH transforms in the proposals
                    // are for later rekeys and play no part in this choice (RFC 7296 section 1.2).
                    pfs = null;
                }
                var esnOffered = o.Esn.IsDefaultOrEmpty ? [false] : o.Esn;
                var esnAccepted = a.Esn.IsDefaultOrEmpty ? [false] : a.Esn;
                if (First(esnOffered, esnAccepted) is not { } esn) continue;
                var suite = new CipherSuite(enc.Algorithm, enc.KeyBits, integ);
                if (suite.Problem is not null) continue;
                return (i, new ChildSuite(suite, pfs, esn));
            }
        }
        return null;
    }

    /// <summary>
    /// The sentence an engineer needs when nothing matched: what was offered and what the other side accepts,
    /// e.g. "we offered AES256/SHA256/MODP2048; the peer accepts only AES256/SHA1/MODP1024, AES128/SHA1/MODP1024".
    /// </summary>
    public static string NoProposalChosenReason(IReadOnlyList<Proposal> offered, IReadOnlyList<Proposal> accepted, bool weOffered) =>
        weOffered
            ? $"we offered {ProposalText.List(offered)}; the peer accepts only {ProposalText.List(accepted)}"
            : $"the peer offered {ProposalText.List(offered)}; we accept only {ProposalText.List(accepted)}";

    private static T? First<T>(ImmutableArray<T> offered, ImmutableArray<T> accepted) where T : struct
    {
        if (offered.IsDefaultOrEmpty || accepted.IsDefaultOrEmpty) return null;
        foreach (var o in offered)
            if (accepted.Contains(o)) return o;
        return null;
    }
}
