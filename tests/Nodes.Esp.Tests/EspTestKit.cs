using Nodes.Crypto;
using Nodes.Esp;

namespace Nodes.Esp.Tests;

/// <summary>Returns the same bytes on every call: pins the CBC IV of a published packet.</summary>
internal sealed class FixedRandomSource(byte[] bytes) : IRandomSource
{
    public void Fill(Span<byte> destination)
    {
        if (destination.Length != bytes.Length) throw new InvalidOperationException($"asked for {destination.Length} bytes, holding {bytes.Length}");
        bytes.CopyTo(destination);
    }
}

/// <summary>Both directions of one SA built from the same keys, as the two peers would hold them.</summary>
internal sealed class SaPair : IDisposable
{
    public const uint Spi = 0xc0ffee01;

    public SaPair(CipherSuite suite, bool esn = false, int window = ReplayWindow.DefaultSize, ulong seed = 1, SequenceCounter? counter = null)
    {
        Suite = suite;
        var random = new SeededRandomSource(seed, "keys");
        var enc = new byte[suite.EncryptionKeyLength];
        var integ = new byte[suite.IntegrityKeyLength];
        random.Fill(enc);
        random.Fill(integ);
        using var encKey = new SecretKey(enc);
        using var integKey = integ.Length == 0 ? null : new SecretKey(integ);
        Out = new EspOutboundSa(Spi, suite, encKey, integKey, counter ?? new SequenceCounter(esn), new SeededRandomSource(seed, "iv"));
        In = new EspInboundSa(Spi, suite, encKey, integKey, esn, window);
    }

    public CipherSuite Suite { get; }
    public EspOutboundSa Out { get; }
    public EspInboundSa In { get; }

    public byte[] Seal(byte[] inner, byte nextHeader = 4)
    {
        var buffer = new byte[Out.SealedLength(inner.Length)];
        Assert.Equal(EspSealStatus.Sealed, Out.Seal(inner, buffer, out var written, nextHeader));
        Assert.Equal(buffer.Length, written);
        return buffer;
    }

    public void Dispose()
    {
        Out.Dispose();
        In.Dispose();
    }
}

internal static class Suites
{
    public static readonly CipherSuite Gcm8_128 = new(EncryptionAlgorithm.AesGcm8, 128, IntegrityAlgorithm.None);
    public static readonly CipherSuite Gcm12_192 = new(EncryptionAlgorithm.AesGcm12, 192, IntegrityAlgorithm.None);
    public static readonly CipherSuite Gcm16_128 = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None);
    public static readonly CipherSuite Gcm16_192 = new(EncryptionAlgorithm.AesGcm16, 192, IntegrityAlgorithm.None);
    public static readonly CipherSuite Gcm16_256 = new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None);
    public static readonly CipherSuite Cbc128Sha1 = new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha1_96);
    public static readonly CipherSuite Cbc128Sha256 = new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha256_128);
    public static readonly CipherSuite Cbc256Sha1 = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha1_96);
    public static readonly CipherSuite Cbc256Sha256 = new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha256_128);
    public static readonly CipherSuite Des3Sha1 = new(EncryptionAlgorithm.Des3Cbc, 192, IntegrityAlgorithm.HmacSha1_96);
    public static readonly CipherSuite NullSha1 = new(EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.HmacSha1_96);
    public static readonly CipherSuite NullSha256 = new(EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.HmacSha256_128);

    public static readonly CipherSuite[] All =
        [Gcm16_128, Gcm16_256, Gcm8_128, Gcm12_192, Cbc128Sha1, Cbc128Sha256, Cbc256Sha1, Cbc256Sha256, Des3Sha1, NullSha1, NullSha256];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var s in All) data.Add(s.ToString());
        return data;
    }

    public static CipherSuite ByName(string name) => All.Single(s => s.ToString() == name);

    /// <summary>A plausible inner IPv4 packet: a 20-byte header whose total length is right, then filler.</summary>
    public static byte[] InnerPacket(int length, byte fill = 0x5a)
    {
        var p = new byte[length];
        Array.Fill(p, fill);
        if (length >= 20)
        {
            p[0] = 0x45;
            p[2] = (byte)(length >> 8);
            p[3] = (byte)length;
        }
        return p;
    }
}
