using System.Buffers.Binary;
using Nodes.Wire.Icmp;
using Nodes.Wire.Udp;

namespace Nodes.Wire.Ip;

/// <summary>Which end of a datagram <see cref="Ipv4Rewrite.TryRewriteEndpoint"/> changes.</summary>
public enum RewriteSide : byte
{
    /// <summary>Source address and source port (or ICMP echo identifier): outbound NAPT.</summary>
    Source = 0,

    /// <summary>Destination address and destination port (or ICMP echo identifier): inbound NAPT.</summary>
    Destination = 1,
}

/// <summary>
/// In-place address and port rewriting for a NAPT router (RFC 3022 §4.2), patching the IPv4 header
/// checksum and the UDP, TCP or ICMP echo checksum incrementally (RFC 1624 §3) instead of summing
/// the datagram again. Stateless and allocation-free; the mapping itself belongs to the caller.
/// </summary>
public static class Ipv4Rewrite
{
    private const int TcpChecksumOffset = 16;
    private const int TcpMinHeaderLength = 20;

    /// <summary>
    /// Replaces one end of a UDP, TCP or ICMP echo datagram with <paramref name="address"/> and
    /// <paramref name="port"/> (the echo identifier for ICMP, which has no ports). Returns false and
    /// leaves the bytes untouched when the datagram does not parse, is a non-first fragment (no
    /// transport header to rewrite), its transport header is truncated, or it is some other protocol
    /// or ICMP type. A UDP checksum of 0 ("none", RFC 768) stays 0.
    /// </summary>
    public static bool TryRewriteEndpoint(Span<byte> datagram, RewriteSide side, Ipv4Address address, ushort port)
    {
        if (!Ipv4Header.TryParse(datagram, out var header, out _) || header.FragmentOffset != 0)
        {
            return false;
        }

        var transport = datagram[header.HeaderLength..header.TotalLength];
        int portOffset;
        int checksumOffset;
        var pseudoHeader = true;
        switch (header.Protocol)
        {
            case IpProtocol.Udp when transport.Length >= UdpHeader.HeaderLength:
                portOffset = side == RewriteSide.Source ? UdpHeader.Field.SourcePort : UdpHeader.Field.DestinationPort;
                checksumOffset = UdpHeader.Field.Checksum;
                break;
            case IpProtocol.Tcp when transport.Length >= TcpMinHeaderLength:
                // RFC 9293 §3.1: ports at 0 and 2, checksum at 16.
                portOffset = side == RewriteSide.Source ? 0 : 2;
                checksumOffset = TcpChecksumOffset;
                break;
            case IpProtocol.Icmp when transport.Length >= Icmpv4Header.Length
                && (Icmpv4Type)transport[Icmpv4Header.Field.Type] is Icmpv4Type.EchoRequest or Icmpv4Type.EchoReply:
                // RFC 3022 §2.2: the echo identifier plays the part of the port; ICMP has no pseudo-header.
                portOffset = Icmpv4Header.Field.Identifier;
                checksumOffset = Icmpv4Header.Field.Checksum;
                pseudoHeader = false;
                break;
            default:
                return false;
        }

        var addressOffset = side == RewriteSide.Source ? Ipv4Header.Field.Source : Ipv4Header.Field.Destination;
        var oldAddress = Ipv4Address.Read(datagram[addressOffset..]);
        var oldPort = BinaryPrimitives.ReadUInt16BigEndian(transport[portOffset..]);

        address.Write(datagram[addressOffset..]);
        var ipChecksum = BinaryPrimitives.ReadUInt16BigEndian(datagram[Ipv4Header.Field.Checksum..]);
        BinaryPrimitives.WriteUInt16BigEndian(
            datagram[Ipv4Header.Field.Checksum..],
            InternetChecksum.Update(ipChecksum, oldAddress.Value, address.Value));

        BinaryPrimitives.WriteUInt16BigEndian(transport[portOffset..], port);
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(transport[checksumOffset..]);
        if (header.Protocol == IpProtocol.Udp && checksum == UdpHeader.NoChecksum)
        {
            return true;
        }

        if (pseudoHeader)
        {
            checksum = InternetChecksum.Update(checksum, oldAddress.Value, address.Value);
        }

        checksum = InternetChecksum.Update(checksum, oldPort, port);

        // RFC 768: a UDP checksum that works out to 0 is sent as all ones (equal in one's complement).
        if (header.Protocol == IpProtocol.Udp && checksum == 0)
        {
            checksum = 0xFFFF;
        }

        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumOffset..], checksum);
        return true;
    }
}
