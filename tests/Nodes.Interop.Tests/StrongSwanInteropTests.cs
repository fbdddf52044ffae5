using System.Text.Json;
using System.Text.RegularExpressions;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// The simulated gateways against a real strongSwan charon: tunnels built both ways, pings both ways, wrong keys,
/// proposal choices and a real Linux NAT. Both sides' accounts of the same run are compared (SPIs, proposals,
/// identities, NAT detection).
/// </summary>
public sealed class StrongSwanInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public void Simulated_rras_dials_charon_and_every_ping_to_the_real_side_is_answered()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "rras-initiates");
        lab.StartCharon(new CharonConfig());
        var run = lab.StartNodes(Topologies.Shipped, "--count", "4");
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.Equal(0, exit);
        Assert.Equal(4, summary.GetProperty("pings").GetProperty("sent").GetInt32());
        Assert.Equal(4, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var tunnel = Tunnel(summary);
        Assert.Equal("Connected", tunnel.GetProperty("state").GetString());
        var ike = tunnel.GetProperty("ike");
        Assert.True(ike.GetProperty("initiator").GetBoolean());
        Assert.Equal("AES256/SHA256/MODP2048", ike.GetProperty("suite").GetString());
        Assert.Equal($"{InteropLab.LeftOuter}:4500", ike.GetProperty("localEndpoint").GetString());
        Assert.Equal($"{InteropLab.RightOuter}:4500", ike.GetProperty("remoteEndpoint").GetString());
        Assert.Contains("authenticated right@sswan.test", run.Terminal, StringComparison.Ordinal);

        // charon's account of the same tunnel: same SPIs (ours inbound is its outbound), same algorithms, same identities.
        var sas = lab.Swanctl("--list-sas").StdOut;
        output.WriteLine(sas);
        Assert.Contains($"{ike.GetProperty("initiatorSpi").GetString()}_i", sas, StringComparison.Ordinal);
        Assert.Contains($"{ike.GetProperty("responderSpi").GetString()}_r", sas, StringComparison.Ordinal);
        Assert.Contains("AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", sas, StringComparison.Ordinal);
        Assert.Contains("TUNNEL-in-UDP, ESP:AES_GCM_16-256", sas, StringComparison.Ordinal);
        var child = tunnel.GetProperty("childSas")[0];
        Assert.True(child.GetProperty("encapsulated").GetBoolean());
        Assert.Matches($@"in\s+{Hex(child.GetProperty("outboundSpi"))},\s+\d+ bytes,\s+4 packets", sas);
        Assert.Matches($@"out\s+{Hex(child.GetProperty("inboundSpi"))},\s+\d+ bytes,\s+4 packets", sas);
        Assert.Equal("192.168.29.0/24", child.GetProperty("localTs").GetString());
        Assert.Equal("10.0.10.0/24", child.GetProperty("remoteTs").GetString());
        var log = lab.CharonLog();
        Assert.Contains($"authentication of '{InteropLab.LeftId}' with pre-shared key successful", log, StringComparison.Ordinal);
        Assert.Contains("selected proposal: ESP:AES_GCM_16_256/NO_EXT_SEQ", log, StringComparison.Ordinal);
        // Both fake a NAT to force UDP encapsulation (strongSwan's encap = yes, and ours on an external interface).
        Assert.Contains("remote host is behind NAT", log, StringComparison.Ordinal);
        Assert.True(ike.GetProperty("natDetected").GetBoolean());
    }

    [SkippableFact]
    public void A_wrong_shared_key_fails_authentication_on_both_sides_and_creates_no_child_sa()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "wrong-psk");
        lab.StartCharon(new CharonConfig());
        var run = lab.StartNodes(Topologies.Rras(sharedKey: "not-the-oracle-key"), "--count", "2");
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.NotEqual(0, exit);
        Assert.Equal(0, summary.GetProperty("pings").GetProperty("received").GetInt32());
        Assert.Contains("AUTHENTICATION_FAILED", string.Join('\n', Failures(summary)), StringComparison.Ordinal);
        Assert.Empty(Tunnel(summary).GetProperty("childSas").EnumerateArray());
        var log = lab.CharonLog();
        Assert.Contains($"tried 1 shared key for '{InteropLab.RightId}' - '{InteropLab.LeftId}', but MAC mismatched", log, StringComparison.Ordinal);
        Assert.Contains("N(AUTH_FAILED)", log, StringComparison.Ordinal);
        Assert.DoesNotContain("CHILD_SA net{", log, StringComparison.Ordinal);
        Assert.DoesNotContain("INSTALLED", lab.Swanctl("--list-sas").StdOut, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("aes256-sha256-modp2048", "aes256gcm16", "AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", "ESP:AES_GCM_16_256")]
    [InlineData("aes256-sha256-ecp256", "aes256gcm16", "AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256", "ESP:AES_GCM_16_256")]
    [InlineData("aes256-sha256-curve25519", "aes256-sha256", "AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519", "ESP:AES_CBC_256/HMAC_SHA2_256_128")]
    [InlineData("aes128gcm16-prfsha256-ecp256", "aes128gcm16", "AES_GCM_16_128/PRF_HMAC_SHA2_256/ECP_256", "ESP:AES_GCM_16_128")]
    public void The_tunnel_comes_up_and_carries_pings_with(string ike, string esp, string charonIke, string charonEsp)
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "proposals");
        lab.StartCharon(new CharonConfig { IkeProposals = ike, EspProposals = esp });
        var run = lab.StartNodes(Topologies.Rras(ike: ike, esp: esp), "--count", "3");
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.Equal(0, exit);
        Assert.Equal(3, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var log = lab.CharonLog();
        Assert.Contains($"selected proposal: IKE:{charonIke}", log, StringComparison.Ordinal);
        Assert.Contains($"selected proposal: {charonEsp}", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Disjoint_proposals_give_no_proposal_chosen_with_both_lists_in_our_reason()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "no-proposal");
        lab.StartCharon(new CharonConfig { IkeProposals = "aes256-sha256-modp2048" });
        var run = lab.StartNodes(Topologies.Rras(ike: "aes128-sha1-ecp384"), "--count", "1");
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.NotEqual(0, exit);
        var failures = string.Join('\n', Failures(summary));
        Assert.Contains("NO_PROPOSAL_CHOSEN", failures, StringComparison.Ordinal);
        // Our reason names what we offered; charon's log names what it has; each list is in the other's terms.
        Assert.Contains("aes128", failures, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("ecp384", failures, StringComparison.OrdinalIgnoreCase);
        var log = lab.CharonLog();
        Assert.Contains("received proposals: IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/ECP_384", log, StringComparison.Ordinal);
        Assert.Contains("configured proposals: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", log, StringComparison.Ordinal);
        Assert.Contains("N(NO_PROP)", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Charon_dials_the_simulated_azure_gateway_with_azure_defaults_and_pings_cross_both_ways()
    {
        InteropLab.RequireEnvironment();
        ExternalTool.Require("ping", "apt-get install iputils-ping");
        using var lab = new InteropLab(output, "charon-initiates");
        lab.StartCharon(new CharonConfig { IkeProposals = "aes256-sha1-modp1024", EspProposals = "aes256gcm16", SharedKey = Topologies.AzureSharedKey });
        var run = lab.StartNodes(Topologies.Azure("Default", pingStartSeconds: 5, pings: 6));
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);

        var initiate = lab.Swanctl("--initiate", "--child", "net", "--timeout", "15");
        output.WriteLine(initiate.StdOut + initiate.StdErr);
        Assert.Equal(0, initiate.ExitCode);
        var ping = InteropLab.TryExec(lab.Right, TimeSpan.FromSeconds(20), "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-I", InteropLab.RightInner, "192.168.29.4");
        output.WriteLine(ping.StdOut + ping.StdErr);
        Assert.Equal(0, ping.ExitCode);
        Assert.Contains("3 received", ping.StdOut, StringComparison.Ordinal);

        var (exit, summary) = run.Finish(RunTimeout);
        Assert.Equal(0, exit);
        Assert.Equal(6, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var ike = Tunnel(summary).GetProperty("ike");
        Assert.False(ike.GetProperty("initiator").GetBoolean());
        Assert.Equal("AES256/SHA1/MODP1024", ike.GetProperty("suite").GetString());
        var log = lab.CharonLog();
        Assert.Contains("selected proposal: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024", log, StringComparison.Ordinal);
        Assert.Contains($"authentication of '{InteropLab.LeftId}' with pre-shared key successful", log, StringComparison.Ordinal);
        Assert.Contains($"{ike.GetProperty("initiatorSpi").GetString()}_i*", lab.Swanctl("--list-sas").StdOut, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_simulated_azure_gateway_dials_charon_with_its_default_proposals()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "azure-initiates");
        // charon accepts only the first of Azure's offers, so the choice is provably Azure's preferred one.
        lab.StartCharon(new CharonConfig { IkeProposals = "aes256-sha1-modp1024", EspProposals = "aes256gcm16", SharedKey = Topologies.AzureSharedKey });
        var run = lab.StartNodes(Topologies.Azure("InitiatorOnly", pingStartSeconds: 1, pings: 3));
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.Equal(0, exit);
        Assert.Equal(3, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var ike = Tunnel(summary).GetProperty("ike");
        Assert.True(ike.GetProperty("initiator").GetBoolean());
        var log = lab.CharonLog();
        Assert.Contains("received proposals: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024, IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024", log, StringComparison.Ordinal);
        Assert.Contains("selected proposal: IKE:AES_CBC_256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024", log, StringComparison.Ordinal);
        // Azure as initiator proposes any-to-any; charon narrows to its subnets and we accept the narrowing.
        Assert.Contains("CHILD_SA net{1} established", log, StringComparison.Ordinal);
        Assert.Contains("TS 10.0.10.0/24 === 192.168.29.0/24", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Behind_a_real_linux_nat_both_ends_detect_it_and_esp_and_keepalives_travel_in_udp_4500()
    {
        InteropLab.RequireEnvironment(nat: true);
        var tshark = ExternalTool.Require("tshark", "apt-get install tshark");
        using var lab = new InteropLab(output, "real-nat", nat: true);
        lab.StartCharon(new CharonConfig { Encap = false, RemoteAddrs = "%any" });
        var pcap = Path.Combine(lab.Directory, "nat-outside.pcapng");
        using var capture = new Capture(lab.Nat!, "vsn-r", pcap, tshark);
        // Pings 3 s apart with a 1 s keepalive interval: the idle gaps must fill with keepalives.
        var yaml = Topologies.Rras(natKeepalive: "1s", behindNat: true).Replace("interval: 500ms", "interval: 3s", StringComparison.Ordinal);
        var run = lab.StartNodes(yaml, "--count", "3");
        var (exit, summary) = run.Finish(RunTimeout);
        capture.Stop();

        Assert.Equal(0, exit);
        Assert.Equal(3, summary.GetProperty("pings").GetProperty("received").GetInt32());
        Assert.Contains("this side is behind a NAT", run.Terminal, StringComparison.Ordinal);
        Assert.Contains("remote host is behind NAT", lab.CharonLog(), StringComparison.Ordinal);
        Assert.Contains($"{InteropLab.NatOuter}[4500]", lab.CharonLog(), StringComparison.Ordinal);

        int Count(string filter)
        {
            var r = ExternalTool.Run(tshark, ["-r", pcap, "-Y", filter], TimeSpan.FromSeconds(30));
            return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }
        Assert.True(Count($"ip.src == {InteropLab.NatOuter} && udp.srcport == 4500 && esp") >= 3, "ESP in UDP 4500 from the NAT's address");
        Assert.True(Count($"ip.src == {InteropLab.NatOuter} && udp.dstport == 4500 && udp.length == 9") >= 2, "NAT keepalives (one 0xff octet) in UDP 4500");
        Assert.Equal(0, Count("esp && !udp"));
    }

    [SkippableFact]
    public void As_responder_to_disjoint_proposals_we_answer_no_proposal_chosen_naming_both_lists()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "no-proposal-responder");
        lab.StartCharon(new CharonConfig { IkeProposals = "aes128-sha256-ecp384", SharedKey = Topologies.AzureSharedKey });
        var run = lab.StartNodes(Topologies.Azure("Default", pingStartSeconds: 3, pings: 1));
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);

        var initiate = lab.Swanctl("--initiate", "--child", "net", "--timeout", "10");
        Assert.NotEqual(0, initiate.ExitCode);
        var (exit, summary) = run.Finish(RunTimeout);
        Assert.NotEqual(0, exit);
        var failures = string.Join('\n', Failures(summary));
        Assert.Contains("NO_PROPOSAL_CHOSEN", failures, StringComparison.Ordinal);
        Assert.Contains("ECP384", failures, StringComparison.OrdinalIgnoreCase);   // what charon offered
        Assert.Contains("MODP1024", failures, StringComparison.OrdinalIgnoreCase); // what Azure accepts
        var log = lab.CharonLog();
        Assert.Contains("parsed IKE_SA_INIT response 0 [ N(NO_PROP) ]", log, StringComparison.Ordinal);
        Assert.Contains("received NO_PROPOSAL_CHOSEN notify error", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_delete_from_charon_closes_our_tunnel_and_its_child_sa()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "charon-deletes");
        lab.StartCharon(new CharonConfig { IkeProposals = "aes256-sha1-modp1024", SharedKey = Topologies.AzureSharedKey });
        var run = lab.StartNodes(Topologies.Azure("Default", pingStartSeconds: 6, pings: 1));
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);
        Assert.Equal(0, lab.Swanctl("--initiate", "--child", "net", "--timeout", "15").ExitCode);
        Assert.True(run.WaitForLine("Child SA up", TimeSpan.FromSeconds(10)), run.Terminal);

        var terminate = lab.Swanctl("--terminate", "--ike", "s2s", "--timeout", "10");
        output.WriteLine(terminate.StdOut + terminate.StdErr);
        Assert.Equal(0, terminate.ExitCode);
        Assert.True(run.WaitForLine("tunnel down", TimeSpan.FromSeconds(10)), run.Terminal);
        // Azure in its default mode does not dial, so the later ping finds no tunnel.
        var (exit, summary) = run.Finish(RunTimeout);
        Assert.NotEqual(0, exit);
        Assert.Equal("NotConnected", Tunnel(summary).GetProperty("state").GetString());
        Assert.Contains("removed", run.Terminal, StringComparison.Ordinal);
        var log = lab.CharonLog();
        // IKE_SA_INIT was message 0 and IKE_AUTH 1: the DELETE is request 2, and we answered it.
        Assert.Contains("generating INFORMATIONAL request 2 [ D ]", log, StringComparison.Ordinal);
        Assert.Contains("parsed INFORMATIONAL response 2 [ ]", log, StringComparison.Ordinal);
        Assert.Contains("IKE_SA deleted", log, StringComparison.Ordinal);
    }

    private static JsonElement Tunnel(JsonElement summary) => summary.GetProperty("tunnels")[0];

    private static IEnumerable<string> Failures(JsonElement summary) =>
        summary.GetProperty("failures").EnumerateArray().Select(f => f.GetString() ?? "");

    private static string Hex(JsonElement spi) => Regex.Escape(spi.GetString()!.Replace("0x", "", StringComparison.Ordinal));
}
