using System.Buffers.Binary;
using System.Security.Cryptography;
using Nodes.Crypto;

namespace Nodes.Benchmarks;

/// <summary>
/// The bare .NET calls that protect one ESP packet, without Nodes: what an ESP implementation cannot avoid
/// doing for a suite, used as the baseline next to <c>EspOutboundSa</c> and <c>EspInboundSa</c>. The packet
/// is laid out as ESP lays it out, <c>[SPI][seq][IV][body][ICV]</c>, and the body has the same length Nodes
/// encrypts (inner packet, padding and the two trailer bytes), so both sides process the same bytes.
/// <list type="bullet">
/// <item>AES-GCM: <see cref="AesGcm.Encrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, Span{byte}, ReadOnlySpan{byte})"/>
/// and <c>Decrypt</c> with nonce = salt ‖ 64-bit counter and the 8-byte header as associated data.</item>
/// <item>AES-CBC and 3DES-CBC: a random IV from <see cref="RandomNumberGenerator"/>, <c>EncryptCbc</c>/<c>DecryptCbc</c>
/// without padding, and one HMAC (a reused <see cref="IncrementalHash"/>) over header ‖ IV ‖ ciphertext.</item>
/// <item>NULL: the HMAC alone.</item>
/// </list>
/// Not thread-safe.
/// </summary>
public sealed class RawEspCrypto : IDisposable
{
    private readonly CipherSuite _suite;
    private readonly AesGcm? _gcm;
    private readonly byte[] _salt = [];
    private readonly SymmetricAlgorithm? _cbc;
    private readonly IncrementalHash? _mac;
    private readonly uint _spi;
    private ulong _counter;

    public RawEspCrypto(uint spi, CipherSuite suite, ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> integrityKey)
    {
        _spi = spi;
        _suite = suite;
        if (suite.IsAead)
        {
            _gcm = new AesGcm(encryptionKey[..^4], suite.IcvLength);
            _salt = encryptionKey[^4..].ToArray();
            return;
        }
        _cbc = suite.Encryption switch
        {
            EncryptionAlgorithm.AesCbc => Aes.Create(),
            EncryptionAlgorithm.Des3Cbc => TripleDES.Create(),
            _ => null,
        };
        if (_cbc is not null) _cbc.Key = encryptionKey.ToArray();
        _mac = IncrementalHash.CreateHMAC(suite.Integrity switch
        {
            IntegrityAlgorithm.HmacSha1_96 => HashAlgorithmName.SHA1,
            IntegrityAlgorithm.HmacSha256_128 => HashAlgorithmName.SHA256,
            IntegrityAlgorithm.HmacSha384_192 => HashAlgorithmName.SHA384,
            IntegrityAlgorithm.HmacSha512_256 => HashAlgorithmName.SHA512,
            _ => throw new ArgumentException($"{suite} has no integrity algorithm", nameof(suite)),
        }, integrityKey);
    }

    private int HeaderLength => Wire.Esp.EspHeader.Length;

    /// <summary>Writes the header and protects <paramref name="plaintext"/> (a whole ESP body) into <paramref name="packet"/>.</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> packet)
    {
        var sequence = ++_counter;
        BinaryPrimitives.WriteUInt32BigEndian(packet, _spi);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], (uint)sequence);
        var ivLength = _suite.IvLength;
        var iv = packet.Slice(HeaderLength, ivLength);
        var body = packet.Slice(HeaderLength + ivLength, plaintext.Length);
        var icv = packet.Slice(HeaderLength + ivLength + plaintext.Length, _suite.IcvLength);
        if (_gcm is not null)
        {
            Span<byte> nonce = stackalloc byte[12];
            _salt.CopyTo(nonce);
            BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
            nonce[4..].CopyTo(iv);
            _gcm.Encrypt(nonce, plaintext, body, icv, packet[..HeaderLength]);
            return;
        }
        if (_cbc is not null)
        {
            RandomNumberGenerator.Fill(iv);
            _cbc.EncryptCbc(plaintext, iv, body, PaddingMode.None);
        }
        else
        {
            plaintext.CopyTo(body);
        }
        Mac(packet[..(HeaderLength + ivLength + body.Length)], icv);
    }

    /// <summary>Checks and decrypts a packet <see cref="Seal"/> produced, in place; false for a wrong ICV.</summary>
    public bool Open(Span<byte> packet)
    {
        var ivLength = _suite.IvLength;
        var icvLength = _suite.IcvLength;
        var iv = packet.Slice(HeaderLength, ivLength);
        var body = packet[(HeaderLength + ivLength)..^icvLength];
        var icv = packet[^icvLength..];
        if (_gcm is not null)
        {
            Span<byte> nonce = stackalloc byte[12];
            _salt.CopyTo(nonce);
            iv.CopyTo(nonce[4..]);
            try
            {
                _gcm.Decrypt(nonce, body, icv, body, packet[..HeaderLength]);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }
        Span<byte> expected = stackalloc byte[icvLength];
        Mac(packet[..^icvLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, icv)) return false;
        _cbc?.DecryptCbc(body, iv, body, PaddingMode.None);
        return true;
    }

    private void Mac(ReadOnlySpan<byte> covered, Span<byte> icv)
    {
        Span<byte> full = stackalloc byte[64];
        _mac!.AppendData(covered);
        _mac.GetHashAndReset(full);
        full[..icv.Length].CopyTo(icv);
    }

    public void Dispose()
    {
        _gcm?.Dispose();
        _cbc?.Dispose();
        _mac?.Dispose();
    }
}
