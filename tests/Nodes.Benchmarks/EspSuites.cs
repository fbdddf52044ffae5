using Nodes.Crypto;
using Nodes.Esp;

namespace Nodes.Benchmarks;

/// <summary>The ESP transforms the data-plane benchmarks run, and keys for one SA of each.</summary>
public static class EspSuites
{
    /// <summary>The SPI of the benchmarked SA (any usable SPI, 256 or more).</summary>
    public const uint Spi = 0x0000_c0de;

    /// <summary>Every ESP transform Azure and Windows RRAS negotiate, by its usual name.</summary>
    public static IEnumerable<CipherSuite> All() =>
    [
        new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None),
        new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None),
        new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha1_96),
        new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha256_128),
        new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha1_96),
        new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha256_128),
        new(EncryptionAlgorithm.Des3Cbc, 192, IntegrityAlgorithm.HmacSha1_96),
        new(EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.HmacSha1_96),
    ];

    /// <summary>Key material for one direction of an SA of <paramref name="suite"/>, the same on every run.</summary>
    public sealed class Keys
    {
        public Keys(CipherSuite suite, ulong seed)
        {
            var random = new SeededRandomSource(seed, suite.ToString());
            Encryption = new byte[suite.EncryptionKeyLength];
            Integrity = new byte[suite.IntegrityKeyLength];
            random.Fill(Encryption);
            random.Fill(Integrity);
        }

        public byte[] Encryption { get; }

        public byte[] Integrity { get; }

        public SecretKey? IntegrityKey => Integrity.Length == 0 ? null : new SecretKey(Integrity);
    }

    /// <summary>The sending half, with CBC IVs from the operating system's generator as on a real tunnel.</summary>
    public static EspOutboundSa Outbound(CipherSuite suite, Keys keys) =>
        new(Spi, suite, new SecretKey(keys.Encryption), keys.IntegrityKey, extendedSequenceNumbers: false, SystemRandomSource.Instance);

    /// <summary>The receiving half with the default 64-packet replay window.</summary>
    public static EspInboundSa Inbound(CipherSuite suite, Keys keys) =>
        new(Spi, suite, new SecretKey(keys.Encryption), keys.IntegrityKey, extendedSequenceNumbers: false);

    /// <summary>Bytes of the encrypted body for an inner packet of <paramref name="innerLength"/> bytes.</summary>
    public static int BodyLength(EspOutboundSa sa, int innerLength) =>
        sa.SealedLength(innerLength) - sa.PayloadOffset - sa.Suite.IcvLength;
}
