using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nodes.Config.Diagnostics;
using Nodes.Host;

namespace Nodes.Cli;

/// <summary><c>nodes status</c>: Azure's diagnostics of the Azure VPN gateways of a running lab.</summary>
internal static class StatusCommands
{
    /// <summary>The parts of the diagnostics <c>--show</c> can pick.</summary>
    internal static readonly string[] Parts = ["all", "connection", "ike-sa", "troubleshoot", "ike-log", "metrics", "bgp"];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static Command Status()
    {
        var node = new Option<string?>("--node") { Description = "Only this Azure VPN gateway (default: every one of the lab)" };
        var show = new Option<string>("--show")
        {
            Description = "What to print: all, connection (az network vpn-connection show), ike-sa (Get-AzVirtualNetworkGatewayConnectionIkeSa), troubleshoot (Network Watcher VPN troubleshoot), ike-log (IKElogs.txt), metrics, bgp (Get-AzVirtualNetworkGatewayBgpPeerStatus, learned and advertised routes)",
            DefaultValueFactory = _ => "all",
        };
        var json = new Option<bool>("--json") { Description = "Print every connection's diagnostics as one JSON array" };
        var cluster = new Option<string>("--cluster") { Description = "A member of the running lab (nodes host, or nodes run --listen)", DefaultValueFactory = _ => FaultCommands.DefaultCluster };
        var wait = new Option<double>("--wait") { Description = "Seconds the lab's members and nodes have to answer", DefaultValueFactory = _ => 5 };
        var command = new Command("status", "Print Azure's diagnostics of a running lab's Azure VPN gateways: connection status, IKE SA, VPN troubleshoot verdict, IKE log, tunnel metrics")
        {
            node, show, json, cluster, wait,
        };
        var tls = ClusterCommands.TlsOptionSet.Create();
        tls.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var o = parse.InvocationConfiguration.Output;
            var err = parse.InvocationConfiguration.Error;
            var part = parse.GetValue(show)!;
            if (!Parts.Contains(part))
            {
                err.WriteLine($"--show '{part}' is not a part of the diagnostics: give one of {string.Join(", ", Parts)}");
                return 2;
            }
            var seconds = parse.GetValue(wait);
            var address = parse.GetValue(cluster)!;
            if (!FlagChecks.WaitOk(seconds, err) || !FlagChecks.ClusterAddressOk(address, err)) return 2;
            var request = new LiveStatusRequest { ClusterAddress = address, Node = parse.GetValue(node), Tls = tls.Read(parse), AnswerTimeout = TimeSpan.FromSeconds(seconds) };
            var (result, failed) = await LabCall.TryAsync(address, err, () => LiveStatus.QueryAsync(request, cancel));
            if (result is null) return failed;
            if (!result.Reached)
            {
                err.WriteLine($"NOT REACHABLE: {result.Message}");
                return 3;
            }
            if (result.Connections.Count == 0)
            {
                err.WriteLine(result.Message);
                return 1;
            }
            if (parse.GetValue(json)) o.WriteLine(ToJson(result.Connections));
            else Write(o, result.Connections, part);
            return 0;
        });
        return command;
    }

    public static string ToJson(IReadOnlyList<AzureConnectionDiagnostics> connections) => JsonSerializer.Serialize(connections, Json);

    /// <summary>The diagnostics as text: each connection's parts in Azure's own output formats.</summary>
    public static void Write(TextWriter o, IReadOnlyList<AzureConnectionDiagnostics> connections, string part = "all")
    {
        bool Shows(string p) => part == "all" || part == p;
        foreach (var c in connections)
        {
            o.WriteLine($"== {c.Node} / connection {c.Connection}");
            if (Shows("connection"))
            {
                o.WriteLine("-- az network vpn-connection show");
                o.WriteLine(c.ConnectionShow.ToJsonString(Json));
            }
            if (Shows("ike-sa"))
            {
                o.WriteLine("-- Get-AzVirtualNetworkGatewayConnectionIkeSa");
                o.Write(c.IkeSa?.ToFormatList() ?? "(no IKE SA)\n");
            }
            if (Shows("troubleshoot"))
            {
                var t = c.Troubleshoot;
                o.WriteLine($"-- Network Watcher VPN troubleshoot: {t.Code}");
                foreach (var r in t.Results)
                {
                    o.WriteLine($"{r.Id}: {r.Summary}");
                    o.WriteLine($"  {r.Detail}");
                    foreach (var a in r.RecommendedActions) o.WriteLine($"  - {a.ActionText} ({a.ActionUri})");
                }
                o.WriteLine("ConnectionStats.txt:");
                o.Write(Indent(t.Logs.ConnectionStats));
                if (t.Logs.IkeErrors.Length > 0)
                {
                    o.WriteLine("IKEErrors.txt:");
                    o.Write(Indent(t.Logs.IkeErrors));
                }
            }
            if (Shows("ike-log"))
            {
                o.WriteLine($"-- IKElogs.txt ({c.Troubleshoot.Logs.IkeLogs.Count} lines)");
                foreach (var line in c.Troubleshoot.Logs.IkeLogs) o.WriteLine(line);
            }
            if (Shows("bgp") && c.Bgp is { } bgp)
            {
                o.WriteLine("-- BGP");
                o.Write(bgp.ToFormatList());
            }
            if (Shows("metrics"))
            {
                var m = c.Metrics;
                o.WriteLine($"-- metrics (ConnectionName={m.ConnectionName}, RemoteIP={m.RemoteIp}, Instance={m.Instance})");
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{AzureMetricNames.TunnelIngressBytes} {m.TunnelIngressBytes}, {AzureMetricNames.TunnelEgressBytes} {m.TunnelEgressBytes}, {AzureMetricNames.TunnelIngressPackets} {m.TunnelIngressPackets}, {AzureMetricNames.TunnelEgressPackets} {m.TunnelEgressPackets}, {AzureMetricNames.MmsaCount} {m.MmsaCount}, {AzureMetricNames.QmsaCount} {m.QmsaCount}"));
            }
        }
    }

    private static string Indent(string text) => string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "  " + l.TrimEnd() + "\n"));
}
