using System.Buffers.Binary;
using Nodes.TestKit;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;

namespace Nodes.Wire.Tests;

/// <summary>
/// Hands datagrams written by <see cref="Ipv4PacketWriter"/> to Wireshark's dissectors (tshark) with
/// checksum validation switched on, so an independent decoder confirms lengths, checksums and the
/// port-4500 demultiplexing. Skipped with a reason where tshark is missing (failed under CI).
/// </summary>
public class WiresharkCrossCheckTests
{
    private const uint LinkTypeRawIp = 101;

    private static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    private static readonly Ipv4Address Vm = Ipv4Address.Parse("10.0.10.4");
    private static readonly Ipv4Address Gateway = Ipv4Address.Parse("203.0.113.10");
    private static readonly Ipv4Address NatPublic = Ipv4Address.Parse("198.51.100.7");

    [SkippableFact]
    public void Tshark_must_find_every_written_checksum_correct()
    {
        var tshark = ExternalTool.Require("tshark", "apt-get install tshark");
        var frames = BuildFrames();
        var pcap = Path.Combine(Path.GetTempPath(), $"nodes-wire-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(pcap, Pcap(frames));
            var result = ExternalTool.Run(
                tshark,
                [
                    "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                    "-T", "fields", "-E", "separator=;",
                    "-e", "ip.checksum.status", "-e", "icmp.checksum.status", "-e", "udp.checksum.status",
                    "-e", "icmp.type", "-e", "icmp.mtu", "-e", "isakmp.exchangetype", "-e", "esp.spi", "-e", "_ws.malformed",
                ],
                TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, result.StdErr);
            var rows = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Split(';')).ToArray();
            Assert.Equal(frames.Count, rows.Length);

            // Status 1 is "Good", 2 "Unverified" (inside an ICMP quote), 3 "Not present" (UDP checksum 0).
            foreach (var row in rows)
            {
                foreach (var column in row[..3])
                {
                    var statuses = column.Split(',', StringSplitOptions.RemoveEmptyEntries);
                    Assert.DoesNotContain("0", statuses);
                    Assert.True(statuses.Length == 0 || statuses[0] is "1" or "3", $"outermost checksum status {column}");
                }

                Assert.Equal("", row[7]);
            }

            Assert.Equal("8", rows[0][3]);
            Assert.Equal("1", rows[1][2]);
            Assert.Equal("37", rows[2][5]);
            Assert.Equal("0xc0ffee01", rows[3][6]);
            Assert.Equal("3", rows[3][2]);
            Assert.Equal("11,8", rows[4][3]);
            Assert.Equal("1400", rows[5][4]);
            Assert.Equal("1", rows[6][2]);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    private static List<byte[]> BuildFrames()
    {
        var frames = new List<byte[]>();
        var buffer = new byte[1500];

        frames.Add(buffer[..Ipv4PacketWriter.WriteIcmpEcho(
            buffer, new Ipv4Template(Client, Vm, 0x1c46, 128), false, 1, 33, "abcdefghijklmnopqrstuvwabcdefghi"u8)]);

        Span<byte> keepalive = [UdpEncapsulation.KeepaliveOctet];
        frames.Add(buffer[..Ipv4PacketWriter.WriteUdp(buffer, new Ipv4Template(Client, Gateway, 0x2a01, 128), 4500, 4500, keepalive)]);

        var ike = Hex.Decode("00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 2e 20 25 08 00 00 00 02 00 00 00 1c");
        var marked = new byte[32];
        UdpEncapsulation.WriteIke(marked, ike);
        frames.Add(buffer[..Ipv4PacketWriter.WriteUdp(buffer, new Ipv4Template(Client, Gateway, 0x2a02, 128), 4500, 4500, marked)]);

        var esp = Hex.Decode("c0 ff ee 01 00 00 00 01 01 02 03 04 05 06 07 08");
        var espDatagram = buffer[..Ipv4PacketWriter.WriteUdp(
            buffer, new Ipv4Template(NatPublic, Gateway, 0x3333, 64, DontFragment: true), 4500, 4500, esp, UdpChecksumMode.Zero)];
        frames.Add(espDatagram);

        var expiring = frames[0].ToArray();
        while (Ipv4Header.TryDecrementTimeToLive(expiring))
        {
        }

        frames.Add(buffer[..Ipv4PacketWriter.WriteIcmpError(
            buffer, new Ipv4Template(Ipv4Address.Parse("192.168.29.1"), Client, 0x0100, 255),
            Icmpv4Header.TimeExceeded(TimeExceededCode.TtlExceededInTransit), expiring)]);

        frames.Add(buffer[..Ipv4PacketWriter.WriteIcmpError(
            buffer, new Ipv4Template(Gateway, NatPublic, 0x0200, 64), Icmpv4Header.FragmentationNeeded(1400), espDatagram)]);

        // A received datagram with options, re-encoded through the packet view.
        Assert.True(Ipv4Packet.TryParse(Hex.Decode(Packets.WithOptions), out var withOptions, out _));
        var reencoded = new byte[withOptions.Datagram.Length];
        withOptions.Encode(reencoded);
        frames.Add(reencoded);
        return frames;
    }

    private static byte[] Pcap(IReadOnlyList<byte[]> frames)
    {
        // Classic libpcap file: 24-octet global header, then a 16-octet record header per frame.
        var output = new byte[24 + frames.Sum(f => 16 + f.Length)];
        var span = output.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], LinkTypeRawIp);
        var offset = 24;
        for (var i = 0; i < frames.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)i);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(offset + 8)..], (uint)frames[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(offset + 12)..], (uint)frames[i].Length);
            frames[i].CopyTo(span[(offset + 16)..]);
            offset += 16 + frames[i].Length;
        }

        return output;
    }
}
