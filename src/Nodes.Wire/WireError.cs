namespace Nodes.Wire;

/// <summary>
/// Why a codec refused untrusted bytes. Parsers return one of these instead of throwing, so a
/// receiving node can drop the frame and count it by reason.
/// </summary>
public enum WireError : byte
{
    /// <summary>The bytes parsed.</summary>
    None = 0,

    // Shared by every codec.
    /// <summary>Fewer bytes than the fixed header, or than a length field claims.</summary>
    Truncated,
    /// <summary>A length field is smaller than its own header, or inconsistent with another length.</summary>
    BadLength,
    /// <summary>A version field holds a value this codec does not speak.</summary>
    BadVersion,
    /// <summary>A checksum does not verify.</summary>
    BadChecksum,
    /// <summary>A field holds a value the specification forbids (reserved value, zero SPI, ...).</summary>
    BadValue,
    /// <summary>The destination buffer is too small for the encoding.</summary>
    BufferTooSmall,

    // IPv4 / ICMPv4 / UDP.
    /// <summary>IPv4 IHL below 5 or beyond the packet.</summary>
    BadHeaderLength,
    /// <summary>IPv4 total length below the header length or beyond the buffer.</summary>
    BadTotalLength,
    /// <summary>An ICMP type/code this codec does not model.</summary>
    UnsupportedType,

    // ESP / UDP encapsulation.
    /// <summary>SPI 0 (never sent) or 1..255 (reserved), RFC 4303 section 2.1.</summary>
    ReservedSpi,
    /// <summary>An ESP trailer whose pad length exceeds the payload, or whose padding bytes are not 1, 2, 3, ...</summary>
    BadPadding,

    // IKEv2.
    /// <summary>An IKE payload chain that runs past the message or stops short of it.</summary>
    BadPayloadChain,
    /// <summary>An unknown IKE payload with the critical bit set (RFC 7296 section 2.5).</summary>
    UnsupportedCriticalPayload,
    /// <summary>A proposal, transform or attribute structure that is inconsistent (RFC 7296 section 3.3).</summary>
    BadProposal,
    /// <summary>A traffic selector whose length or type is wrong (RFC 7296 section 3.13.1).</summary>
    BadTrafficSelector,
}
