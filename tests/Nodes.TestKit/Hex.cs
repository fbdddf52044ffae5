using System.Globalization;

namespace Nodes.TestKit;

/// <summary>Hex strings for test tables: whitespace, newlines, ':' and '-' between octets are ignored.</summary>
public static class Hex
{
    public static byte[] Decode(string hex)
    {
        var digits = new System.Text.StringBuilder(hex.Length);
        foreach (var c in hex)
        {
            if (char.IsWhiteSpace(c) || c == ':' || c == '-') continue;
            digits.Append(c);
        }
        if (digits.Length % 2 != 0) throw new FormatException($"odd number of hex digits ({digits.Length})");
        return Convert.FromHexString(digits.ToString());
    }

    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static string Spaced(ReadOnlySpan<byte> bytes)
    {
        var sb = new System.Text.StringBuilder(bytes.Length * 3);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i > 0) sb.Append(i % 16 == 0 ? '\n' : ' ');
            sb.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
