using Nodes.Capture;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.TestKit;
using Nodes.Wire.Ip;

namespace Nodes.Esp.Tests;

/// <summary>Wireshark as the outside judge: it must decrypt what the SAs seal and find every ICV good.</summary>
public class TsharkTests
{
    private static readonly Ipv4Address Rras = Ipv4Address.Parse("203.0.113.10");
    private static readonly Ipv4Address Azure = Ipv4Address.Parse("198.51.100.20");

    public static TheoryData<string> SuiteNames()
    {
        var data = new TheoryData<string>();
        foreach (var s in Suites.All) data.Add(s.ToString());
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(SuiteNames))]
    public void EspOutboundSa_must_emit_packets_tshark_decrypts_and_authenticates(string suiteName)
    {
        var tshark = Tshark.Require();
        var suite = Suites.ByName(suiteName);
        var random = new SeededRandomSource(7, suiteName);
        var enc = new byte[suite.EncryptionKeyLength];
        var integ = new byte[suite.IntegrityKeyLength];
        random.Fill(enc);
        random.Fill(integ);
        using var encKey = new SecretKey(enc);
        using var integKey = integ.Length == 0 ? null : new SecretKey(integ);
        const uint spi = 0xcafe0001;
        using var sa = new EspOutboundSa(spi, suite, encKey, integKey, false, random);

        var dir = Path.Combine(Path.GetTempPath(), $"nodes-esp-tshark-{Guid.NewGuid():n}");
        Directory.CreateDirectory(dir);
        try
        {
            var capture = Path.Combine(dir, "esp.pcapng");
            var keys = new WiresharkKeys();
            keys.Add(new EspSaKeyEntry(Rras.ToString(), Azure.ToString(), spi, suite, encKey, integKey));
            var config = Path.Combine(dir, "config");
            keys.WriteTo(config);
            var sizes = new[] { 0, 1, 2, 3, 56, 1372 };
            using (var writer = new PcapngWriter(File.Create(capture)))
            {
                var link = writer.AddInterface("rras-wan");
                var inner = new byte[1500];
                var outer = new byte[1600];
                for (var i = 0; i < sizes.Length; i++)
                {
                    var innerTemplate = new Ipv4Template(Ipv4Address.Parse("10.1.0.5"), Ipv4Address.Parse("10.2.0.4"), (ushort)(100 + i), 127);
                    var innerLength = Ipv4PacketWriter.WriteIcmpEcho(inner, innerTemplate, false, 1, (ushort)(i + 1), new byte[sizes[i]]);
                    Assert.Equal(EspSealStatus.Sealed, sa.Seal(inner.AsSpan(0, innerLength), outer.AsSpan(20), out var espLength));
                    var header = new Ipv4Header
                    {
                        TotalLength = (ushort)(20 + espLength),
                        Identification = (ushort)(500 + i),
                        TimeToLive = 128,
                        Protocol = IpProtocol.Esp,
                        Source = Rras,
                        Destination = Azure,
                    };
                    header.Encode(outer, default);
                    writer.WritePacket(link, DateTimeOffset.UnixEpoch.AddSeconds(i), outer.AsSpan(0, 20 + espLength));
                }
            }

            var rows = tshark.Fields(capture, config, "esp", "esp.sequence", "esp.icv_good", "esp.protocol", "icmp.seq", "ip.dst");
            Assert.Equal(sizes.Length, rows.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                var context = $"{suiteName} packet {i + 1}: {string.Join(' ', row)}";
                Assert.True((i + 1).ToString() == row[0], context);
                Assert.True(row[1] == "1", context);
                Assert.True(ParseNumber(row[2]) == 4, context);
                Assert.True((i + 1).ToString() == row[3], context);
                Assert.True(row[4] == "198.51.100.20|10.2.0.4", context);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int ParseNumber(string field) =>
        field.StartsWith("0x", StringComparison.Ordinal) ? Convert.ToInt32(field[2..], 16) : int.TryParse(field, out var n) ? n : -1;
}
