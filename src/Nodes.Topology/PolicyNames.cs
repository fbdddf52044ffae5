namespace Nodes.Topology;

/// <summary>Whose names a custom policy is written in.</summary>
public enum PolicyVendor
{
    /// <summary>Azure's IPsec/IKE policy (New-AzIpsecPolicy, the portal).</summary>
    Azure,
    /// <summary>Windows' Add-VpnS2SInterface -CustomPolicy parameters.</summary>
    Windows,
}

/// <summary>The part of a policy a name belongs to.</summary>
public enum PolicyField
{
    IkeEncryption,
    IkeIntegrity,
    DhGroup,
    IpsecEncryption,
    IpsecIntegrity,
    PfsGroup,
}

/// <summary>A policy value Nodes cannot use, with what to write instead.</summary>
public sealed record PolicyNameError(PolicyField Field, string Value, string Message, string Hint);

/// <summary>
/// Translates the algorithm names of Azure's custom IPsec/IKE policy and of Windows' CustomPolicy parameters
/// into strongSwan proposal text for <see cref="Nodes.Ike.Proposals.ProposalText"/>. Allowed values are those
/// of Microsoft's documentation (Azure: "Configure custom IPsec/IKE connection policies", the DH group table
/// mapping DHGroup2048 and DHGroup14 to group 14; Windows: Add-VpnS2SInterface). DES, DH group 1 and MD5 are
/// listed there but refused here: Nodes does not implement them.
/// </summary>
public static class PolicyNames
{
    private const string Refused = "\0";

    private static readonly Dictionary<string, string> AzureIkeEncryption = Table(
        ("GCMAES256", "aes256gcm16"), ("GCMAES128", "aes128gcm16"), ("AES256", "aes256"), ("AES192", "aes192"), ("AES128", "aes128"),
        ("DES3", "3des"), ("DES", Refused));

    private static readonly Dictionary<string, string> AzureIkeIntegrity = Table(
        ("SHA384", "sha384"), ("SHA256", "sha256"), ("SHA1", "sha1"), ("MD5", Refused));

    private static readonly Dictionary<string, string> AzureDhGroup = Table(
        ("DHGroup24", "modp2048s256"), ("ECP384", "ecp384"), ("ECP256", "ecp256"), ("DHGroup14", "modp2048"), ("DHGroup2048", "modp2048"),
        ("DHGroup2", "modp1024"), ("DHGroup1", Refused), ("None", Refused));

    private static readonly Dictionary<string, string> AzureIpsecEncryption = Table(
        ("GCMAES256", "aes256gcm16"), ("GCMAES192", "aes192gcm16"), ("GCMAES128", "aes128gcm16"), ("AES256", "aes256"), ("AES192", "aes192"),
        ("AES128", "aes128"), ("DES3", "3des"), ("DES", Refused), ("None", "null"));

    private static readonly Dictionary<string, string> AzureIpsecIntegrity = Table(
        ("GCMAES256", "aes256gcm16"), ("GCMAES192", "aes192gcm16"), ("GCMAES128", "aes128gcm16"), ("SHA256", "sha256"), ("SHA1", "sha1"), ("MD5", Refused));

    private static readonly Dictionary<string, string> AzurePfs = Table(
        ("None", ""), ("PFS2", "modp1024"), ("PFS2048", "modp2048"), ("PFS14", "modp2048"), ("PFS24", "modp2048s256"), ("ECP256", "ecp256"),
        ("ECP384", "ecp384"), ("PFSMM", "mm"), ("PFS1", Refused));

    private static readonly Dictionary<string, string> WindowsIkeEncryption = Table(
        ("AES256", "aes256"), ("AES192", "aes192"), ("AES128", "aes128"), ("DES3", "3des"), ("DES", Refused));

    private static readonly Dictionary<string, string> WindowsIkeIntegrity = Table(
        ("SHA384", "sha384"), ("SHA256", "sha256"), ("SHA1", "sha1"), ("MD5", Refused));

    private static readonly Dictionary<string, string> WindowsDhGroup = Table(
        ("Group24", "modp2048s256"), ("ECP384", "ecp384"), ("ECP256", "ecp256"), ("Group14", "modp2048"), ("Group2", "modp1024"),
        ("Group1", Refused), ("None", Refused));

    private static readonly Dictionary<string, string> WindowsCipher = Table(
        ("GCMAES256", "aes256gcm16"), ("GCMAES192", "aes192gcm16"), ("GCMAES128", "aes128gcm16"), ("AES256", "aes256"), ("AES192", "aes192"),
        ("AES128", "aes128"), ("DES3", "3des"), ("DES", Refused), ("None", "null"));

    private static readonly Dictionary<string, string> WindowsAuthentication = Table(
        ("GCMAES256", "aes256gcm16"), ("GCMAES192", "aes192gcm16"), ("GCMAES128", "aes128gcm16"), ("SHA256128", "sha256"), ("SHA196", "sha1"),
        ("MD596", Refused), ("None", ""));

    private static readonly Dictionary<string, string> WindowsPfs = Table(
        ("None", ""), ("PFS2", "modp1024"), ("PFS2048", "modp2048"), ("PFS24", "modp2048s256"), ("ECP256", "ecp256"), ("ECP384", "ecp384"),
        ("PFSMM", "mm"), ("PFS1", Refused));

    /// <summary>The names accepted for one field, for schemas and hints.</summary>
    public static IReadOnlyList<string> Allowed(PolicyVendor vendor, PolicyField field) => [.. TableFor(vendor, field).Keys];

    /// <summary>
    /// The IKE proposal for encryption, integrity and DH group names, e.g. Azure AES256 + SHA256 + DHGroup14 →
    /// "aes256-sha256-modp2048". With AES-GCM the integrity name becomes the PRF ("aes256gcm16-sha256-modp2048").
    /// </summary>
    public static string? IkeProposal(PolicyVendor vendor, string encryption, string integrity, string dhGroup, List<PolicyNameError> errors)
    {
        var before = errors.Count;
        var enc = Look(vendor, PolicyField.IkeEncryption, encryption, errors);
        var integ = Look(vendor, PolicyField.IkeIntegrity, integrity, errors);
        var group = Look(vendor, PolicyField.DhGroup, dhGroup, errors);
        return errors.Count > before ? null : $"{enc}-{integ}-{group}";
    }

    /// <summary>
    /// The ESP proposal for IPsec encryption, integrity and PFS names, e.g. Azure GCMAES256 + GCMAES256 + None →
    /// "aes256gcm16"; AES256 + SHA1 + PFS2048 → "aes256-sha1-modp2048". PFSMM takes the IKE group
    /// (<paramref name="dhGroup"/>). GCM encryption and GCM integrity must name the same variant.
    /// </summary>
    public static string? EspProposal(PolicyVendor vendor, string encryption, string integrity, string pfsGroup, string dhGroup, List<PolicyNameError> errors)
    {
        var before = errors.Count;
        var enc = Look(vendor, PolicyField.IpsecEncryption, encryption, errors);
        var integ = Look(vendor, PolicyField.IpsecIntegrity, integrity, errors);
        var pfs = Look(vendor, PolicyField.PfsGroup, pfsGroup, errors);
        if (pfs == "mm") pfs = Look(vendor, PolicyField.DhGroup, dhGroup, errors);
        if (errors.Count > before || enc is null || integ is null || pfs is null) return null;
        var encGcm = enc.Contains("gcm", StringComparison.Ordinal);
        var integGcm = integ.Contains("gcm", StringComparison.Ordinal);
        if (encGcm || integGcm)
        {
            if (enc != integ)
            {
                var names = vendor == PolicyVendor.Azure ? "ipsec-encryption and ipsec-integrity" : "cipher-transform-constants and authentication-transform-constants";
                errors.Add(new(PolicyField.IpsecIntegrity, integrity,
                    $"AES-GCM needs the same GCMAES name for encryption and integrity, found {encryption} and {integrity}",
                    $"set both {names} to {(encGcm ? encryption : integrity)}"));
                return null;
            }
            return pfs.Length == 0 ? enc : $"{enc}-{pfs}";
        }
        if (integ.Length == 0)
        {
            errors.Add(new(PolicyField.IpsecIntegrity, integrity, $"{encryption} encryption needs an integrity algorithm, found {integrity}", "use SHA256128 (or a GCMAES cipher, which carries its own integrity)"));
            return null;
        }
        var text = $"{enc}-{integ}";
        return pfs.Length == 0 ? text : $"{text}-{pfs}";
    }

    private static string? Look(PolicyVendor vendor, PolicyField field, string value, List<PolicyNameError> errors)
    {
        var table = TableFor(vendor, field);
        if (table.TryGetValue(value, out var token))
        {
            if (token != Refused) return token;
            errors.Add(new(field, value, $"{value} is not supported by Nodes ({Why(value)})", $"use one of {string.Join(", ", table.Where(kv => kv.Value != Refused).Select(kv => kv.Key))}"));
            return null;
        }
        errors.Add(new(field, value, $"'{value}' is not a {(vendor == PolicyVendor.Azure ? "Azure" : "Windows")} name for this setting",
            $"use one of {string.Join(", ", table.Where(kv => kv.Value != Refused).Select(kv => kv.Key))}"));
        return null;
    }

    private static string Why(string value) => value switch
    {
        "DES" => "56-bit DES is broken and not implemented",
        "MD5" or "MD596" => "HMAC-MD5 is not implemented",
        "DHGroup1" or "Group1" or "PFS1" => "768-bit MODP group 1 is broken and not implemented",
        "None" => "IKEv2 always needs a key exchange group",
        _ => "not implemented",
    };

    private static Dictionary<string, string> TableFor(PolicyVendor vendor, PolicyField field) => (vendor, field) switch
    {
        (PolicyVendor.Azure, PolicyField.IkeEncryption) => AzureIkeEncryption,
        (PolicyVendor.Azure, PolicyField.IkeIntegrity) => AzureIkeIntegrity,
        (PolicyVendor.Azure, PolicyField.DhGroup) => AzureDhGroup,
        (PolicyVendor.Azure, PolicyField.IpsecEncryption) => AzureIpsecEncryption,
        (PolicyVendor.Azure, PolicyField.IpsecIntegrity) => AzureIpsecIntegrity,
        (PolicyVendor.Azure, PolicyField.PfsGroup) => AzurePfs,
        (PolicyVendor.Windows, PolicyField.IkeEncryption) => WindowsIkeEncryption,
        (PolicyVendor.Windows, PolicyField.IkeIntegrity) => WindowsIkeIntegrity,
        (PolicyVendor.Windows, PolicyField.DhGroup) => WindowsDhGroup,
        (PolicyVendor.Windows, PolicyField.IpsecEncryption) => WindowsCipher,
        (PolicyVendor.Windows, PolicyField.IpsecIntegrity) => WindowsAuthentication,
        (PolicyVendor.Windows, PolicyField.PfsGroup) => WindowsPfs,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private static Dictionary<string, string> Table(params (string Name, string Token)[] entries) =>
        entries.ToDictionary(e => e.Name, e => e.Token, StringComparer.OrdinalIgnoreCase);
}
