namespace Nodes.Crypto;

/// <summary>
/// An encryption transform, its key size and (unless it is a combined mode) an integrity transform: what
/// one ESP proposal or the protection of IKE's SK payload negotiates. Knows every size a packet layout needs.
/// </summary>
public readonly record struct CipherSuite(EncryptionAlgorithm Encryption, int KeyBits, IntegrityAlgorithm Integrity)
{
    /// <summary>True for AES-GCM, whose ICV comes from the cipher (RFC 4106, RFC 5282).</summary>
    public bool IsAead => Encryption is EncryptionAlgorithm.AesGcm8 or EncryptionAlgorithm.AesGcm12 or EncryptionAlgorithm.AesGcm16;

    /// <summary>Salt bytes that follow the cipher key in the derived key material (4 for GCM, RFC 4106 section 8.1).</summary>
    public int SaltLength => IsAead ? 4 : 0;

    /// <summary>Bytes of derived key material for encryption: the cipher key plus, for GCM, its salt.</summary>
    public int EncryptionKeyLength => KeyBits / 8 + SaltLength;

    /// <summary>Bytes of derived key material for integrity (0 for combined modes and NULL integrity).</summary>
    public int IntegrityKeyLength => Integrity switch
    {
        IntegrityAlgorithm.HmacSha1_96 => 20,
        IntegrityAlgorithm.HmacSha256_128 => 32,
        IntegrityAlgorithm.HmacSha384_192 => 48,
        IntegrityAlgorithm.HmacSha512_256 => 64,
        _ => 0,
    };

    /// <summary>Explicit IV carried in each packet: 16 for AES-CBC (RFC 3602), 8 for 3DES and GCM, 0 for NULL.</summary>
    public int IvLength => Encryption switch
    {
        EncryptionAlgorithm.AesCbc => 16,
        EncryptionAlgorithm.Des3Cbc => 8,
        EncryptionAlgorithm.Null => 0,
        _ => 8,
    };

    /// <summary>The cipher's block size: the encrypted body must be a multiple of it (1 for stream and NULL).</summary>
    public int BlockSize => Encryption switch
    {
        EncryptionAlgorithm.AesCbc => 16,
        EncryptionAlgorithm.Des3Cbc => 8,
        _ => 1,
    };

    /// <summary>Integrity check value length in bytes.</summary>
    public int IcvLength => Encryption switch
    {
        EncryptionAlgorithm.AesGcm8 => 8,
        EncryptionAlgorithm.AesGcm12 => 12,
        EncryptionAlgorithm.AesGcm16 => 16,
        _ => Integrity switch
        {
            IntegrityAlgorithm.HmacSha1_96 => 12,
            IntegrityAlgorithm.HmacSha256_128 => 16,
            IntegrityAlgorithm.HmacSha384_192 => 24,
            IntegrityAlgorithm.HmacSha512_256 => 32,
            _ => 0,
        },
    };

    /// <summary>Why this combination cannot be used, or null when it can.</summary>
    public string? Problem => (Encryption, KeyBits, Integrity) switch
    {
        (EncryptionAlgorithm.AesCbc, 128 or 192 or 256, not IntegrityAlgorithm.None) => null,
        (EncryptionAlgorithm.AesCbc, 128 or 192 or 256, IntegrityAlgorithm.None) => "AES-CBC needs an integrity algorithm",
        (EncryptionAlgorithm.AesCbc, _, _) => $"AES-CBC takes a 128, 192 or 256-bit key, not {KeyBits}",
        (EncryptionAlgorithm.Des3Cbc, 192, not IntegrityAlgorithm.None) => null,
        (EncryptionAlgorithm.Des3Cbc, 192, IntegrityAlgorithm.None) => "3DES-CBC needs an integrity algorithm",
        (EncryptionAlgorithm.Des3Cbc, _, _) => $"3DES takes a 192-bit key, not {KeyBits}",
        (EncryptionAlgorithm.Null, 0, not IntegrityAlgorithm.None) => null,
        (EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.None) => "NULL encryption needs an integrity algorithm (RFC 4303 section 3.2)",
        (EncryptionAlgorithm.Null, _, _) => "NULL encryption has no key",
        (EncryptionAlgorithm.AesGcm8 or EncryptionAlgorithm.AesGcm12 or EncryptionAlgorithm.AesGcm16, 128 or 192 or 256, IntegrityAlgorithm.None) => null,
        (EncryptionAlgorithm.AesGcm8 or EncryptionAlgorithm.AesGcm12 or EncryptionAlgorithm.AesGcm16, 128 or 192 or 256, _) => "AES-GCM is a combined mode: it takes no separate integrity algorithm (RFC 4106 section 8)",
        (EncryptionAlgorithm.AesGcm8 or EncryptionAlgorithm.AesGcm12 or EncryptionAlgorithm.AesGcm16, _, _) => $"AES-GCM takes a 128, 192 or 256-bit key, not {KeyBits}",
        _ => $"encryption transform {(ushort)Encryption} is not supported",
    };

    /// <summary>Builds the packet protection for one direction of an SA from its derived keys.</summary>
    /// <param name="use">How often it will run: a data plane's every packet, or a few messages in an SA's life (IKE's SK payload).</param>
    public PayloadProtection CreateProtection(SecretKey encryptionKey, SecretKey? integrityKey, ProtectionUse use = ProtectionUse.EveryPacket)
    {
        if (Problem is { } problem) throw new ArgumentException(problem);
        if (encryptionKey.Length != EncryptionKeyLength)
            throw new ArgumentException($"{this} needs {EncryptionKeyLength} bytes of encryption key material, got {encryptionKey.Length}");
        if ((integrityKey?.Length ?? 0) != IntegrityKeyLength)
            throw new ArgumentException($"{this} needs {IntegrityKeyLength} bytes of integrity key material, got {integrityKey?.Length ?? 0}");
        return IsAead
            ? new GcmProtection(this, encryptionKey)
            : new CbcHmacProtection(this, encryptionKey, integrityKey!, use);
    }

    /// <summary>The names engineers know: "AES-GCM-16-256", "AES-CBC-256/HMAC-SHA2-256-128", "NULL/HMAC-SHA1-96".</summary>
    public override string ToString() => IsAead
        ? $"AES-GCM-{IcvLength}-{KeyBits}"
        : $"{EncryptionName}/{Names.Of(Integrity)}";

    private string EncryptionName => Encryption switch
    {
        EncryptionAlgorithm.AesCbc => $"AES-CBC-{KeyBits}",
        EncryptionAlgorithm.Des3Cbc => "3DES-CBC",
        EncryptionAlgorithm.Null => "NULL",
        _ => $"ENCR-{(ushort)Encryption}",
    };
}

/// <summary>Display names for transforms, as engineers read them in logs and proposals.</summary>
public static class Names
{
    public static string Of(IntegrityAlgorithm a) => a switch
    {
        IntegrityAlgorithm.None => "NONE",
        IntegrityAlgorithm.HmacSha1_96 => "HMAC-SHA1-96",
        IntegrityAlgorithm.HmacSha256_128 => "HMAC-SHA2-256-128",
        IntegrityAlgorithm.HmacSha384_192 => "HMAC-SHA2-384-192",
        IntegrityAlgorithm.HmacSha512_256 => "HMAC-SHA2-512-256",
        _ => $"AUTH-{(ushort)a}",
    };

    public static string Of(PrfAlgorithm a) => a switch
    {
        PrfAlgorithm.HmacSha1 => "PRF-HMAC-SHA1",
        PrfAlgorithm.HmacSha256 => "PRF-HMAC-SHA2-256",
        PrfAlgorithm.HmacSha384 => "PRF-HMAC-SHA2-384",
        PrfAlgorithm.HmacSha512 => "PRF-HMAC-SHA2-512",
        _ => $"PRF-{(ushort)a}",
    };

    public static string Of(DhGroup g) => g switch
    {
        DhGroup.Modp1024 => "MODP1024",
        DhGroup.Modp2048 => "MODP2048",
        DhGroup.Modp2048S256 => "MODP2048S256",
        DhGroup.Ecp256 => "ECP256",
        DhGroup.Ecp384 => "ECP384",
        DhGroup.Curve25519 => "CURVE25519",
        _ => $"DH-{(ushort)g}",
    };
}

/// <summary>
/// How often a protection runs. For every packet it keeps a keyed cipher context (creating one costs more than sealing a
/// packet); for the few IKE messages of an SA's life, 3DES keeps only its key and makes a context per message, since
/// .NET's keyed context holds about 450 bytes, and a hub holds an IKE SA for every one of its tunnels.
/// </summary>
public enum ProtectionUse
{
    EveryPacket,
    Occasional,
}
