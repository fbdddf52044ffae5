using System.Buffers.Binary;
using Nodes.Crypto;

namespace Nodes.Ike;

/// <summary>
/// The inbound ESP SPIs in use at one receiver. RFC 4301 section 4.1: the SPI of an inbound packet (with its protocol)
/// names exactly one SA at the receiver, so every IKE SA of a gateway draws its Child SAs' SPIs here, not each from its
/// own children: with a hundred thousand tunnels, 32-bit draws that only avoid their own SA collide about once a run
/// (n² / 2·2³²), and the second Child SA of a colliding pair can never be installed. An SPI is taken from the draw
/// until its IKE SA gives it back (the Child SA is removed, or the exchange that drew it came to nothing).
/// Safe to share between threads.
/// </summary>
public sealed class InboundSpis
{
    private readonly HashSet<uint> _taken = [];
    private readonly Lock _gate = new();

    /// <summary>SPIs taken now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _taken.Count;
        }
    }

    /// <summary>A random SPI from <paramref name="random"/> that is neither reserved (0-255, RFC 4303 section 2.1) nor taken; it is taken from now on.</summary>
    public uint Draw(IRandomSource random)
    {
        Span<byte> b = stackalloc byte[4];
        lock (_gate)
        {
            uint v;
            do
            {
                random.Fill(b);
                v = BinaryPrimitives.ReadUInt32BigEndian(b);
            } while (v < 256 || !_taken.Add(v));
            return v;
        }
    }

    /// <summary>True when <paramref name="spi"/> is taken.</summary>
    public bool IsTaken(uint spi)
    {
        lock (_gate) return _taken.Contains(spi);
    }

    /// <summary>Gives <paramref name="spi"/> back.</summary>
    public void Release(uint spi)
    {
        lock (_gate) _taken.Remove(spi);
    }
}
