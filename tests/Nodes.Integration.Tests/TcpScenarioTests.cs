using Nodes.Host;
using Nodes.TestKit;
using static Nodes.Integration.Tests.SeedScenarioTests;

namespace Nodes.Integration.Tests;

/// <summary>
/// The tcp-mss lab end to end: TCP between the home PC and the Azure VM through the NAT and the tunnel, with the
/// MSS clamped or not, an MTU black hole or not; and tshark as the judge of the TCP it decrypts from the captures.
/// </summary>
public class TcpScenarioTests
{
    [Fact]
    public async Task A_clamped_mss_must_carry_tcp_through_an_mtu_black_hole()
    {
        var summary = await Run(Load("tcp-mss.yaml"), "clamped");
        Assert.True(summary.Ok, summary.ToJson());
        var tcp = summary.Tcp!;
        Assert.Equal((2, 2), (tcp.Flows, tcp.Completed));
        var bulk = tcp.Each.Single(f => f.Kind == "bulk");
        Assert.Equal(300_000, bulk.BytesAcknowledged);
        Assert.Equal(1350, bulk.Mss);
        Assert.True(bulk.ThroughputMbps > 0);
        Assert.Equal(10, tcp.Each.Single(f => f.Kind == "request-response").Exchanges);
        Assert.Contains("\"tcp\": {", summary.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_clamp_full_sized_segments_must_cross_the_nat_and_the_tunnel_in_fragments()
    {
        // The ESP of a 1,460-byte segment is fragmented by RRAS, reassembled by the NAT router and by the Azure gateway.
        var summary = await Run(Load("tcp-mss.yaml"), "unclamped");
        Assert.True(summary.Ok, summary.ToJson());
        var bulk = Assert.Single(summary.Tcp!.Each);
        Assert.Equal(1460, bulk.Mss);
        Assert.Equal(300_000, bulk.BytesAcknowledged);
        Assert.False(summary.Drops.ByReason.ContainsKey("nat-fragment"), summary.ToJson());
    }

    [Theory]
    [InlineData("unclamped-black-hole")]
    public async Task Without_the_clamp_the_bulk_transfer_must_stall_after_the_handshake(string scenario)
    {
        var summary = await Run(Load("tcp-mss.yaml"), scenario);
        Assert.True(summary.Ok, summary.ToJson());
        var bulk = Assert.Single(summary.Tcp!.Each);
        Assert.Equal("unfinished", bulk.Outcome);
        Assert.Equal(1460, bulk.Mss);
        Assert.Equal(0, bulk.BytesAcknowledged);
        Assert.True(bulk.Timeouts >= 2, summary.ToJson());
        Assert.True(bulk.Stalls >= 1 && bulk.LongestStallMs >= 5000, summary.ToJson());
    }

    [SkippableFact]
    public async Task Tshark_must_find_no_malformed_or_expert_error_tcp_in_the_decrypted_captures()
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-tcp-capture-").FullName;
        try
        {
            var summary = await Run(Load("tcp-mss.yaml"), "clamped", new RunOptions { CaptureDirectory = dir });
            Assert.True(summary.Ok, summary.ToJson());
            // Each segment is judged on its own: with stream reassembly on, tshark calls an ordinary retransmission's
            // overlap with data it already reassembled an error of the stream, not of the segment.
            int Count(string file, string filter) =>
                tshark.Run(file, dir, "-o", "tcp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", filter, "-T", "fields", "-e", "frame.number")
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            var lan = summary.Captures!.Files.Single(f => f.Contains("home-lan", StringComparison.Ordinal));
            var azure = summary.Captures.Files.Single(f => Path.GetFileName(f).Contains("azure-gw", StringComparison.Ordinal) && Path.GetFileName(f).Contains("internet", StringComparison.Ordinal));
            foreach (var file in new[] { lan, azure })
            {
                Assert.True(Count(file, "tcp") > 200, file);
                const string bad = "_ws.malformed || _ws.expert.severity == error || tcp.checksum.status == 0 || ip.checksum.status == 0";
                if (Count(file, bad) is var n && n != 0)
                    Assert.Fail($"{n} frame(s) of {Path.GetFileName(file)} tshark finds malformed, in expert error or with a bad checksum:\n"
                        + tshark.Run(file, dir, "-o", "tcp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", bad, "-V"));
            }

            // On the public link the TCP is inside ESP: tshark decrypts it with the keys the lab wrote. The Azure gateway
            // clamps as a SYN leaves or enters its tunnel, so the client's SYNs still say 1460 here and the VM's SYN,ACKs already say 1350.
            Assert.True(Count(azure, "esp && tcp") > 200);
            Assert.True(Count(azure, "esp && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.options.mss_val == 1460") >= 2);
            Assert.True(Count(azure, "esp && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.options.mss_val == 1350") >= 2);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
