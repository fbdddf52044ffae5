using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Nodes.Config.Diagnostics;

namespace Nodes.Config.Tests;

/// <summary>
/// Azure's diagnostics of the simulated gateway compared field by field with Azure's documented examples
/// (Fixtures/diagnostics, each file with its source in the README there), without actors.
/// </summary>
public class DiagnosticsTests
{
    private static string Doc(string name) => File.ReadAllText(Path.Combine(Fixture.Dir, "diagnostics", name)).ReplaceLineEndings("\n");

    private static readonly DateTimeOffset T0 = new(2017, 2, 1, 20, 22, 6, TimeSpan.Zero);

    private static GatewayTunnel Connected(string local = "52.172.171.0:4500", string remote = "203.0.113.10:4500") => new()
    {
        Connection = "home-rras",
        State = "Connected",
        IkeState = "Established",
        PeerAddress = "203.0.113.10",
        InitiatorSpi = 0x323a421719386f08,
        ResponderSpi = 0x35f6e5e4a486c9e0,
        LocalEndpoint = local,
        RemoteEndpoint = remote,
        Suite = "AES256/SHA1/MODP1024",
        ChildSas = [new GatewayChildSa(0xf1a362ed, 0x7e5fb008, "AES256/SHA1", 288, 288, 3, 3, "0.0.0.0/0", "0.0.0.0/0")],
        EstablishedAt = T0,
    };

    private static Dictionary<string, string> FormatList(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => l.Split(" : ", 2)).ToDictionary(p => p[0].TrimEnd(), p => p[1]);

    [Fact]
    public void The_ike_sa_view_must_print_the_documented_example_field_for_field()
    {
        // Example 1's SA: no NAT (UDP 500 on both sides), AES256/SHA1/DHGroup2, initiated by Azure 23,092 s ago.
        var t = Connected("52.180.160.154:500", "104.208.54.1:500") with
        {
            InitiatorSpi = 5490733703579933026, ResponderSpi = 15460013388959380535, IsInitiator = true, Suite = "AES256/SHA1/MODP1024", ChildSas = [],
        };
        var view = AzureConnectionViews.IkeSa(t, T0.AddSeconds(23_092))!;
        var expected = Doc("get-azvirtualnetworkgatewayconnectionikesa.txt");
        Assert.Equal(FormatList(expected), FormatList(view.ToFormatList()));
        // Format-List's layout too: names padded to the longest, then " : ".
        Assert.Equal(expected, view.ToFormatList());
    }

    [Fact]
    public void The_ike_sa_view_must_give_the_nat_traversal_ports_and_azure_names_of_the_suite()
    {
        var view = AzureConnectionViews.IkeSa(Connected() with { Suite = "3DES/SHA256/MODP2048" }, T0)!;
        Assert.Equal((4500, 4500), (view.LocalUdpEncapsulationPort, view.RemoteUdpEncapsulationPort));
        Assert.Equal(("DES3", "SHA256", "DHGroup14"), (view.Encryption, view.Integrity, view.DhGroup));
        Assert.Equal(3619277917520424712UL, view.InitiatorCookie);
        var gcm = AzureConnectionViews.IkeSa(Connected() with { Suite = "GCMAES256/PRFSHA384/ECP384" }, T0)!;
        Assert.Equal(("GCMAES256", "SHA384", "ECP384"), (gcm.Encryption, gcm.Integrity, gcm.DhGroup));
        Assert.Contains("quickModeSa                : {0xf1a362ed/0x7e5fb008 AES256/SHA1}", view.ToFormatList());
    }

    [Fact]
    public void No_ike_sa_view_must_be_given_for_a_negotiation_still_under_way()
    {
        Assert.Null(AzureConnectionViews.IkeSa(Connected() with { State = "Connecting", IkeState = "AuthSent" }, T0));
        Assert.Null(AzureConnectionViews.IkeSa(new GatewayTunnel { Connection = "c", State = "NotConnected" }, T0));
    }

    [Fact]
    public void Connection_stats_must_follow_the_documented_example_field_for_field()
    {
        var ours = FormatList(AzureConnectionViews.ConnectionStats(Connected()));
        var doc = Doc("connection-stats.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(" :", 2)).ToList();
        Assert.Equal(doc.Select(p => p[0]), ours.Keys.Select(k => k.TrimEnd(':').TrimEnd()));
        var text = AzureConnectionViews.ConnectionStats(Connected()).Split('\n');
        // The documented example leaves the remote endpoint out; every other value is the example's.
        foreach (var (line, i) in Doc("connection-stats.txt").Split('\n').Select((l, i) => (l, i)).Where(x => !x.l.StartsWith("Remote", StringComparison.Ordinal)))
            Assert.Equal(line, text[i]);
        Assert.Equal("Remote Tunnel Endpoint : 203.0.113.10", text[1]);
    }

    [Fact]
    public void Az_vpn_connection_show_must_use_the_clis_names_and_value_types()
    {
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture.Dir, "vpn-connection-show.json")))!.AsObject();
        var ours = AzureConnectionViews.ConnectionShow(Connected());
        foreach (var (key, value) in ours.Where(kv => kv.Key != "tunnelConnectionStatus"))
        {
            Assert.True(doc.ContainsKey(key), $"az network vpn-connection show has no '{key}'");
            Assert.Equal(doc[key]!.GetValueKind(), value!.GetValueKind());
        }
        foreach (var key in new[] { "connectionMode", "connectionProtocol", "connectionStatus", "connectionType", "provisioningState", "type" })
            Assert.Equal(doc[key]!.GetValue<string>(), ours[key]!.GetValue<string>());
        Assert.Equal(288UL, ours["ingressBytesTransferred"]!.GetValue<ulong>());
        // TunnelConnectionHealth (REST model): tunnel, connectionStatus, ingressBytesTransferred, egressBytesTransferred, lastConnectionEstablishedUtcTime.
        var tunnel = Assert.Single(ours["tunnelConnectionStatus"]!.AsArray())!.AsObject();
        Assert.Equal(["connectionStatus", "egressBytesTransferred", "ingressBytesTransferred", "lastConnectionEstablishedUtcTime", "tunnel"], tunnel.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal("2/1/2017 8:22:06 PM", tunnel["lastConnectionEstablishedUtcTime"]!.GetValue<string>());
        Assert.DoesNotContain("sharedKey", ours.ToJsonString());
    }

    [Fact]
    public void The_troubleshoot_result_must_have_the_rest_examples_shape()
    {
        var doc = JsonNode.Parse(Doc("network-watcher-troubleshoot.json"))!.AsObject();
        var result = VpnTroubleshoot.Diagnose(Connected() with { State = "NotConnected", IkeState = "None", Failures = ["AUTHENTICATION_FAILED: 203.0.113.10:4500 reports that our AUTH did not verify: the pre-shared keys differ"] }, [], T0, T0.AddSeconds(20));
        var ours = JsonSerializer.SerializeToNode(result, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase })!.AsObject();
        static void Same(JsonObject expected, JsonObject actual)
        {
            foreach (var (key, value) in expected)
            {
                Assert.True(actual.ContainsKey(key), $"no '{key}'");
                Assert.Equal(value!.GetValueKind(), actual[key]!.GetValueKind());
            }
        }
        Same(doc, ours);
        Same(doc["results"]![0]!.AsObject(), ours["results"]![0]!.AsObject());
        Same(doc["results"]![0]!["recommendedActions"]![0]!.AsObject(), ours["results"]![0]!["recommendedActions"]![0]!.AsObject());
        Assert.Equal("UnHealthy", ours["code"]!.GetValue<string>());
        Assert.Equal("Authentication", ours["results"]![0]!["reasonType"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", ours["startTime"]!.GetValue<string>());
    }

    [Fact]
    public void Ike_errors_must_be_the_documented_lines()
    {
        var doc = Doc("ikeerrors.txt");
        var auth = VpnTroubleshoot.IkeErrors(IkeFailureInfo.Parse("AUTHENTICATION_FAILED: 203.0.113.10:4500 reports that our AUTH did not verify: the pre-shared keys differ"));
        var payload = VpnTroubleshoot.IkeErrors(IkeFailureInfo.Parse("INVALID_SYNTAX: CREATE_CHILD_SA request lacks SA or Nonce"));
        Assert.Equal(doc, auth + payload);
        // A failure this gateway found itself is not the peer's.
        Assert.Contains("IKE failed with Windows error 13801(ERROR_IPSEC_IKE_AUTH_FAIL)",
            VpnTroubleshoot.IkeErrors(IkeFailureInfo.Parse("AUTHENTICATION_FAILED: the AUTH payload of 192.168.29.52 does not verify with our pre-shared key: the shared keys differ")));
    }

    [Fact]
    public void Ike_log_lines_must_be_the_documented_ones()
    {
        var doc = Doc("ikelogs.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        const string Ip = "<IPaddress>:500";
        var auth = new IkeMessageActivity(T0, Sent: false, Ip, Ip, 35, Response: false, 1, 1, 2, []);
        var refusal = new IkeMessageActivity(T0.AddSeconds(1), Sent: true, Ip, Ip, 34, Response: true, 0, 1, 0, [14]);
        var childRefused = new IkeEventActivity(T0.AddSeconds(2), "home-rras",
            "NO_PROPOSAL_CHOSEN: the peer offered DES/MD5; we accept only AES256/SHA1 (Child SA)");
        var lines = AzureIkeLog.Lines([refusal, auth, childRefused]);
        Assert.Equal(doc[0], lines[0]);
        Assert.Equal(doc[5], lines[^2]);
        Assert.Equal(doc[4], lines[^1]);
        // Azure's KQL: parse Message with * "Remote " RemoteIP ":" * "500: Local " LocalIP ":" * "500: " Message2
        var kql = new Regex(@"^Remote (?<remote>[^:]+):\d+: Local (?<local>[^:]+):\d+: (?<event>\[(SEND|RECEIVED|LOCAL)\].*)$");
        Assert.All(lines.Where(l => l.StartsWith("Remote", StringComparison.Ordinal)), l => Assert.Matches(kql, l));
        Assert.Equal("Remote 203.0.113.10:500: Local 52.172.171.0:500: [RECEIVED][SA_INIT] Received IKE SA_INIT message (iCookie 0x323a421719386f08, rCookie 0x0000000000000000)",
            AzureIkeLog.MessageLines(new IkeMessageActivity(T0, false, "52.172.171.0:500", "203.0.113.10:500", 34, false, 0, 0x323a421719386f08, 0, [])).Single());
    }

    [Theory]
    [InlineData("AUTHENTICATION_FAILED: the AUTH payload of 192.168.29.52 does not verify with our pre-shared key: the shared keys differ", "MM", 13801)]
    [InlineData("refused IKE_SA_INIT from 203.0.113.10:500: NO_PROPOSAL_CHOSEN: the peer offered AES128/SHA384/ECP384; we accept only AES256/SHA1/MODP1024", "MM", 13868)]
    [InlineData("TS_UNACCEPTABLE: the peer's traffic selectors 10.9.0.0/16 are not ours", "QM", 13868)]
    [InlineData("giving up: no answer to IKE_SA_INIT after 5 transmissions", "MM", 13805)]
    [InlineData("giving up: dead peer: liveness check unanswered after 3 transmissions", "MM", 13886)]
    public void A_failure_event_must_close_its_negotiation_with_the_windows_error(string text, string mode, int code)
    {
        var f = GatewayEvents.Failure(text);
        Assert.NotNull(f);
        Assert.Equal($"IkeCleanup{mode}Negotiation called with error {code} and flags a", AzureIkeLog.Cleanup(f));
    }

    [Theory]
    [InlineData("InitAnswered → Established (authenticated 192.168.29.52)")]
    [InlineData("IKE phase 1: IKE_SA_INIT (IKE SA setup) done in 0 ms")]
    [InlineData("NAT detected: the peer is behind a NAT: IKE and ESP move to UDP 4500")]
    public void An_event_that_is_no_failure_must_give_no_cleanup_line(string text) => Assert.Null(GatewayEvents.Failure(text));

    [Theory]
    [InlineData("branch12: IKE_SA_INIT from 198.18.0.23:500, answering as responder", "branch12", "IKE_SA_INIT from 198.18.0.23:500, answering as responder")]
    [InlineData("branch1: child SA up: 10.64.0.0/26 === 10.0.0.0/16", "branch1", "child SA up: 10.64.0.0/26 === 10.0.0.0/16")]
    [InlineData("branch123: x", null, null)]
    [InlineData("azure-gw: refused IKE_SA_INIT from 1.2.3.4:500: NO_PROPOSAL_CHOSEN", null, null)]
    public void An_event_names_its_connection_the_same_from_a_list_and_from_a_set(string text, string? connection, string? rest)
    {
        string[] names = ["branch1", "branch12", "branch2"];
        var fromList = GatewayEvents.Split(text, names);
        var fromSet = GatewayEvents.Split(text, names.ToHashSet());
        Assert.Equal(fromList, fromSet);
        Assert.Equal(connection, fromSet?.Connection);
        Assert.Equal(rest, fromSet?.Text);
    }

    private static IkeEventActivity Ev(int s, string text) => new(T0.AddSeconds(s), "home-rras", text);

    private static IkeMessageActivity Msg(int s, bool sent, int exchange = 34, bool response = false) =>
        new(T0.AddSeconds(s), sent, "52.172.171.0:500", "203.0.113.10:500", exchange, response, 0, 1, 0, []);

    private static GatewayTunnel Down(string state = "NotConnected") => new() { Connection = "home-rras", State = state, PeerAddress = "203.0.113.10" };

    public static TheoryData<string, string> Verdicts => new()
    {
        { "psk", VpnTroubleshoot.Authentication },
        { "proposal", VpnTroubleshoot.IkePolicyMismatch },
        { "selectors", VpnTroubleshoot.IkePolicyMismatch },
        { "silence", VpnTroubleshoot.PeerReachability },
        { "unanswered", VpnTroubleshoot.PeerReachability },
        { "dead-peer", VpnTroubleshoot.PeerReachability },
        { "half-open", VpnTroubleshoot.PeerReachability },
        { "negotiating", VpnTroubleshoot.NoFault },
        { "recovered", VpnTroubleshoot.NoFault },
        { "malformed", VpnTroubleshoot.ConnectionsNotConnected },
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public void The_verdict_must_name_the_failure_since_the_last_established_sa(string story, string verdict)
    {
        var (tunnel, activity) = story switch
        {
            "psk" => (Down(), new IkeActivity[] { Msg(1, false), Msg(1, true, response: true), Ev(2, "AUTHENTICATION_FAILED: the AUTH payload of 192.168.29.52 does not verify with our pre-shared key: the shared keys differ") }),
            "proposal" => (Down(), [Msg(1, false), Ev(1, "refused IKE_SA_INIT from 203.0.113.10:500: NO_PROPOSAL_CHOSEN: the peer offered AES128/SHA384/ECP384; we accept only AES256/SHA1/MODP1024")]),
            "selectors" => (Down(), [Msg(1, false), Ev(2, "TS_UNACCEPTABLE: the peer's traffic selectors are not ours")]),
            "silence" => (Down("Unknown"), []),
            "unanswered" => (Down("Connecting"), [Msg(1, false), Msg(1, true, response: true), Msg(5, true, 37)]),
            "half-open" => (Down("Connecting"), [Msg(1, false), Msg(1, true, response: true)]),
            // The peer's IKE_AUTH just came in: nothing is wrong yet.
            "negotiating" => (Down("Connecting"), [Msg(1, false), Msg(1, true, response: true), Msg(2, false, 35)]),
            "dead-peer" => (Down(), [Ev(1, "InitAnswered → Established (authenticated 192.168.29.52)"), Msg(2, false), Ev(30, "giving up: dead peer: liveness check unanswered after 3 transmissions")]),
            "malformed" => (Down(), [Msg(1, false), Msg(1, true, response: true), Msg(2, false, 35), Ev(2, "INVALID_SYNTAX: IKE_AUTH request lacks IDi")]),
            // An authentication failure before the tunnel came up explains nothing once it is up again.
            _ => (Connected(), [Ev(1, "AUTHENTICATION_FAILED: the shared keys differ"), Ev(9, "InitAnswered → Established (authenticated 192.168.29.52)")]),
        };
        var result = VpnTroubleshoot.Diagnose(tunnel, activity, T0, T0.AddSeconds(60));
        var r = Assert.Single(result.Results);
        Assert.Equal(verdict, r.Id);
        Assert.Equal(verdict == VpnTroubleshoot.NoFault ? "Healthy" : "UnHealthy", result.Code);
        if (verdict != VpnTroubleshoot.NoFault) Assert.NotEmpty(r.RecommendedActions);
    }

    [Fact]
    public void A_failure_before_the_last_established_sa_must_not_count_when_the_tunnel_is_down_again_for_another_reason()
    {
        var activity = new IkeActivity[]
        {
            Ev(1, "AUTHENTICATION_FAILED: the shared keys differ"),
            Ev(5, "InitAnswered → Established (authenticated 192.168.29.52)"),
            Msg(6, false),
            Ev(40, "giving up: dead peer: liveness check unanswered after 3 transmissions"),
        };
        Assert.Equal(VpnTroubleshoot.PeerReachability, VpnTroubleshoot.Diagnose(Down(), activity, T0, T0.AddSeconds(60)).Results[0].Id);
    }

    [Fact]
    public void Tunnel_totals_must_keep_growing_across_a_child_sa_rekey()
    {
        var acc = new AzureMetricsAccumulator();
        var first = acc.Update("azure-gw", Connected(), T0);
        Assert.Equal((288L, 288L, 3L, 3L, 1, 1), (first.TunnelIngressBytes, first.TunnelEgressBytes, first.TunnelIngressPackets, first.TunnelEgressPackets, first.MmsaCount, first.QmsaCount));
        // The rekey replaced the Child SA: the new one starts at zero, the old one's bytes stay counted.
        var rekeyed = Connected() with { ChildSas = [new GatewayChildSa(0xaa000001, 0xbb000001, "AES256/SHA1", 100, 60, 1, 1, "0.0.0.0/0", "0.0.0.0/0")] };
        var second = acc.Update("azure-gw", rekeyed, T0.AddSeconds(2));
        Assert.Equal(388, second.TunnelIngressBytes);
        Assert.Equal(348, second.TunnelEgressBytes);
        Assert.Equal(80, second.TunnelAverageBandwidth); // 160 bytes in 2 s
        Assert.Equal(("home-rras", "203.0.113.10", "GatewayTenantWorker_IN_0"), (second.ConnectionName, second.RemoteIp, second.Instance));
        var down = acc.Update("azure-gw", Down(), T0.AddSeconds(3));
        Assert.Equal((0, 0, 388L), (down.MmsaCount, down.QmsaCount, down.TunnelIngressBytes));
    }

    [Fact]
    public void Windows_error_codes_must_match_their_documented_hex_values()
    {
        // Scrubbed-wfpdiag.txt: "Failure error code:0x000035e9 IKE authentication credentials are unacceptable";
        // Azure's self-help form: ERROR_IPSEC_IKE_TIMED_OUT 0x000035ed, ERROR_IPSEC_IKE_PEER_MM_ASSUMED_INVALID 0x0000363e.
        Assert.Equal((0x35e9, "IKE authentication credentials are unacceptable"), (WindowsIkeErrors.AuthFail.Code, WindowsIkeErrors.AuthFail.Message));
        Assert.Equal(0x35ed, WindowsIkeErrors.TimedOut.Code);
        Assert.Equal(0x363e, WindowsIkeErrors.PeerMmAssumedInvalid.Code);
        Assert.Equal("13868(ERROR_IPSEC_IKE_POLICY_MATCH)", WindowsIkeErrors.For(IkeFailureKind.NoProposalChosen)!.ToString());
    }
}
