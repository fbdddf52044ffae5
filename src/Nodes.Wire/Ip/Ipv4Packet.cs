namespace Nodes.Wire.Ip;

/// <summary>
/// A parsed IPv4 datagram: the verified header plus views of its options and payload inside the
/// received buffer. Allocation-free; being a ref struct it cannot outlive the buffer or be stored
/// in an actor or message (copy the bytes for that).
/// </summary>
public readonly ref struct Ipv4Packet
{
    private Ipv4Packet(Ipv4Header header, ReadOnlySpan<byte> options, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> datagram)
    {
        Header = header;
        Options = options;
        Payload = payload;
        Datagram = datagram;
    }

    /// <summary>The header values.</summary>
    public Ipv4Header Header { get; }

    /// <summary>The options area, empty when IHL is 5.</summary>
    public ReadOnlySpan<byte> Options { get; }

    /// <summary>The data after the header, up to Total Length.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The whole datagram, header and payload (without any trailing link padding).</summary>
    public ReadOnlySpan<byte> Datagram { get; }

    /// <summary>Parses untrusted bytes with the checks of <see cref="Ipv4Header.TryParse(ReadOnlySpan{byte}, out Ipv4Header, out ReadOnlySpan{byte}, out ReadOnlySpan{byte}, out WireError)"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> source, out Ipv4Packet packet, out WireError error)
    {
        if (!Ipv4Header.TryParse(source, out var header, out var options, out var payload, out error))
        {
            packet = default;
            return false;
        }

        packet = new Ipv4Packet(header, options, payload, source[..header.TotalLength]);
        return true;
    }

    /// <summary>Re-encodes the header (options kept, checksum recomputed) followed by the payload; returns Total Length.</summary>
    public int Encode(Span<byte> destination)
    {
        var written = Header.Encode(destination, Options);
        Payload.CopyTo(destination[written..]);
        return written + Payload.Length;
    }
}
