using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// SA payload body: one or more proposals (RFC 7296 section 3.3).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Payload  |C|  RESERVED   |         Payload Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                          &lt;Proposals&gt;                          ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record SecurityAssociationPayload(EquatableList<Proposal> Proposals) : IkePayload
{
    public override IkePayloadType Type => IkePayloadType.SecurityAssociation;

    public override int BodyLength => Proposals.Sum(p => p.EncodedLength);

    public static bool TryParse(ReadOnlySpan<byte> body, out SecurityAssociationPayload? payload, out WireError error)
    {
        payload = null;
        var proposals = new List<Proposal>();
        var rest = body;
        while (!rest.IsEmpty)
        {
            if (!Proposal.TryParse(rest, out var proposal, out var last, out var consumed, out error)) return false;
            proposals.Add(proposal!);
            rest = rest[consumed..];
            // RFC 7296 section 3.3.1: Last Substruc is 0 on the last proposal and 2 on every other.
            if (last != rest.IsEmpty) return Fail(out error);
        }
        // RFC 7296 section 3.3: an SA payload carries at least one proposal.
        if (proposals.Count == 0) return Fail(out error);
        payload = new SecurityAssociationPayload(proposals);
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        var offset = 0;
        for (var i = 0; i < Proposals.Count; i++)
            offset += Proposals[i].Encode(destination[offset..], last: i == Proposals.Count - 1);
        return offset;
    }

    private static bool Fail(out WireError error)
    {
        error = WireError.BadProposal;
        return false;
    }
}

/// <summary>
/// One proposal substructure (RFC 7296 section 3.3.1). The SPI is empty for IKE in IKE_SA_INIT, 8 bytes for an
/// IKE SA rekey, and 4 bytes for ESP and AH.
/// <code>
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Last Substruc |   RESERVED    |         Proposal Length       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                        SPI (variable)                         ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                        &lt;Transforms&gt;                           ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record Proposal(byte Number, IkeProtocolId Protocol, OctetString Spi, EquatableList<Transform> Transforms)
{
    /// <summary>Size of the fixed part before the SPI.</summary>
    public const int FixedSize = 8;

    /// <summary>Last Substruc value of a proposal followed by another.</summary>
    public const byte MoreFollow = 2;

    /// <summary>Byte offsets of the proposal fields.</summary>
    public static class Field
    {
        public const int LastSubstructure = 0;
        public const int Length = 2;
        public const int Number = 4;
        public const int ProtocolId = 5;
        public const int SpiSize = 6;
        public const int TransformCount = 7;
        public const int Spi = 8;
    }

    public int EncodedLength => FixedSize + Spi.Length + Transforms.Sum(t => t.EncodedLength);

    /// <summary>The SPI as a 32-bit number for ESP/AH proposals.</summary>
    public uint? Spi32 => Spi.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(Spi.Span) : null;

    /// <summary>The SPI as a 64-bit number for IKE SA rekey proposals.</summary>
    public ulong? Spi64 => Spi.Length == 8 ? BinaryPrimitives.ReadUInt64BigEndian(Spi.Span) : null;

    /// <summary>An ESP proposal with a 4-byte SPI.</summary>
    public static Proposal Esp(byte number, uint spi, params Transform[] transforms)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, spi);
        return new Proposal(number, IkeProtocolId.Esp, OctetString.Copy(bytes), transforms);
    }

    /// <summary>An IKE proposal: no SPI in IKE_SA_INIT, or the new 8-byte SPI when rekeying the IKE SA.</summary>
    public static Proposal Ike(byte number, ulong? rekeySpi, params Transform[] transforms)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (rekeySpi is { } spi) BinaryPrimitives.WriteUInt64BigEndian(bytes, spi);
        return new Proposal(number, IkeProtocolId.Ike, rekeySpi is null ? OctetString.Empty : OctetString.Copy(bytes), transforms);
    }

    /// <summary>
    /// Parses one proposal at the start of <paramref name="source"/>; <paramref name="last"/> tells whether its Last
    /// Substruc field said it is the last one.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out Proposal? proposal, out bool last, out int consumed, out WireError error)
    {
        proposal = null;
        last = false;
        consumed = 0;
        if (source.Length < FixedSize) return Fail(WireError.Truncated, out error);
        var marker = source[Field.LastSubstructure];
        // RFC 7296 section 3.3.1: Last Substruc is 0 (last) or 2 (more proposals).
        if (marker is not (0 or MoreFollow)) return Fail(WireError.BadProposal, out error);
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]);
        var protocol = (IkeProtocolId)source[Field.ProtocolId];
        var spiSize = source[Field.SpiSize];
        var count = source[Field.TransformCount];
        if (length < FixedSize + spiSize || length > source.Length) return Fail(WireError.BadProposal, out error);
        // RFC 7296 section 3.3.1: SPI Size is 0 or 8 for IKE (8 only when rekeying) and 4 for AH and ESP.
        var spiOk = protocol switch
        {
            IkeProtocolId.Ike => spiSize is 0 or 8,
            IkeProtocolId.Ah or IkeProtocolId.Esp => spiSize == 4,
            _ => false,
        };
        if (!spiOk) return Fail(WireError.BadProposal, out error);

        var transforms = new List<Transform>(count);
        var rest = source[(Field.Spi + spiSize)..length];
        for (var i = 0; i < count; i++)
        {
            if (!Transform.TryParse(rest, out var transform, out var transformLast, out var used, out error)) return false;
            transforms.Add(transform!);
            rest = rest[used..];
            // RFC 7296 section 3.3.2: Last Substruc is 0 on the last transform of a proposal and 3 otherwise,
            // and Num Transforms counts them.
            if (transformLast != (i == count - 1)) return Fail(WireError.BadProposal, out error);
        }
        if (!rest.IsEmpty) return Fail(WireError.BadProposal, out error);

        proposal = new Proposal(source[Field.Number], protocol, OctetString.Copy(source.Slice(Field.Spi, spiSize)), transforms);
        last = marker == 0;
        consumed = length;
        error = WireError.None;
        return true;
    }

    /// <summary>Writes the proposal; <paramref name="last"/> selects Last Substruc 0 or 2. Returns <see cref="EncodedLength"/>.</summary>
    public int Encode(Span<byte> destination, bool last)
    {
        var length = EncodedLength;
        if (Transforms.Count > byte.MaxValue || Spi.Length > byte.MaxValue || length > ushort.MaxValue)
            throw new InvalidOperationException("proposal does not fit its 8- and 16-bit fields");
        if (destination.Length < length) throw new ArgumentException($"proposal needs {length} bytes", nameof(destination));
        destination[Field.LastSubstructure] = last ? (byte)0 : MoreFollow;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], (ushort)length);
        destination[Field.Number] = Number;
        destination[Field.ProtocolId] = (byte)Protocol;
        destination[Field.SpiSize] = (byte)Spi.Length;
        destination[Field.TransformCount] = (byte)Transforms.Count;
        Spi.Span.CopyTo(destination[Field.Spi..]);
        var offset = Field.Spi + Spi.Length;
        for (var i = 0; i < Transforms.Count; i++)
            offset += Transforms[i].Encode(destination[offset..], last: i == Transforms.Count - 1);
        return offset;
    }

    private static bool Fail(WireError reason, out WireError error)
    {
        error = reason;
        return false;
    }
}

/// <summary>
/// One transform substructure (RFC 7296 section 3.3.2). Transform IDs are IANA numbers kept as plain integers.
/// <code>
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Last Substruc |   RESERVED    |        Transform Length       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Transform Type |   RESERVED    |          Transform ID         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                      Transform Attributes                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record Transform(TransformType TransformType, ushort Id, EquatableList<TransformAttribute> Attributes)
{
    /// <summary>Size of the fixed part before the attributes.</summary>
    public const int FixedSize = 8;

    /// <summary>Last Substruc value of a transform followed by another.</summary>
    public const byte MoreFollow = 3;

    /// <summary>Byte offsets of the transform fields.</summary>
    public static class Field
    {
        public const int LastSubstructure = 0;
        public const int Length = 2;
        public const int Type = 4;
        public const int Id = 6;
        public const int Attributes = 8;
    }

    /// <summary>A transform without attributes.</summary>
    public Transform(TransformType transformType, ushort id) : this(transformType, id, default(EquatableList<TransformAttribute>)) { }

    /// <summary>A transform with a Key Length attribute (bits), as AES-CBC and AES-GCM need.</summary>
    public static Transform WithKeyLength(TransformType transformType, ushort id, ushort keyBits) =>
        new(transformType, id, new[] { TransformAttribute.KeyLength(keyBits) });

    /// <summary>The Key Length attribute in bits, if present.</summary>
    public ushort? KeyLength
    {
        get
        {
            foreach (var attribute in Attributes)
                if (attribute.AttributeType == (ushort)TransformAttributeType.KeyLength && attribute.IsTv) return attribute.TvValue;
            return null;
        }
    }

    public int EncodedLength => FixedSize + Attributes.Sum(a => a.EncodedLength);

    public static bool TryParse(ReadOnlySpan<byte> source, out Transform? transform, out bool last, out int consumed, out WireError error)
    {
        transform = null;
        last = false;
        consumed = 0;
        error = WireError.BadProposal;
        if (source.Length < FixedSize) return false;
        var marker = source[Field.LastSubstructure];
        // RFC 7296 section 3.3.2: Last Substruc is 0 (last) or 3 (more transforms).
        if (marker is not (0 or MoreFollow)) return false;
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]);
        if (length < FixedSize || length > source.Length) return false;
        var attributes = new List<TransformAttribute>();
        var rest = source[Field.Attributes..length];
        while (!rest.IsEmpty)
        {
            if (!TransformAttribute.TryParse(rest, out var attribute, out var used)) return false;
            attributes.Add(attribute);
            rest = rest[used..];
        }
        transform = new Transform((TransformType)source[Field.Type], BinaryPrimitives.ReadUInt16BigEndian(source[Field.Id..]), attributes);
        last = marker == 0;
        consumed = length;
        error = WireError.None;
        return true;
    }

    /// <summary>Writes the transform; <paramref name="last"/> selects Last Substruc 0 or 3. Returns <see cref="EncodedLength"/>.</summary>
    public int Encode(Span<byte> destination, bool last)
    {
        var length = EncodedLength;
        if (destination.Length < length) throw new ArgumentException($"transform needs {length} bytes", nameof(destination));
        destination[Field.LastSubstructure] = last ? (byte)0 : MoreFollow;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], (ushort)length);
        destination[Field.Type] = (byte)TransformType;
        destination[5] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Id..], Id);
        var offset = Field.Attributes;
        foreach (var attribute in Attributes) offset += attribute.Encode(destination[offset..]);
        return offset;
    }
}

/// <summary>
/// A transform attribute (RFC 7296 section 3.3.5), in TV form (AF=1, a 2-byte value in place of the length) or TLV
/// form (AF=0). Attributes other than Key Length are kept as they came.
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |A|       Attribute Type        |    AF=0  Attribute Length     |
/// |F|                             |    AF=1  Attribute Value      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   AF=0  Attribute Value                       |
/// |                   AF=1  Not Transmitted                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly record struct TransformAttribute(ushort AttributeType, bool IsTv, ushort TvValue, OctetString TlvValue)
{
    /// <summary>The Attribute Format bit.</summary>
    public const ushort FormatBit = 0x8000;

    /// <summary>Size of the attribute header.</summary>
    public const int HeaderSize = 4;

    /// <summary>Key Length in bits (RFC 7296 section 3.3.5), always TV.</summary>
    public static TransformAttribute KeyLength(ushort bits) => new((ushort)TransformAttributeType.KeyLength, true, bits, OctetString.Empty);

    public int EncodedLength => HeaderSize + (IsTv ? 0 : TlvValue.Length);

    public static bool TryParse(ReadOnlySpan<byte> source, out TransformAttribute attribute, out int consumed)
    {
        attribute = default;
        consumed = 0;
        if (source.Length < HeaderSize) return false;
        var word = BinaryPrimitives.ReadUInt16BigEndian(source);
        var type = (ushort)(word & ~FormatBit);
        var second = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if ((word & FormatBit) != 0)
        {
            attribute = new TransformAttribute(type, true, second, OctetString.Empty);
            consumed = HeaderSize;
            return true;
        }
        // RFC 7296 section 3.3.5: Key Length is only ever in TV form.
        if (type == (ushort)TransformAttributeType.KeyLength) return false;
        if (HeaderSize + second > source.Length) return false;
        attribute = new TransformAttribute(type, false, 0, OctetString.Copy(source.Slice(HeaderSize, second)));
        consumed = HeaderSize + second;
        return true;
    }

    public int Encode(Span<byte> destination)
    {
        if (AttributeType > 0x7fff) throw new InvalidOperationException("attribute types are 15 bits");
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(AttributeType | (IsTv ? FormatBit : 0)));
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], IsTv ? TvValue : (ushort)TlvValue.Length);
        if (!IsTv) TlvValue.Span.CopyTo(destination[HeaderSize..]);
        return EncodedLength;
    }
}
