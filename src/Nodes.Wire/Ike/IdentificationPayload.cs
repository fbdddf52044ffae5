using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Nodes.Wire.Ike;

/// <summary>
/// IDi / IDr payload body (RFC 7296 section 3.5).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   ID Type     |                 RESERVED                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                   Identification Data                         ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The AUTH computation (RFC 7296 section 2.15) signs the body from the ID Type octet onwards:
/// <see cref="EncodeBody"/> writes exactly those octets, and <see cref="IkePayloadView.Body"/> shows them in a
/// received message.
/// </summary>
public sealed record IdentificationPayload(IkePayloadType PayloadType, IdType IdType, OctetString Data) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int IdType = 0;
        public const int Data = 4;
    }

    public override IkePayloadType Type => PayloadType;

    public override int BodyLength => Field.Data + Data.Length;

    /// <summary>ID_IPV4_ADDR or ID_IPV6_ADDR holding <paramref name="address"/>.</summary>
    public static IdentificationPayload Address(IkePayloadType payloadType, IPAddress address) =>
        new(CheckKind(payloadType), address.AddressFamily == AddressFamily.InterNetworkV6 ? IdType.Ipv6Address : IdType.Ipv4Address, OctetString.Copy(address.GetAddressBytes()));

    /// <summary>ID_FQDN holding the ASCII name (no terminator).</summary>
    public static IdentificationPayload Fqdn(IkePayloadType payloadType, string name) =>
        new(CheckKind(payloadType), IdType.Fqdn, OctetString.Copy(Encoding.ASCII.GetBytes(name)));

    /// <summary>ID_KEY_ID holding opaque bytes.</summary>
    public static IdentificationPayload KeyId(IkePayloadType payloadType, ReadOnlySpan<byte> keyId) =>
        new(CheckKind(payloadType), IdType.KeyId, OctetString.Copy(keyId));

    /// <summary>The address of an ID_IPV4_ADDR or ID_IPV6_ADDR identity.</summary>
    public IPAddress? AsAddress() => IdType is IdType.Ipv4Address or IdType.Ipv6Address ? new IPAddress(Data.Span) : null;

    /// <summary>The name of an ID_FQDN or ID_RFC822_ADDR identity.</summary>
    public string? AsName() => IdType is IdType.Fqdn or IdType.Rfc822Address ? Encoding.ASCII.GetString(Data.Span) : null;

    /// <summary>The octets AUTH signs: the body from the ID Type octet (RFC 7296 section 2.15).</summary>
    public byte[] SignedOctets()
    {
        var bytes = new byte[BodyLength];
        EncodeBody(bytes);
        return bytes;
    }

    public static bool TryParse(IkePayloadType payloadType, ReadOnlySpan<byte> body, out IdentificationPayload? payload, out WireError error)
    {
        payload = null;
        if (payloadType is not (IkePayloadType.IdentificationInitiator or IkePayloadType.IdentificationResponder))
        {
            error = WireError.BadValue;
            return false;
        }
        if (body.Length < Field.Data)
        {
            error = WireError.Truncated;
            return false;
        }
        var type = (IdType)body[Field.IdType];
        var data = body[Field.Data..];
        // RFC 7296 section 3.5: ID_IPV4_ADDR is a single four-octet address, ID_IPV6_ADDR a sixteen-octet one.
        var lengthOk = type switch
        {
            IdType.Ipv4Address => data.Length == 4,
            IdType.Ipv6Address => data.Length == 16,
            _ => true,
        };
        if (!lengthOk)
        {
            error = WireError.BadLength;
            return false;
        }
        payload = new IdentificationPayload(payloadType, type, OctetString.Copy(data));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        destination[Field.IdType] = (byte)IdType;
        destination[1..Field.Data].Clear();
        Data.Span.CopyTo(destination[Field.Data..]);
        return BodyLength;
    }

    private static IkePayloadType CheckKind(IkePayloadType payloadType) =>
        payloadType is IkePayloadType.IdentificationInitiator or IkePayloadType.IdentificationResponder
            ? payloadType
            : throw new ArgumentException("an identification payload is IDi or IDr", nameof(payloadType));
}
