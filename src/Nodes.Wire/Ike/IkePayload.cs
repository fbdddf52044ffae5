namespace Nodes.Wire.Ike;

/// <summary>
/// A decoded IKE payload. Each subclass codes the body that follows the generic header; <see cref="Encode"/>
/// adds the header. Records compare by value.
/// </summary>
public abstract record IkePayload
{
    /// <summary>The payload type this record is sent as.</summary>
    public abstract IkePayloadType Type { get; }

    /// <summary>Length of the body after the generic header.</summary>
    public abstract int BodyLength { get; }

    /// <summary>Writes the body and returns its length. Throws if <paramref name="destination"/> is shorter than <see cref="BodyLength"/>.</summary>
    public abstract int EncodeBody(Span<byte> destination);

    /// <summary>Generic header plus body.</summary>
    public int EncodedLength => IkePayloadHeader.Size + BodyLength;

    /// <summary>Writes the generic header (critical bit clear) and the body; returns <see cref="EncodedLength"/>.</summary>
    public int Encode(Span<byte> destination, IkePayloadType nextPayload)
    {
        var length = EncodedLength;
        if (length > ushort.MaxValue) throw new InvalidOperationException($"{Type} payload of {length} bytes exceeds the 16-bit length field");
        if (destination.Length < length) throw new ArgumentException($"{Type} payload needs {length} bytes, got {destination.Length}", nameof(destination));
        // RFC 7296 section 2.5: the critical bit only matters for types the receiver might not know; every type
        // sent here is defined by RFC 7296, so it stays clear.
        new IkePayloadHeader(nextPayload, false, (ushort)length).Encode(destination);
        EncodeBody(destination[IkePayloadHeader.Size..length]);
        return length;
    }

    /// <summary>
    /// Decodes the body of a payload of type <paramref name="type"/>. Unknown types, CERT, CERTREQ, EAP and SKF are
    /// kept as <see cref="OpaquePayload"/>; SK becomes an <see cref="EncryptedPayload"/> whose first inner type is
    /// <paramref name="nextPayload"/>.
    /// </summary>
    public static bool TryParse(IkePayloadType type, IkePayloadType nextPayload, ReadOnlySpan<byte> body, out IkePayload payload, out WireError error)
    {
        payload = null!;
        bool ok;
        switch (type)
        {
            case IkePayloadType.SecurityAssociation:
                ok = SecurityAssociationPayload.TryParse(body, out var sa, out error); payload = sa!; break;
            case IkePayloadType.KeyExchange:
                ok = KeyExchangePayload.TryParse(body, out var ke, out error); payload = ke!; break;
            case IkePayloadType.IdentificationInitiator or IkePayloadType.IdentificationResponder:
                ok = IdentificationPayload.TryParse(type, body, out var id, out error); payload = id!; break;
            case IkePayloadType.Authentication:
                ok = AuthenticationPayload.TryParse(body, out var auth, out error); payload = auth!; break;
            case IkePayloadType.Nonce:
                ok = NoncePayload.TryParse(body, out var nonce, out error); payload = nonce!; break;
            case IkePayloadType.Notify:
                ok = NotifyPayload.TryParse(body, out var notify, out error); payload = notify!; break;
            case IkePayloadType.Delete:
                ok = DeletePayload.TryParse(body, out var delete, out error); payload = delete!; break;
            case IkePayloadType.VendorId:
                ok = VendorIdPayload.TryParse(body, out var vendor, out error); payload = vendor!; break;
            case IkePayloadType.TrafficSelectorInitiator or IkePayloadType.TrafficSelectorResponder:
                ok = TrafficSelectorPayload.TryParse(type, body, out var ts, out error); payload = ts!; break;
            case IkePayloadType.Configuration:
                ok = ConfigurationPayload.TryParse(body, out var cp, out error); payload = cp!; break;
            case IkePayloadType.Encrypted:
                payload = new EncryptedPayload(nextPayload, OctetString.Copy(body)); error = WireError.None; ok = true; break;
            default:
                payload = new OpaquePayload(type, OctetString.Copy(body)); error = WireError.None; ok = true; break;
        }
        if (!ok) payload = null!;
        return ok;
    }
}

/// <summary>A payload kept as raw body bytes: CERT, CERTREQ, EAP, SKF, or a type this codec does not know.</summary>
public sealed record OpaquePayload(IkePayloadType PayloadType, OctetString Body) : IkePayload
{
    public override IkePayloadType Type => PayloadType;

    public override int BodyLength => Body.Length;

    public override int EncodeBody(Span<byte> destination)
    {
        Body.Span.CopyTo(destination);
        return Body.Length;
    }
}
