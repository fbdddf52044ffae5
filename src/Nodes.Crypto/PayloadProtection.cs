using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// Confidentiality and integrity for one direction of an SA, shared by ESP (RFC 4303) and IKE's SK payload
/// (RFC 7296 section 3.14, RFC 5282). A protected packet is laid out as
/// <c>[authenticated header][IV][encrypted body][ICV]</c>; the caller builds the header and the padding,
/// this type encrypts the body in place and computes or checks the ICV.
/// <list type="bullet">
/// <item>Combined mode (AES-GCM): nonce = salt ‖ IV, associated data = <c>aad</c>; <c>macTrailer</c> must be empty.</item>
/// <item>Cipher + HMAC: the body is encrypted with the IV, then ICV = truncated HMAC over
/// <c>aad ‖ IV ‖ ciphertext ‖ macTrailer</c> (the trailer carries ESN's high 32 bits, RFC 4303 section 3.3.2.1).</item>
/// </list>
/// Not thread-safe: one owner (one SA) uses an instance.
/// </summary>
public abstract class PayloadProtection : IDisposable
{
    protected PayloadProtection(CipherSuite suite) => Suite = suite;

    public CipherSuite Suite { get; }

    /// <summary>Encrypts <paramref name="body"/> in place and writes the ICV.</summary>
    public abstract void Seal(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, Span<byte> icv, ReadOnlySpan<byte> macTrailer = default);

    /// <summary>
    /// Verifies the ICV and, only if it is right, decrypts <paramref name="body"/> in place. Returns false for a
    /// wrong ICV; the body's contents are then unspecified and must be discarded.
    /// </summary>
    public abstract bool Open(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, ReadOnlySpan<byte> icv, ReadOnlySpan<byte> macTrailer = default);

    public abstract void Dispose();

    protected void CheckShapes(ReadOnlySpan<byte> iv, int bodyLength, int icvLength)
    {
        if (iv.Length != Suite.IvLength) throw new ArgumentException($"{Suite} takes a {Suite.IvLength}-byte IV, got {iv.Length}");
        if (bodyLength % Suite.BlockSize != 0) throw new ArgumentException($"{Suite} needs the body padded to {Suite.BlockSize} bytes, got {bodyLength}");
        if (icvLength != Suite.IcvLength) throw new ArgumentException($"{Suite} has a {Suite.IcvLength}-byte ICV, got {icvLength}");
    }
}

/// <summary>AES-GCM with a 4-byte salt and an 8-byte explicit IV (RFC 4106 section 4, RFC 5282 section 4).</summary>
internal sealed class GcmProtection : PayloadProtection
{
    private readonly AesGcm? _aes;                         // 12- and 16-byte tags: .NET's AES-NI implementation
    private readonly Org.BouncyCastle.Crypto.Modes.GcmBlockCipher? _bc; // 8-byte tags, which .NET refuses
    private readonly byte[] _key;
    private readonly byte[] _salt;

    public GcmProtection(CipherSuite suite, SecretKey encryptionKey) : base(suite)
    {
        var material = encryptionKey.Expose();
        _key = material[..^4].ToArray();
        _salt = material[^4..].ToArray();
        if (suite.IcvLength >= 12) _aes = new AesGcm(_key, suite.IcvLength);
        else _bc = new Org.BouncyCastle.Crypto.Modes.GcmBlockCipher(new Org.BouncyCastle.Crypto.Engines.AesEngine());
    }

    public override void Seal(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, Span<byte> icv, ReadOnlySpan<byte> macTrailer = default)
    {
        CheckShapes(iv, body.Length, icv.Length);
        Span<byte> nonce = stackalloc byte[12];
        _salt.CopyTo(nonce);
        iv.CopyTo(nonce[4..]);
        if (_aes is not null)
        {
            _aes.Encrypt(nonce, body, body, icv, aad);
            return;
        }
        var output = new byte[body.Length + icv.Length];
        _bc!.Init(true, new Org.BouncyCastle.Crypto.Parameters.AeadParameters(new Org.BouncyCastle.Crypto.Parameters.KeyParameter(_key), icv.Length * 8, nonce.ToArray(), aad.ToArray()));
        var n = _bc.ProcessBytes(body.ToArray(), 0, body.Length, output, 0);
        _bc.DoFinal(output, n);
        output.AsSpan(0, body.Length).CopyTo(body);
        output.AsSpan(body.Length).CopyTo(icv);
    }

    public override bool Open(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, ReadOnlySpan<byte> icv, ReadOnlySpan<byte> macTrailer = default)
    {
        CheckShapes(iv, body.Length, icv.Length);
        Span<byte> nonce = stackalloc byte[12];
        _salt.CopyTo(nonce);
        iv.CopyTo(nonce[4..]);
        if (_aes is not null)
        {
            try
            {
                _aes.Decrypt(nonce, body, icv, body, aad);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }
        var input = new byte[body.Length + icv.Length];
        body.CopyTo(input);
        icv.CopyTo(input.AsSpan(body.Length));
        var output = new byte[body.Length];
        _bc!.Init(false, new Org.BouncyCastle.Crypto.Parameters.AeadParameters(new Org.BouncyCastle.Crypto.Parameters.KeyParameter(_key), icv.Length * 8, nonce.ToArray(), aad.ToArray()));
        try
        {
            var n = _bc.ProcessBytes(input, 0, input.Length, output, 0);
            _bc.DoFinal(output, n);
        }
        catch (Org.BouncyCastle.Crypto.InvalidCipherTextException)
        {
            return false;
        }
        output.CopyTo(body);
        return true;
    }

    public override void Dispose()
    {
        _aes?.Dispose();
        CryptographicOperations.ZeroMemory(_key);
        CryptographicOperations.ZeroMemory(_salt);
    }
}

/// <summary>
/// AES-CBC (RFC 3602), 3DES-CBC (RFC 2451) or NULL (RFC 2410) with truncated HMAC (RFC 2404, RFC 4868). AES runs on
/// <see cref="AesNiCbc"/> where the processor has AES instructions, the HMAC on <see cref="PrekeyedHmac"/>.
/// </summary>
internal sealed class CbcHmacProtection : PayloadProtection
{
    private readonly SymmetricAlgorithm? _cipher;
    private readonly BouncyTripleDesCbc? _tripleDes;     // 3DES keys that .NET refuses as weak
    private readonly AesNiCbc? _aesNi;                   // AES on the processor's instructions, where it has them
    private readonly PrekeyedHmac _mac;
    private readonly byte[]? _occasionalTripleDesKey; // 3DES for occasional use: a context made for each message
    private ChainedCbc? _encryptor;
    private ChainedCbc? _decryptor;

    public CbcHmacProtection(CipherSuite suite, SecretKey encryptionKey, SecretKey integrityKey, ProtectionUse use = ProtectionUse.EveryPacket) : base(suite)
    {
        if (suite.Encryption == EncryptionAlgorithm.AesCbc && AesNiCbc.IsSupported)
        {
            _aesNi = new AesNiCbc(encryptionKey.Expose());
        }
        else if (suite.Encryption == EncryptionAlgorithm.AesCbc)
        {
            _cipher = Aes.Create();
            _cipher.Key = encryptionKey.Expose().ToArray();
        }
        else if (suite.Encryption == EncryptionAlgorithm.Des3Cbc)
        {
            // .NET refuses 3DES keys with K1 = K2 or K2 = K3 ("known weak key"), but prf+ output may be
            // anything and RFC 2451 peers use whatever KEYMAT gives; BouncyCastle takes every 24-byte key.
            var tripleDes = TripleDES.Create();
            try
            {
                tripleDes.Key = encryptionKey.Expose().ToArray();
                if (use == ProtectionUse.Occasional)
                {
                    _occasionalTripleDesKey = encryptionKey.Expose().ToArray();
                    tripleDes.Dispose();
                }
                else
                {
                    _cipher = tripleDes;
                }
            }
            catch (CryptographicException)
            {
                tripleDes.Dispose();
                _tripleDes = new BouncyTripleDesCbc(encryptionKey.Expose());
            }
        }
        // The key is folded into the HMAC's states and not kept (an SA lives long, and a hub holds tens of thousands).
        _mac = new PrekeyedHmac(suite.Integrity switch
        {
            IntegrityAlgorithm.HmacSha1_96 => HashAlgorithmName.SHA1,
            IntegrityAlgorithm.HmacSha256_128 => HashAlgorithmName.SHA256,
            IntegrityAlgorithm.HmacSha384_192 => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        }, integrityKey.Expose());
    }

    public override void Seal(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, Span<byte> icv, ReadOnlySpan<byte> macTrailer = default)
    {
        CheckShapes(iv, body.Length, icv.Length);
        if (_aesNi is not null) _aesNi.Encrypt(iv, body);
        else if (_tripleDes is not null) _tripleDes.Encrypt(iv, body);
        else if (_occasionalTripleDesKey is not null) OccasionalTripleDes(encrypt: true, iv, body);
        else if (_cipher is not null) (_encryptor ??= new ChainedCbc(_cipher, encrypt: true)).Transform(iv, body);
        ComputeIcv(aad, iv, body, macTrailer, icv);
    }

    public override bool Open(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, Span<byte> body, ReadOnlySpan<byte> icv, ReadOnlySpan<byte> macTrailer = default)
    {
        CheckShapes(iv, body.Length, icv.Length);
        Span<byte> expected = stackalloc byte[icv.Length];
        ComputeIcv(aad, iv, body, macTrailer, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, icv)) return false;
        if (_aesNi is not null) _aesNi.Decrypt(iv, body);
        else if (_tripleDes is not null) _tripleDes.Decrypt(iv, body);
        else if (_occasionalTripleDesKey is not null) OccasionalTripleDes(encrypt: false, iv, body);
        else if (_cipher is not null) (_decryptor ??= new ChainedCbc(_cipher, encrypt: false)).Transform(iv, body);
        return true;
    }

    /// <summary>3DES-CBC of <paramref name="body"/> in place with a context made for this message alone.</summary>
    private void OccasionalTripleDes(bool encrypt, ReadOnlySpan<byte> iv, Span<byte> body)
    {
        if (body.IsEmpty) return;
        using var cipher = TripleDES.Create();
        cipher.Key = _occasionalTripleDesKey!;
        var output = ArrayPool<byte>.Shared.Rent(body.Length);
        try
        {
            var n = encrypt
                ? cipher.EncryptCbc(body, iv, output, PaddingMode.None)
                : cipher.DecryptCbc(body, iv, output, PaddingMode.None);
            if (n != body.Length) throw new CryptographicException($"the cipher returned {n} of {body.Length} bytes");
            output.AsSpan(0, n).CopyTo(body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output.AsSpan(0, body.Length));
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private void ComputeIcv(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> trailer, Span<byte> icv)
    {
        // ESP and the SK payload lay out header, IV and ciphertext back to back: one update instead of three.
        Span<byte> work = stackalloc byte[PrekeyedHmac.WorkBytes];
        _mac.Begin(work);
        if (Follows(aad, iv) && Follows(iv, ciphertext))
        {
            _mac.Append(work, MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetReference(aad), aad.Length + iv.Length + ciphertext.Length));
        }
        else
        {
            _mac.Append(work, aad);
            _mac.Append(work, iv);
            _mac.Append(work, ciphertext);
        }
        if (!trailer.IsEmpty) _mac.Append(work, trailer);
        Span<byte> full = stackalloc byte[64];
        var n = _mac.OutputLength;
        _mac.Finish(work, full);
        full[..icv.Length].CopyTo(icv);
        CryptographicOperations.ZeroMemory(full[..n]);
    }

    /// <summary>True when <paramref name="second"/> starts right where <paramref name="first"/> ends, in the same memory.</summary>
    private static bool Follows(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) =>
        !first.IsEmpty && !second.IsEmpty && Unsafe.AreSame(ref Unsafe.Add(ref MemoryMarshal.GetReference(first), first.Length), ref MemoryMarshal.GetReference(second));

    public override void Dispose()
    {
        _encryptor?.Dispose();
        _decryptor?.Dispose();
        _cipher?.Dispose();
        _aesNi?.Dispose();
        _tripleDes?.Dispose();
        _mac.Dispose();
        if (_occasionalTripleDesKey is not null) CryptographicOperations.ZeroMemory(_occasionalTripleDesKey);
    }
}

/// <summary>
/// CBC with a caller-chosen IV per packet on one long-lived cipher context, so that a packet costs one cipher
/// update instead of creating, keying and freeing a context (what the one-shot EncryptCbc/DecryptCbc do each call).
/// A CBC context chains every block from the last ciphertext block it saw (C_prev): encryption turns P1 into
/// E(P1 ⊕ C_prev), so feeding P1 ⊕ IV ⊕ C_prev yields E(P1 ⊕ IV), the first block under the packet's IV; decryption
/// turns C1 into D(C1) ⊕ C_prev, so XOR-ing IV ⊕ C_prev into the first output block yields D(C1) ⊕ IV. The blocks
/// after the first chain within the packet as usual. Bodies are whole blocks (the caller pads). Not thread-safe.
/// </summary>
internal sealed class ChainedCbc : IDisposable
{
    private readonly ICryptoTransform _transform;
    private readonly bool _encrypt;
    private readonly int _blockSize;
    private readonly byte[] _previous;

    public ChainedCbc(SymmetricAlgorithm cipher, bool encrypt)
    {
        _encrypt = encrypt;
        _blockSize = cipher.BlockSize / 8;
        _previous = new byte[_blockSize];
        cipher.Mode = CipherMode.CBC;
        cipher.Padding = PaddingMode.None;
        cipher.IV = _previous; // all zero: the chain starts from a known block
        _transform = encrypt ? cipher.CreateEncryptor() : cipher.CreateDecryptor();
    }

    /// <summary>Encrypts or decrypts <paramref name="body"/> in place under <paramref name="iv"/>.</summary>
    public void Transform(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        var length = body.Length;
        if (length == 0) return;
        // The cipher takes arrays: two are borrowed for the call (an SA that kept its own would hold them for its life).
        var input = ArrayPool<byte>.Shared.Rent(length);
        var output = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(input);
            if (_encrypt)
            {
                for (var i = 0; i < _blockSize; i++) input[i] ^= (byte)(iv[i] ^ _previous[i]);
            }
            var n = _transform.TransformBlock(input, 0, length, output, 0);
            if (n != length) throw new CryptographicException($"the cipher returned {n} of {length} bytes");
            if (_encrypt)
            {
                output.AsSpan(length - _blockSize, _blockSize).CopyTo(_previous);
            }
            else
            {
                for (var i = 0; i < _blockSize; i++) output[i] ^= (byte)(iv[i] ^ _previous[i]);
                input.AsSpan(length - _blockSize, _blockSize).CopyTo(_previous);
            }
            output.AsSpan(0, length).CopyTo(body);
        }
        finally
        {
            // The borrowed arrays held plaintext on one side or the other.
            CryptographicOperations.ZeroMemory(input.AsSpan(0, length));
            CryptographicOperations.ZeroMemory(output.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    public void Dispose() => _transform.Dispose();
}

/// <summary>3DES-EDE in CBC mode on BouncyCastle, in place, for keys .NET's TripleDES will not take.</summary>
internal sealed class BouncyTripleDesCbc : IDisposable
{
    private readonly byte[] _key;
    private readonly Org.BouncyCastle.Crypto.Engines.DesEdeEngine _engine = new();

    public BouncyTripleDesCbc(ReadOnlySpan<byte> key) => _key = key.ToArray();

    public void Encrypt(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        _engine.Init(true, new Org.BouncyCastle.Crypto.Parameters.KeyParameter(_key));
        Span<byte> chain = stackalloc byte[8];
        iv.CopyTo(chain);
        for (var offset = 0; offset < body.Length; offset += 8)
        {
            var block = body.Slice(offset, 8);
            for (var i = 0; i < 8; i++) chain[i] ^= block[i];
            _engine.ProcessBlock(chain, block);
            block.CopyTo(chain);
        }
    }

    public void Decrypt(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        _engine.Init(false, new Org.BouncyCastle.Crypto.Parameters.KeyParameter(_key));
        Span<byte> chain = stackalloc byte[8];
        Span<byte> cipherBlock = stackalloc byte[8];
        iv.CopyTo(chain);
        for (var offset = 0; offset < body.Length; offset += 8)
        {
            var block = body.Slice(offset, 8);
            block.CopyTo(cipherBlock);
            _engine.ProcessBlock(cipherBlock, block);
            for (var i = 0; i < 8; i++) block[i] ^= chain[i];
            cipherBlock.CopyTo(chain);
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
