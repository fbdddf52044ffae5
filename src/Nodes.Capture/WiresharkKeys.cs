using System.Globalization;
using System.Text;
using Nodes.Crypto;

namespace Nodes.Capture;

/// <summary>The keys of one direction of an ESP SA, as Wireshark's esp_sa table wants them.</summary>
public sealed record EspSaKeyEntry(string Source, string Destination, uint Spi, CipherSuite Suite, SecretKey EncryptionKey, SecretKey? IntegrityKey);

/// <summary>The keys of one IKE SA, as Wireshark's ikev2_decryption_table wants them.</summary>
public sealed record IkeSaKeyEntry(ulong InitiatorSpi, ulong ResponderSpi, CipherSuite Suite, SecretKey SkEi, SecretKey SkEr, SecretKey? SkAi, SecretKey? SkAr);

/// <summary>
/// Writes the files with which Wireshark and tshark decrypt a Nodes capture: <c>esp_sa</c>,
/// <c>ikev2_decryption_table</c> and a <c>preferences</c> file that turns ESP decryption and ICV checking on.
/// The layout is that of strongSwan's save-keys plugin (one quoted CSV line per SA direction), which
/// Wireshark 4.0 and later read; pointing WIRESHARK_CONFIG_DIR at the folder makes tshark use them.
/// This is the one place where key bytes leave the process, and only because the user asked for a
/// decryptable capture.
/// </summary>
public sealed class WiresharkKeys
{
    private readonly List<EspSaKeyEntry> _esp = [];
    private readonly List<IkeSaKeyEntry> _ike = [];

    public IReadOnlyList<EspSaKeyEntry> EspSas => _esp;
    public IReadOnlyList<IkeSaKeyEntry> IkeSas => _ike;

    public void Add(EspSaKeyEntry entry) => _esp.Add(entry);

    public void Add(IkeSaKeyEntry entry) => _ike.Add(entry);

    /// <summary>Writes esp_sa, ikev2_decryption_table and preferences into <paramref name="directory"/>.</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "esp_sa"), EspSaFile());
        File.WriteAllText(Path.Combine(directory, "ikev2_decryption_table"), IkeFile());
        File.WriteAllText(Path.Combine(directory, "preferences"), PreferencesFile);
    }

    /// <summary>The preferences file: ESP decryption and ICV checks on, with the keys in esp_sa.</summary>
    public const string PreferencesFile =
        "# Written by Nodes: decrypt ESP and check its ICV with the keys in esp_sa.\n" +
        "esp.enable_encryption_decode: TRUE\n" +
        "esp.enable_authentication_check: TRUE\n" +
        "esp.enable_null_encryption_decode_heuristic: FALSE\n";

    public string EspSaFile()
    {
        var sb = new StringBuilder();
        foreach (var e in _esp)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"\"IPv4\",\"{e.Source}\",\"{e.Destination}\",\"0x{e.Spi:x8}\",\"{EspEncryptionName(e.Suite)}\",\"0x{Hex(e.EncryptionKey)}\",\"{EspIntegrityName(e.Suite)}\",\"0x{Hex(e.IntegrityKey)}\"\n");
        }
        return sb.ToString();
    }

    public string IkeFile()
    {
        var sb = new StringBuilder();
        foreach (var e in _ike)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"{e.InitiatorSpi:x16},{e.ResponderSpi:x16},{Hex(e.SkEi)},{Hex(e.SkEr)},\"{IkeEncryptionName(e.Suite)}\",{Hex(e.SkAi)},{Hex(e.SkAr)},\"{IkeIntegrityName(e.Suite)}\"\n");
        }
        return sb.ToString();
    }

    /// <summary>Wireshark's name for an ESP encryption transform (packet-ipsec.c value strings).</summary>
    public static string EspEncryptionName(CipherSuite s) => s.Encryption switch
    {
        EncryptionAlgorithm.AesGcm16 => "AES-GCM with 16 octet ICV [RFC4106]",
        EncryptionAlgorithm.AesGcm12 => "AES-GCM with 12 octet ICV [RFC4106]",
        EncryptionAlgorithm.AesGcm8 => "AES-GCM with 8 octet ICV [RFC4106]",
        EncryptionAlgorithm.AesCbc => "AES-CBC [RFC3602]",
        EncryptionAlgorithm.Des3Cbc => "TripleDES-CBC [RFC2451]",
        EncryptionAlgorithm.Null => "NULL",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s.Encryption, "no Wireshark name"),
    };

    /// <summary>Wireshark's name for an ESP integrity transform.</summary>
    public static string EspIntegrityName(CipherSuite s) => s.IsAead ? "NULL" : s.Integrity switch
    {
        IntegrityAlgorithm.HmacSha1_96 => "HMAC-SHA-1-96 [RFC2404]",
        IntegrityAlgorithm.HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        IntegrityAlgorithm.HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        IntegrityAlgorithm.HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        _ => "NULL",
    };

    /// <summary>Wireshark's name for an IKEv2 encryption transform (packet-isakmp.c value strings).</summary>
    public static string IkeEncryptionName(CipherSuite s) => s.Encryption switch
    {
        EncryptionAlgorithm.AesGcm16 => $"AES-GCM-{s.KeyBits} with 16 octet ICV [RFC5282]",
        EncryptionAlgorithm.AesGcm12 => $"AES-GCM-{s.KeyBits} with 12 octet ICV [RFC5282]",
        EncryptionAlgorithm.AesGcm8 => $"AES-GCM-{s.KeyBits} with 8 octet ICV [RFC5282]",
        EncryptionAlgorithm.AesCbc => $"AES-CBC-{s.KeyBits} [RFC3602]",
        EncryptionAlgorithm.Des3Cbc => "3DES [RFC2451]",
        EncryptionAlgorithm.Null => "NULL [RFC2410]",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s.Encryption, "no Wireshark name"),
    };

    /// <summary>Wireshark's name for an IKEv2 integrity transform.</summary>
    public static string IkeIntegrityName(CipherSuite s) => s.IsAead ? "NONE [RFC4306]" : s.Integrity switch
    {
        IntegrityAlgorithm.HmacSha1_96 => "HMAC_SHA1_96 [RFC2404]",
        IntegrityAlgorithm.HmacSha256_128 => "HMAC_SHA2_256_128 [RFC4868]",
        IntegrityAlgorithm.HmacSha384_192 => "HMAC_SHA2_384_192 [RFC4868]",
        IntegrityAlgorithm.HmacSha512_256 => "HMAC_SHA2_512_256 [RFC4868]",
        _ => "NONE [RFC4306]",
    };

    private static string Hex(SecretKey? key) => key is null ? string.Empty : Convert.ToHexStringLower(key.Expose());
}
