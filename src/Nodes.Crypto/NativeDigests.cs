using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>One digest's three functions; the state is a buffer of <see cref="StateSize"/> bytes (at most <see cref="NativeDigests.StateBytes"/>).</summary>
internal abstract class Digest(int blockSize, int stateSize)
{
    public int BlockSize { get; } = blockSize;

    /// <summary>Bytes a state buffer of this digest holds: OpenSSL's context structure with 16 bytes to spare.</summary>
    public int StateSize { get; } = stateSize;
    public abstract void Init(Span<byte> state);
    public abstract void Update(Span<byte> state, ReadOnlySpan<byte> data);
    public abstract void Final(Span<byte> state, Span<byte> output);
}

/// <summary>
/// OpenSSL's SHA1_*, SHA256_* and SHA384_*/SHA512_* (deprecated in 3.0 but exported, and what its own HMAC used
/// before providers), which skip the per-call provider work of OpenSSL 3's EVP interface that .NET goes through: for
/// a short packet that work costs several times the hashing. Each is checked once, against .NET's HMAC of RFC 4231's
/// first test case (RFC 2202's for SHA-1), before it is used; where one does not load or does not agree, callers use .NET.
/// </summary>
internal static class NativeDigests
{
    /// <summary>Upper bound of OpenSSL's SHA_CTX (96 bytes), SHA256_CTX (112) and SHA512_CTX (216): states are copied whole.</summary>
    public const int StateBytes = 256;

    private const string Library = "libcrypto.so.3";
    // Context sizes from openssl/sha.h: SHA_CTX five 32-bit words, two counts, a 64-byte block and a count (96 bytes);
    // SHA256_CTX eight words and two more (112); SHA512_CTX eight 64-bit words, two counts, a 128-byte block and two
    // ints (216). Each state buffer keeps 16 bytes beyond them.
    private static readonly Lazy<Digest?> Sha1 = new(() => Checked(new Functions(64, 96 + 16, SHA1_Init, SHA1_Update, SHA1_Final), HashAlgorithmName.SHA1));
    private static readonly Lazy<Digest?> Sha256 = new(() => Checked(new Functions(64, 112 + 16, SHA256_Init, SHA256_Update, SHA256_Final), HashAlgorithmName.SHA256));
    private static readonly Lazy<Digest?> Sha384 = new(() => Checked(new Functions(128, 216 + 16, SHA384_Init, SHA384_Update, SHA384_Final), HashAlgorithmName.SHA384));
    private static readonly Lazy<Digest?> Sha512 = new(() => Checked(new Functions(128, 216 + 16, SHA512_Init, SHA512_Update, SHA512_Final), HashAlgorithmName.SHA512));

    public static Digest? For(HashAlgorithmName hash) =>
        !OperatingSystem.IsLinux() ? null
        : hash == HashAlgorithmName.SHA1 ? Sha1.Value
        : hash == HashAlgorithmName.SHA256 ? Sha256.Value
        : hash == HashAlgorithmName.SHA384 ? Sha384.Value
        : hash == HashAlgorithmName.SHA512 ? Sha512.Value
        : null;

    /// <summary>SHA-256 of <paramref name="data"/> into <paramref name="output"/> (32 bytes), natively where it can.</summary>
    public static void HashSha256(ReadOnlySpan<byte> data, Span<byte> output)
    {
        if (For(HashAlgorithmName.SHA256) is not { } digest)
        {
            SHA256.HashData(data, output);
            return;
        }
        Span<byte> state = stackalloc byte[StateBytes];
        digest.Init(state);
        digest.Update(state, data);
        digest.Final(state, output);
    }

    /// <summary>The digest when it loads and its HMAC of RFC 4231's first test case (key 0x0b × 20, "Hi There") is .NET's; else null.</summary>
    private static Digest? Checked(Digest digest, HashAlgorithmName hash)
    {
        try
        {
            ReadOnlySpan<byte> key = [0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b];
            ReadOnlySpan<byte> data = "Hi There"u8;
            Span<byte> expected = stackalloc byte[64];
            var length = CryptographicOperations.HmacData(hash, key, data, expected);
            Span<byte> state = stackalloc byte[StateBytes];
            Span<byte> block = stackalloc byte[digest.BlockSize];
            Span<byte> inner = stackalloc byte[64];
            Span<byte> mac = stackalloc byte[64];
            PrekeyedHmac.Pad(block, key, 0x36);
            digest.Init(state);
            digest.Update(state, block);
            digest.Update(state, data);
            digest.Final(state, inner);
            PrekeyedHmac.Pad(block, key, 0x5c);
            digest.Init(state);
            digest.Update(state, block);
            digest.Update(state, inner[..length]);
            digest.Final(state, mac);
            return mac[..length].SequenceEqual(expected[..length]) ? digest : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    private delegate int InitFunction(ref byte state);
    private delegate int UpdateFunction(ref byte state, ref byte data, nuint length);
    private delegate int FinalFunction(ref byte output, ref byte state);

    /// <summary>One digest's Init, Update and Final of the library.</summary>
    private sealed class Functions(int blockSize, int stateSize, InitFunction init, UpdateFunction update, FinalFunction final) : Digest(blockSize, stateSize)
    {
        public override void Init(Span<byte> state) => Check(init(ref MemoryMarshal.GetReference(state)));
        public override void Update(Span<byte> state, ReadOnlySpan<byte> data) => Check(update(ref MemoryMarshal.GetReference(state), ref MemoryMarshal.GetReference(data), (nuint)data.Length));
        public override void Final(Span<byte> state, Span<byte> output) => Check(final(ref MemoryMarshal.GetReference(output), ref MemoryMarshal.GetReference(state)));
    }

    private static void Check(int ok)
    {
        if (ok != 1) throw new CryptographicException("the digest function failed");
    }

    // The states hold no pointers, so a state may move between calls; each call pins what it is given.
    [DllImport(Library)] private static extern int SHA1_Init(ref byte state);
    [DllImport(Library)] private static extern int SHA1_Update(ref byte state, ref byte data, nuint length);
    [DllImport(Library)] private static extern int SHA1_Final(ref byte output, ref byte state);
    [DllImport(Library)] private static extern int SHA256_Init(ref byte state);
    [DllImport(Library)] private static extern int SHA256_Update(ref byte state, ref byte data, nuint length);
    [DllImport(Library)] private static extern int SHA256_Final(ref byte output, ref byte state);
    [DllImport(Library)] private static extern int SHA384_Init(ref byte state);
    [DllImport(Library)] private static extern int SHA384_Update(ref byte state, ref byte data, nuint length);
    [DllImport(Library)] private static extern int SHA384_Final(ref byte output, ref byte state);
    [DllImport(Library)] private static extern int SHA512_Init(ref byte state);
    [DllImport(Library)] private static extern int SHA512_Update(ref byte state, ref byte data, nuint length);
    [DllImport(Library)] private static extern int SHA512_Final(ref byte output, ref byte state);
}
