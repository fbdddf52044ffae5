namespace Nodes.Crypto;

// Numbers are the IANA "IKEv2 Parameters" registry's transform IDs, so an enum value is what goes on the wire.

/// <summary>IKEv2 transform type 1 (encryption), RFC 7296 section 3.3.2; GCM variants from RFC 4106 / RFC 5282.</summary>
public enum EncryptionAlgorithm : ushort
{
    Des3Cbc = 3,
    Null = 11,
    AesCbc = 12,
    AesGcm8 = 18,
    AesGcm12 = 19,
    AesGcm16 = 20,
}

/// <summary>IKEv2 transform type 2 (pseudorandom function); SHA-2 values from RFC 4868.</summary>
public enum PrfAlgorithm : ushort
{
    HmacSha1 = 2,
    HmacSha256 = 5,
    HmacSha384 = 6,
    HmacSha512 = 7,
}

/// <summary>IKEv2 transform type 3 (integrity); SHA-2 values from RFC 4868.</summary>
public enum IntegrityAlgorithm : ushort
{
    None = 0,
    HmacSha1_96 = 2,
    HmacSha256_128 = 12,
    HmacSha384_192 = 13,
    HmacSha512_256 = 14,
}

/// <summary>IKEv2 transform type 4 (key exchange method).</summary>
public enum DhGroup : ushort
{
    /// <summary>1024-bit MODP, RFC 7296 appendix B.2 (Azure's and Windows' default).</summary>
    Modp1024 = 2,
    /// <summary>2048-bit MODP, RFC 3526 section 3.</summary>
    Modp2048 = 14,
    /// <summary>256-bit random ECP group over P-256, RFC 5903.</summary>
    Ecp256 = 19,
    /// <summary>384-bit random ECP group over P-384, RFC 5903.</summary>
    Ecp384 = 20,
    /// <summary>2048-bit MODP with a 256-bit prime order subgroup, RFC 5114 section 2.3.</summary>
    Modp2048S256 = 24,
    /// <summary>Curve25519, RFC 8031.</summary>
    Curve25519 = 31,
}
