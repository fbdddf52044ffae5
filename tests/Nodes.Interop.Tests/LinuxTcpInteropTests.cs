using System.Diagnostics;
using System.Globalization;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// A real Linux TCP receiver behind a real charon: the simulated VM sends it a bulk transfer through the simulated
/// Azure gateway and the real IPsec tunnel. Linux's TCP must accept every byte of ours, in order, and tshark (on
/// charon's side, where libipsec hands the decrypted packets to the kernel) must find nothing malformed in our TCP.
/// </summary>
public sealed class LinuxTcpInteropTests(ITestOutputHelper output)
{
    private const int Bytes = 2_000_000;

    private static string AzureWithTcp() =>
        Topologies.Azure("Default", pingStartSeconds: 5, pings: 2)
            .Replace("      vpn-type: route-based\n", "      vpn-type: route-based\n      mss-clamp: 1350\n", StringComparison.Ordinal)
            .Replace("    expect:\n", $"      - tcp: {{ from: vm, to: {InteropLab.RightInner}, port: 5001, bytes: {Bytes}, start: 6s, limit: 40s }}\n    expect:\n      tcp-completed: all\n", StringComparison.Ordinal)
            .Replace("duration: 30s", "duration: 50s", StringComparison.Ordinal);

    /// <summary>Accepts one connection, reads to the end, prints the byte count and the seconds it took, closes.</summary>
    private const string Receiver = """
        import socket, sys, time
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], 5001))
        s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        start = time.monotonic()
        n = 0
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
        print(n, round(time.monotonic() - start, 3), flush=True)
        c.close()
        """;

    [SkippableFact]
    public void A_real_linux_tcp_receiver_takes_a_bulk_transfer_from_a_simulated_host_through_the_real_tunnel()
    {
        InteropLab.RequireEnvironment();
        var tshark = ExternalTool.Require("tshark", "apt-get install tshark");
        var python = ExternalTool.Require("python3", "apt-get install python3");
        using var lab = new InteropLab(output, "linux-tcp");
        lab.StartCharon(new CharonConfig { IkeProposals = "aes256-sha1-modp1024", EspProposals = "aes256gcm16", SharedKey = Topologies.AzureSharedKey });
        var script = Path.Combine(lab.Directory, "receiver.py");
        File.WriteAllText(script, Receiver);
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", lab.Right, python, script, InteropLab.RightInner }) psi.ArgumentList.Add(a);
        using var receiver = Process.Start(psi)!;
        Assert.Equal("listening", receiver.StandardOutput.ReadLine());
        var pcap = Path.Combine(lab.Directory, "inner-tcp.pcapng");
        using var capture = new Capture(lab.Right, "any", pcap, tshark, "tcp port 5001");

        var run = lab.StartNodes(AzureWithTcp());
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);
        var initiate = lab.Swanctl("--initiate", "--child", "net", "--timeout", "15");
        Assert.Equal(0, initiate.ExitCode);
        var (exit, summary) = run.Finish(TimeSpan.FromSeconds(120));
        capture.Stop();
        Assert.True(receiver.WaitForExit(10_000), "the receiver never saw the end of the stream");
        var result = receiver.StandardOutput.ReadToEnd().Trim().Split(' ');
        output.WriteLine($"Linux received {result[0]} bytes in {result[1]} s");
        Assert.Equal(0, exit);
        Assert.Equal(Bytes, int.Parse(result[0], CultureInfo.InvariantCulture));
        var flow = summary.GetProperty("tcp").GetProperty("each")[0];
        Assert.Equal("completed", flow.GetProperty("outcome").GetString());
        Assert.Equal(1350, flow.GetProperty("mss").GetInt32()); // the gateway clamped Linux's SYN,ACK to 1350
        output.WriteLine($"simulated sender: {flow.GetProperty("throughputMbps").GetDouble():0.###} Mbit/s, {flow.GetProperty("retransmissions").GetInt64()} retransmissions");

        var bad = Tshark.Require();
        Assert.Equal(0, bad.Count(pcap, null, "_ws.malformed || _ws.expert.severity == \"Error\""));
        Assert.Equal(0, bad.Count(pcap, null, "tcp.checksum.status == 0 || tcp.analysis.out_of_order"));
        Assert.True(bad.Count(pcap, null, "tcp.flags.syn == 1 && tcp.options.mss_val == 1350") >= 1, "the clamped MSS is on the wire");
    }
}
