namespace Nodes.Wire.Ike;

/// <summary>
/// A whole IKE message: header fields and the ordered outer payloads (RFC 7296 section 3). Parsing allocates one
/// record per payload; unknown payloads without the critical bit are kept as <see cref="OpaquePayload"/>. Encoding
/// chains the Next Payload fields and fills every length, and always sends version 2.0. A protected message has
/// an <see cref="EncryptedPayload"/> last, whose inner payloads are handled by <see cref="SkMessage"/>.
/// </summary>
public sealed record IkeMessage(ulong InitiatorSpi, ulong ResponderSpi, ExchangeType Exchange, IkeFlags Flags, uint MessageId, EquatableList<IkePayload> Payloads)
{
    /// <summary>The header this message is sent with.</summary>
    public IkeHeader Header => new(InitiatorSpi, ResponderSpi, Payloads.Count == 0 ? IkePayloadType.None : Payloads[0].Type, Exchange, Flags, MessageId, (uint)EncodedLength);

    public int EncodedLength => IkeHeader.Size + IkePayloadChain.EncodedLength(Payloads);

    /// <summary>The payloads of one record type, in order.</summary>
    public IEnumerable<T> PayloadsOf<T>() where T : IkePayload => Payloads.OfType<T>();

    /// <summary>The notifications of one type, in order.</summary>
    public IEnumerable<NotifyPayload> Notifications(NotifyType type) => Payloads.OfType<NotifyPayload>().Where(n => n.NotifyType == type);

    /// <summary>Parses a whole datagram (non-ESP marker already removed).</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out IkeMessage? message, out WireError error) =>
        TryParse(datagram, out message, out error, out _);

    /// <summary>
    /// Parses a whole datagram; with <see cref="WireError.UnsupportedCriticalPayload"/>,
    /// <paramref name="unsupportedCriticalType"/> is the type to report in UNSUPPORTED_CRITICAL_PAYLOAD.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out IkeMessage? message, out WireError error, out IkePayloadType unsupportedCriticalType)
    {
        message = null;
        unsupportedCriticalType = IkePayloadType.None;
        if (!IkeHeader.TryParse(datagram, out var header, out error)) return false;
        if (!IkePayloadChain.TryParse(datagram[IkeHeader.Size..], header.NextPayload, IkeChainOptions.None, out var payloads, out error, out unsupportedCriticalType)) return false;
        message = new IkeMessage(header.InitiatorSpi, header.ResponderSpi, header.Exchange, header.Flags, header.MessageId, payloads);
        return true;
    }

    /// <summary>Writes the message and returns <see cref="EncodedLength"/>. Throws if the destination is shorter.</summary>
    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        if (destination.Length < length) throw new ArgumentException($"message needs {length} bytes, got {destination.Length}", nameof(destination));
        Header.Encode(destination);
        return IkeHeader.Size + IkePayloadChain.Encode(Payloads, destination[IkeHeader.Size..]);
    }

    /// <summary>The encoded message in a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }
}

/// <summary>Encoding and decoding of a payload chain (the bytes after the IKE header, or the decrypted SK content).</summary>
public static class IkePayloadChain
{
    public static int EncodedLength(IReadOnlyList<IkePayload> payloads)
    {
        var length = 0;
        foreach (var payload in payloads) length += payload.EncodedLength;
        return length;
    }

    /// <summary>
    /// Writes the payloads, each Next Payload naming the following payload's type and the last one's 0. An SK payload
    /// must be last; its Next Payload names its first inner payload. Returns the chain length.
    /// </summary>
    public static int Encode(IReadOnlyList<IkePayload> payloads, Span<byte> destination)
    {
        var offset = 0;
        for (var i = 0; i < payloads.Count; i++)
        {
            var isLast = i == payloads.Count - 1;
            IkePayloadType next;
            if (payloads[i] is EncryptedPayload sk)
            {
                // RFC 7296 section 3.14: the SK payload MUST be the last payload in the message.
                if (!isLast) throw new InvalidOperationException("the SK payload must be the last payload");
                next = sk.FirstInnerType;
            }
            else
            {
                next = isLast ? IkePayloadType.None : payloads[i + 1].Type;
            }
            offset += payloads[i].Encode(destination[offset..], next);
        }
        return offset;
    }

    /// <summary>The type to put in the Next Payload field in front of this chain: the first payload's, or 0 if empty.</summary>
    public static IkePayloadType FirstType(IReadOnlyList<IkePayload> payloads) => payloads.Count == 0 ? IkePayloadType.None : payloads[0].Type;

    /// <summary>Encodes the payloads into a new array.</summary>
    public static byte[] ToArray(IReadOnlyList<IkePayload> payloads)
    {
        var bytes = new byte[EncodedLength(payloads)];
        Encode(payloads, bytes);
        return bytes;
    }

    /// <summary>Decodes every payload of a chain into records, unknown non-critical ones as <see cref="OpaquePayload"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> chain, IkePayloadType firstType, IkeChainOptions options, out List<IkePayload> payloads, out WireError error, out IkePayloadType unsupportedCriticalType)
    {
        payloads = [];
        var reader = new IkePayloadReader(chain, firstType, options | IkeChainOptions.YieldUnknown);
        while (reader.TryRead(out var view))
        {
            if (!IkePayload.TryParse(view.Type, view.Header.NextPayload, view.Body, out var payload, out error))
            {
                unsupportedCriticalType = IkePayloadType.None;
                payloads = [];
                return false;
            }
            payloads.Add(payload);
        }
        error = reader.Error;
        unsupportedCriticalType = reader.UnsupportedCriticalType;
        if (error != WireError.None) payloads = [];
        return error == WireError.None;
    }
}

/// <summary>The parts of a message protected by an SK payload, as views into the datagram.</summary>
public readonly ref struct SkSections
{
    public SkSections(Span<byte> aad, Span<byte> iv, Span<byte> body, Span<byte> icv, IkePayloadType firstInnerType)
    {
        Aad = aad;
        Iv = iv;
        Body = body;
        Icv = icv;
        FirstInnerType = firstInnerType;
    }

    /// <summary>From the IKE header to the end of the SK generic header: AES-GCM's associated data (RFC 5282 section 5.1)
    /// and, followed by IV and ciphertext, what the integrity checksum covers (RFC 7296 section 3.14).</summary>
    public Span<byte> Aad { get; }

    public Span<byte> Iv { get; }

    /// <summary>Inner payloads, padding and pad length: plaintext before sealing, ciphertext after.</summary>
    public Span<byte> Body { get; }

    public Span<byte> Icv { get; }

    /// <summary>The SK header's Next Payload: the type of the first inner payload.</summary>
    public IkePayloadType FirstInnerType { get; }
}

/// <summary>
/// Layout of messages protected by an SK payload (RFC 7296 section 3.14), kept apart from the cryptography: the
/// caller seals or opens the returned sections, for instance with Nodes.Crypto's PayloadProtection
/// (<c>Seal(aad, iv, body, icv)</c>). Only messages whose single outer payload is SK are built.
/// </summary>
public static class SkMessage
{
    private const int SkOffset = IkeHeader.Size;
    private const int IvOffset = IkeHeader.Size + IkePayloadHeader.Size;

    /// <summary>Number of padding octets (before the pad length octet) that make the encrypted part a whole number of blocks.</summary>
    public static int PaddingLength(int innerLength, int blockSize)
    {
        if (blockSize < 1 || blockSize > 256) throw new ArgumentOutOfRangeException(nameof(blockSize));
        var remainder = (innerLength + 1) % blockSize;
        return remainder == 0 ? 0 : blockSize - remainder;
    }

    /// <summary>Total length of the protected message.</summary>
    public static int SealedLength(int innerLength, int ivLength, int blockSize, int icvLength) =>
        IvOffset + ivLength + innerLength + PaddingLength(innerLength, blockSize) + 1 + icvLength;

    /// <summary>
    /// Writes header (Next Payload SK, final length), SK generic header (Next Payload = <paramref name="firstInnerType"/>),
    /// a zeroed IV slot, <paramref name="innerChain"/>, zero padding, the pad length octet and a zeroed ICV slot. The
    /// caller then fills <see cref="SkSections.Iv"/> and seals <see cref="SkSections.Body"/> in place.
    /// </summary>
    public static bool TryLayout(ulong initiatorSpi, ulong responderSpi, ExchangeType exchange, IkeFlags flags, uint messageId,
        IkePayloadType firstInnerType, ReadOnlySpan<byte> innerChain, int ivLength, int blockSize, int icvLength,
        Span<byte> destination, out SkSections sections, out int written, out WireError error)
    {
        sections = default;
        written = 0;
        if (ivLength < 0 || icvLength < 0) throw new ArgumentOutOfRangeException(nameof(ivLength), "IV and ICV lengths are not negative");
        var padding = PaddingLength(innerChain.Length, blockSize);
        var total = SealedLength(innerChain.Length, ivLength, blockSize, icvLength);
        // RFC 7296 section 3.2: the SK payload's length, generic header included, is a 16-bit field.
        if (total - SkOffset > ushort.MaxValue)
        {
            error = WireError.BadLength;
            return false;
        }
        if (destination.Length < total)
        {
            error = WireError.BufferTooSmall;
            return false;
        }
        var message = destination[..total];
        new IkeHeader(initiatorSpi, responderSpi, IkePayloadType.Encrypted, exchange, flags, messageId, (uint)total).Encode(message);
        new IkePayloadHeader(firstInnerType, false, (ushort)(total - SkOffset)).Encode(message[SkOffset..]);
        message.Slice(IvOffset, ivLength).Clear();
        var bodyOffset = IvOffset + ivLength;
        var bodyLength = innerChain.Length + padding + 1;
        innerChain.CopyTo(message[bodyOffset..]);
        // RFC 7296 section 3.14: padding may hold any value; zeros keep the output deterministic. Pad Length is the
        // last octet of the encrypted part.
        message.Slice(bodyOffset + innerChain.Length, padding).Clear();
        message[bodyOffset + bodyLength - 1] = (byte)padding;
        message.Slice(bodyOffset + bodyLength, icvLength).Clear();
        sections = new SkSections(message[..IvOffset], message.Slice(IvOffset, ivLength), message.Slice(bodyOffset, bodyLength), message.Slice(bodyOffset + bodyLength, icvLength), firstInnerType);
        written = total;
        error = WireError.None;
        return true;
    }

    /// <summary>
    /// Finds the protected sections of a received datagram whose last payload is SK. Checks the header, the outer
    /// chain, and that the SK body holds IV, at least one encrypted octet in whole blocks, and ICV.
    /// </summary>
    public static bool TryLocate(Span<byte> datagram, int ivLength, int blockSize, int icvLength, out SkSections sections, out WireError error)
    {
        sections = default;
        if (!IkeHeader.TryParse(datagram, out var header, out error)) return false;
        var reader = new IkePayloadReader(datagram[IkeHeader.Size..], header.NextPayload);
        var found = false;
        var skOffset = 0;
        var skLength = 0;
        var firstInner = IkePayloadType.None;
        while (reader.TryRead(out var view))
        {
            if (view.Type != IkePayloadType.Encrypted) continue;
            found = true;
            skOffset = IkeHeader.Size + view.Offset;
            skLength = view.Payload.Length;
            firstInner = view.Header.NextPayload;
        }
        if (reader.Error != WireError.None)
        {
            error = reader.Error;
            return false;
        }
        if (!found)
        {
            error = WireError.BadPayloadChain;
            return false;
        }
        var bodyStart = skOffset + IkePayloadHeader.Size;
        if (!EncryptedPayload.TrySplit(datagram.Slice(bodyStart, skLength - IkePayloadHeader.Size), ivLength, blockSize, icvLength, out var encryptedLength, out error)) return false;
        sections = new SkSections(
            datagram[..bodyStart],
            datagram.Slice(bodyStart, ivLength),
            datagram.Slice(bodyStart + ivLength, encryptedLength),
            datagram.Slice(bodyStart + ivLength + encryptedLength, icvLength),
            firstInner);
        return true;
    }

    /// <summary>
    /// Removes padding and the pad length octet from a decrypted SK body and returns the inner chain. Refuses a pad
    /// length that leaves no room for itself.
    /// </summary>
    public static bool TryRemovePadding(ReadOnlySpan<byte> decrypted, out ReadOnlySpan<byte> innerChain, out WireError error)
    {
        innerChain = default;
        if (decrypted.IsEmpty)
        {
            error = WireError.Truncated;
            return false;
        }
        var padLength = decrypted[^1];
        // RFC 7296 section 3.14: Pad Length counts the padding octets, which precede the Pad Length octet.
        if (padLength + 1 > decrypted.Length)
        {
            error = WireError.BadPadding;
            return false;
        }
        innerChain = decrypted[..(decrypted.Length - padLength - 1)];
        error = WireError.None;
        return true;
    }

    /// <summary>
    /// Strips the padding of a decrypted SK body and decodes the inner payloads, whose first type is the SK header's
    /// Next Payload. An SK or SKF payload inside is refused.
    /// </summary>
    public static bool TryOpenInner(ReadOnlySpan<byte> decrypted, IkePayloadType firstInnerType, out List<IkePayload> payloads, out WireError error, out IkePayloadType unsupportedCriticalType)
    {
        payloads = [];
        unsupportedCriticalType = IkePayloadType.None;
        if (!TryRemovePadding(decrypted, out var chain, out error)) return false;
        return IkePayloadChain.TryParse(chain, firstInnerType, IkeChainOptions.Inner, out payloads, out error, out unsupportedCriticalType);
    }
}
