namespace Nodes.Wire.Ike;

/// <summary>One payload of a chain, as a view into the chain's bytes.</summary>
public readonly ref struct IkePayloadView
{
    public IkePayloadView(IkePayloadType type, IkePayloadHeader header, ReadOnlySpan<byte> payload, int offset)
    {
        Type = type;
        Header = header;
        Payload = payload;
        Offset = offset;
    }

    /// <summary>This payload's type (announced by the previous Next Payload field).</summary>
    public IkePayloadType Type { get; }

    /// <summary>The generic header: its NextPayload is the following payload's type, or for SK the first inner payload's.</summary>
    public IkePayloadHeader Header { get; }

    /// <summary>The critical bit as received.</summary>
    public bool Critical => Header.Critical;

    /// <summary>The whole payload, generic header included.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The payload after the generic header. For IDi/IDr this is exactly what AUTH signs (RFC 7296 section 2.15).</summary>
    public ReadOnlySpan<byte> Body => Payload[IkePayloadHeader.Size..];

    /// <summary>Offset of the payload within the chain the reader walks.</summary>
    public int Offset { get; }

    /// <summary>True if this codec models the payload type.</summary>
    public bool IsKnown => IkePayloadHeader.IsKnown(Type);
}

/// <summary>How an <see cref="IkePayloadReader"/> treats a chain.</summary>
[Flags]
public enum IkeChainOptions
{
    None = 0,
    /// <summary>Also yield unknown payloads without the critical bit (by default they are skipped).</summary>
    YieldUnknown = 1,
    /// <summary>The chain is the decrypted content of SK: an SK or SKF payload inside it is refused.</summary>
    Inner = 2,
}

/// <summary>
/// Walks an IKE payload chain without allocating: the bytes after the IKE header (first type from the header's
/// Next Payload) or the decrypted content of SK (first type from the SK header's Next Payload).
/// <code>
/// var reader = new IkePayloadReader(chain, firstType);
/// while (reader.TryRead(out var payload)) { ... }
/// if (reader.Error != WireError.None) { drop, or answer with reader.UnsupportedCriticalType }
/// </code>
/// Each generic header is checked (length at least 4 and within the chain); the chain must end exactly at the
/// end of the bytes with Next Payload 0, except that SK/SKF must be the last payload and reach the end (RFC 7296
/// section 3.14). An unknown payload with the critical bit set stops the walk with
/// <see cref="WireError.UnsupportedCriticalPayload"/> (RFC 7296 section 2.5).
/// </summary>
public ref struct IkePayloadReader
{
    private readonly ReadOnlySpan<byte> _chain;
    private readonly IkeChainOptions _options;
    private IkePayloadType _next;
    private int _offset;
    private bool _done;

    public IkePayloadReader(ReadOnlySpan<byte> chain, IkePayloadType firstType, IkeChainOptions options = IkeChainOptions.None)
    {
        _chain = chain;
        _next = firstType;
        _options = options;
        _offset = 0;
        _done = false;
        Error = WireError.None;
        UnsupportedCriticalType = IkePayloadType.None;
    }

    /// <summary>Why the walk stopped early; <see cref="WireError.None"/> after a clean end.</summary>
    public WireError Error { get; private set; }

    /// <summary>With <see cref="WireError.UnsupportedCriticalPayload"/>: the type to report in UNSUPPORTED_CRITICAL_PAYLOAD.</summary>
    public IkePayloadType UnsupportedCriticalType { get; private set; }

    /// <summary>Reads the next payload; false at the end of the chain or on an error (see <see cref="Error"/>).</summary>
    public bool TryRead(out IkePayloadView payload)
    {
        payload = default;
        while (!_done)
        {
            if (_next == IkePayloadType.None)
            {
                // RFC 7296 section 3.2: Next Payload 0 marks the last payload; nothing may follow it.
                if (_offset != _chain.Length) return Fail(WireError.BadPayloadChain);
                _done = true;
                return false;
            }
            var remaining = _chain[_offset..];
            if (remaining.IsEmpty) return Fail(WireError.BadPayloadChain);
            if (!IkePayloadHeader.TryParse(remaining, out var header, out var error)) return Fail(error);

            var type = _next;
            var bytes = remaining[..header.PayloadLength];
            var offset = _offset;
            _offset += header.PayloadLength;
            _next = header.NextPayload;

            if (type is IkePayloadType.Encrypted or IkePayloadType.EncryptedFragment)
            {
                if ((_options & IkeChainOptions.Inner) != 0) return Fail(WireError.BadPayloadChain);
                // RFC 7296 section 3.14: the SK payload MUST be the last payload; its Next Payload names the
                // first inner payload, not a following outer one. RFC 7383 section 2.5 says the same of SKF.
                if (_offset != _chain.Length) return Fail(WireError.BadPayloadChain);
                _done = true;
            }

            if (!IkePayloadHeader.IsKnown(type))
            {
                // RFC 7296 section 2.5: an unrecognised critical payload rejects the message; others are skipped.
                if (header.Critical)
                {
                    UnsupportedCriticalType = type;
                    return Fail(WireError.UnsupportedCriticalPayload);
                }
                if ((_options & IkeChainOptions.YieldUnknown) == 0) continue;
            }

            payload = new IkePayloadView(type, header, bytes, offset);
            return true;
        }
        return false;
    }

    /// <summary>Walks the whole chain and reports its first error, if any.</summary>
    public static bool Validate(ReadOnlySpan<byte> chain, IkePayloadType firstType, out WireError error, out IkePayloadType unsupportedCriticalType, IkeChainOptions options = IkeChainOptions.None)
    {
        var reader = new IkePayloadReader(chain, firstType, options);
        while (reader.TryRead(out _)) { }
        error = reader.Error;
        unsupportedCriticalType = reader.UnsupportedCriticalType;
        return error == WireError.None;
    }

    private bool Fail(WireError error)
    {
        Error = error;
        _done = true;
        return false;
    }
}
