namespace Nodes.Net;

/// <summary>
/// A small seeded generator (xoshiro256** seeded through SplitMix64, after Blackman and Vigna) for
/// every random choice of the network model: link impairments, NAT ports, identifiers. The same
/// seed yields the same sequence on every platform and run, so a seeded simulation repeats its
/// drops, delays and ports exactly. Not thread-safe; each model owns its own instance.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Seeds the state; any 64-bit value is fine, including 0.</summary>
    public DeterministicRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>Derives an independent seed for a named sub-generator (per link, per NAT) from a run seed.</summary>
    public static ulong Derive(ulong seed, string name)
    {
        // FNV-1a over the name, then mixed with the seed: stable across runtimes, unlike string.GetHashCode.
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }

        var x = seed ^ hash;
        return SplitMix(ref x);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) without modulo bias; <paramref name="bound"/> must be positive.</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        var limit = ulong.MaxValue - (ulong.MaxValue % (ulong)bound);
        ulong value;
        do
        {
            value = NextUInt64();
        }
        while (value >= limit);
        return (int)(value % (ulong)bound);
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
