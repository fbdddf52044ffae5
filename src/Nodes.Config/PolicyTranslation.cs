using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config;

/// <summary>
/// One custom IPsec/IKE policy in the other device's names: Azure's (New-AzIpsecPolicy, ARM ipsecPolicies) and
/// Windows' (Add-VpnS2SInterface -CustomPolicy). The value lists are those of Microsoft's documentation (Azure:
/// ipsec-ike-policy-howto and its Diffie-Hellman table, where DHGroup2048 and DHGroup14 are both group 14; Windows:
/// Add-VpnS2SInterface). A name without a counterpart is returned unchanged, so the lab's loader reports it.
/// </summary>
public static class PolicyTranslation
{
    /// <summary>(Azure key, Windows key) pairs.</summary>
    public static readonly (string Azure, string Windows)[] Fields =
    [
        (K.IkeEncryption, K.EncryptionMethod), (K.IkeIntegrity, K.IntegrityCheckMethod), (K.DhGroup, K.DhGroup),
        (K.IpsecEncryption, K.CipherTransformConstants), (K.IpsecIntegrity, K.AuthenticationTransformConstants), (K.PfsGroup, K.PfsGroup),
    ];

    public static string ToWindows(string azureKey, string value) => (azureKey, value.ToUpperInvariant()) switch
    {
        (K.DhGroup, "DHGROUP14" or "DHGROUP2048") => "Group14",
        (K.DhGroup, "DHGROUP24") => "Group24",
        (K.DhGroup, "DHGROUP2") => "Group2",
        (K.DhGroup, "DHGROUP1") => "Group1",
        (K.IpsecIntegrity, "SHA256") => "SHA256128",
        (K.IpsecIntegrity, "SHA1") => "SHA196",
        (K.IpsecIntegrity, "MD5") => "MD596",
        (K.PfsGroup, "PFS14") => "PFS2048",
        _ => value,
    };

    public static string ToAzure(string windowsKey, string value) => (windowsKey, value.ToUpperInvariant()) switch
    {
        (K.DhGroup, "GROUP14") => "DHGroup14",
        (K.DhGroup, "GROUP24") => "DHGroup24",
        (K.DhGroup, "GROUP2") => "DHGroup2",
        (K.DhGroup, "GROUP1") => "DHGroup1",
        (K.AuthenticationTransformConstants, "SHA256128") => "SHA256",
        (K.AuthenticationTransformConstants, "SHA196") => "SHA1",
        (K.AuthenticationTransformConstants, "MD596") => "MD5",
        _ => value,
    };
}
