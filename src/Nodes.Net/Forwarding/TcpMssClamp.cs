using System.Buffers.Binary;
using Nodes.Wire;
using Nodes.Wire.Ip;

namespace Nodes.Net.Forwarding;

/// <summary>
/// TCP MSS clamping as routers in front of IPsec tunnels do it (Azure asks for 1350 on the
/// on-premises device, Microsoft "About VPN devices" via azure-rras-ipsec-facts.md §1.7): in a SYN
/// segment the Maximum Segment Size option (RFC 9293 §3.2, kind 2, length 4) is lowered to the
/// clamp and the TCP checksum is patched incrementally (RFC 1624 §3). A SYN without the option, or
/// with an MSS already at or below the clamp, is left alone. Stateless and allocation-free.
/// </summary>
public static class TcpMssClamp
{
    private const int FlagsOffset = 13;
    private const int DataOffsetOffset = 12;
    private const int ChecksumOffset = 16;
    private const int MinHeaderLength = 20;
    private const byte SynFlag = 0x02;
    private const byte OptionEnd = 0;
    private const byte OptionNop = 1;
    private const byte OptionMss = 2;
    private const byte MssOptionLength = 4;

    /// <summary>
    /// Lowers the MSS option of the TCP SYN carried by <paramref name="datagram"/> to
    /// <paramref name="maximum"/>. Returns true when the datagram was changed; any non-TCP, non-SYN,
    /// non-first-fragment or malformed datagram is left untouched and yields false.
    /// </summary>
    public static bool TryClamp(Span<byte> datagram, ushort maximum)
    {
        if (!Ipv4Header.TryParse(datagram, out var header, out _)) return false;
        if (header.Protocol != IpProtocol.Tcp || header.FragmentOffset != 0) return false;
        var tcp = datagram[header.HeaderLength..header.TotalLength];
        if (tcp.Length < MinHeaderLength || (tcp[FlagsOffset] & SynFlag) == 0) return false;

        // RFC 9293 §3.1: Data Offset is the header length in 32-bit words, at least 5.
        var tcpHeaderLength = (tcp[DataOffsetOffset] >> 4) * 4;
        if (tcpHeaderLength < MinHeaderLength || tcpHeaderLength > tcp.Length) return false;

        var options = tcp[MinHeaderLength..tcpHeaderLength];
        var i = 0;
        while (i < options.Length)
        {
            var kind = options[i];
            if (kind == OptionEnd) return false;
            if (kind == OptionNop)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length) return false;
            var length = options[i + 1];
            if (length < 2 || i + length > options.Length) return false;
            if (kind == OptionMss && length == MssOptionLength)
            {
                var valueOffset = MinHeaderLength + i + 2;
                var mss = BinaryPrimitives.ReadUInt16BigEndian(tcp[valueOffset..]);
                if (mss <= maximum) return false;
                Span<byte> value = stackalloc byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(value, maximum);
                PatchBytes(tcp, valueOffset, value, ChecksumOffset);
                return true;
            }

            i += length;
        }

        return false;
    }

    /// <summary>
    /// Replaces bytes of a checksummed message and updates its checksum field word by word
    /// (RFC 1624 §3), whether or not the changed bytes start on an even offset.
    /// </summary>
    internal static void PatchBytes(Span<byte> message, int offset, ReadOnlySpan<byte> value, int checksumOffset)
    {
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(message[checksumOffset..]);
        var firstWord = offset & ~1;
        var lastWord = (offset + value.Length - 1) & ~1;
        Span<ushort> before = stackalloc ushort[((lastWord - firstWord) / 2) + 1];
        for (var w = firstWord; w <= lastWord; w += 2) before[(w - firstWord) / 2] = ReadWord(message, w);
        value.CopyTo(message[offset..]);
        for (var w = firstWord; w <= lastWord; w += 2)
        {
            checksum = InternetChecksum.Update(checksum, before[(w - firstWord) / 2], ReadWord(message, w));
        }

        BinaryPrimitives.WriteUInt16BigEndian(message[checksumOffset..], checksum);
    }

    // A trailing odd byte is summed as the high half of a word padded with zero (RFC 1071 §4.1).
    private static ushort ReadWord(ReadOnlySpan<byte> message, int offset) =>
        offset + 1 < message.Length ? BinaryPrimitives.ReadUInt16BigEndian(message[offset..]) : (ushort)(message[offset] << 8);
}
