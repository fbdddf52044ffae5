using System.Buffers.Binary;

namespace Nodes.Wire.Esp;

/*
 RFC 4303 section 2, the ESP packet:

  0                   1                   2                   3
  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 |               Security Parameters Index (SPI)                 | ^Int.
 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 |                      Sequence Number                          | |ered
 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
 |                    Payload Data* (variable)                   | |   ^
 ~                                                               ~ |   |
 |                                                               | |Conf.
 +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 |               |     Padding (0-255 bytes)                     | |ered*
 +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
 |                               |  Pad Length   | Next Header   | v   v
 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
 |         Integrity Check Value-ICV   (variable)                |
 ~                                                               ~
 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

 The payload data starts with the cipher's IV when it has one. Only the SPI and the low 32 bits of the
 sequence number are in the clear; everything after them depends on the SA's transforms.
*/

/// <summary>
/// The clear-text ESP header (RFC 4303 section 2): SPI and the low 32 bits of the sequence number. The
/// high-level representation; <see cref="EspPacket"/> is the view over a whole received packet.
/// </summary>
public readonly record struct EspHeader(uint Spi, uint SequenceNumber)
{
    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        public const int Spi = 0;
        public const int SequenceNumber = 4;
        public const int Payload = 8;
    }

    /// <summary>Bytes of the header on the wire.</summary>
    public const int Length = 8;

    /// <summary>SPIs below this value are never sent: 0 is reserved for local use, 1..255 by IANA (RFC 4303 section 2.1).</summary>
    public const uint FirstUsableSpi = 256;

    /// <summary>Bytes this header occupies when encoded.</summary>
    public int EncodedLength => Length;

    /// <summary>True when <paramref name="spi"/> may appear on the wire (not 0, not 1..255).</summary>
    public static bool IsUsableSpi(uint spi) => spi >= FirstUsableSpi;

    /// <summary>
    /// Reads the header of an untrusted packet. Fails with <see cref="WireError.Truncated"/> below 8 bytes and
    /// with <see cref="WireError.ReservedSpi"/> for SPI 0..255.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out EspHeader header, out int bytesConsumed, out WireError error)
    {
        header = default;
        bytesConsumed = 0;
        if (source.Length < Length)
        {
            error = WireError.Truncated;
            return false;
        }
        var spi = BinaryPrimitives.ReadUInt32BigEndian(source[Field.Spi..]);
        // RFC 4303 section 2.1: SPI 0 is never sent, 1..255 are reserved.
        if (!IsUsableSpi(spi))
        {
            error = WireError.ReservedSpi;
            return false;
        }
        header = new EspHeader(spi, BinaryPrimitives.ReadUInt32BigEndian(source[Field.SequenceNumber..]));
        bytesConsumed = Length;
        error = WireError.None;
        return true;
    }

    /// <summary>Reads the header of an untrusted packet; false for a truncated packet or a reserved SPI.</summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out EspHeader header, out int bytesConsumed) =>
        TryParse(source, out header, out bytesConsumed, out _);

    /// <summary>Writes the header; <paramref name="destination"/> must hold at least 8 bytes. Returns 8.</summary>
    public int Encode(Span<byte> destination)
    {
        if (destination.Length < Length) throw new ArgumentException($"an ESP header needs {Length} bytes, got {destination.Length}", nameof(destination));
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.Spi..], Spi);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.SequenceNumber..], SequenceNumber);
        return Length;
    }

    /// <summary>Writes the header when it fits; false (nothing written) when <paramref name="destination"/> is too short.</summary>
    public bool TryEncode(Span<byte> destination, out int bytesWritten)
    {
        if (destination.Length < Length)
        {
            bytesWritten = 0;
            return false;
        }
        bytesWritten = Encode(destination);
        return true;
    }

    public override string ToString() => $"ESP spi=0x{Spi:x8} seq={SequenceNumber}";
}

/// <summary>
/// A length-checked view over one received ESP packet: the header fields and the rest of the packet
/// (IV, ciphertext, ICV), which only the SA that owns the SPI can interpret. Creating one never throws.
/// </summary>
public readonly ref struct EspPacket
{
    private EspPacket(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    /// <summary>The whole packet.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    public uint Spi => BinaryPrimitives.ReadUInt32BigEndian(Bytes[EspHeader.Field.Spi..]);

    /// <summary>The low 32 bits of the sender's sequence number (RFC 4303 section 2.2).</summary>
    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(Bytes[EspHeader.Field.SequenceNumber..]);

    /// <summary>Everything after the 8-byte header: IV, encrypted payload and trailer, ICV.</summary>
    public ReadOnlySpan<byte> Payload => Bytes[EspHeader.Field.Payload..];

    public EspHeader Header => new(Spi, SequenceNumber);

    /// <summary>Checks an untrusted packet: at least 8 bytes and a usable SPI.</summary>
    public static WireError Check(ReadOnlySpan<byte> source)
    {
        if (source.Length < EspHeader.Length) return WireError.Truncated;
        var spi = BinaryPrimitives.ReadUInt32BigEndian(source[EspHeader.Field.Spi..]);
        return EspHeader.IsUsableSpi(spi) ? WireError.None : WireError.ReservedSpi;
    }

    /// <summary>The only way to view untrusted bytes: fails instead of throwing when <see cref="Check"/> does.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> source, out EspPacket packet, out WireError error)
    {
        error = Check(source);
        packet = error == WireError.None ? new EspPacket(source) : default;
        return error == WireError.None;
    }
}
