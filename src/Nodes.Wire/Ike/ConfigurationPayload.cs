using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// CP payload body (RFC 7296 section 3.15).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   CFG Type    |                    RESERVED                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                   Configuration Attributes                    ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record ConfigurationPayload(CfgType CfgType, EquatableList<ConfigAttribute> Attributes) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int CfgType = 0;
        public const int Attributes = 4;
    }

    public override IkePayloadType Type => IkePayloadType.Configuration;

    public override int BodyLength => Field.Attributes + Attributes.Sum(a => a.EncodedLength);

    public static bool TryParse(ReadOnlySpan<byte> body, out ConfigurationPayload? payload, out WireError error)
    {
        payload = null;
        if (body.Length < Field.Attributes)
        {
            error = WireError.Truncated;
            return false;
        }
        var attributes = new List<ConfigAttribute>();
        var rest = body[Field.Attributes..];
        while (!rest.IsEmpty)
        {
            if (!ConfigAttribute.TryParse(rest, out var attribute, out var used))
            {
                error = WireError.BadLength;
                return false;
            }
            attributes.Add(attribute);
            rest = rest[used..];
        }
        payload = new ConfigurationPayload((CfgType)body[Field.CfgType], attributes);
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        destination[Field.CfgType] = (byte)CfgType;
        destination[1..Field.Attributes].Clear();
        var offset = Field.Attributes;
        foreach (var attribute in Attributes) offset += attribute.Encode(destination[offset..]);
        return offset;
    }
}

/// <summary>
/// One configuration attribute (RFC 7296 section 3.15.1). An empty value asks for the attribute in a request.
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|         Attribute Type      |            Length             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                             Value                             ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly record struct ConfigAttribute(ConfigAttributeType AttributeType, OctetString Value)
{
    public const int HeaderSize = 4;

    /// <summary>The reserved top bit of the type field, ignored on receipt.</summary>
    public const ushort ReservedBit = 0x8000;

    public int EncodedLength => HeaderSize + Value.Length;

    public static bool TryParse(ReadOnlySpan<byte> source, out ConfigAttribute attribute, out int consumed)
    {
        attribute = default;
        consumed = 0;
        if (source.Length < HeaderSize) return false;
        var type = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(source) & ~ReservedBit);
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if (HeaderSize + length > source.Length) return false;
        attribute = new ConfigAttribute((ConfigAttributeType)type, OctetString.Copy(source.Slice(HeaderSize, length)));
        consumed = HeaderSize + length;
        return true;
    }

    public int Encode(Span<byte> destination)
    {
        if ((ushort)AttributeType > 0x7fff) throw new InvalidOperationException("attribute types are 15 bits");
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)AttributeType);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Value.Length);
        Value.Span.CopyTo(destination[HeaderSize..]);
        return EncodedLength;
    }
}
