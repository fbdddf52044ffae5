namespace Nodes.Wire.Esp;

/// <summary>
/// Values of the ESP Next Header field (RFC 4303 section 2.6), which take IANA's IP protocol numbers.
/// </summary>
public static class EspNextHeader
{
    /// <summary>Tunnel mode around an IPv4 packet.</summary>
    public const byte Ipv4 = 4;

    /// <summary>Tunnel mode around an IPv6 packet.</summary>
    public const byte Ipv6 = 41;

    /// <summary>A dummy (traffic flow confidentiality) packet, which the receiver discards (RFC 4303 section 2.6).</summary>
    public const byte NoNextHeader = 59;
}

/// <summary>
/// The end of the encrypted part of an ESP packet (RFC 4303 sections 2.4-2.6):
/// <c>[payload][padding 1, 2, 3, ...][pad length][next header]</c>. Read from decrypted plaintext, where
/// the trailer sits at the very end.
/// </summary>
public readonly record struct EspTrailer(byte PadLength, byte NextHeader)
{
    /// <summary>Pad Length and Next Header bytes.</summary>
    public const int FixedLength = 2;

    /// <summary>Padding plus the two fixed bytes.</summary>
    public int EncodedLength => PadLength + FixedLength;

    /// <summary>
    /// The payload alignment for a cipher block size: a multiple of the block size that also ends the
    /// trailer on a 4-byte boundary (RFC 4303 section 2.4). 16 for AES-CBC, 8 for 3DES, 4 for GCM and NULL.
    /// </summary>
    public static int AlignmentFor(int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var a = blockSize;
        var b = 4;
        while (b != 0) (a, b) = (b, a % b);
        return blockSize / a * 4;
    }

    /// <summary>
    /// Padding bytes needed after <paramref name="payloadLength"/> bytes so that payload, padding and the two
    /// fixed bytes fill a whole number of <paramref name="alignment"/>-byte units: the least such padding.
    /// </summary>
    public static int PaddingLength(int payloadLength, int alignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(alignment, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alignment, 256);
        var rest = (payloadLength + FixedLength) % alignment;
        return rest == 0 ? 0 : alignment - rest;
    }

    /// <summary>
    /// Writes padding 1, 2, 3, ... (RFC 4303 section 2.4 default), the pad length and the next header at the
    /// start of <paramref name="destination"/>, which begins right after the payload. Returns the bytes written.
    /// </summary>
    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        if (destination.Length < length) throw new ArgumentException($"the ESP trailer needs {length} bytes, got {destination.Length}", nameof(destination));
        for (var i = 0; i < PadLength; i++) destination[i] = (byte)(i + 1);
        destination[PadLength] = PadLength;
        destination[PadLength + 1] = NextHeader;
        return length;
    }

    /// <summary>
    /// Reads the trailer at the end of decrypted <paramref name="plaintext"/> and returns how many bytes before it
    /// are payload. Fails with <see cref="WireError.Truncated"/> under two bytes and with
    /// <see cref="WireError.BadPadding"/> when the pad length runs past the start of the plaintext or a padding
    /// byte is not its position (1, 2, 3, ...). Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> plaintext, out EspTrailer trailer, out int payloadLength, out WireError error)
    {
        trailer = default;
        payloadLength = 0;
        if (plaintext.Length < FixedLength)
        {
            error = WireError.Truncated;
            return false;
        }
        var padLength = plaintext[^2];
        var nextHeader = plaintext[^1];
        var payload = plaintext.Length - FixedLength - padLength;
        if (payload < 0)
        {
            error = WireError.BadPadding;
            return false;
        }
        // RFC 4303 section 2.4: with the default padding scheme the receiver checks the bytes are 1, 2, 3, ...
        var padding = plaintext.Slice(payload, padLength);
        for (var i = 0; i < padding.Length; i++)
        {
            if (padding[i] != (byte)(i + 1))
            {
                error = WireError.BadPadding;
                return false;
            }
        }
        trailer = new EspTrailer(padLength, nextHeader);
        payloadLength = payload;
        error = WireError.None;
        return true;
    }
}
