using Nodes.TestKit;

namespace Nodes.Capture.Tests;

public sealed class PcapngWriterTests : IDisposable
{
    // An ICMP echo request 192.168.29.55 -> 10.0.10.4 (id 0x1234, seq 1, 32 bytes 00..1f), checksums computed
    // independently of Nodes.
    private static readonly byte[] Ping = Hex.Decode(
        "4500003c1c46400040012c98c0a81d370a000a040800f4c912340001000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    private readonly string _dir = Directory.CreateTempSubdirectory("nodes-pcapng-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Writer_must_lay_out_blocks_with_matching_lengths()
    {
        using var ms = new MemoryStream();
        using (var w = new PcapngWriter(ms, ownsStream: false))
        {
            w.AddInterface("client:eth0 -- rras:eth0");
            w.WritePacket(0, DateTimeOffset.UnixEpoch.AddSeconds(1), Ping);
        }
        var bytes = ms.ToArray();
        var offset = 0;
        var types = new List<uint>();
        while (offset < bytes.Length)
        {
            var type = BitConverterLe(bytes, offset);
            var length = (int)BitConverterLe(bytes, offset + 4);
            Assert.Equal(0, length % 4);
            Assert.Equal((uint)length, BitConverterLe(bytes, offset + length - 4));
            types.Add(type);
            offset += length;
        }
        Assert.Equal(bytes.Length, offset);
        Assert.Equal([0x0A0D0D0Au, 1u, 6u], types);
    }

    [Fact]
    public void Writer_must_refuse_a_packet_on_an_interface_it_does_not_have()
    {
        using var w = new PcapngWriter(new MemoryStream());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WritePacket(0, DateTimeOffset.UnixEpoch, Ping));
    }

    [SkippableFact]
    public void Tshark_must_read_interfaces_timestamps_and_packets()
    {
        var tshark = Tshark.Require();
        var file = Path.Combine(_dir, "two-links.pcapng");
        using (var w = new PcapngWriter(File.Create(file)))
        {
            var lan = w.AddInterface("client:eth0 -- rras:eth0", "home LAN");
            var wan = w.AddInterface("isp-router:wan -- azure-gw:eth0", "internet");
            w.WritePacket(lan, new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567), Ping, "hop 1");
            w.WritePacket(wan, new DateTimeOffset(2026, 11, 26, 12, 0, 1, TimeSpan.Zero), Ping);
        }

        var rows = tshark.Fields(file, null, "", "frame.interface_name", "frame.time_epoch", "ip.src", "ip.dst", "icmp.type", "ip.checksum.status", "frame.comment", "_ws.malformed");
        Assert.Equal(2, rows.Count);
        Assert.Equal("client:eth0 -- rras:eth0", rows[0][0]);
        Assert.Equal("isp-router:wan -- azure-gw:eth0", rows[1][0]);
        Assert.StartsWith("1795694400.1234567", rows[0][1]);
        // ip.checksum.status: 0 bad, 1 good, 2 unverified.
        Assert.Equal(["192.168.29.55", "10.0.10.4", "8", "1"], rows[0][2..6]);
        Assert.Equal("hop 1", rows[0][6]);
        Assert.All(rows, r => Assert.Equal(string.Empty, r[7]));
    }

    private static uint BitConverterLe(byte[] b, int o) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
}
