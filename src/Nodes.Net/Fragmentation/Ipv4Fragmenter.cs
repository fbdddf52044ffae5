using Nodes.Wire.Ip;

namespace Nodes.Net.Fragmentation;

/// <summary>
/// Splits an IPv4 datagram into fragments that fit an MTU, as RFC 791 §3.2 ("Fragmentation and
/// reassembly", and the example procedure in §3.2) describes: every fragment but the last carries a
/// multiple of 8 data octets, offsets count 8-octet units from the original datagram's start, MF is
/// set on all fragments but the last (which keeps the original MF, so a fragment can be fragmented
/// again), the first fragment keeps every option and later ones only options whose copied flag is set.
/// Stateless.
/// </summary>
public static class Ipv4Fragmenter
{
    private const byte OptionEndOfList = 0;
    private const byte OptionNoOperation = 1;
    private const byte OptionCopiedFlag = 0x80;
    private const int MaxFragmentOffset = 0x1FFF;

    /// <summary>
    /// Fragments <paramref name="datagram"/> (a datagram that parsed) for <paramref name="mtu"/>
    /// (at least 68). A datagram that already fits is returned as its single piece, copied. Returns
    /// false, with no output, when the bytes are not a datagram, the MTU is below 68, or the datagram is a
    /// fragment whose pieces' offsets would not fit the header's 13 bits (its data ends past octet 65,535:
    /// no reassembler could ever use it).
    /// </summary>
    public static bool TryFragment(ReadOnlySpan<byte> datagram, int mtu, out List<byte[]> fragments)
    {
        fragments = [];
        if (mtu < IpInterface.MinimumMtu || !Ipv4Packet.TryParse(datagram, out var packet, out _)) return false;
        var header = packet.Header;
        if (header.TotalLength <= mtu)
        {
            fragments.Add(packet.Datagram.ToArray());
            return true;
        }

        Span<byte> copiedBuffer = stackalloc byte[Ipv4Header.MaxLength - Ipv4Header.MinLength];
        var copiedLength = CopiedOptions(packet.Options, copiedBuffer);
        ReadOnlySpan<byte> laterOptions = copiedBuffer[..copiedLength];

        var payload = packet.Payload;
        if (header.FragmentOffset + (payload.Length - 1) / 8 > MaxFragmentOffset) return false;
        var offset = 0;
        while (offset < payload.Length)
        {
            var first = offset == 0;
            var options = first ? packet.Options : laterOptions;
            var headerLength = Ipv4Header.MinLength + options.Length;

            // RFC 791 §3.2: "the data must be in multiples of 8 octets" except in the last fragment.
            var room = (mtu - headerLength) & ~7;
            var length = Math.Min(room, payload.Length - offset);
            var last = offset + length == payload.Length;
            var fragmentHeader = header with
            {
                TotalLength = (ushort)(headerLength + length),
                OptionsLength = options.Length,
                FragmentOffset = (ushort)(header.FragmentOffset + (offset / 8)),
                MoreFragments = !last || header.MoreFragments,
            };
            var bytes = new byte[headerLength + length];
            fragmentHeader.Encode(bytes, options);
            payload.Slice(offset, length).CopyTo(bytes.AsSpan(headerLength));
            fragments.Add(bytes);
            offset += length;
        }

        return true;
    }

    /// <summary>
    /// Writes the options whose copied flag is set (RFC 791 §3.1 "Options": "copied flag ... 1 = copied
    /// into all fragments"), padded with End of Option List to a multiple of 4; returns the length.
    /// A malformed option ends the scan (what was found before it is kept).
    /// </summary>
    public static int CopiedOptions(ReadOnlySpan<byte> options, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < options.Length)
        {
            var type = options[i];
            if (type == OptionEndOfList) break;
            if (type == OptionNoOperation)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length) break;
            var length = options[i + 1];
            if (length < 2 || i + length > options.Length) break;
            if ((type & OptionCopiedFlag) != 0)
            {
                options.Slice(i, length).CopyTo(destination[written..]);
                written += length;
            }

            i += length;
        }

        var padded = (written + 3) & ~3;
        destination[written..padded].Clear();
        return padded;
    }
}
