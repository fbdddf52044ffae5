using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// The fixed 28-byte IKE header (RFC 7296 section 3.1).
/// <code>
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       IKE SA Initiator's SPI                  |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       IKE SA Responder's SPI                  |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Message ID                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            Length                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The version is always sent as 2.0; on receipt a major version other than 2 is refused with
/// <see cref="WireError.BadVersion"/> (the engine answers INVALID_MAJOR_VERSION) and the minor version is ignored.
/// </summary>
public readonly record struct IkeHeader(
    ulong InitiatorSpi,
    ulong ResponderSpi,
    IkePayloadType NextPayload,
    ExchangeType Exchange,
    IkeFlags Flags,
    uint MessageId,
    uint Length)
{
    /// <summary>Size of the header on the wire.</summary>
    public const int Size = 28;

    /// <summary>The version octet this codec sends: major 2, minor 0.</summary>
    public const byte Version = 0x20;

    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        public const int InitiatorSpi = 0;
        public const int ResponderSpi = 8;
        public const int NextPayload = 16;
        public const int Version = 17;
        public const int ExchangeType = 18;
        public const int Flags = 19;
        public const int MessageId = 20;
        public const int Length = 24;
    }

    public int EncodedLength => Size;

    public bool IsResponse => (Flags & IkeFlags.Response) != 0;

    public bool IsFromOriginalInitiator => (Flags & IkeFlags.Initiator) != 0;

    /// <summary>
    /// Parses the header of the whole datagram <paramref name="datagram"/> (IKE starts at its first byte: a
    /// non-ESP marker must already be removed). The Length field must equal the datagram's length.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out IkeHeader header, out WireError error)
    {
        header = default;
        if (datagram.Length < Size)
        {
            error = WireError.Truncated;
            return false;
        }
        // RFC 7296 section 3.1: a major version this end does not speak is refused (INVALID_MAJOR_VERSION).
        if (datagram[Field.Version] >> 4 != 2)
        {
            error = WireError.BadVersion;
            return false;
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(datagram[Field.Length..]);
        // RFC 7296 section 3.1: Length is the total length of the message (header + payloads).
        if (length < Size || length != (uint)datagram.Length)
        {
            error = length > (uint)datagram.Length ? WireError.Truncated : WireError.BadLength;
            return false;
        }
        header = new IkeHeader(
            BinaryPrimitives.ReadUInt64BigEndian(datagram[Field.InitiatorSpi..]),
            BinaryPrimitives.ReadUInt64BigEndian(datagram[Field.ResponderSpi..]),
            (IkePayloadType)datagram[Field.NextPayload],
            (ExchangeType)datagram[Field.ExchangeType],
            (IkeFlags)datagram[Field.Flags],
            BinaryPrimitives.ReadUInt32BigEndian(datagram[Field.MessageId..]),
            length);
        error = WireError.None;
        return true;
    }

    /// <summary>Writes the 28 header bytes with version 2.0 and returns 28. Throws if the destination is shorter.</summary>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"the IKE header needs {Size} bytes, got {destination.Length}", nameof(destination));
        BinaryPrimitives.WriteUInt64BigEndian(destination[Field.InitiatorSpi..], InitiatorSpi);
        BinaryPrimitives.WriteUInt64BigEndian(destination[Field.ResponderSpi..], ResponderSpi);
        destination[Field.NextPayload] = (byte)NextPayload;
        destination[Field.Version] = Version;
        destination[Field.ExchangeType] = (byte)Exchange;
        destination[Field.Flags] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.MessageId..], MessageId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.Length..], Length);
        return Size;
    }
}
