using System.Buffers.Binary;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tcp;

/// <summary>
/// The TCP header of RFC 9293 §3.1 (the "Repr"): ports, sequence and acknowledgment numbers, control
/// bits, window, checksum, urgent pointer and the options Nodes speaks. <see cref="Encode"/> writes the
/// fields as given; the checksum, which covers an IPv4 pseudo-header, is computed over the whole
/// segment by <see cref="WriteChecksum"/>.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Acknowledgment Number                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data |       |C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
/// |       |       |R|E|G|K|H|T|N|N|                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           [Options]                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                             data ...
///
/// IPv4 pseudo-header summed before the segment (RFC 9293 §3.1):
/// +--------+--------+--------+--------+
/// |           Source Address          |
/// +--------+--------+--------+--------+
/// |         Destination Address       |
/// +--------+--------+--------+--------+
/// |  zero  |  PTCL  |    TCP Length   |
/// +--------+--------+--------+--------+
/// </code>
/// </remarks>
public readonly record struct TcpHeader(
    ushort SourcePort,
    ushort DestinationPort,
    uint SequenceNumber,
    uint AcknowledgmentNumber,
    TcpFlags Flags,
    ushort Window,
    ushort Checksum = 0,
    ushort UrgentPointer = 0,
    TcpOptions Options = default)
{
    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        public const int SourcePort = 0;
        public const int DestinationPort = 2;
        public const int SequenceNumber = 4;
        public const int AcknowledgmentNumber = 8;
        public const int DataOffset = 12;
        public const int Flags = 13;
        public const int Window = 14;
        public const int Checksum = 16;
        public const int UrgentPointer = 18;
        public const int Options = 20;
    }

    /// <summary>Octets of the header without options.</summary>
    public const int MinLength = 20;

    /// <summary>Octets of the longest header (Data Offset 15).</summary>
    public const int MaxLength = 60;

    /// <summary>Octets <see cref="Encode"/> writes: 20 plus the options.</summary>
    public int EncodedLength => MinLength + Options.EncodedLength;

    /// <summary>True when every bit of <paramref name="flags"/> is set.</summary>
    public bool Has(TcpFlags flags) => (Flags & flags) == flags;

    /// <summary>
    /// Sequence space the segment occupies (RFC 9293 §3.4 SEG.LEN): its data octets, plus one for
    /// SYN and one for FIN.
    /// </summary>
    public static int SegmentLength(TcpFlags flags, int dataLength) =>
        dataLength + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);

    /// <summary>
    /// Parses the header of <paramref name="segment"/> (the whole IPv4 payload): the Data Offset must be
    /// at least 5 and within the segment, and the options must be well formed. The checksum is not
    /// verified here, since that needs the IP addresses: use the overload that takes them. Never throws
    /// or allocates.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> segment, out TcpHeader header, out ReadOnlySpan<byte> payload, out WireError error)
    {
        header = default;
        payload = default;
        if (segment.Length < MinLength)
        {
            error = WireError.Truncated;
            return false;
        }

        // RFC 9293 §3.1: "The number of 32-bit words in the TCP header", at least 5.
        var headerLength = (segment[Field.DataOffset] >> 4) * 4;
        if (headerLength < MinLength)
        {
            error = WireError.BadHeaderLength;
            return false;
        }

        if (headerLength > segment.Length)
        {
            error = WireError.Truncated;
            return false;
        }

        if (!TcpOptions.TryParse(segment[MinLength..headerLength], out var options, out error)) return false;
        header = new TcpHeader(
            BinaryPrimitives.ReadUInt16BigEndian(segment[Field.SourcePort..]),
            BinaryPrimitives.ReadUInt16BigEndian(segment[Field.DestinationPort..]),
            BinaryPrimitives.ReadUInt32BigEndian(segment[Field.SequenceNumber..]),
            BinaryPrimitives.ReadUInt32BigEndian(segment[Field.AcknowledgmentNumber..]),
            (TcpFlags)segment[Field.Flags],
            BinaryPrimitives.ReadUInt16BigEndian(segment[Field.Window..]),
            BinaryPrimitives.ReadUInt16BigEndian(segment[Field.Checksum..]),
            BinaryPrimitives.ReadUInt16BigEndian(segment[Field.UrgentPointer..]),
            options);
        payload = segment[headerLength..];
        return true;
    }

    /// <summary>
    /// As the structural overload, then verifies the checksum with the IPv4 pseudo-header of
    /// <paramref name="source"/> and <paramref name="destination"/>. Unlike UDP, TCP has no "no checksum" value.
    /// </summary>
    public static bool TryParse(
        ReadOnlySpan<byte> segment,
        Ipv4Address source,
        Ipv4Address destination,
        out TcpHeader header,
        out ReadOnlySpan<byte> payload,
        out WireError error)
    {
        if (!TryParse(segment, out header, out payload, out error)) return false;
        if (!VerifyChecksum(segment, source, destination))
        {
            header = default;
            payload = default;
            error = WireError.BadChecksum;
            return false;
        }

        return true;
    }

    /// <summary>Writes the header and its options exactly as given (checksum included); returns <see cref="EncodedLength"/>. Throws if it does not fit.</summary>
    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the header needs {length}", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.SourcePort..], SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.DestinationPort..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.SequenceNumber..], SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.AcknowledgmentNumber..], AcknowledgmentNumber);
        destination[Field.DataOffset] = (byte)((length / 4) << 4);
        destination[Field.Flags] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Window..], Window);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Checksum..], Checksum);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.UrgentPointer..], UrgentPointer);
        Options.Encode(destination[Field.Options..]);
        return length;
    }

    /// <summary>The checksum to send for <paramref name="segment"/> (header and data, whatever its checksum field holds), with the IPv4 pseudo-header.</summary>
    public static ushort ComputeChecksum(ReadOnlySpan<byte> segment, Ipv4Address source, Ipv4Address destination) =>
        Ipv4PseudoHeader.Compute(segment, source, destination, IpProtocol.Tcp, Field.Checksum);

    /// <summary>Computes the checksum of <paramref name="segment"/> and stores it in its checksum field.</summary>
    public static void WriteChecksum(Span<byte> segment, Ipv4Address source, Ipv4Address destination) =>
        BinaryPrimitives.WriteUInt16BigEndian(segment[Field.Checksum..], ComputeChecksum(segment, source, destination));

    /// <summary>True when the segment, checksum field included, sums to 0xFFFF with the pseudo-header.</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> segment, Ipv4Address source, Ipv4Address destination) =>
        segment.Length >= MinLength && Ipv4PseudoHeader.Verify(segment, source, destination, IpProtocol.Tcp);
}
