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
    // The digest's states after the key blocks, sized to the digest's context (an SA holds several of these for as long
    // as it lives), empty on the fallback. A message is hashed in a state its caller holds (on its stack).
    private readonly byte[] _inner = [];
    private readonly byte[] _outer = [];

    public PrekeyedHmac(HashAlgorithmName hash, ReadOnlySpan<byte> key)
    {
        Hash = hash;
        OutputLength = hash == HashAlgorithmName.SHA1 ? 20 : hash == HashAlgorithmName.SHA256 ? 32 : hash == HashAlgorithmName.SHA384 ? 48 : 64;
        if (NativeDigests.For(hash) is { } digest)
        {
            _digest = digest;
            _inner = new byte[digest.StateSize];
            _outer = new byte[digest.StateSize];
            Span<byte> work = stackalloc byte[NativeDigests.StateBytes];
            Span<byte> block = stackalloc byte[digest.BlockSize];
            Span<byte> folded = stackalloc byte[64];
            scoped ReadOnlySpan<byte> k = key;
            if (k.Length > digest.BlockSize)
            {
                // RFC 2104 section 2: a key longer than the block is hashed first.
                digest.Init(work);
                digest.Update(work, key);
                digest.Final(work, folded);
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
            CryptographicOperations.ZeroMemory(work);
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

    /// <summary>Bytes of the state a message is hashed in (<see cref="Begin"/>): at most <see cref="NativeDigests.StateBytes"/>.</summary>
    public const int WorkBytes = NativeDigests.StateBytes;

    /// <summary>Starts a message in <paramref name="work"/> (<see cref="WorkBytes"/>, the caller's, kept until <see cref="Finish"/>).</summary>
    public void Begin(Span<byte> work)
    {
        if (_digest is not null) _inner.AsSpan().CopyTo(work);
    }

    /// <summary>Adds bytes to the message begun in <paramref name="work"/>.</summary>
    public void Append(Span<byte> work, ReadOnlySpan<byte> data)
    {
        if (_digest is { } d) d.Update(work, data);
        else _fallback!.AppendData(data);
    }

    /// <summary>Writes the whole MAC of the message in <paramref name="work"/> into <paramref name="mac"/> (at least <see cref="OutputLength"/> bytes) and clears the state.</summary>
    public void Finish(Span<byte> work, Span<byte> mac)
    {
        if (_digest is not { } d)
        {
            _fallback!.GetHashAndReset(mac);
            return;
        }
        Span<byte> inner = stackalloc byte[64];
        d.Final(work, inner);
        _outer.AsSpan().CopyTo(work);
        d.Update(work, inner[..OutputLength]);
        d.Final(work, mac);
        CryptographicOperations.ZeroMemory(inner);
        CryptographicOperations.ZeroMemory(work[.._inner.Length]);
    }

    public void Dispose()
    {
        _fallback?.Dispose();
        CryptographicOperations.ZeroMemory(_inner);
        CryptographicOperations.ZeroMemory(_outer);
    }

    internal static void Pad(Span<byte> block, ReadOnlySpan<byte> key, byte pad)
    {
        block.Fill(pad);
        for (var i = 0; i < key.Length; i++) block[i] ^= key[i];
    }
}
