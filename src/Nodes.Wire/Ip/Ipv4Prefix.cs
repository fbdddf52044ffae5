using System.Globalization;

namespace Nodes.Wire.Ip;

/// <summary>
/// An IPv4 prefix (CIDR block) such as 10.0.10.0/24. Always canonical: host bits of
/// <see cref="Network"/> are zero, so two prefixes covering the same block are equal.
/// <c>default</c> is 0.0.0.0/0, the default route. Immutable.
/// </summary>
public readonly record struct Ipv4Prefix
{
    /// <summary>Builds the prefix of <paramref name="length"/> bits containing <paramref name="address"/>; host bits are cleared.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not in 0..32.</exception>
    public Ipv4Prefix(Ipv4Address address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 32);
        Length = length;
        Network = new Ipv4Address(address.Value & MaskFor(length));
    }

    /// <summary>The first address of the block (host bits zero).</summary>
    public Ipv4Address Network { get; }

    /// <summary>Number of leading bits that identify the network, 0..32.</summary>
    public int Length { get; }

    /// <summary>The netmask as a 32-bit value, e.g. 0xFFFFFF00 for /24.</summary>
    public uint Mask => MaskFor(Length);

    /// <summary>The netmask as an address, e.g. 255.255.255.0.</summary>
    public Ipv4Address Netmask => new(Mask);

    /// <summary>The last address of the block (host bits one).</summary>
    public Ipv4Address Last => new(Network.Value | ~Mask);

    /// <summary>True when <paramref name="address"/> lies in this block.</summary>
    public bool Contains(Ipv4Address address) => (address.Value & Mask) == Network.Value;

    /// <summary>True when every address of <paramref name="other"/> lies in this block.</summary>
    public bool Contains(Ipv4Prefix other) => other.Length >= Length && Contains(other.Network);

    /// <summary>The netmask for a prefix length 0..32 (a shift by 32 is not defined in C#, hence the special case).</summary>
    public static uint MaskFor(int length) => length == 0 ? 0u : uint.MaxValue << (32 - length);

    /// <summary>
    /// Parses "a.b.c.d/n" with n in 0..32 and no leading zeros. Host bits in the address are
    /// accepted and cleared, so "10.0.10.7/24" yields 10.0.10.0/24; use <see cref="TryParseExact"/>
    /// to refuse them.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Prefix prefix)
    {
        prefix = default;
        var slash = text.IndexOf('/');
        if (slash < 0) return false;
        if (!Ipv4Address.TryParse(text[..slash], out var address)) return false;
        var lengthText = text[(slash + 1)..];
        if (lengthText.Length is 0 or > 2) return false;
        if (lengthText.Length == 2 && lengthText[0] == '0') return false;
        foreach (var c in lengthText)
        {
            if (c is < '0' or > '9') return false;
        }

        var length = int.Parse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (length > 32) return false;
        prefix = new Ipv4Prefix(address, length);
        return true;
    }

    /// <summary>As <see cref="TryParse"/>, but refuses an address with host bits set.</summary>
    public static bool TryParseExact(ReadOnlySpan<char> text, out Ipv4Prefix prefix)
    {
        if (!TryParse(text, out prefix)) return false;
        var slash = text.IndexOf('/');
        if (Ipv4Address.TryParse(text[..slash], out var address) && address == prefix.Network) return true;
        prefix = default;
        return false;
    }

    /// <summary>Parses trusted text (configuration, tests); throws <see cref="FormatException"/> otherwise.</summary>
    public static Ipv4Prefix Parse(string text) =>
        TryParse(text, out var prefix) ? prefix : throw new FormatException($"'{text}' is not an IPv4 prefix a.b.c.d/n");

    /// <summary>CIDR text, e.g. "10.0.10.0/24".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Network}/{Length}");
}
