using System.Buffers.Binary;

namespace Nodes.Wire.NatT;

/// <summary>What a UDP payload received on port 4500 carries (RFC 3948 §2).</summary>
public enum EncapsulatedKind : byte
{
    /// <summary>A NAT-keepalive: one octet 0xFF, to be ignored (RFC 3948 §2.3).</summary>
    Keepalive = 1,

    /// <summary>An IKE message behind the four-octet zero non-ESP marker (RFC 3948 §2.2).</summary>
    Ike = 2,

    /// <summary>An ESP packet starting with its non-zero SPI (RFC 3948 §2.1).</summary>
    Esp = 3,
}

/// <summary>
/// UDP encapsulation of IKE and ESP on port 4500 (RFC 3948 §2.1-2.3): telling keepalives, IKE
/// and ESP apart on receipt, and writing the non-ESP marker and the keepalive octet on send.
/// Stateless and allocation-free.
/// </summary>
/// <remarks>
/// <code>
/// ESP (§2.1):       | UDP header | SPI (non-zero) | Sequence Number | ...
/// IKE (§2.2):       | UDP header | 0x00000000 (non-ESP marker) | IKE header | ...
/// Keepalive (§2.3): | UDP header | 0xFF |
/// </code>
/// The UDP checksum of ESP-in-UDP over IPv4 SHOULD be sent as zero and a receiver must not depend
/// on it (§2.1); IKE on port 4500 is checksummed as ordinary UDP.
/// </remarks>
public static class UdpEncapsulation
{
    /// <summary>Octets of the non-ESP marker that precedes IKE on port 4500.</summary>
    public const int NonEspMarkerLength = 4;

    /// <summary>The single payload octet of a NAT-keepalive.</summary>
    public const byte KeepaliveOctet = 0xFF;

    /// <summary>Octets of the fixed IKEv2 header (RFC 7296 §3.1), the least an IKE message can be.</summary>
    public const int MinIkeLength = 28;

    /// <summary>Octets of SPI and sequence number, the least an ESP packet can be (RFC 4303 §2).</summary>
    public const int MinEspLength = 8;

    /// <summary>Highest SPI value reserved by IANA (RFC 4303 §2.1: 1..255 are reserved).</summary>
    public const uint MaxReservedSpi = 255;

    /// <summary>
    /// Classifies the payload of a UDP datagram received on port 4500. On success
    /// <paramref name="content"/> is the IKE message without its marker, the whole ESP packet, or
    /// the keepalive octet. Refuses: an empty payload (<see cref="WireError.Truncated"/>); a single
    /// octet other than 0xFF, or two or three octets (<see cref="WireError.BadValue"/>); a marker not
    /// followed by a whole IKE header, or an SPI without its sequence number
    /// (<see cref="WireError.Truncated"/>); an SPI of 1..255 (<see cref="WireError.ReservedSpi"/>).
    /// Never throws.
    /// </summary>
    public static bool TryClassify(
        ReadOnlySpan<byte> udpPayload,
        out EncapsulatedKind kind,
        out ReadOnlySpan<byte> content,
        out WireError error)
    {
        kind = default;
        content = default;
        if (udpPayload.IsEmpty)
        {
            error = WireError.Truncated;
            return false;
        }

        if (udpPayload.Length == 1)
        {
            // RFC 3948 §2.3: a keepalive is exactly one octet, 0xFF.
            if (udpPayload[0] != KeepaliveOctet)
            {
                error = WireError.BadValue;
                return false;
            }

            kind = EncapsulatedKind.Keepalive;
            content = udpPayload;
            error = WireError.None;
            return true;
        }

        if (udpPayload.Length < NonEspMarkerLength)
        {
            // Neither a keepalive nor long enough to hold an SPI or a marker.
            error = WireError.BadValue;
            return false;
        }

        var spi = BinaryPrimitives.ReadUInt32BigEndian(udpPayload);
        if (spi == 0)
        {
            // RFC 3948 §2.2: the zero non-ESP marker is followed by the IKE header.
            var ike = udpPayload[NonEspMarkerLength..];
            if (ike.Length < MinIkeLength)
            {
                error = WireError.Truncated;
                return false;
            }

            kind = EncapsulatedKind.Ike;
            content = ike;
            error = WireError.None;
            return true;
        }

        // RFC 4303 §2.1: SPI values 1..255 are reserved and never sent.
        if (spi <= MaxReservedSpi)
        {
            error = WireError.ReservedSpi;
            return false;
        }

        if (udpPayload.Length < MinEspLength)
        {
            error = WireError.Truncated;
            return false;
        }

        kind = EncapsulatedKind.Esp;
        content = udpPayload;
        error = WireError.None;
        return true;
    }

    /// <summary>Writes the four zero octets that precede an IKE message on port 4500; returns 4. Throws if they do not fit.</summary>
    public static int WriteNonEspMarker(Span<byte> destination)
    {
        if (destination.Length < NonEspMarkerLength)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the marker needs {NonEspMarkerLength}", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, 0);
        return NonEspMarkerLength;
    }

    /// <summary>Writes the non-ESP marker followed by <paramref name="ikeMessage"/>; returns the octets written.</summary>
    public static int WriteIke(Span<byte> destination, ReadOnlySpan<byte> ikeMessage)
    {
        var total = NonEspMarkerLength + ikeMessage.Length;
        if (destination.Length < total)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, marker and message need {total}", nameof(destination));
        }

        ikeMessage.CopyTo(destination[NonEspMarkerLength..]);
        return WriteNonEspMarker(destination) + ikeMessage.Length;
    }

    /// <summary>Writes the keepalive octet 0xFF; returns 1. Throws if <paramref name="destination"/> is empty.</summary>
    public static int WriteKeepalive(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            throw new ArgumentException("destination is empty", nameof(destination));
        }

        destination[0] = KeepaliveOctet;
        return 1;
    }
}
