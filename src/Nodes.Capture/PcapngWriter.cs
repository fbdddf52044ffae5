using System.Buffers.Binary;
using System.Text;

namespace Nodes.Capture;

/// <summary>
/// Writes a pcapng capture (draft-ietf-opsawg-pcapng): one Section Header Block, an Interface Description
/// Block per interface (Nodes uses one interface per link), and an Enhanced Packet Block per frame. Frames are
/// raw IPv4 packets (LINKTYPE_IPV4 = 228): there is no MAC layer on Nodes links. Blocks are written in
/// little-endian order, which the byte-order magic announces.
/// Not thread-safe: one writer per file, owned by one actor or test.
/// </summary>
public sealed class PcapngWriter : IDisposable
{
    /// <summary>LINKTYPE_IPV4: each packet starts with an IPv4 header (tcpdump.org link-layer header types).</summary>
    public const ushort LinkTypeIpv4 = 228;

    private const uint SectionHeaderBlock = 0x0A0D0D0A;
    private const uint InterfaceDescriptionBlock = 0x00000001;
    private const uint EnhancedPacketBlock = 0x00000006;
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    private const ushort OptEndOfOpt = 0, OptComment = 1, OptIfName = 2, OptIfDescription = 3, OptIfTsResol = 9, OptShbUserAppl = 4;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly List<string> _interfaces = [];
    private readonly MemoryStream _block = new();

    public PcapngWriter(Stream stream, string application = "Nodes", bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        WriteSectionHeader(application);
    }

    /// <summary>Number of packets written so far.</summary>
    public long PacketCount { get; private set; }

    /// <summary>Adds an interface (a link) and returns its id for <see cref="WritePacket"/>.</summary>
    public int AddInterface(string name, string? description = null, ushort linkType = LinkTypeIpv4, uint snapLength = 65535)
    {
        Begin(InterfaceDescriptionBlock);
        Span<byte> fixedPart = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart, linkType);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], snapLength);
        _block.Write(fixedPart);
        WriteOption(OptIfName, Encoding.UTF8.GetBytes(name));
        if (description is not null) WriteOption(OptIfDescription, Encoding.UTF8.GetBytes(description));
        WriteOption(OptIfTsResol, [9]); // timestamps in nanoseconds
        WriteOption(OptEndOfOpt, []);
        End();
        _interfaces.Add(name);
        return _interfaces.Count - 1;
    }

    /// <summary>Writes one packet seen on <paramref name="interfaceId"/> at <paramref name="timestamp"/>.</summary>
    public void WritePacket(int interfaceId, DateTimeOffset timestamp, ReadOnlySpan<byte> packet, string? comment = null)
    {
        if ((uint)interfaceId >= (uint)_interfaces.Count)
            throw new ArgumentOutOfRangeException(nameof(interfaceId), $"interface {interfaceId} was not added (have {_interfaces.Count})");
        var nanos = (ulong)(timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100UL;
        Begin(EnhancedPacketBlock);
        Span<byte> fixedPart = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, (uint)interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], (uint)(nanos >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[8..], (uint)nanos);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[12..], (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[16..], (uint)packet.Length);
        _block.Write(fixedPart);
        _block.Write(packet);
        Pad();
        if (comment is not null)
        {
            WriteOption(OptComment, Encoding.UTF8.GetBytes(comment));
            WriteOption(OptEndOfOpt, []);
        }
        End();
        PacketCount++;
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream) _stream.Dispose();
        _block.Dispose();
    }

    private void WriteSectionHeader(string application)
    {
        Begin(SectionHeaderBlock);
        Span<byte> fixedPart = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[4..], 1); // major version
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[6..], 0); // minor version
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[8..], -1); // section length not given
        _block.Write(fixedPart);
        WriteOption(OptShbUserAppl, Encoding.UTF8.GetBytes(application));
        WriteOption(OptEndOfOpt, []);
        End();
    }

    private void Begin(uint type)
    {
        _block.SetLength(0);
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(head, type);
        _block.Write(head); // total length patched in End()
    }

    private void End()
    {
        var total = (uint)_block.Length + 4;
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, total);
        _block.Write(tail);
        var bytes = _block.GetBuffer().AsSpan(0, (int)_block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], total);
        _stream.Write(bytes);
    }

    private void WriteOption(ushort code, ReadOnlySpan<byte> value)
    {
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(head, code);
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], (ushort)value.Length);
        _block.Write(head);
        _block.Write(value);
        Pad();
    }

    private void Pad()
    {
        var rem = (int)(_block.Length % 4);
        if (rem != 0) _block.Write(stackalloc byte[4 - rem]);
    }
}
