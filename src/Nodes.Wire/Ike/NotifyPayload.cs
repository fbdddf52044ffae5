using System.Buffers.Binary;

namespace Nodes.Wire.Ike;

/// <summary>
/// Notify payload body (RFC 7296 section 3.10).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Protocol ID  |   SPI Size    |      Notify Message Type      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                Security Parameter Index (SPI)                 ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       Notification Data                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Parsing also checks the data length of the notifications whose data has a fixed shape: INVALID_KE_PAYLOAD
/// (2-byte group), NAT_DETECTION_*_IP (20-byte SHA-1 hash) and COOKIE (1 to 64 bytes).
/// </summary>
public sealed record NotifyPayload(IkeProtocolId Protocol, OctetString Spi, NotifyType NotifyType, OctetString Data) : IkePayload
{
    /// <summary>Length of a NAT detection hash (SHA-1, RFC 7296 section 2.23).</summary>
    public const int NatDetectionHashLength = 20;

    /// <summary>Longest COOKIE data (RFC 7296 section 2.6).</summary>
    public const int MaxCookieLength = 64;

    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int ProtocolId = 0;
        public const int SpiSize = 1;
        public const int NotifyType = 2;
        public const int Spi = 4;
    }

    public override IkePayloadType Type => IkePayloadType.Notify;

    public override int BodyLength => Field.Spi + Spi.Length + Data.Length;

    /// <summary>True for error types (below 16384): an unrecognised one in a response fails the request (RFC 7296 section 3.10.1).</summary>
    public bool IsError => (ushort)NotifyType < 16384;

    /// <summary>A notification about the IKE SA or no SA: protocol 0, no SPI.</summary>
    public static NotifyPayload Status(NotifyType type, ReadOnlySpan<byte> data = default) =>
        new(IkeProtocolId.None, OctetString.Empty, type, OctetString.Copy(data));

    /// <summary>INVALID_KE_PAYLOAD carrying the group the responder wants (RFC 7296 section 1.3).</summary>
    public static NotifyPayload InvalidKePayload(ushort acceptedGroup)
    {
        Span<byte> data = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(data, acceptedGroup);
        return Status(NotifyType.InvalidKePayload, data);
    }

    /// <summary>NAT_DETECTION_SOURCE_IP or NAT_DETECTION_DESTINATION_IP with its 20-byte hash.</summary>
    public static NotifyPayload NatDetection(NotifyType type, ReadOnlySpan<byte> hash)
    {
        if (type is not (NotifyType.NatDetectionSourceIp or NotifyType.NatDetectionDestinationIp)) throw new ArgumentException("not a NAT detection type", nameof(type));
        if (hash.Length != NatDetectionHashLength) throw new ArgumentException("a NAT detection hash has 20 bytes", nameof(hash));
        return Status(type, hash);
    }

    /// <summary>COOKIE with 1 to 64 bytes of data.</summary>
    public static NotifyPayload Cookie(ReadOnlySpan<byte> cookie)
    {
        if (cookie.Length is < 1 or > MaxCookieLength) throw new ArgumentException("a cookie has 1 to 64 bytes", nameof(cookie));
        return Status(NotifyType.Cookie, cookie);
    }

    /// <summary>A notification about a Child SA: protocol ESP or AH and its 4-byte SPI (e.g. REKEY_SA).</summary>
    public static NotifyPayload ForChildSa(IkeProtocolId protocol, uint spi, NotifyType type, ReadOnlySpan<byte> data = default)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, spi);
        return new NotifyPayload(protocol, OctetString.Copy(bytes), type, OctetString.Copy(data));
    }

    /// <summary>The group number carried by INVALID_KE_PAYLOAD.</summary>
    public bool TryGetAcceptedGroup(out ushort group)
    {
        group = 0;
        if (NotifyType != NotifyType.InvalidKePayload || Data.Length != 2) return false;
        group = BinaryPrimitives.ReadUInt16BigEndian(Data.Span);
        return true;
    }

    public static bool TryParse(ReadOnlySpan<byte> body, out NotifyPayload? payload, out WireError error)
    {
        payload = null;
        if (body.Length < Field.Spi)
        {
            error = WireError.Truncated;
            return false;
        }
        var spiSize = body[Field.SpiSize];
        if (Field.Spi + spiSize > body.Length)
        {
            error = WireError.BadLength;
            return false;
        }
        // RFC 7296 section 3.10: a notification about the IKE SA has SPI Size 0 and no SPI; one about an AH or ESP
        // Child SA carries its 4-octet SPI. Any other shape (protocol 0 or 1 with an SPI, an ESP SPI of 3 octets) is
        // refused here, so no caller ever reads an SPI that the protocol ID contradicts (libreswan CVE-2023-38710).
        var protocol = (IkeProtocolId)body[Field.ProtocolId];
        if (spiSize != 0 && !(protocol is IkeProtocolId.Ah or IkeProtocolId.Esp && spiSize == 4))
        {
            error = WireError.BadValue;
            return false;
        }
        var type = (NotifyType)BinaryPrimitives.ReadUInt16BigEndian(body[Field.NotifyType..]);
        var data = body[(Field.Spi + spiSize)..];
        var dataOk = type switch
        {
            // RFC 7296 section 1.3: INVALID_KE_PAYLOAD data is the 2-octet accepted group number.
            NotifyType.InvalidKePayload => data.Length == 2,
            // RFC 7296 section 2.23: NAT detection data is a SHA-1 hash.
            NotifyType.NatDetectionSourceIp or NotifyType.NatDetectionDestinationIp => data.Length == NatDetectionHashLength,
            // RFC 7296 section 2.6: cookies are 1 to 64 octets.
            NotifyType.Cookie => data.Length is >= 1 and <= MaxCookieLength,
            _ => true,
        };
        if (!dataOk)
        {
            error = WireError.BadLength;
            return false;
        }
        // RFC 7296 section 3.10: with no SPI the protocol ID is sent as zero and ignored on receipt, so it is kept as received.
        payload = new NotifyPayload(protocol, OctetString.Copy(body.Slice(Field.Spi, spiSize)), type, OctetString.Copy(data));
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        if (Spi.Length > byte.MaxValue) throw new InvalidOperationException("SPI size is an 8-bit field");
        destination[Field.ProtocolId] = (byte)Protocol;
        destination[Field.SpiSize] = (byte)Spi.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.NotifyType..], (ushort)NotifyType);
        Spi.Span.CopyTo(destination[Field.Spi..]);
        Data.Span.CopyTo(destination[(Field.Spi + Spi.Length)..]);
        return BodyLength;
    }
}

/// <summary>
/// Delete payload body (RFC 7296 section 3.11). Deleting the IKE SA carries protocol IKE and no SPIs; deleting
/// Child SAs carries protocol ESP or AH and their 4-byte inbound SPIs.
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Protocol ID   |   SPI Size    |          Num of SPIs          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~               Security Parameter Index(es) (SPI)              ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record DeletePayload(IkeProtocolId Protocol, EquatableList<uint> Spis) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int ProtocolId = 0;
        public const int SpiSize = 1;
        public const int SpiCount = 2;
        public const int Spis = 4;
    }

    public override IkePayloadType Type => IkePayloadType.Delete;

    public override int BodyLength => Field.Spis + 4 * Spis.Count;

    /// <summary>Deletes the IKE SA the message is protected by.</summary>
    public static DeletePayload IkeSa() => new(IkeProtocolId.Ike, default);

    public static bool TryParse(ReadOnlySpan<byte> body, out DeletePayload? payload, out WireError error)
    {
        payload = null;
        if (body.Length < Field.Spis)
        {
            error = WireError.Truncated;
            return false;
        }
        var protocol = (IkeProtocolId)body[Field.ProtocolId];
        var spiSize = body[Field.SpiSize];
        var count = BinaryPrimitives.ReadUInt16BigEndian(body[Field.SpiCount..]);
        // RFC 7296 section 3.11: the IKE SA is deleted with SPI Size 0 and no SPIs; ESP and AH SPIs have 4 octets.
        var shapeOk = protocol switch
        {
            IkeProtocolId.Ike => spiSize == 0 && count == 0,
            IkeProtocolId.Esp or IkeProtocolId.Ah => spiSize == 4,
            _ => false,
        };
        if (!shapeOk)
        {
            error = WireError.BadValue;
            return false;
        }
        if (body.Length != Field.Spis + spiSize * count)
        {
            error = WireError.BadLength;
            return false;
        }
        var spis = new uint[count];
        for (var i = 0; i < count; i++) spis[i] = BinaryPrimitives.ReadUInt32BigEndian(body[(Field.Spis + 4 * i)..]);
        payload = new DeletePayload(protocol, spis);
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        if (Protocol == IkeProtocolId.Ike && Spis.Count != 0) throw new InvalidOperationException("an IKE SA delete carries no SPIs");
        destination[Field.ProtocolId] = (byte)Protocol;
        destination[Field.SpiSize] = Protocol == IkeProtocolId.Ike ? (byte)0 : (byte)4;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.SpiCount..], (ushort)Spis.Count);
        for (var i = 0; i < Spis.Count; i++) BinaryPrimitives.WriteUInt32BigEndian(destination[(Field.Spis + 4 * i)..], Spis[i]);
        return BodyLength;
    }
}
