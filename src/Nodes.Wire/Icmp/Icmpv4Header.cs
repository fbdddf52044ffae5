using System.Buffers.Binary;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Icmp;

/// <summary>
/// The 8-octet ICMPv4 header of RFC 792: type, code, checksum and the 4-octet "rest of header"
/// whose meaning depends on the type (identifier and sequence number for echo, next-hop MTU for
/// fragmentation needed, unused for most errors). Every type parses; error types additionally must
/// quote an IPv4 header (see <see cref="TryParse"/>). <see cref="Checksum"/> is what was received;
/// encoding computes a fresh one over the whole message.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      Identifier (echo)        |     Sequence Number (echo)    |
/// |    unused (type 3 code 4)     |   Next-Hop MTU (RFC 1191)     |
/// |                   unused (other errors)                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data (echo) / Internet Header + 64 bits of Original Data     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </remarks>
public readonly record struct Icmpv4Header(Icmpv4Type Type, byte Code, uint RestOfHeader, ushort Checksum = 0)
{
    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        public const int Type = 0;
        public const int Code = 1;
        public const int Checksum = 2;
        public const int RestOfHeader = 4;
        public const int Identifier = 4;
        public const int SequenceNumber = 6;
        public const int NextHopMtu = 6;
        public const int Data = 8;
    }

    /// <summary>Octets of the header.</summary>
    public const int Length = 8;

    /// <summary>Octets of original data an error quotes after the IP header (RFC 792: "64 bits").</summary>
    public const int QuotedDataLength = 8;

    /// <summary>Octets <see cref="Encode"/> writes before the data.</summary>
    public int EncodedLength => Length;

    /// <summary>Echo identifier (upper half of the rest of header).</summary>
    public ushort Identifier => (ushort)(RestOfHeader >> 16);

    /// <summary>Echo sequence number (lower half of the rest of header).</summary>
    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>Next-hop MTU of a fragmentation-needed message (RFC 1191 §4: low-order 16 bits); 0 from pre-RFC 1191 routers.</summary>
    public ushort NextHopMtu => (ushort)RestOfHeader;

    /// <summary>True for the error types that quote the offending datagram: 3, 4, 5, 11, 12.</summary>
    public bool IsError => IsErrorType(Type);

    /// <summary>An echo request (ping).</summary>
    public static Icmpv4Header EchoRequest(ushort identifier, ushort sequenceNumber) =>
        new(Icmpv4Type.EchoRequest, 0, ((uint)identifier << 16) | sequenceNumber);

    /// <summary>An echo reply; RFC 792 says the identifier, sequence number and data are those of the request.</summary>
    public static Icmpv4Header EchoReply(ushort identifier, ushort sequenceNumber) =>
        new(Icmpv4Type.EchoReply, 0, ((uint)identifier << 16) | sequenceNumber);

    /// <summary>A destination unreachable; the unused field is zero.</summary>
    public static Icmpv4Header DestinationUnreachable(DestinationUnreachableCode code) =>
        new(Icmpv4Type.DestinationUnreachable, (byte)code, 0);

    /// <summary>Destination unreachable, fragmentation needed and DF set, with the next-hop MTU (RFC 1191 §4).</summary>
    public static Icmpv4Header FragmentationNeeded(ushort nextHopMtu) =>
        new(Icmpv4Type.DestinationUnreachable, (byte)DestinationUnreachableCode.FragmentationNeeded, nextHopMtu);

    /// <summary>A time exceeded message.</summary>
    public static Icmpv4Header TimeExceeded(TimeExceededCode code) =>
        new(Icmpv4Type.TimeExceeded, (byte)code, 0);

    /// <summary>True for the error types that quote the offending datagram: 3, 4, 5, 11, 12.</summary>
    public static bool IsErrorType(Icmpv4Type type) => type is Icmpv4Type.DestinationUnreachable
        or Icmpv4Type.SourceQuench or Icmpv4Type.Redirect or Icmpv4Type.TimeExceeded or Icmpv4Type.ParameterProblem;

    /// <summary>
    /// Parses an ICMPv4 message (the IPv4 payload) and verifies its checksum over the whole message.
    /// Unknown types parse generically. For error types the data must begin with a structurally valid
    /// IPv4 header (version 4, IHL ≥ 5, all of it present); fewer than 8 quoted data octets are
    /// accepted, because the original datagram may have carried fewer. Never throws or allocates.
    /// </summary>
    /// <param name="source">The ICMP message, exactly as long as the IPv4 payload.</param>
    /// <param name="header">The header values.</param>
    /// <param name="data">Everything after the 8-octet header.</param>
    /// <param name="error">Why parsing failed, or <see cref="WireError.None"/>.</param>
    public static bool TryParse(ReadOnlySpan<byte> source, out Icmpv4Header header, out ReadOnlySpan<byte> data, out WireError error)
    {
        header = default;
        data = default;
        if (source.Length < Length)
        {
            error = WireError.Truncated;
            return false;
        }

        // RFC 792: the checksum covers the ICMP message starting with the ICMP type.
        if (!InternetChecksum.Verify(source))
        {
            error = WireError.BadChecksum;
            return false;
        }

        var parsed = new Icmpv4Header(
            (Icmpv4Type)source[Field.Type],
            source[Field.Code],
            BinaryPrimitives.ReadUInt32BigEndian(source[Field.RestOfHeader..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.Checksum..]));

        // RFC 792: every error message carries "Internet Header + 64 bits of Original Data Datagram".
        if (parsed.IsError && !Ipv4Header.TryParseQuoted(source[Field.Data..], out _, out _, out error))
        {
            return false;
        }

        header = parsed;
        data = source[Field.Data..];
        error = WireError.None;
        return true;
    }

    /// <summary>
    /// Reads the datagram quoted by an error message's data: its IPv4 header (checksum not verified)
    /// and the leading octets of its payload that were quoted (normally 8, possibly fewer or more).
    /// </summary>
    public static bool TryParseQuotedDatagram(
        ReadOnlySpan<byte> data,
        out Ipv4Header quotedHeader,
        out ReadOnlySpan<byte> quotedPayload,
        out WireError error) =>
        Ipv4Header.TryParseQuoted(data, out quotedHeader, out quotedPayload, out error);

    /// <summary>
    /// Writes the header followed by <paramref name="data"/> and the checksum over both; returns the
    /// message length. <paramref name="data"/> may already sit at destination[8..] (it is then left
    /// in place). For trusted values: throws <see cref="ArgumentException"/> if the message does not fit.
    /// </summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> data)
    {
        var total = Length + data.Length;
        if (destination.Length < total)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the message needs {total}", nameof(destination));
        }

        data.CopyTo(destination[Field.Data..]);
        var message = destination[..total];
        message[Field.Type] = (byte)Type;
        message[Field.Code] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(message[Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(message[Field.RestOfHeader..], RestOfHeader);

        // RFC 792: "For computing the checksum, the checksum field should be zero."
        BinaryPrimitives.WriteUInt16BigEndian(message[Field.Checksum..], InternetChecksum.Compute(message));
        return total;
    }
}
