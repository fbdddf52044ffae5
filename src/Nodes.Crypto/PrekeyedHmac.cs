using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// HMAC (RFC 2104) with the key folded in once: the hash states after the key ⊕ ipad and key ⊕ opad blocks are kept,
/// and each message starts from copies of them, so a message costs its own blocks and one more. On Linux it runs on
/// OpenSSL's plain digest functions (the library .NET itself loads), which skip the per-call provider work that makes
/// an EVP HMAC of a short packet cost four to five times its hashing; where they are not there (or do not produce
/// RFC 4231's first vector at start), the same interface falls back to .NET's <see cref="IncrementalHash"/>.
/// Not thread-safe: one owner (one direction of an SA) uses an instance.
/// </summary>
internal sealed class PrekeyedHmac : IDisposable
{
    private readonly Digest? _digest;
    private readonly IncrementalHash? _fallback;
    private readonly byte[] _inner = new byte[NativeDigests.StateBytes];
    private readonly byte[] _outer = new byte[NativeDigests.StateBytes];
    private readonly byte[] _work = new byte[NativeDigests.StateBytes];

    public PrekeyedHmac(HashAlgorithmName hash, ReadOnlySpan<byte> key)
    {
        Hash = hash;
        OutputLength = hash == HashAlgorithmName.SHA1 ? 20 : hash == HashAlgorithmName.SHA256 ? 32 : hash == HashAlgorithmName.SHA384 ? 48 : 64;
        if (NativeDigests.For(hash) is { } digest)
        {
            _digest = digest;
            Span<byte> block = stackalloc byte[digest.BlockSize];
            Span<byte> folded = stackalloc byte[64];
            scoped ReadOnlySpan<byte> k = key;
            if (k.Length > digest.BlockSize)
            {
                // RFC 2104 section 2: a key longer than the block is hashed first.
                digest.Init(_work);
                digest.Update(_work, key);
                digest.Final(_work, folded);
                k = folded[..OutputLength];
            }
            Pad(block, k, 0x36);
            digest.Init(_inner);
            digest.Update(_inner, block);
            Pad(block, k, 0x5c);
            digest.Init(_outer);
            digest.Update(_outer, block);
            CryptographicOperations.ZeroMemory(block);
            CryptographicOperations.ZeroMemory(folded);
            CryptographicOperations.ZeroMemory(_work);
        }
        else
        {
            _fallback = IncrementalHash.CreateHMAC(hash, key);
        }
    }

    /// <summary>The hash underneath.</summary>
    public HashAlgorithmName Hash { get; }

    /// <summary>Bytes of a whole MAC (before any truncation).</summary>
    public int OutputLength { get; }

    /// <summary>True when the prekeyed states are used, false on the fallback.</summary>
    public bool Prekeyed => _digest is not null;

    /// <summary>Starts a message.</summary>
    public void Begin()
    {
        if (_digest is not null) _inner.AsSpan().CopyTo(_work);
    }

    /// <summary>Adds bytes to the message begun.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_digest is { } d) d.Update(_work, data);
        else _fallback!.AppendData(data);
    }

    /// <summary>Writes the whole MAC of the message into <paramref name="mac"/> (at least <see cref="OutputLength"/> bytes).</summary>
    public void Finish(Span<byte> mac)
    {
        if (_digest is not { } d)
        {
            _fallback!.GetHashAndReset(mac);
            return;
        }
        Span<byte> inner = stackalloc byte[64];
        d.Final(_work, inner);
        _outer.AsSpan().CopyTo(_work);
        d.Update(_work, inner[..OutputLength]);
        d.Final(_work, mac);
        CryptographicOperations.ZeroMemory(inner);
    }

    public void Dispose()
    {
        _fallback?.Dispose();
        CryptographicOperations.ZeroMemory(_inner);
        CryptographicOperations.ZeroMemory(_outer);
        CryptographicOperations.ZeroMemory(_work);
    }

    internal static void Pad(Span<byte> block, ReadOnlySpan<byte> key, byte pad)
    {
        block.Fill(pad);
        for (var i = 0; i < key.Length; i++) block[i] ^= key[i];
    }
}
