namespace Nodes.Wire.Ike;

/// <summary>
/// The names of transform ids, from IANA's "Internet Key Exchange Version 2 (IKEv2) Parameters" registry
/// (https://www.iana.org/assignments/ikev2-parameters, Transform Types 1 to 5), so that a transform Nodes does not
/// implement can still be named in a refusal: "ENCR_CHACHA20_POLY1305 (28)". Key exchange methods, which the
/// registry describes in words ("521-bit random ECP group"), get the short names engineers write (ECP_521).
/// </summary>
public static class TransformNames
{
    private static readonly Dictionary<ushort, string> Encryption = new()
    {
        [1] = "ENCR_DES_IV64", [2] = "ENCR_DES", [3] = "ENCR_3DES", [4] = "ENCR_RC5", [5] = "ENCR_IDEA", [6] = "ENCR_CAST",
        [7] = "ENCR_BLOWFISH", [8] = "ENCR_3IDEA", [9] = "ENCR_DES_IV32", [11] = "ENCR_NULL", [12] = "ENCR_AES_CBC",
        [13] = "ENCR_AES_CTR", [14] = "ENCR_AES_CCM_8", [15] = "ENCR_AES_CCM_12", [16] = "ENCR_AES_CCM_16",
        [18] = "ENCR_AES_GCM_8", [19] = "ENCR_AES_GCM_12", [20] = "ENCR_AES_GCM_16", [21] = "ENCR_NULL_AUTH_AES_GMAC",
        [23] = "ENCR_CAMELLIA_CBC", [24] = "ENCR_CAMELLIA_CTR", [25] = "ENCR_CAMELLIA_CCM_8_ICV", [26] = "ENCR_CAMELLIA_CCM_12_ICV",
        [27] = "ENCR_CAMELLIA_CCM_16_ICV", [28] = "ENCR_CHACHA20_POLY1305", [29] = "ENCR_AES_CCM_8_IIV", [30] = "ENCR_AES_GCM_16_IIV",
        [31] = "ENCR_CHACHA20_POLY1305_IIV", [32] = "ENCR_KUZNYECHIK_MGM_KTREE", [33] = "ENCR_MAGMA_MGM_KTREE",
        [34] = "ENCR_KUZNYECHIK_MGM_MAC_KTREE", [35] = "ENCR_MAGMA_MGM_MAC_KTREE",
    };

    private static readonly Dictionary<ushort, string> Prf = new()
    {
        [1] = "PRF_HMAC_MD5", [2] = "PRF_HMAC_SHA1", [3] = "PRF_HMAC_TIGER", [4] = "PRF_AES128_XCBC", [5] = "PRF_HMAC_SHA2_256",
        [6] = "PRF_HMAC_SHA2_384", [7] = "PRF_HMAC_SHA2_512", [8] = "PRF_AES128_CMAC", [9] = "PRF_HMAC_STREEBOG_512",
    };

    private static readonly Dictionary<ushort, string> Integrity = new()
    {
        [1] = "AUTH_HMAC_MD5_96", [2] = "AUTH_HMAC_SHA1_96", [3] = "AUTH_DES_MAC", [4] = "AUTH_KPDK_MD5", [5] = "AUTH_AES_XCBC_96",
        [6] = "AUTH_HMAC_MD5_128", [7] = "AUTH_HMAC_SHA1_160", [8] = "AUTH_AES_CMAC_96", [9] = "AUTH_AES_128_GMAC",
        [10] = "AUTH_AES_192_GMAC", [11] = "AUTH_AES_256_GMAC", [12] = "AUTH_HMAC_SHA2_256_128", [13] = "AUTH_HMAC_SHA2_384_192",
        [14] = "AUTH_HMAC_SHA2_512_256",
    };

    private static readonly Dictionary<ushort, string> KeyExchange = new()
    {
        [1] = "MODP_768", [2] = "MODP_1024", [5] = "MODP_1536", [14] = "MODP_2048", [15] = "MODP_3072", [16] = "MODP_4096",
        [17] = "MODP_6144", [18] = "MODP_8192", [19] = "ECP_256", [20] = "ECP_384", [21] = "ECP_521", [22] = "MODP_1024_160",
        [23] = "MODP_2048_224", [24] = "MODP_2048_256", [25] = "ECP_192", [26] = "ECP_224", [27] = "BRAINPOOL_P224R1",
        [28] = "BRAINPOOL_P256R1", [29] = "BRAINPOOL_P384R1", [30] = "BRAINPOOL_P512R1", [31] = "CURVE25519", [32] = "CURVE448",
        [33] = "GOST3410_2012_256", [34] = "GOST3410_2012_512", [35] = "ML_KEM_512", [36] = "ML_KEM_768", [37] = "ML_KEM_1024",
    };

    /// <summary>The registry's name of a transform, or null for an id it does not assign.</summary>
    public static string? Of(TransformType type, ushort id) => type switch
    {
        TransformType.Encryption => Encryption.GetValueOrDefault(id),
        TransformType.PseudorandomFunction => Prf.GetValueOrDefault(id),
        TransformType.Integrity => Integrity.GetValueOrDefault(id),
        TransformType.DiffieHellmanGroup => KeyExchange.GetValueOrDefault(id),
        TransformType.ExtendedSequenceNumbers => id switch { 0 => "NO_ESN", 1 => "ESN", _ => null },
        _ => null,
    };

    /// <summary>"ENCR_CHACHA20_POLY1305 (28)", or "encryption algorithm 1000" for an id the registry does not assign.</summary>
    public static string Describe(TransformType type, ushort id) => Of(type, id) is { } name
        ? $"{name} ({id})"
        : type switch
        {
            TransformType.Encryption => $"encryption algorithm {id}",
            TransformType.PseudorandomFunction => $"PRF {id}",
            TransformType.Integrity => $"integrity algorithm {id}",
            TransformType.DiffieHellmanGroup => $"key exchange method {id}",
            TransformType.ExtendedSequenceNumbers => $"extended sequence numbers {id}",
            _ => $"transform type {(byte)type} id {id}",
        };
}
