using Nodes.Crypto;
using Nodes.Ike.Proposals;

namespace Nodes.Config.Export;

/// <summary>A policy in a device's own names: IKE encryption, integrity, DH group; ESP encryption, integrity, PFS group.</summary>
public sealed record PolicyNameSet(string IkeEncryption, string IkeIntegrity, string DhGroup, string IpsecEncryption, string IpsecIntegrity, string PfsGroup);

/// <summary>
/// Writes proposals back in the names devices use: Windows' Add-VpnS2SInterface -CustomPolicy values, Azure's
/// New-AzIpsecPolicy values (the same documented lists <see cref="Topology.PolicyNames"/> reads) and strongSwan's
/// proposal syntax. A policy a device cannot express (several choices, a transform the device lacks) gives null.
/// </summary>
public static class ProposalNames
{
    public static PolicyNameSet? Windows(Proposal ike, Proposal esp) => Names(ike, esp, windows: true);

    public static PolicyNameSet? Azure(Proposal ike, Proposal esp) => Names(ike, esp, windows: false);

    private static PolicyNameSet? Names(Proposal ike, Proposal esp, bool windows)
    {
        if (ike.Encryption.Length != 1 || ike.Integrity.Length > 1 || ike.Groups.Length != 1 || esp.Encryption.Length != 1 || esp.Integrity.Length > 1 || esp.Groups.Length > 1)
            return null;
        var ikeEnc = Cipher(ike.Encryption[0]);
        if (ikeEnc is null || ikeEnc.StartsWith("GCM", StringComparison.Ordinal) && windows) return null;
        var ikeInteg = ike.Integrity.Length == 0 ? Prf(ike.Prf) : Hash(ike.Integrity[0], windowsEsp: false);
        var group = Group(ike.Groups[0], windows);
        var espEnc = Cipher(esp.Encryption[0]);
        if (ikeInteg is null || group is null || espEnc is null) return null;
        var espInteg = espEnc.StartsWith("GCM", StringComparison.Ordinal) ? espEnc : esp.Integrity.Length == 1 ? Hash(esp.Integrity[0], windowsEsp: windows) : null;
        var pfs = esp.Groups.Length == 0 ? "None" : Pfs(esp.Groups[0]);
        if (espInteg is null || pfs is null) return null;
        return new PolicyNameSet(ikeEnc, ikeInteg, group, espEnc, espInteg, pfs);
    }

    private static string? Cipher(EncryptionChoice c) => (c.Algorithm, c.KeyBits) switch
    {
        (EncryptionAlgorithm.AesCbc, var b) when b is 128 or 192 or 256 => $"AES{b}",
        (EncryptionAlgorithm.AesGcm16, var b) when b is 128 or 192 or 256 => $"GCMAES{b}",
        (EncryptionAlgorithm.Des3Cbc, _) => "DES3",
        (EncryptionAlgorithm.Null, _) => "None",
        _ => null,
    };

    private static string? Hash(IntegrityAlgorithm a, bool windowsEsp) => a switch
    {
        IntegrityAlgorithm.HmacSha1_96 => windowsEsp ? "SHA196" : "SHA1",
        IntegrityAlgorithm.HmacSha256_128 => windowsEsp ? "SHA256128" : "SHA256",
        IntegrityAlgorithm.HmacSha384_192 when !windowsEsp => "SHA384",
        _ => null,
    };

    private static string? Prf(System.Collections.Immutable.ImmutableArray<PrfAlgorithm> prf) => prf.Length != 1 ? null : prf[0] switch
    {
        PrfAlgorithm.HmacSha1 => "SHA1",
        PrfAlgorithm.HmacSha256 => "SHA256",
        PrfAlgorithm.HmacSha384 => "SHA384",
        _ => null,
    };

    private static string? Group(DhGroup g, bool windows) => g switch
    {
        DhGroup.Modp1024 => windows ? "Group2" : "DHGroup2",
        DhGroup.Modp2048 => windows ? "Group14" : "DHGroup14",
        DhGroup.Modp2048S256 => windows ? "Group24" : "DHGroup24",
        DhGroup.Ecp256 => "ECP256",
        DhGroup.Ecp384 => "ECP384",
        _ => null,
    };

    private static string? Pfs(DhGroup g) => g switch
    {
        DhGroup.Modp1024 => "PFS2",
        DhGroup.Modp2048 => "PFS2048",
        DhGroup.Modp2048S256 => "PFS24",
        DhGroup.Ecp256 => "ECP256",
        DhGroup.Ecp384 => "ECP384",
        _ => null,
    };

    /// <summary>strongSwan proposal syntax (swanctl.conf proposals / esp_proposals), e.g. aes256-sha256-modp2048.</summary>
    public static string StrongSwan(Proposal p, bool forIke)
    {
        var parts = new List<string>();
        foreach (var e in p.Encryption)
            parts.Add(e.Algorithm switch
            {
                EncryptionAlgorithm.AesCbc => $"aes{e.KeyBits}",
                EncryptionAlgorithm.AesGcm16 => $"aes{e.KeyBits}gcm16",
                EncryptionAlgorithm.AesGcm12 => $"aes{e.KeyBits}gcm12",
                EncryptionAlgorithm.AesGcm8 => $"aes{e.KeyBits}gcm8",
                EncryptionAlgorithm.Des3Cbc => "3des",
                _ => "null",
            });
        foreach (var i in p.Integrity)
            parts.Add(i switch
            {
                IntegrityAlgorithm.HmacSha1_96 => "sha1",
                IntegrityAlgorithm.HmacSha256_128 => "sha256",
                IntegrityAlgorithm.HmacSha384_192 => "sha384",
                _ => "sha512",
            });
        if (forIke)
        {
            // An integrity algorithm implies its PRF in strongSwan's syntax; say the PRF only where it differs.
            var implied = p.Integrity.Select(i => i switch
            {
                IntegrityAlgorithm.HmacSha1_96 => PrfAlgorithm.HmacSha1,
                IntegrityAlgorithm.HmacSha256_128 => PrfAlgorithm.HmacSha256,
                IntegrityAlgorithm.HmacSha384_192 => PrfAlgorithm.HmacSha384,
                _ => PrfAlgorithm.HmacSha512,
            }).ToHashSet();
            if (!p.Prf.ToHashSet().SetEquals(implied))
                foreach (var f in p.Prf)
                    parts.Add(f switch { PrfAlgorithm.HmacSha1 => "prfsha1", PrfAlgorithm.HmacSha256 => "prfsha256", PrfAlgorithm.HmacSha384 => "prfsha384", _ => "prfsha512" });
        }
        foreach (var g in p.Groups)
            parts.Add(g switch
            {
                DhGroup.Modp1024 => "modp1024",
                DhGroup.Modp2048 => "modp2048",
                DhGroup.Modp2048S256 => "modp2048s256",
                DhGroup.Ecp256 => "ecp256",
                DhGroup.Ecp384 => "ecp384",
                _ => "curve25519",
            });
        if (!forIke && !p.Esn.IsDefaultOrEmpty) foreach (var e in p.Esn.Distinct()) parts.Add(e ? "esn" : "noesn");
        return string.Join("-", parts);
    }
}
