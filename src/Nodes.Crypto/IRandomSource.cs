using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// Where nonces, SPIs, IVs and private keys come from. Engines take one as an input so that a seeded
/// run repeats exactly and a test can pin every random byte.
/// </summary>
public interface IRandomSource
{
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's cryptographic generator: the choice for anything facing a real peer.</summary>
public sealed class SystemRandomSource : IRandomSource
{
    public static readonly SystemRandomSource Instance = new();

    private SystemRandomSource() { }

    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}

/// <summary>
/// A deterministic generator for seeded runs: SHA-256 in counter mode over the seed. The same seed gives
/// the same bytes on every machine. Not for secrets that face a real peer.
/// </summary>
public sealed class SeededRandomSource : IRandomSource
{
    private readonly byte[] _seed;
    private ulong _counter;
    private readonly byte[] _block = new byte[32];
    private int _blockUsed = 32;

    public SeededRandomSource(ulong seed, string stream = "")
    {
        var label = System.Text.Encoding.UTF8.GetBytes(stream);
        _seed = new byte[8 + label.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(_seed, seed);
        label.CopyTo(_seed, 8);
    }

    public void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_blockUsed == _block.Length) Refill();
            var n = Math.Min(destination.Length, _block.Length - _blockUsed);
            _block.AsSpan(_blockUsed, n).CopyTo(destination);
            _blockUsed += n;
            destination = destination[n..];
        }
    }

    private void Refill()
    {
        Span<byte> input = stackalloc byte[_seed.Length + 8];
        _seed.CopyTo(input);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(input[_seed.Length..], _counter++);
        NativeDigests.HashSha256(input, _block);
        _blockUsed = 0;
    }
}
