namespace Nodes.Wire.Ike;

/// <summary>
/// The SK payload as received, body kept opaque (RFC 7296 section 3.14). Its generic header's Next Payload is
/// the type of the first payload inside, <see cref="FirstInnerType"/>; the body is IV, ciphertext and ICV. Use
/// <see cref="SkMessage"/> to lay out, locate and open the protected parts.
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Payload  |C|  RESERVED   |         Payload Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Initialization Vector                     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                    Encrypted IKE Payloads                     ~
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |               |             Padding (0-255 octets)            |
/// +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
/// |                                               |  Pad Length   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                    Integrity Checksum Data                    ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record EncryptedPayload(IkePayloadType FirstInnerType, OctetString Body) : IkePayload
{
    public override IkePayloadType Type => IkePayloadType.Encrypted;

    public override int BodyLength => Body.Length;

    public override int EncodeBody(Span<byte> destination)
    {
        Body.Span.CopyTo(destination);
        return Body.Length;
    }

    /// <summary>
    /// Splits an SK body into IV, encrypted part (payloads, padding, pad length) and ICV. Refuses a body that
    /// cannot hold the IV, the ICV and at least one encrypted octet, or whose encrypted part is not a whole
    /// number of cipher blocks.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<byte> body, int ivLength, int blockSize, int icvLength, out int encryptedLength, out WireError error)
    {
        encryptedLength = 0;
        if (ivLength < 0 || icvLength < 0 || blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), "cipher shape out of range");
        var length = body.Length - ivLength - icvLength;
        // RFC 7296 section 3.14: the encrypted part ends with the Pad Length octet, so it has at least one octet,
        // and it fills whole cipher blocks.
        if (length < 1)
        {
            error = WireError.Truncated;
            return false;
        }
        if (length % blockSize != 0)
        {
            error = WireError.BadLength;
            return false;
        }
        encryptedLength = length;
        error = WireError.None;
        return true;
    }
}
