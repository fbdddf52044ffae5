using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// The generic payload header that starts every IKE payload (RFC 7296 section 3.2).
/// <code>
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Payload  |C|  RESERVED   |         Payload Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Payload Length covers the generic header itself. RESERVED bits are sent as zero and ignored on receipt.
/// </summary>
public readonly record struct IkePayloadHeader(IkePayloadType NextPayload, bool Critical, ushort PayloadLength)
{
    /// <summary>Size of the generic header.</summary>
    public const int Size = 4;

    /// <summary>The critical bit in the second octet.</summary>
    public const byte CriticalBit = 0x80;

    /// <summary>Byte offsets of the generic header fields.</summary>
    public static class Field
    {
        public const int NextPayload = 0;
        public const int Flags = 1;
        public const int PayloadLength = 2;
    }

    public int EncodedLength => Size;

    /// <summary>Length of the body that follows the generic header.</summary>
    public int BodyLength => PayloadLength - Size;

    /// <summary>
    /// Reads a generic header at the start of <paramref name="source"/> and checks that the payload it announces
    /// is at least 4 bytes long and fits in <paramref name="source"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out IkePayloadHeader header, out WireError error)
    {
        header = default;
        if (source.Length < Size)
        {
            error = WireError.Truncated;
            return false;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[Field.PayloadLength..]);
        // RFC 7296 section 3.2: Payload Length includes the 4-byte generic header.
        if (length < Size)
        {
            error = WireError.BadLength;
            return false;
        }
        if (length > source.Length)
        {
            error = WireError.BadPayloadChain;
            return false;
        }
        header = new IkePayloadHeader((IkePayloadType)source[Field.NextPayload], (source[Field.Flags] & CriticalBit) != 0, length);
        error = WireError.None;
        return true;
    }

    /// <summary>Writes the four header bytes (reserved bits zero) and returns 4.</summary>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"a generic payload header needs {Size} bytes", nameof(destination));
        destination[Field.NextPayload] = (byte)NextPayload;
        destination[Field.Flags] = Critical ? CriticalBit : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.PayloadLength..], PayloadLength);
        return Size;
    }

    /// <summary>True for the payload types this codec models (RFC 7296 section 3.2, RFC 7383).</summary>
    public static bool IsKnown(IkePayloadType type) =>
        type is >= IkePayloadType.SecurityAssociation and <= IkePayloadType.Eap or IkePayloadType.EncryptedFragment;
}
