namespace Nodes.Fuzz;

/// <summary>
/// Splits one fuzz input into several frames for the targets that keep state between frames (reassembler, NAT
/// table): each frame is a tag byte, a big-endian 16-bit length and that many bytes; a short last frame takes
/// what is left. The format is the harness's own, so that a mutation of one frame leaves the others intact.
/// </summary>
public static class Frames
{
    public static List<(byte Tag, byte[] Bytes)> Split(ReadOnlySpan<byte> input)
    {
        var frames = new List<(byte, byte[])>();
        while (input.Length >= 3 && frames.Count < 64)
        {
            var length = Math.Min(input[1] << 8 | input[2], input.Length - 3);
            frames.Add((input[0], input.Slice(3, length).ToArray()));
            input = input[(3 + length)..];
        }
        return frames;
    }

    /// <summary>The inverse of <see cref="Split"/>, for building seeds.</summary>
    public static byte[] Join(IEnumerable<(byte Tag, byte[] Bytes)> frames)
    {
        var output = new List<byte>();
        foreach (var (tag, bytes) in frames)
        {
            output.Add(tag);
            output.Add((byte)(bytes.Length >> 8));
            output.Add((byte)bytes.Length);
            output.AddRange(bytes);
        }
        return [.. output];
    }

    /// <summary>
    /// Rewrites the IPv4 header checksum when the header is long enough to have one, so that mutations reach what
    /// lies behind the checksum test instead of stopping at it (a checksum is no defence against an adversary).
    /// </summary>
    public static void FixIpv4Checksum(Span<byte> datagram)
    {
        if (datagram.Length < 20) return;
        var headerLength = (datagram[0] & 0x0f) * 4;
        if (headerLength < 20 || headerLength > datagram.Length) return;
        datagram[10] = 0;
        datagram[11] = 0;
        var sum = Wire.InternetChecksum.Compute(datagram[..headerLength]);
        datagram[10] = (byte)(sum >> 8);
        datagram[11] = (byte)sum;
    }
}
