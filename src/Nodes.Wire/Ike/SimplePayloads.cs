using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// KE payload body (RFC 7296 section 3.4).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Diffie-Hellman Group Num    |           RESERVED            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       Key Exchange Data                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The data's length is the group's (checked by the engine, which knows the group).
/// </summary>
public sealed record KeyExchangePayload(ushort Group, OctetString Data) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int Group = 0;
        public const int Data = 4;
    }

    public override IkePayloadType Type => IkePayloadType.KeyExchange;

    public override int BodyLength => Field.Data + Data.Length;

    public static bool TryParse(ReadOnlySpan<byte> body, out KeyExchangePayload? payload, out WireError error)
    {
        payload = null;
        // RFC 7296 section 3.4: the group number and the reserved field always precede the data.
        if (body.Length < Field.Data)
        {
            error = WireError.Truncated;
            return false;
        }
        payload = new KeyExchangePayload(BinaryPrimitives.ReadUInt16BigEndian(body), OctetString.Copy(body[Field.Data..]));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Group..], Group);
        destination[2..Field.Data].Clear();
        Data.Span.CopyTo(destination[Field.Data..]);
        return BodyLength;
    }
}

/// <summary>Nonce payload body: 16 to 256 bytes of nonce data (RFC 7296 section 3.9).</summary>
public sealed record NoncePayload(OctetString Nonce) : IkePayload
{
    public const int MinLength = 16;
    public const int MaxLength = 256;

    public override IkePayloadType Type => IkePayloadType.Nonce;

    public override int BodyLength => Nonce.Length;

    public static bool TryParse(ReadOnlySpan<byte> body, out NoncePayload? payload, out WireError error)
    {
        payload = null;
        // RFC 7296 section 3.9: the nonce data MUST be between 16 and 256 octets inclusive.
        if (body.Length is < MinLength or > MaxLength)
        {
            error = WireError.BadLength;
            return false;
        }
        payload = new NoncePayload(OctetString.Copy(body));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        if (Nonce.Length is < MinLength or > MaxLength) throw new InvalidOperationException($"a nonce has 16 to 256 bytes, not {Nonce.Length}");
        Nonce.Span.CopyTo(destination);
        return Nonce.Length;
    }
}

/// <summary>Vendor ID payload body: opaque bytes, often a hash of a product name (RFC 7296 section 3.12).</summary>
public sealed record VendorIdPayload(OctetString VendorId) : IkePayload
{
    public override IkePayloadType Type => IkePayloadType.VendorId;

    public override int BodyLength => VendorId.Length;

    public static bool TryParse(ReadOnlySpan<byte> body, out VendorIdPayload? payload, out WireError error)
    {
        payload = new VendorIdPayload(OctetString.Copy(body));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        VendorId.Span.CopyTo(destination);
        return VendorId.Length;
    }
}

/// <summary>
/// AUTH payload body (RFC 7296 section 3.8).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Auth Method   |                RESERVED                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                      Authentication Data                      ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record AuthenticationPayload(AuthMethod Method, OctetString Data) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int Method = 0;
        public const int Data = 4;
    }

    public override IkePayloadType Type => IkePayloadType.Authentication;

    public override int BodyLength => Field.Data + Data.Length;

    public static bool TryParse(ReadOnlySpan<byte> body, out AuthenticationPayload? payload, out WireError error)
    {
        payload = null;
        // RFC 7296 section 3.8: method and three reserved octets precede the data.
        if (body.Length < Field.Data)
        {
            error = WireError.Truncated;
            return false;
        }
        payload = new AuthenticationPayload((AuthMethod)body[Field.Method], OctetString.Copy(body[Field.Data..]));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        destination[Field.Method] = (byte)Method;
        destination[1..Field.Data].Clear();
        Data.Span.CopyTo(destination[Field.Data..]);
        return BodyLength;
    }
}
