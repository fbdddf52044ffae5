using System.Buffers.Binary;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Udp;

/// <summary>
/// The UDP header of RFC 768 (the "Repr"): ports, length and checksum as plain values.
/// <see cref="Encode"/> writes the fields as given; the checksum, which covers an IPv4
/// pseudo-header, is computed over the whole datagram by <see cref="WriteChecksum"/>.
/// </summary>
/// <remarks>
/// <code>
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |     Source      |   Destination   |
/// |      Port       |      Port       |
/// +--------+--------+--------+--------+
/// |                 |                 |
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// |          data octets ...
/// +---------------- ...
///
/// IPv4 pseudo-header summed before the datagram:
/// +--------+--------+--------+--------+
/// |          source address           |
/// +--------+--------+--------+--------+
/// |        destination address        |
/// +--------+--------+--------+--------+
/// |  zero  |protocol|   UDP length    |
/// +--------+--------+--------+--------+
/// </code>
/// </remarks>
public readonly record struct UdpHeader(ushort SourcePort, ushort DestinationPort, ushort Length, ushort Checksum)
{
    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        public const int SourcePort = 0;
        public const int DestinationPort = 2;
        public const int Length = 4;
        public const int Checksum = 6;
        public const int Payload = 8;
    }

    /// <summary>Octets of the header, and the smallest legal Length value.</summary>
    public const int HeaderLength = 8;

    /// <summary>Checksum field value meaning "no checksum was computed" (RFC 768).</summary>
    public const ushort NoChecksum = 0;

    /// <summary>Octets <see cref="Encode"/> writes.</summary>
    public int EncodedLength => HeaderLength;

    /// <summary>Octets of data, as claimed by <see cref="Length"/>.</summary>
    public int PayloadLength => Length - HeaderLength;

    /// <summary>A header for <paramref name="payloadLength"/> octets of data, with the checksum still zero.</summary>
    public static UdpHeader ForPayload(ushort sourcePort, ushort destinationPort, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, ushort.MaxValue - HeaderLength);
        return new UdpHeader(sourcePort, destinationPort, (ushort)(HeaderLength + payloadLength), NoChecksum);
    }

    /// <summary>
    /// Parses the header and checks the Length field (at least 8, at most the octets given; octets
    /// beyond Length are ignored). The checksum is not verified here, since that needs the IP
    /// addresses: use the overload that takes them. Never throws or allocates.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out UdpHeader header, out ReadOnlySpan<byte> payload, out WireError error)
    {
        header = default;
        payload = default;
        if (source.Length < HeaderLength)
        {
            error = WireError.Truncated;
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]);

        // RFC 768: "Length is the length in octets of this user datagram including this header".
        if (length < HeaderLength || length > source.Length)
        {
            error = WireError.BadLength;
            return false;
        }

        header = new UdpHeader(
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.SourcePort..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.DestinationPort..]),
            length,
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.Checksum..]));
        payload = source[HeaderLength..length];
        error = WireError.None;
        return true;
    }

    /// <summary>
    /// As the structural overload, then verifies the checksum with the IPv4 pseudo-header of
    /// <paramref name="source"/> and <paramref name="destination"/>. A received checksum of 0 means
    /// the sender computed none (RFC 768) and is accepted.
    /// </summary>
    public static bool TryParse(
        ReadOnlySpan<byte> datagram,
        Ipv4Address source,
        Ipv4Address destination,
        out UdpHeader header,
        out ReadOnlySpan<byte> payload,
        out WireError error)
    {
        if (!TryParse(datagram, out header, out payload, out error)) return false;
        if (header.Checksum != NoChecksum && !VerifyChecksum(datagram[..header.Length], source, destination))
        {
            header = default;
            payload = default;
            error = WireError.BadChecksum;
            return false;
        }

        return true;
    }

    /// <summary>Writes the 8 header octets exactly as given (checksum included); returns 8. Throws if they do not fit.</summary>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < HeaderLength)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the header needs {HeaderLength}", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.SourcePort..], SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.DestinationPort..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Checksum..], Checksum);
        return HeaderLength;
    }

    /// <summary>
    /// The checksum to send for <paramref name="datagram"/> (header and data, exactly Length octets,
    /// whatever its checksum field holds), with the IPv4 pseudo-header. A computed 0 is returned as 0xFFFF, because 0 on
    /// the wire means "no checksum" (RFC 768).
    /// </summary>
    public static ushort ComputeChecksum(ReadOnlySpan<byte> datagram, Ipv4Address source, Ipv4Address destination)
    {
        var checksum = Ipv4PseudoHeader.Compute(datagram, source, destination, IpProtocol.Udp, Field.Checksum);

        // RFC 768: "If the computed checksum is zero, it is transmitted as all ones".
        return checksum == 0 ? (ushort)0xFFFF : checksum;
    }

    /// <summary>Computes the checksum of <paramref name="datagram"/> and stores it in its checksum field.</summary>
    public static void WriteChecksum(Span<byte> datagram, Ipv4Address source, Ipv4Address destination) =>
        BinaryPrimitives.WriteUInt16BigEndian(datagram[Field.Checksum..], ComputeChecksum(datagram, source, destination));

    /// <summary>True when the datagram, checksum field included, sums to 0xFFFF with the pseudo-header.</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> datagram, Ipv4Address source, Ipv4Address destination) =>
        datagram.Length >= HeaderLength && Ipv4PseudoHeader.Verify(datagram, source, destination, IpProtocol.Udp);
}

/// <summary>Well-known UDP ports Nodes uses.</summary>
public static class UdpPorts
{
    /// <summary>IKE (RFC 7296 §2).</summary>
    public const ushort Ike = 500;

    /// <summary>IKE and ESP after NAT detection, UDP-encapsulated per RFC 3948 (RFC 7296 §2.23).</summary>
    public const ushort IkeNatTraversal = 4500;
}
