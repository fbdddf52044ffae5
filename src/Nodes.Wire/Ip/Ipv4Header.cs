using System.Buffers.Binary;

namespace Nodes.Wire.Ip;

/// <summary>
/// The IPv4 header of RFC 791 §3.1 as plain values (the "Repr"). Parsing verifies version, IHL,
/// total length and the header checksum; options are not interpreted but their span is handed out
/// by <see cref="TryParse"/> so they can be written back by <see cref="Encode(Span{byte}, ReadOnlySpan{byte})"/>.
/// <see cref="Checksum"/> is what was received; encoding always computes a fresh one.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |    DSCP   |ECN|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// Flags: bit 0 reserved (zero), bit 1 DF (don't fragment), bit 2 MF (more fragments).
/// The TOS byte is split into DSCP and ECN by RFC 2474 §3 and RFC 3168 §5.
/// </code>
/// </remarks>
public readonly record struct Ipv4Header
{
    /// <summary>Byte offsets of the fixed header fields.</summary>
    public static class Field
    {
        public const int VersionIhl = 0;
        public const int TypeOfService = 1;
        public const int TotalLength = 2;
        public const int Identification = 4;
        public const int FlagsFragmentOffset = 6;
        public const int TimeToLive = 8;
        public const int Protocol = 9;
        public const int Checksum = 10;
        public const int Source = 12;
        public const int Destination = 16;
        public const int Options = 20;
    }

    /// <summary>Length of a header without options.</summary>
    public const int MinLength = 20;

    /// <summary>Length of a header with the largest options area (IHL 15).</summary>
    public const int MaxLength = 60;

    /// <summary>Largest value of the 13-bit fragment offset field (in 8-octet units).</summary>
    public const ushort MaxFragmentOffset = 0x1FFF;

    private const ushort ReservedFlagBit = 0x8000;
    private const ushort DontFragmentBit = 0x4000;
    private const ushort MoreFragmentsBit = 0x2000;

    /// <summary>The whole TOS octet: DSCP in the upper six bits, ECN in the lower two.</summary>
    public byte TypeOfService { get; init; }

    /// <summary>Differentiated Services code point, RFC 2474 (upper six bits of the TOS octet).</summary>
    public byte Dscp => (byte)(TypeOfService >> 2);

    /// <summary>Explicit Congestion Notification bits, RFC 3168 (lower two bits of the TOS octet).</summary>
    public byte Ecn => (byte)(TypeOfService & 0b11);

    /// <summary>Length of the datagram, header and data, in octets.</summary>
    public ushort TotalLength { get; init; }

    /// <summary>Identification used to reassemble fragments.</summary>
    public ushort Identification { get; init; }

    /// <summary>The DF flag: this datagram must not be fragmented.</summary>
    public bool DontFragment { get; init; }

    /// <summary>The MF flag: more fragments follow.</summary>
    public bool MoreFragments { get; init; }

    /// <summary>The 13-bit Fragment Offset field, in units of 8 octets (0..8191).</summary>
    public ushort FragmentOffset { get; init; }

    /// <summary>Where this fragment's data starts in the original datagram, in octets (<see cref="FragmentOffset"/> × 8).</summary>
    public int FragmentByteOffset => FragmentOffset * 8;

    /// <summary>True for any fragment other than a whole unfragmented datagram (MF set or non-zero offset).</summary>
    public bool IsFragment => MoreFragments || FragmentOffset != 0;

    /// <summary>Time to Live.</summary>
    public byte TimeToLive { get; init; }

    /// <summary>Protocol of the data (an <see cref="IpProtocol"/> value or any other IANA number).</summary>
    public IpProtocol Protocol { get; init; }

    /// <summary>The header checksum as received; ignored by <see cref="Encode(Span{byte}, ReadOnlySpan{byte})"/>, which computes its own.</summary>
    public ushort Checksum { get; init; }

    /// <summary>Source address.</summary>
    public Ipv4Address Source { get; init; }

    /// <summary>Destination address.</summary>
    public Ipv4Address Destination { get; init; }

    /// <summary>Octets of options and padding after the fixed header: 0..40, a multiple of 4.</summary>
    public int OptionsLength { get; init; }

    /// <summary>IHL × 4: the fixed header plus options.</summary>
    public int HeaderLength => MinLength + OptionsLength;

    /// <summary>Octets <see cref="Encode(Span{byte}, ReadOnlySpan{byte})"/> writes (same as <see cref="HeaderLength"/>).</summary>
    public int EncodedLength => HeaderLength;

    /// <summary>Octets of data after the header, as claimed by <see cref="TotalLength"/>.</summary>
    public int PayloadLength => TotalLength - HeaderLength;

    /// <summary>
    /// Parses and verifies an IPv4 header at the start of <paramref name="source"/>. Octets beyond
    /// Total Length (link-layer padding) are ignored. Never throws and never allocates.
    /// </summary>
    /// <param name="source">The received datagram.</param>
    /// <param name="header">The header values.</param>
    /// <param name="options">The options area (empty when IHL is 5).</param>
    /// <param name="payload">The data: octets from IHL × 4 up to Total Length.</param>
    /// <param name="error">Why parsing failed, or <see cref="WireError.None"/>.</param>
    public static bool TryParse(
        ReadOnlySpan<byte> source,
        out Ipv4Header header,
        out ReadOnlySpan<byte> options,
        out ReadOnlySpan<byte> payload,
        out WireError error)
    {
        if (!TryParseFields(source, out header, out error))
        {
            options = default;
            payload = default;
            return false;
        }

        // RFC 791 §3.1 Total Length: header and data; at least the header, at most what arrived.
        if (header.TotalLength < header.HeaderLength || header.TotalLength > source.Length)
        {
            return Fail(out header, out options, out payload, WireError.BadTotalLength, out error);
        }

        // RFC 791 §3.1 Header Checksum, computed as in RFC 1071.
        if (!InternetChecksum.Verify(source[..header.HeaderLength]))
        {
            return Fail(out header, out options, out payload, WireError.BadChecksum, out error);
        }

        options = source[Field.Options..header.HeaderLength];
        payload = source[header.HeaderLength..header.TotalLength];
        return true;
    }

    /// <summary>As the five-argument overload, discarding the options and payload spans.</summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out Ipv4Header header, out WireError error) =>
        TryParse(source, out header, out _, out _, out error);

    /// <summary>
    /// Parses the header of a datagram quoted inside an ICMP error (RFC 792): version and IHL are
    /// checked and the whole header must be present, but the checksum and the total length are
    /// not, because the quote is cut after the first 8 data octets and routers may have altered it.
    /// </summary>
    public static bool TryParseQuoted(
        ReadOnlySpan<byte> source,
        out Ipv4Header header,
        out ReadOnlySpan<byte> leadingData,
        out WireError error)
    {
        if (!TryParseFields(source, out header, out error))
        {
            leadingData = default;
            return false;
        }

        var end = Math.Min(source.Length, Math.Max((int)header.TotalLength, header.HeaderLength));
        leadingData = source[header.HeaderLength..end];
        return true;
    }

    private static bool TryParseFields(ReadOnlySpan<byte> source, out Ipv4Header header, out WireError error)
    {
        header = default;
        if (source.Length < MinLength)
        {
            error = WireError.Truncated;
            return false;
        }

        var versionIhl = source[Field.VersionIhl];

        // RFC 791 §3.1 Version: 4.
        if (versionIhl >> 4 != 4)
        {
            error = WireError.BadVersion;
            return false;
        }

        // RFC 791 §3.1 IHL: in 32-bit words, "the minimum value for a correct header is 5".
        var headerLength = (versionIhl & 0x0F) * 4;
        if (headerLength < MinLength || headerLength > source.Length)
        {
            error = WireError.BadHeaderLength;
            return false;
        }

        var flagsOffset = BinaryPrimitives.ReadUInt16BigEndian(source[Field.FlagsFragmentOffset..]);

        // RFC 791 §3.1 Flags bit 0: "reserved, must be zero".
        if ((flagsOffset & ReservedFlagBit) != 0)
        {
            error = WireError.BadValue;
            return false;
        }

        header = new Ipv4Header
        {
            TypeOfService = source[Field.TypeOfService],
            TotalLength = BinaryPrimitives.ReadUInt16BigEndian(source[Field.TotalLength..]),
            Identification = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Identification..]),
            DontFragment = (flagsOffset & DontFragmentBit) != 0,
            MoreFragments = (flagsOffset & MoreFragmentsBit) != 0,
            FragmentOffset = (ushort)(flagsOffset & MaxFragmentOffset),
            TimeToLive = source[Field.TimeToLive],
            Protocol = (IpProtocol)source[Field.Protocol],
            Checksum = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Checksum..]),
            Source = Ipv4Address.Read(source[Field.Source..]),
            Destination = Ipv4Address.Read(source[Field.Destination..]),
            OptionsLength = headerLength - MinLength,
        };
        error = WireError.None;
        return true;
    }

    private static bool Fail(
        out Ipv4Header header,
        out ReadOnlySpan<byte> options,
        out ReadOnlySpan<byte> payload,
        WireError reason,
        out WireError error)
    {
        header = default;
        options = default;
        payload = default;
        error = reason;
        return false;
    }

    /// <summary>
    /// Writes the header with <paramref name="options"/> (whose length must equal
    /// <see cref="OptionsLength"/>) and a freshly computed checksum. Returns the octets written.
    /// For trusted values: throws <see cref="ArgumentException"/> when the values cannot be encoded
    /// or <paramref name="destination"/> is shorter than <see cref="EncodedLength"/>.
    /// </summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> options)
    {
        if (OptionsLength is < 0 or > MaxLength - MinLength || OptionsLength % 4 != 0)
        {
            throw new ArgumentException($"options length {OptionsLength} is not a multiple of 4 in 0..40");
        }

        if (options.Length != OptionsLength)
        {
            throw new ArgumentException($"{options.Length} option octets given, header says {OptionsLength}", nameof(options));
        }

        if (FragmentOffset > MaxFragmentOffset)
        {
            throw new ArgumentException($"fragment offset {FragmentOffset} exceeds 13 bits");
        }

        if (TotalLength < HeaderLength)
        {
            throw new ArgumentException($"total length {TotalLength} is below the header length {HeaderLength}");
        }

        if (destination.Length < HeaderLength)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the header needs {HeaderLength}", nameof(destination));
        }

        var header = destination[..HeaderLength];
        header[Field.VersionIhl] = (byte)(0x40 | (HeaderLength / 4));
        header[Field.TypeOfService] = TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(header[Field.TotalLength..], TotalLength);
        BinaryPrimitives.WriteUInt16BigEndian(header[Field.Identification..], Identification);
        var flagsOffset = (ushort)(FragmentOffset
            | (DontFragment ? DontFragmentBit : 0)
            | (MoreFragments ? MoreFragmentsBit : 0));
        BinaryPrimitives.WriteUInt16BigEndian(header[Field.FlagsFragmentOffset..], flagsOffset);
        header[Field.TimeToLive] = TimeToLive;
        header[Field.Protocol] = (byte)Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(header[Field.Checksum..], 0);
        Source.Write(header[Field.Source..]);
        Destination.Write(header[Field.Destination..]);
        options.CopyTo(header[Field.Options..]);

        // RFC 791 §3.1: the checksum field is zero while the checksum is computed.
        BinaryPrimitives.WriteUInt16BigEndian(header[Field.Checksum..], InternetChecksum.Compute(header));
        return HeaderLength;
    }

    /// <summary>Writes a header without options; <see cref="OptionsLength"/> must be 0.</summary>
    public int Encode(Span<byte> destination) => Encode(destination, ReadOnlySpan<byte>.Empty);

    /// <summary>
    /// Decrements the TTL of the IPv4 header at the start of <paramref name="datagram"/> in place and
    /// patches the header checksum incrementally (RFC 1624 §3), as a forwarding router does
    /// (RFC 1812 §5.3.1). Returns false and changes nothing when the TTL is 0 or 1: the datagram must
    /// then be dropped with an ICMP time exceeded. The header is assumed already parsed.
    /// </summary>
    public static bool TryDecrementTimeToLive(Span<byte> datagram)
    {
        if (datagram.Length < MinLength) return false;
        var ttl = datagram[Field.TimeToLive];
        if (ttl <= 1) return false;

        // TTL and Protocol share one 16-bit word of the checksummed header.
        var oldWord = BinaryPrimitives.ReadUInt16BigEndian(datagram[Field.TimeToLive..]);
        datagram[Field.TimeToLive] = (byte)(ttl - 1);
        var newWord = BinaryPrimitives.ReadUInt16BigEndian(datagram[Field.TimeToLive..]);
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(datagram[Field.Checksum..]);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[Field.Checksum..], InternetChecksum.Update(checksum, oldWord, newWord));
        return true;
    }
}
