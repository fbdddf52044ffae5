using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Nodes.Crypto;

/// <summary>
/// AES-CBC (FIPS 197, NIST SP 800-38A section 6.2) on the processor's AES instructions, in place, with the packet's IV:
/// the round keys are expanded once per SA and a packet costs its blocks' rounds, without the per-call error-queue and
/// context work of going through OpenSSL for a few blocks. The decryption keys are those of the equivalent inverse
/// cipher (FIPS 197 section 5.3.5), derived at the first decryption: an SA's direction only ever encrypts or only
/// decrypts, so the outbound one never pays for the second schedule. Used where <see cref="IsSupported"/>; <see cref="ChainedCbc"/> elsewhere.
/// Not thread-safe: one owner (one direction of an SA) uses an instance.
/// </summary>
internal sealed class AesNiCbc : IDisposable
{
    private const int Block = 16;
    private readonly Vector128<byte>[] _encrypt;
    private Vector128<byte>[]? _decrypt;
    private readonly int _rounds;

    /// <summary>True when the processor has the AES instructions .NET exposes.</summary>
    public static bool IsSupported => X86Aes.IsSupported;

    public AesNiCbc(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32)) throw new ArgumentException($"AES takes a 16-, 24- or 32-byte key, got {key.Length}");
        var nk = key.Length / 4;
        _rounds = nk + 6;
        var words = new uint[4 * (_rounds + 1)];
        for (var i = 0; i < nk; i++) words[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        uint rcon = 1;
        for (var i = nk; i < words.Length; i++)
        {
            var temp = words[i - 1];
            if (i % nk == 0)
            {
                // RotWord, SubWord, then Rcon into the word's first byte (the low byte, read little-endian).
                temp = SubWord((temp >> 8) | (temp << 24)) ^ rcon;
                rcon = (rcon << 1) ^ ((rcon & 0x80) != 0 ? 0x11bu : 0u);
            }
            else if (nk > 6 && i % nk == 4)
            {
                temp = SubWord(temp);
            }
            words[i] = words[i - nk] ^ temp;
        }
        _encrypt = new Vector128<byte>[_rounds + 1];
        for (var r = 0; r <= _rounds; r++) _encrypt[r] = Vector128.Create(words[4 * r], words[4 * r + 1], words[4 * r + 2], words[4 * r + 3]).AsByte();
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(words.AsSpan()));
    }

    /// <summary>Encrypts <paramref name="body"/> (whole blocks) in place under <paramref name="iv"/>.</summary>
    public void Encrypt(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        Check(iv, body);
        var keys = _encrypt;
        var chain = Vector128.Create(iv);
        for (var offset = 0; offset < body.Length; offset += Block)
        {
            var block = body.Slice(offset, Block);
            var state = Vector128.Create((ReadOnlySpan<byte>)block) ^ chain ^ keys[0];
            for (var r = 1; r < _rounds; r++) state = X86Aes.Encrypt(state, keys[r]);
            chain = X86Aes.EncryptLast(state, keys[_rounds]);
            chain.CopyTo(block);
        }
    }

    /// <summary>Decrypts <paramref name="body"/> (whole blocks) in place under <paramref name="iv"/>.</summary>
    public void Decrypt(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        Check(iv, body);
        var keys = _decrypt ??= DecryptionKeys(_encrypt, _rounds);
        var chain = Vector128.Create(iv);
        for (var offset = 0; offset < body.Length; offset += Block)
        {
            var block = body.Slice(offset, Block);
            var cipher = Vector128.Create((ReadOnlySpan<byte>)block);
            var state = cipher ^ keys[0];
            for (var r = 1; r < _rounds; r++) state = X86Aes.Decrypt(state, keys[r]);
            (X86Aes.DecryptLast(state, keys[_rounds]) ^ chain).CopyTo(block);
            chain = cipher;
        }
    }

    /// <summary>The equivalent inverse cipher's round keys: the encryption keys in reverse, the inner ones through InvMixColumns.</summary>
    private static Vector128<byte>[] DecryptionKeys(Vector128<byte>[] encrypt, int rounds)
    {
        var keys = new Vector128<byte>[rounds + 1];
        keys[0] = encrypt[rounds];
        for (var r = 1; r < rounds; r++) keys[r] = X86Aes.InverseMixColumns(encrypt[rounds - r]);
        keys[rounds] = encrypt[0];
        return keys;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_encrypt.AsSpan()));
        if (_decrypt is not null) CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_decrypt.AsSpan()));
    }

    private static void Check(ReadOnlySpan<byte> iv, Span<byte> body)
    {
        if (iv.Length != Block) throw new ArgumentException($"AES-CBC takes a 16-byte IV, got {iv.Length}");
        if (body.Length % Block != 0) throw new ArgumentException($"AES-CBC needs whole 16-byte blocks, got {body.Length} bytes");
    }

    /// <summary>
    /// The S-box applied to each byte of <paramref name="word"/>, by the processor: AESENCLAST with a zero round key is
    /// ShiftRows(SubBytes(state)), and with the word in all four columns ShiftRows moves nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SubWord(uint word) => X86Aes.EncryptLast(Vector128.Create(word).AsByte(), Vector128<byte>.Zero).AsUInt32().ToScalar();
}
