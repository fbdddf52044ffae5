using System.Buffers.Binary;

namespace Nodes.TestKit;

/// <summary>Reads the packets of a little-endian pcapng file (the kind Nodes writes), to check captures in tests.</summary>
public static class PcapngReader
{
    public static IReadOnlyList<byte[]> Packets(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var packets = new List<byte[]>();
        var offset = 0;
        while (offset + 12 <= bytes.Length)
        {
            var type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4));
            if (length < 12 || offset + length > bytes.Length) throw new InvalidDataException($"bad block length {length} at {offset}");
            if (type == 6)
            {
                var captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 20));
                packets.Add(bytes.AsSpan(offset + 28, captured).ToArray());
            }
            offset += length;
        }
        return packets;
    }
}
