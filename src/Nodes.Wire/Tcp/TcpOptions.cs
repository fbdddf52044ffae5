using System.Buffers.Binary;

namespace Nodes.Wire.Tcp;

/// <summary>The TCP control bits (RFC 9293 §3.1, with ECE and CWR from RFC 3168 §23.2).</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    /// <summary>No more data from the sender.</summary>
    Fin = 0x01,
    /// <summary>Synchronize sequence numbers.</summary>
    Syn = 0x02,
    /// <summary>Reset the connection.</summary>
    Rst = 0x04,
    /// <summary>Push function.</summary>
    Psh = 0x08,
    /// <summary>The acknowledgment number is significant.</summary>
    Ack = 0x10,
    /// <summary>The urgent pointer is significant.</summary>
    Urg = 0x20,
    /// <summary>ECN-Echo (RFC 3168).</summary>
    Ece = 0x40,
    /// <summary>Congestion Window Reduced (RFC 3168).</summary>
    Cwr = 0x80,
}

/// <summary>The TSval and TSecr of a Timestamps option (RFC 7323 §3.2).</summary>
public readonly record struct TcpTimestamps(uint Value, uint EchoReply);

/// <summary>
/// The TCP options Nodes speaks: Maximum Segment Size (RFC 9293 §3.2, kind 2), Window Scale
/// (RFC 7323 §2, kind 3), SACK-Permitted (RFC 2018 §2, kind 4) and Timestamps (RFC 7323 §3, kind 8).
/// Other options (SACK blocks, MD5, TFO, ...) are skipped when parsing, as RFC 9293 §3.2 asks of a
/// receiver ("MUST be prepared to handle an illegal option length ... without crashing" and
/// "MUST ignore options it does not implement").
/// </summary>
/// <remarks>
/// <see cref="Encode"/> lays options out as Linux does in a SYN (MSS, SACK-Permitted, Timestamps,
/// NOP, Window Scale), padding with NOPs so that every option after MSS stays word-aligned; the
/// encoding is always a multiple of four octets.
/// </remarks>
public readonly record struct TcpOptions(
    ushort? MaximumSegmentSize = null,
    byte? WindowScale = null,
    bool SackPermitted = false,
    TcpTimestamps? Timestamps = null)
{
    /// <summary>Option kinds (IANA "TCP Option Kind Numbers").</summary>
    public static class Kind
    {
        public const byte EndOfList = 0;
        public const byte NoOperation = 1;
        public const byte MaximumSegmentSize = 2;
        public const byte WindowScale = 3;
        public const byte SackPermitted = 4;
        public const byte Sack = 5;
        public const byte Timestamps = 8;
    }

    /// <summary>Most octets of options a header can hold (Data Offset 15 words minus the 5 of the fixed header).</summary>
    public const int MaxLength = 40;

    /// <summary>No options.</summary>
    public static TcpOptions None => default;

    /// <summary>Octets <see cref="Encode"/> writes (a multiple of 4).</summary>
    public int EncodedLength
    {
        get
        {
            var length = MaximumSegmentSize is null ? 0 : 4;
            if (Timestamps is not null) length += 12;
            else if (SackPermitted) length += 4;
            if (WindowScale is not null) length += 4;
            return length;
        }
    }

    /// <summary>Writes the options (see the remarks for the layout); returns <see cref="EncodedLength"/>.</summary>
    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination holds {destination.Length} octets, the options need {length}", nameof(destination));
        }

        var i = 0;
        if (MaximumSegmentSize is { } mss)
        {
            destination[i++] = Kind.MaximumSegmentSize;
            destination[i++] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(destination[i..], mss);
            i += 2;
        }

        if (Timestamps is { } ts)
        {
            if (SackPermitted)
            {
                destination[i++] = Kind.SackPermitted;
                destination[i++] = 2;
            }
            else
            {
                destination[i++] = Kind.NoOperation;
                destination[i++] = Kind.NoOperation;
            }

            destination[i++] = Kind.Timestamps;
            destination[i++] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(destination[i..], ts.Value);
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i + 4)..], ts.EchoReply);
            i += 8;
        }
        else if (SackPermitted)
        {
            destination[i++] = Kind.NoOperation;
            destination[i++] = Kind.NoOperation;
            destination[i++] = Kind.SackPermitted;
            destination[i++] = 2;
        }

        if (WindowScale is { } shift)
        {
            destination[i++] = Kind.NoOperation;
            destination[i++] = Kind.WindowScale;
            destination[i++] = 3;
            destination[i++] = shift;
        }

        return i;
    }

    /// <summary>
    /// Parses an option list. An option whose length runs past the list, is below 2, or is wrong for
    /// a known kind (MSS 4, Window Scale 3, SACK-Permitted 2, Timestamps 10) refuses the whole list
    /// with <see cref="WireError.BadValue"/>; unknown kinds are skipped. Never throws or allocates.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out TcpOptions options, out WireError error)
    {
        options = default;
        ushort? mss = null;
        byte? scale = null;
        var sack = false;
        TcpTimestamps? timestamps = null;
        var i = 0;
        while (i < source.Length)
        {
            var kind = source[i];
            if (kind == Kind.EndOfList) break;
            if (kind == Kind.NoOperation)
            {
                i++;
                continue;
            }

            if (i + 1 >= source.Length)
            {
                error = WireError.BadValue;
                return false;
            }

            var length = source[i + 1];
            if (length < 2 || i + length > source.Length)
            {
                error = WireError.BadValue;
                return false;
            }

            var value = source.Slice(i + 2, length - 2);
            var expected = kind switch
            {
                Kind.MaximumSegmentSize => 4,
                Kind.WindowScale => 3,
                Kind.SackPermitted => 2,
                Kind.Timestamps => 10,
                _ => length,
            };
            if (length != expected)
            {
                error = WireError.BadValue;
                return false;
            }

            switch (kind)
            {
                case Kind.MaximumSegmentSize:
                    mss = BinaryPrimitives.ReadUInt16BigEndian(value);
                    break;
                case Kind.WindowScale:
                    scale = value[0];
                    break;
                case Kind.SackPermitted:
                    sack = true;
                    break;
                case Kind.Timestamps:
                    timestamps = new TcpTimestamps(BinaryPrimitives.ReadUInt32BigEndian(value), BinaryPrimitives.ReadUInt32BigEndian(value[4..]));
                    break;
            }

            i += length;
        }

        options = new TcpOptions(mss, scale, sack, timestamps);
        error = WireError.None;
        return true;
    }
}
