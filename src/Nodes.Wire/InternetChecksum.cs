using System.Buffers.Binary;

namespace Nodes.Wire;

/// <summary>
/// The Internet checksum of RFC 1071: the 16-bit one's complement of the one's complement sum of
/// the data taken as big-endian 16-bit words. The accumulator is incremental, so a pseudo-header
/// and a payload that live in different buffers are summed without copying; a span of odd length
/// is continued correctly by the next span (its last byte pairs with the next span's first byte).
/// A mutable value type: copy it to fork a partial sum. Not thread-safe.
/// </summary>
public struct InternetChecksum
{
    // A 64-bit accumulator of 32-bit words cannot overflow before 2^32 words (16 GiB), far beyond
    // any IPv4 datagram; 2^32 = 1 (mod 0xFFFF), so 32-bit words fold to the same 16-bit sum (RFC 1071 §2(B)).
    private ulong _sum;
    private bool _odd;

    /// <summary>Adds <paramref name="data"/> as if it followed everything added so far.</summary>
    public void Add(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        if (_odd)
        {
            // The previous span ended with the high byte of a word; this byte is its low byte.
            _sum += data[0];
            data = data[1..];
            _odd = false;
        }

        ulong sum = _sum;
        while (data.Length >= 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data);
            data = data[4..];
        }

        if (data.Length >= 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data);
            data = data[2..];
        }

        if (data.Length == 1)
        {
            // RFC 1071 §4.1: a trailing odd byte is padded with a zero low byte.
            sum += (ulong)data[0] << 8;
            _odd = true;
        }

        _sum = sum;
    }

    /// <summary>Adds one big-endian 16-bit word. The running length must be even.</summary>
    public void AddUInt16(ushort word)
    {
        if (_odd) throw new InvalidOperationException("a word cannot be added after an odd number of bytes");
        _sum += word;
    }

    /// <summary>Adds one big-endian 32-bit value (two words). The running length must be even.</summary>
    public void AddUInt32(uint value)
    {
        if (_odd) throw new InvalidOperationException("a word cannot be added after an odd number of bytes");
        _sum += value;
    }

    /// <summary>The folded one's complement sum (not complemented) of everything added.</summary>
    public readonly ushort Sum => Fold(_sum);

    /// <summary>The checksum to write into a header field: the complement of <see cref="Sum"/>.</summary>
    public readonly ushort Finish() => (ushort)~Fold(_sum);

    /// <summary>The checksum of one contiguous span.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        var c = new InternetChecksum();
        c.Add(data);
        return c.Finish();
    }

    /// <summary>
    /// True when <paramref name="data"/>, checksum field included, sums to 0xFFFF (negative zero),
    /// which is how a receiver verifies it (RFC 1071 §1 (3)).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> data)
    {
        var c = new InternetChecksum();
        c.Add(data);
        return c.Sum == 0xFFFF;
    }

    /// <summary>
    /// Incremental update of a checksum field when one 16-bit word of the covered data changes
    /// from <paramref name="oldWord"/> to <paramref name="newWord"/>: RFC 1624 §3 eqn. 3,
    /// HC' = ~(~HC + ~m + m'). Never yields the 0xFFFF that eqn. 2 can produce (RFC 1624 §4).
    /// </summary>
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord)
    {
        ulong sum = (ushort)~checksum;
        sum += (ushort)~oldWord;
        sum += newWord;
        return (ushort)~Fold(sum);
    }

    /// <summary>Incremental update for a changed 32-bit value, such as an IPv4 address (RFC 1624 §3).</summary>
    public static ushort Update(ushort checksum, uint oldValue, uint newValue)
    {
        var c = Update(checksum, (ushort)(oldValue >> 16), (ushort)(newValue >> 16));
        return Update(c, (ushort)oldValue, (ushort)newValue);
    }

    private static ushort Fold(ulong sum)
    {
        // End-around carry (RFC 1071 §2(A)) until the value fits in 16 bits.
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }
}
