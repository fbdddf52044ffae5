using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Nodes.Wire.Ip;

/// <summary>
/// An IPv4 address held as a host-order <see cref="uint"/> whose most significant byte is the first
/// octet on the wire (so 10.0.10.4 is 0x0A000A04 and numeric order is address order). Immutable,
/// allocation-free except for <see cref="ToString"/>.
/// </summary>
public readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>, ISpanFormattable
{
    /// <summary>Octets an address takes on the wire.</summary>
    public const int Length = 4;

    /// <summary>0.0.0.0.</summary>
    public static Ipv4Address Any => default;

    /// <summary>255.255.255.255, the limited broadcast address.</summary>
    public static Ipv4Address Broadcast => new(uint.MaxValue);

    /// <summary>Builds an address from its four octets in wire order.</summary>
    public static Ipv4Address FromOctets(byte a, byte b, byte c, byte d) =>
        new(((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d);

    /// <summary>Reads four octets (network byte order). Throws if fewer than four are given.</summary>
    public static Ipv4Address Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    /// <summary>Writes the four octets in network byte order. Throws if fewer than four fit.</summary>
    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    /// <summary>
    /// Parses a strict dotted quad: exactly four decimal octets 0..255, no sign, no whitespace and
    /// no leading zeros (so "010" is refused rather than guessed as octal or decimal).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Address address)
    {
        address = default;
        uint value = 0;
        var octets = 0;
        var i = 0;
        while (true)
        {
            var start = i;
            uint octet = 0;
            while (i < text.Length && text[i] is >= '0' and <= '9')
            {
                octet = (octet * 10) + (uint)(text[i] - '0');
                i++;
                if (i - start > 3) return false;
            }

            var digits = i - start;
            if (digits == 0 || octet > 255) return false;
            if (digits > 1 && text[start] == '0') return false;
            value = (value << 8) | octet;
            octets++;
            if (octets == 4) break;
            if (i >= text.Length || text[i] != '.') return false;
            i++;
        }

        if (i != text.Length) return false;
        address = new Ipv4Address(value);
        return true;
    }

    /// <summary>Parses trusted text (configuration, tests); throws <see cref="FormatException"/> otherwise.</summary>
    public static Ipv4Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not a dotted-quad IPv4 address");

    /// <summary>Dotted-quad text, e.g. "192.168.29.55".</summary>
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[15];
        TryFormat(buffer, out var written);
        return new string(buffer[..written]);
    }

    /// <summary>Writes the dotted quad without allocating; false if <paramref name="destination"/> is too short.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        for (var shift = 24; shift >= 0; shift -= 8)
        {
            var octet = (byte)(Value >> shift);
            if (!octet.TryFormat(destination[charsWritten..], out var n, default, CultureInfo.InvariantCulture))
            {
                charsWritten = 0;
                return false;
            }

            charsWritten += n;
            if (shift == 0) break;
            if (charsWritten >= destination.Length)
            {
                charsWritten = 0;
                return false;
            }

            destination[charsWritten++] = '.';
        }

        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    /// <summary>Numeric (and therefore address) order.</summary>
    public static bool operator <(Ipv4Address left, Ipv4Address right) => left.Value < right.Value;

    /// <summary>Numeric (and therefore address) order.</summary>
    public static bool operator >(Ipv4Address left, Ipv4Address right) => left.Value > right.Value;

    /// <summary>Numeric (and therefore address) order.</summary>
    public static bool operator <=(Ipv4Address left, Ipv4Address right) => left.Value <= right.Value;

    /// <summary>Numeric (and therefore address) order.</summary>
    public static bool operator >=(Ipv4Address left, Ipv4Address right) => left.Value >= right.Value;

    /// <summary>Trusted-input parse, for tests and configuration literals.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Ipv4Address address)
    {
        if (text is null)
        {
            address = default;
            return false;
        }

        return TryParse(text.AsSpan(), out address);
    }
}
