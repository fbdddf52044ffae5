using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// IKEv2 pseudorandom functions (HMAC-SHA1, RFC 2104; HMAC-SHA2, RFC 4868 section 2.1) and prf+
/// (RFC 7296 section 2.13). Stateless and thread-safe.
/// </summary>
public static class Prf
{
    /// <summary>Output bytes of one prf call, which is also the preferred key length of an HMAC PRF (RFC 4868 section 2.1.1).</summary>
    public static int OutputLength(PrfAlgorithm prf) => prf switch
    {
        PrfAlgorithm.HmacSha1 => 20,
        PrfAlgorithm.HmacSha256 => 32,
        PrfAlgorithm.HmacSha384 => 48,
        PrfAlgorithm.HmacSha512 => 64,
        _ => throw new NotSupportedException($"PRF transform {(ushort)prf} is not supported"),
    };

    internal static HashAlgorithmName HashOf(PrfAlgorithm prf) => prf switch
    {
        PrfAlgorithm.HmacSha1 => HashAlgorithmName.SHA1,
        PrfAlgorithm.HmacSha256 => HashAlgorithmName.SHA256,
        PrfAlgorithm.HmacSha384 => HashAlgorithmName.SHA384,
        PrfAlgorithm.HmacSha512 => HashAlgorithmName.SHA512,
        _ => throw new NotSupportedException($"PRF transform {(ushort)prf} is not supported"),
    };

    /// <summary>prf(key, data); <paramref name="output"/> must be exactly <see cref="OutputLength"/> bytes.</summary>
    public static void Compute(PrfAlgorithm prf, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        var length = OutputLength(prf);
        if (output.Length != length)
            throw new ArgumentException($"{Names.Of(prf)} writes {length} bytes, the output span has {output.Length}", nameof(output));
        _ = prf switch
        {
            PrfAlgorithm.HmacSha1 => HMACSHA1.HashData(key, data, output),
            PrfAlgorithm.HmacSha256 => HMACSHA256.HashData(key, data, output),
            PrfAlgorithm.HmacSha384 => HMACSHA384.HashData(key, data, output),
            _ => HMACSHA512.HashData(key, data, output),
        };
    }

    /// <summary>
    /// prf+(key, seed) truncated to <paramref name="output"/>'s length (RFC 7296 section 2.13):
    /// T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output = T1 | T2 | …, at most 255 blocks.
    /// </summary>
    public static void Plus(PrfAlgorithm prf, ReadOnlySpan<byte> key, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        var blockLength = OutputLength(prf);
        var blocks = (output.Length + blockLength - 1) / blockLength;
        if (blocks > 255)
            throw new ArgumentException($"prf+ with {Names.Of(prf)} yields at most {255 * blockLength} bytes, {output.Length} were asked for", nameof(output));
        using var mac = IncrementalHash.CreateHMAC(HashOf(prf), key);
        Span<byte> block = stackalloc byte[64];
        block = block[..blockLength];
        Span<byte> counter = stackalloc byte[1];
        try
        {
            for (var n = 1; n <= blocks; n++)
            {
                if (n > 1) mac.AppendData(block);
                mac.AppendData(seed);
                counter[0] = (byte)n;
                mac.AppendData(counter);
                mac.GetHashAndReset(block);
                var offset = (n - 1) * blockLength;
                var take = Math.Min(blockLength, output.Length - offset);
                block[..take].CopyTo(output[offset..]);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(block);
        }
    }
}
