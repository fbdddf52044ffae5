using System.Globalization;

namespace Nodes.Telemetry;

/// <summary>
/// Attribute values that hop spans repeat all the time (addresses, "address:port" endpoints, small numbers), kept in
/// small direct-mapped tables so that a traced hop does not allocate a new string or box for a value the lab has seen
/// before. A lab has few addresses and ports, so nearly every lookup hits; a miss formats the value and replaces the
/// slot. Entries are immutable and slots are written whole, so any thread may read and write without a lock (two
/// threads racing on one slot both return a correct value; one of them is kept).
/// </summary>
public static class TagValues
{
    private const int Slots = 4096;

    private sealed record Text(ulong Key, string Value);

    private static readonly Text?[] Addresses = new Text?[Slots];
    private static readonly Text?[] Endpoints = new Text?[Slots];
    private static readonly object?[] Numbers = new object?[Slots];

    /// <summary>Dotted-quad text of an IPv4 address given as its 32-bit value (first octet most significant).</summary>
    public static string Address(uint address) =>
        Cached(Addresses, address, static a => string.Create(CultureInfo.InvariantCulture, $"{a >> 24}.{(a >> 16) & 0xff}.{(a >> 8) & 0xff}.{a & 0xff}"));

    /// <summary>Dotted-quad text of four address octets in wire order.</summary>
    public static string Address(ReadOnlySpan<byte> octets) =>
        Address((uint)(octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]));

    /// <summary>"address:port" (port 0..65535), or the address alone when <paramref name="port"/> is negative.</summary>
    public static string Endpoint(uint address, int port) => port < 0
        ? Address(address)
        : Cached(Endpoints, (ulong)address << 16 | (uint)(port & 0xffff), static k => string.Create(CultureInfo.InvariantCulture, $"{Address((uint)(k >> 16))}:{k & 0xffff}"));

    private static string Cached(Text?[] table, ulong key, Func<ulong, string> format)
    {
        var slot = (int)(Mix(key) & (Slots - 1));
        var hit = Volatile.Read(ref table[slot]);
        if (hit is not null && hit.Key == key) return hit.Value;
        var text = format(key);
        Volatile.Write(ref table[slot], new Text(key, text));
        return text;
    }

    /// <summary>A boxed <see cref="int"/>, shared with earlier boxes of the same value where the table still holds one.</summary>
    public static object Int(int value)
    {
        var slot = (int)(Mix((uint)value) & (Slots - 1));
        var hit = Volatile.Read(ref Numbers[slot]);
        if (hit is int held && held == value) return hit;
        object boxed = value;
        Volatile.Write(ref Numbers[slot], boxed);
        return boxed;
    }

    private static ulong Mix(ulong x)
    {
        // A multiplicative hash: neighbouring addresses and ports land in different slots.
        x *= 0x9E3779B97F4A7C15UL;
        return x >> 40;
    }
}
