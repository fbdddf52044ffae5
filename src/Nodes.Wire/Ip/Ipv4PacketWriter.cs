using Nodes.Wire.Icmp;
using Nodes.Wire.Tcp;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Ip;

/// <summary>The per-datagram IPv4 values a sender chooses; lengths, protocol and checksums are filled in by <see cref="Ipv4PacketWriter"/>.</summary>
/// <param name="Source">Source address.</param>
/// <param name="Destination">Destination address.</param>
/// <param name="Identification">Identification field (unique per source, destination and protocol while the datagram can live).</param>
/// <param name="TimeToLive">Initial TTL (Windows sends 128, Linux 64).</param>
/// <param name="DontFragment">The DF flag.</param>
/// <param name="TypeOfService">The TOS octet (DSCP and ECN).</param>
public readonly record struct Ipv4Template(
    Ipv4Address Source,
    Ipv4Address Destination,
    ushort Identification,
    byte TimeToLive,
    bool DontFragment = false,
    byte TypeOfService = 0)
{
    internal Ipv4Header HeaderFor(IpProtocol protocol, int totalLength) => new()
    {
        TypeOfService = TypeOfService,
        TotalLength = checked((ushort)totalLength),
        Identification = Identification,
        DontFragment = DontFragment,
        TimeToLive = TimeToLive,
        Protocol = protocol,
        Source = Source,
        Destination = Destination,
    };
}

/// <summary>How the UDP checksum field is filled.</summary>
public enum UdpChecksumMode : byte
{
    /// <summary>Compute it over the pseudo-header and datagram (RFC 768).</summary>
    Compute = 0,

    /// <summary>Send 0, "no checksum"; what RFC 3948 §2.1 asks for ESP-in-UDP over IPv4.</summary>
    Zero = 1,
}

/// <summary>
/// Writes whole unfragmented IPv4 datagrams (header without options plus UDP or ICMP) into a
/// caller's buffer with correct lengths and checksums, without allocating. The payload may already
/// sit at its final offset in the destination (it is then left in place). For trusted values:
/// throws <see cref="ArgumentException"/> when the datagram does not fit the buffer or 65,535 octets.
/// </summary>
public static class Ipv4PacketWriter
{
    /// <summary>Offset of the UDP or ICMP header in a datagram written here.</summary>
    public const int TransportOffset = Ipv4Header.MinLength;

    /// <summary>Offset of a UDP payload in a datagram written here.</summary>
    public const int UdpPayloadOffset = Ipv4Header.MinLength + UdpHeader.HeaderLength;

    /// <summary>Offset of ICMP data in a datagram written here.</summary>
    public const int IcmpDataOffset = Ipv4Header.MinLength + Icmpv4Header.Length;

    /// <summary>Total length of an IPv4+UDP datagram carrying <paramref name="payloadLength"/> octets.</summary>
    public static int UdpDatagramLength(int payloadLength) => UdpPayloadOffset + payloadLength;

    /// <summary>Total length of an IPv4+ICMP datagram carrying <paramref name="dataLength"/> octets of ICMP data.</summary>
    public static int IcmpDatagramLength(int dataLength) => IcmpDataOffset + dataLength;

    /// <summary>Writes IPv4 + UDP + <paramref name="payload"/>; returns the total length.</summary>
    public static int WriteUdp(
        Span<byte> destination,
        in Ipv4Template ip,
        ushort sourcePort,
        ushort destinationPort,
        ReadOnlySpan<byte> payload,
        UdpChecksumMode checksum = UdpChecksumMode.Compute)
    {
        var total = CheckFits(destination, UdpDatagramLength(payload.Length));
        payload.CopyTo(destination[UdpPayloadOffset..]);
        var datagram = destination[TransportOffset..total];
        UdpHeader.ForPayload(sourcePort, destinationPort, payload.Length).Encode(datagram);
        if (checksum == UdpChecksumMode.Compute)
        {
            UdpHeader.WriteChecksum(datagram, ip.Source, ip.Destination);
        }

        ip.HeaderFor(IpProtocol.Udp, total).Encode(destination);
        return total;
    }

    /// <summary>Total length of an IPv4+TCP datagram with <paramref name="tcp"/>'s header and <paramref name="payloadLength"/> octets of data.</summary>
    public static int TcpDatagramLength(in TcpHeader tcp, int payloadLength) => TransportOffset + tcp.EncodedLength + payloadLength;

    /// <summary>Writes IPv4 + the TCP header <paramref name="tcp"/> (its checksum computed, whatever it holds) + <paramref name="payload"/>; returns the total length.</summary>
    public static int WriteTcp(Span<byte> destination, in Ipv4Template ip, in TcpHeader tcp, ReadOnlySpan<byte> payload)
    {
        var total = CheckFits(destination, TcpDatagramLength(tcp, payload.Length));
        var segment = destination[TransportOffset..total];
        payload.CopyTo(segment[tcp.EncodedLength..]);
        tcp.Encode(segment);
        TcpHeader.WriteChecksum(segment, ip.Source, ip.Destination);
        ip.HeaderFor(IpProtocol.Tcp, total).Encode(destination);
        return total;
    }

    /// <summary>Writes IPv4 + ICMP echo request or reply carrying <paramref name="data"/>; returns the total length.</summary>
    public static int WriteIcmpEcho(
        Span<byte> destination,
        in Ipv4Template ip,
        bool reply,
        ushort identifier,
        ushort sequenceNumber,
        ReadOnlySpan<byte> data)
    {
        var header = reply
            ? Icmpv4Header.EchoReply(identifier, sequenceNumber)
            : Icmpv4Header.EchoRequest(identifier, sequenceNumber);
        return WriteIcmp(destination, ip, header, data);
    }

    /// <summary>
    /// Writes IPv4 + an ICMP error (<paramref name="error"/> must be an error type) quoting the
    /// offending datagram's IP header and the first 8 octets of its data (RFC 792), or all of it
    /// when shorter. <paramref name="offendingDatagram"/> must not overlap the destination.
    /// </summary>
    public static int WriteIcmpError(
        Span<byte> destination,
        in Ipv4Template ip,
        Icmpv4Header error,
        ReadOnlySpan<byte> offendingDatagram)
    {
        if (!error.IsError)
        {
            throw new ArgumentException($"ICMP type {error.Type} is not an error message", nameof(error));
        }

        if (offendingDatagram.Length < Ipv4Header.MinLength)
        {
            throw new ArgumentException("the offending datagram has no whole IPv4 header", nameof(offendingDatagram));
        }

        var headerLength = (offendingDatagram[Ipv4Header.Field.VersionIhl] & 0x0F) * 4;
        var quoted = Math.Min(offendingDatagram.Length, headerLength + Icmpv4Header.QuotedDataLength);
        return WriteIcmp(destination, ip, error, offendingDatagram[..quoted]);
    }

    private static int WriteIcmp(Span<byte> destination, in Ipv4Template ip, Icmpv4Header header, ReadOnlySpan<byte> data)
    {
        var total = CheckFits(destination, IcmpDatagramLength(data.Length));
        header.Encode(destination[TransportOffset..], data);
        ip.HeaderFor(IpProtocol.Icmp, total).Encode(destination);
        return total;
    }

    private static int CheckFits(Span<byte> destination, int total)
    {
        if (total > ushort.MaxValue)
        {
            throw new ArgumentException($"a {total}-octet datagram exceeds the IPv4 maximum of 65,535");
        }

        if (destination.Length < total)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the datagram needs {total}", nameof(destination));
        }

        return total;
    }
}
