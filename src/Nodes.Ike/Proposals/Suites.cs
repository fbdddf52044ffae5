using Nodes.Crypto;

namespace Nodes.Ike.Proposals;

/// <summary>What an IKE SA negotiated: one transform of each type (RFC 7296 section 3.3).</summary>
public sealed record IkeSuite(CipherSuite Cipher, PrfAlgorithm Prf, DhGroup Group)
{
    /// <summary>Short form engineers read in logs and in Azure's portal: "AES256/SHA256/MODP2048".</summary>
    public override string ToString() => ProposalText.Short(Cipher, Prf, Group);
}

/// <summary>What a Child SA negotiated: cipher suite, optional PFS group and whether ESN is on.</summary>
public sealed record ChildSuite(CipherSuite Cipher, DhGroup? Pfs, bool Esn)
{
    public override string ToString() => ProposalText.Short(Cipher, null, Pfs) + (Esn ? "/ESN" : string.Empty);
}
