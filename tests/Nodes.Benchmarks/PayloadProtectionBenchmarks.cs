using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Nodes.Crypto;

namespace Nodes.Benchmarks;

/// <summary>
/// Nodes' payload protection (the cipher layer under ESP and IKE's SK payload) next to the bare .NET call it
/// wraps, in the same run: the ratio is the cost of the wrapper. AES-GCM-16-256 runs on .NET's
/// <see cref="AesGcm"/>; AES-GCM-8-256, whose 8-byte tag .NET refuses, runs on BouncyCastle and shows what that
/// fallback costs against the same baseline. Every seal takes the next IV (as ESP's sequence number gives one);
/// open decrypts in place, so every open (raw and Nodes alike) first restores the ciphertext from a pristine copy.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PayloadProtectionBenchmarks
{
    [Params(64, 1400)]
    public int Size { get; set; }

    private readonly byte[] _aad = new byte[8];
    private readonly byte[] _iv = new byte[8];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _sealNonce = new byte[12];
    private readonly byte[] _sealIv = new byte[8];
    private ulong _sealCounter;
    private readonly byte[] _sealTag16 = new byte[16];
    private readonly byte[] _sealTag8 = new byte[8];
    private byte[] _body = [];
    private Sealed _raw = null!;
    private Sealed _gcm16 = null!;
    private Sealed _gcm8 = null!;
    private AesGcm _rawAes = null!;
    private PayloadProtection _gcm16Protection = null!;
    private PayloadProtection _gcm8Protection = null!;

    /// <summary>A pristine ciphertext and tag, and the working copies an open consumes.</summary>
    private sealed class Sealed(byte[] body, byte[] tag)
    {
        public byte[] PristineBody { get; } = body.ToArray();
        public byte[] Tag { get; } = tag.ToArray();
        public byte[] Work { get; } = new byte[body.Length];
    }

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[36];
        new SeededRandomSource(1, "payload protection").Fill(key);
        new SeededRandomSource(2, "aad").Fill(_aad);
        new SeededRandomSource(3, "iv").Fill(_iv);
        // The raw call gets the nonce Nodes builds: salt ‖ IV (RFC 4106 section 4).
        key.AsSpan(32).CopyTo(_nonce);
        _iv.CopyTo(_nonce, 4);
        key.AsSpan(32).CopyTo(_sealNonce);
        _body = new byte[Size];
        new SeededRandomSource(4, "body").Fill(_body);

        _rawAes = new AesGcm(key.AsSpan(0, 32), 16);
        _gcm16Protection = new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None).CreateProtection(new SecretKey(key), null);
        _gcm8Protection = new CipherSuite(EncryptionAlgorithm.AesGcm8, 256, IntegrityAlgorithm.None).CreateProtection(new SecretKey(key), null);

        var ciphertext = new byte[Size];
        var tag16 = new byte[16];
        _rawAes.Encrypt(_nonce, _body, ciphertext, tag16, _aad);
        _raw = new Sealed(ciphertext, tag16);
        ciphertext = _body.ToArray();
        _gcm16Protection.Seal(_aad, _iv, ciphertext, tag16);
        _gcm16 = new Sealed(ciphertext, tag16);
        // Same key, nonce and data: the wrapper must produce exactly what the raw call does.
        if (!_gcm16.PristineBody.AsSpan().SequenceEqual(_raw.PristineBody) || !_gcm16.Tag.AsSpan().SequenceEqual(_raw.Tag))
            throw new InvalidOperationException("PayloadProtection and AesGcm disagree");
        ciphertext = _body.ToArray();
        var tag8 = new byte[8];
        _gcm8Protection.Seal(_aad, _iv, ciphertext, tag8);
        _gcm8 = new Sealed(ciphertext, tag8);
        if (!RawOpen() || !OpenGcm16() || !OpenGcm8()) throw new InvalidOperationException("a sealed body does not open");
    }

    [Benchmark(Baseline = true, Description = "raw AesGcm.Encrypt")]
    [BenchmarkCategory("Seal")]
    public void RawSeal()
    {
        // A fresh nonce per packet, as ESP's sequence number gives one.
        BinaryPrimitives.WriteUInt64BigEndian(_sealNonce.AsSpan(4), ++_sealCounter);
        _rawAes.Encrypt(_sealNonce, _body, _body, _sealTag16, _aad);
    }

    [Benchmark(Description = "PayloadProtection.Seal AES-GCM-16-256")]
    [BenchmarkCategory("Seal")]
    public void SealGcm16()
    {
        BinaryPrimitives.WriteUInt64BigEndian(_sealIv, ++_sealCounter);
        _gcm16Protection.Seal(_aad, _sealIv, _body, _sealTag16);
    }

    /// <summary>BouncyCastle refuses to encrypt twice under one key and nonce, so the IV must move here too.</summary>
    [Benchmark(Description = "PayloadProtection.Seal AES-GCM-8-256 (BouncyCastle)")]
    [BenchmarkCategory("Seal")]
    public void SealGcm8()
    {
        BinaryPrimitives.WriteUInt64BigEndian(_sealIv, ++_sealCounter);
        _gcm8Protection.Seal(_aad, _sealIv, _body, _sealTag8);
    }

    [Benchmark(Baseline = true, Description = "raw AesGcm.Decrypt")]
    [BenchmarkCategory("Open")]
    public bool RawOpen()
    {
        _raw.PristineBody.CopyTo(_raw.Work, 0);
        try
        {
            _rawAes.Decrypt(_nonce, _raw.Work, _raw.Tag, _raw.Work, _aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    [Benchmark(Description = "PayloadProtection.Open AES-GCM-16-256")]
    [BenchmarkCategory("Open")]
    public bool OpenGcm16()
    {
        _gcm16.PristineBody.CopyTo(_gcm16.Work, 0);
        return _gcm16Protection.Open(_aad, _iv, _gcm16.Work, _gcm16.Tag);
    }

    [Benchmark(Description = "PayloadProtection.Open AES-GCM-8-256 (BouncyCastle)")]
    [BenchmarkCategory("Open")]
    public bool OpenGcm8()
    {
        _gcm8.PristineBody.CopyTo(_gcm8.Work, 0);
        return _gcm8Protection.Open(_aad, _iv, _gcm8.Work, _gcm8.Tag);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rawAes.Dispose();
        _gcm16Protection.Dispose();
        _gcm8Protection.Dispose();
    }
}
