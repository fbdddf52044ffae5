using System.Collections.Immutable;
using System.Text;
using Nodes.Crypto;
using Nodes.Wire.Ike;

namespace Nodes.Ike.Proposals;

/// <summary>
/// Proposals as text, both ways. Parsing takes strongSwan's syntax, which engineers already write in
/// swanctl.conf: "aes256-sha1-modp1024", "aes256gcm16-prfsha256-ecp256", "aes256gcm16", "3des-sha1",
/// "null-sha256", with several algorithms of one type allowed in one proposal ("aes256-aes128-sha256-modp2048").
/// Printing gives the short form of Azure's documentation: "AES256/SHA1/MODP1024", "GCMAES256".
/// </summary>
public static class ProposalText
{
    /// <summary>Parses one proposal of an IKE SA ("ike") or a Child SA ("esp"). Returns false with a reason.</summary>
    public static bool TryParse(string text, bool forIke, out Proposal? proposal, out string? error)
    {
        proposal = null;
        var enc = ImmutableArray.CreateBuilder<EncryptionChoice>();
        var integ = ImmutableArray.CreateBuilder<IntegrityAlgorithm>();
        var prf = ImmutableArray.CreateBuilder<PrfAlgorithm>();
        var groups = ImmutableArray.CreateBuilder<DhGroup>();
        var esn = ImmutableArray.CreateBuilder<bool>();
        foreach (var raw in text.Split('-', StringSplitOptions.TrimEntries))
        {
            var t = raw.ToLowerInvariant();
            switch (t)
            {
                case "aes128": enc.Add(new(EncryptionAlgorithm.AesCbc, 128)); break;
                case "aes192": enc.Add(new(EncryptionAlgorithm.AesCbc, 192)); break;
                case "aes256": enc.Add(new(EncryptionAlgorithm.AesCbc, 256)); break;
                case "aes": enc.Add(new(EncryptionAlgorithm.AesCbc, 128)); break;
                case "3des": enc.Add(new(EncryptionAlgorithm.Des3Cbc, 192)); break;
                case "null" when !forIke: enc.Add(new(EncryptionAlgorithm.Null, 0)); break;
                case "sha1" or "sha":
                    integ.Add(IntegrityAlgorithm.HmacSha1_96);
                    if (forIke) prf.Add(PrfAlgorithm.HmacSha1);
                    break;
                case "sha256" or "sha2_256":
                    integ.Add(IntegrityAlgorithm.HmacSha256_128);
                    if (forIke) prf.Add(PrfAlgorithm.HmacSha256);
                    break;
                case "sha384" or "sha2_384":
                    integ.Add(IntegrityAlgorithm.HmacSha384_192);
                    if (forIke) prf.Add(PrfAlgorithm.HmacSha384);
                    break;
                case "sha512" or "sha2_512":
                    integ.Add(IntegrityAlgorithm.HmacSha512_256);
                    if (forIke) prf.Add(PrfAlgorithm.HmacSha512);
                    break;
                case "prfsha1": prf.Add(PrfAlgorithm.HmacSha1); break;
                case "prfsha256": prf.Add(PrfAlgorithm.HmacSha256); break;
                case "prfsha384": prf.Add(PrfAlgorithm.HmacSha384); break;
                case "prfsha512": prf.Add(PrfAlgorithm.HmacSha512); break;
                case "modp1024": groups.Add(DhGroup.Modp1024); break;
                case "modp2048": groups.Add(DhGroup.Modp2048); break;
                case "modp2048s256": groups.Add(DhGroup.Modp2048S256); break;
                case "ecp256": groups.Add(DhGroup.Ecp256); break;
                case "ecp384": groups.Add(DhGroup.Ecp384); break;
                case "curve25519" or "x25519": groups.Add(DhGroup.Curve25519); break;
                case "esn": esn.Add(true); break;
                case "noesn": esn.Add(false); break;
                default:
                    if (TryGcm(t, out var gcm)) { enc.Add(gcm); break; }
                    error = $"unknown algorithm '{raw}' in proposal '{text}' (known: aes128, aes256, aes256gcm16, 3des, null, sha1, sha256, sha384, sha512, prfsha256, modp1024, modp2048, modp2048s256, ecp256, ecp384, curve25519, esn, noesn)";
                    return false;
            }
        }
        if (enc.Count == 0) { error = $"proposal '{text}' names no encryption algorithm"; return false; }
        var allAead = enc.All(e => new CipherSuite(e.Algorithm, e.KeyBits, IntegrityAlgorithm.None).IsAead);
        var anyAead = enc.Any(e => new CipherSuite(e.Algorithm, e.KeyBits, IntegrityAlgorithm.None).IsAead);
        if (anyAead && !allAead) { error = $"proposal '{text}' mixes AES-GCM with other ciphers; write them as separate proposals"; return false; }
        if (allAead && forIke && prf.Count == 0) { error = $"proposal '{text}': AES-GCM needs a PRF for IKE, e.g. '{text}-prfsha256'"; return false; }
        if (allAead && integ.Count > 0)
        {
            if (!forIke) { error = $"proposal '{text}': AES-GCM takes no integrity algorithm"; return false; }
            integ.Clear(); // "aes256gcm16-sha256" names SHA-256 as the PRF only
        }
        if (!allAead && integ.Count == 0) { error = $"proposal '{text}' names no integrity algorithm (sha1, sha256, ...)"; return false; }
        if (forIke && groups.Count == 0) { error = $"proposal '{text}' names no DH group (modp1024, modp2048, ecp256, ...)"; return false; }
        if (forIke && esn.Count > 0) { error = $"proposal '{text}': ESN applies to ESP, not IKE"; return false; }
        if (!forIke && prf.Count > 0) { error = $"proposal '{text}': a PRF applies to IKE, not ESP"; return false; }
        proposal = new Proposal(enc.ToImmutable(), integ.ToImmutable(), prf.Distinct().ToImmutableArray(), groups.ToImmutable(), esn.ToImmutable());
        error = null;
        return true;
    }

    /// <summary>Parses a proposal or throws <see cref="FormatException"/> (for configuration and tests).</summary>
    public static Proposal Parse(string text, bool forIke) =>
        TryParse(text, forIke, out var p, out var e) ? p! : throw new FormatException(e);

    private static bool TryGcm(string t, out EncryptionChoice choice)
    {
        choice = default;
        if (!t.StartsWith("aes", StringComparison.Ordinal) || !t.Contains("gcm", StringComparison.Ordinal)) return false;
        var parts = t[3..].Split("gcm");
        if (parts.Length != 2 || !int.TryParse(parts[0], out var bits) || bits is not (128 or 192 or 256)) return false;
        EncryptionAlgorithm? alg = parts[1] switch
        {
            "8" => EncryptionAlgorithm.AesGcm8,
            "12" => EncryptionAlgorithm.AesGcm12,
            "16" or "" => EncryptionAlgorithm.AesGcm16,
            _ => null,
        };
        if (alg is null) return false;
        choice = new EncryptionChoice(alg.Value, bits);
        return true;
    }

    /// <summary>"AES256/SHA1/MODP1024"; the PRF is shown only where it is not implied by the integrity algorithm.</summary>
    public static string Short(CipherSuite cipher, PrfAlgorithm? prf, DhGroup? group)
    {
        var sb = new StringBuilder(Encryption(new EncryptionChoice(cipher.Encryption, cipher.KeyBits)));
        if (!cipher.IsAead) sb.Append('/').Append(Integrity(cipher.Integrity));
        if (prf is { } p && (cipher.IsAead || !Implied(cipher.Integrity, p))) sb.Append("/PRF").Append(Hash(p));
        if (group is { } g) sb.Append('/').Append(Names.Of(g));
        return sb.ToString();
    }

    /// <summary>One proposal in short form; several choices of one type are joined with '|'.</summary>
    public static string Describe(Proposal p)
    {
        // Transforms a peer offered that Nodes does not implement follow the known choices of their type, by IANA name.
        IEnumerable<string> Unknown(TransformType type) => p.Unsupported.IsDefaultOrEmpty ? [] : p.Unsupported.Where(u => u.Type == type).Select(u => u.ToString());
        var parts = new List<string> { string.Join('|', p.Encryption.Select(Encryption).Concat(Unknown(TransformType.Encryption))) };
        var integrity = (p.Integrity.IsDefaultOrEmpty ? [] : p.Integrity.Select(Integrity)).Concat(Unknown(TransformType.Integrity)).ToArray();
        if (integrity.Length > 0) parts.Add(string.Join('|', integrity));
        var prfShown = (p.Prf.IsDefaultOrEmpty ? [] : p.Prf.Where(x => !p.Integrity.Any(i => Implied(i, x))).Select(x => "PRF" + Hash(x))).Concat(Unknown(TransformType.PseudorandomFunction)).ToArray();
        if (prfShown.Length > 0) parts.Add(string.Join('|', prfShown));
        var groups = (p.Groups.IsDefaultOrEmpty ? [] : p.Groups.Select(Names.Of)).Concat(Unknown(TransformType.DiffieHellmanGroup)).ToArray();
        if (groups.Length > 0) parts.Add(string.Join('|', groups));
        if (!p.Esn.IsDefaultOrEmpty && p.Esn.Contains(true)) parts.Add(p.Esn.Contains(false) ? "ESN|NOESN" : "ESN");
        var other = p.Unsupported.IsDefaultOrEmpty ? [] : p.Unsupported.Where(u => u.Type is not (TransformType.Encryption or TransformType.Integrity or TransformType.PseudorandomFunction or TransformType.DiffieHellmanGroup)).Select(u => u.ToString()).ToArray();
        if (other.Length > 0) parts.Add(string.Join('|', other));
        return string.Join('/', parts);
    }

    /// <summary>A list of proposals, comma-separated.</summary>
    public static string List(IEnumerable<Proposal> proposals) => string.Join(", ", proposals.Select(Describe));

    private static string Encryption(EncryptionChoice e) => e.Algorithm switch
    {
        EncryptionAlgorithm.AesCbc => $"AES{e.KeyBits}",
        EncryptionAlgorithm.AesGcm16 => $"GCMAES{e.KeyBits}",
        EncryptionAlgorithm.AesGcm12 => $"GCMAES{e.KeyBits}-ICV12",
        EncryptionAlgorithm.AesGcm8 => $"GCMAES{e.KeyBits}-ICV8",
        EncryptionAlgorithm.Des3Cbc => "3DES",
        EncryptionAlgorithm.Null => "NULL",
        _ => $"ENCR{(ushort)e.Algorithm}",
    };

    private static string Integrity(IntegrityAlgorithm i) => i switch
    {
        IntegrityAlgorithm.HmacSha1_96 => "SHA1",
        IntegrityAlgorithm.HmacSha256_128 => "SHA256",
        IntegrityAlgorithm.HmacSha384_192 => "SHA384",
        IntegrityAlgorithm.HmacSha512_256 => "SHA512",
        IntegrityAlgorithm.None => "NONE",
        _ => $"INTEG{(ushort)i}",
    };

    private static string Hash(PrfAlgorithm p) => p switch
    {
        PrfAlgorithm.HmacSha1 => "SHA1",
        PrfAlgorithm.HmacSha256 => "SHA256",
        PrfAlgorithm.HmacSha384 => "SHA384",
        PrfAlgorithm.HmacSha512 => "SHA512",
        _ => $"{(ushort)p}",
    };

    private static bool Implied(IntegrityAlgorithm i, PrfAlgorithm p) => (i, p) switch
    {
        (IntegrityAlgorithm.HmacSha1_96, PrfAlgorithm.HmacSha1) => true,
        (IntegrityAlgorithm.HmacSha256_128, PrfAlgorithm.HmacSha256) => true,
        (IntegrityAlgorithm.HmacSha384_192, PrfAlgorithm.HmacSha384) => true,
        (IntegrityAlgorithm.HmacSha512_256, PrfAlgorithm.HmacSha512) => true,
        _ => false,
    };
}
