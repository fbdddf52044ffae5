using System.Diagnostics;
using System.Text.Json;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// A real BGP daemon (BIRD 2) beside a real charon peers with the simulated Azure gateway through the real IPsec
/// tunnel: BIRD speaks from charon's inner address 10.0.10.1 to Azure's BGP address 192.168.29.254, its TCP goes
/// into libipsec's TUN, out as ESP, and comes out of the simulated gateway's Child SA. Routes travel both ways, and
/// BIRD sees Azure withdraw one.
/// </summary>
public sealed class BirdInteropTests(ITestOutputHelper output)
{
    private const string AzureBgp = "192.168.29.254";
    private const string BirdNetwork = "10.20.0.0/16";
    private const string BirdHost = "10.20.0.1";

    /// <summary>The interop Azure lab with BGP on: Azure AS 65515 at 192.168.29.254, BIRD AS 65010 at 10.0.10.1.</summary>
    private static string AzureWithBgp()
    {
        var y = Topologies.Azure("Default", pingStartSeconds: 16, pings: 6)
            .Replace("vm-pings-real-side:", "bgp-with-bird:", StringComparison.Ordinal)
            .Replace($"ping: {{ from: vm, to: {InteropLab.RightInner},", $"ping: {{ from: vm, to: {BirdHost},", StringComparison.Ordinal)
            .Replace("      vpn-type: route-based\n", $"      vpn-type: route-based\n      bgp-settings: {{ asn: 65515, bgp-peering-address: {AzureBgp} }}\n", StringComparison.Ordinal)
            .Replace("            address-spaces: [10.0.10.0/24]\n", $"            address-spaces: [10.0.10.0/24]\n            bgp-settings: {{ asn: 65010, bgp-peering-address: {InteropLab.RightInner} }}\n          enable-bgp: true\n", StringComparison.Ordinal)
            .Replace("        - { to: 10.0.10.0/24, via: 192.168.29.228 }", "        - { to: 10.0.0.0/8, via: 192.168.29.228 }", StringComparison.Ordinal)
            .Replace("      tunnel: { name: sswan-right, state: Connected }\n    duration: 30s",
                "      tunnel: { name: sswan-right, state: Connected }\n"
                + $"      bgp: {{ node: azure-gw, state: Established, learned: [{BirdNetwork}] }}\n"
                + "    faults:\n      - { at: 26s, fault: bgp-withdraw, node: azure-gw, params: { prefix: 192.168.29.0/24 } }\n"
                + "    duration: 34s", StringComparison.Ordinal);
        foreach (var needle in new[] { "bgp-settings: { asn: 65515", "enable-bgp: true", "bgp-withdraw", BirdHost, "10.0.0.0/8" })
            if (!y.Contains(needle, StringComparison.Ordinal)) throw new InvalidOperationException($"the Azure interop lab changed: no '{needle}' after the edits");
        return y;
    }

    private static string BirdConf(string dir) => $$"""
        log "{{dir}}/bird.log" all;
        router id {{InteropLab.RightInner}};
        protocol device { }
        protocol static announced {
          ipv4;
          route {{BirdNetwork}} unreachable;
        }
        protocol bgp azure {
          local {{InteropLab.RightInner}} as 65010;
          neighbor {{AzureBgp}} as 65515;
          multihop 8;
          hold time 90;
          connect retry time 3;
          ipv4 {
            import all;
            export where source = RTS_STATIC;
          };
        }
        """;

    [SkippableFact]
    public void Bird_peers_with_the_simulated_azure_gateway_through_a_real_tunnel_and_routes_travel_both_ways()
    {
        InteropLab.RequireEnvironment();
        var bird = ExternalTool.Require("bird", "apt-get install bird2");
        ExternalTool.Require("birdc", "apt-get install bird2");
        using var lab = new InteropLab(output, "bird-bgp");
        lab.Exec(lab.Right, "ip", "addr", "add", $"{BirdHost}/32", "dev", "lo");
        lab.StartCharon(new CharonConfig
        {
            IkeProposals = "aes256-sha1-modp1024",
            EspProposals = "aes256gcm16",
            SharedKey = Topologies.AzureSharedKey,
            LocalTs = $"10.0.10.0/24,{BirdNetwork}",
        });
        var run = lab.StartNodes(AzureWithBgp());
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);
        var initiate = lab.Swanctl("--initiate", "--child", "net", "--timeout", "15");
        output.WriteLine(initiate.StdOut + initiate.StdErr);
        Assert.Equal(0, initiate.ExitCode);

        var dir = Path.Combine(lab.Directory, "bird");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "bird.conf"), BirdConf(dir));
        var socket = Path.Combine(dir, "bird.ctl");
        lab.Exec(lab.Right, bird, "-c", Path.Combine(dir, "bird.conf"), "-s", socket, "-P", Path.Combine(dir, "bird.pid"));
        try
        {
            string Birdc(params string[] args) => InteropLab.TryExec(lab.Right, TimeSpan.FromSeconds(10), ["birdc", "-s", socket, .. args]).StdOut;
            var established = Poll(() => Birdc("show", "protocols", "all", "azure"), s => s.Contains("Established", StringComparison.Ordinal), TimeSpan.FromSeconds(25));
            output.WriteLine(established);
            Assert.Contains("Established", established, StringComparison.Ordinal);
            var routes = Poll(() => Birdc("show", "route", "protocol", "azure", "all"), s => s.Contains("192.168.29.0/24", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            output.WriteLine(routes);
            Assert.Contains("192.168.29.0/24", routes, StringComparison.Ordinal);
            Assert.Contains("65515", routes, StringComparison.Ordinal); // BGP.as_path: 65515
            Assert.DoesNotContain("10.0.10.0/24", routes, StringComparison.Ordinal); // Azure does not send the site its own prefixes back

            // Azure's withdrawal at 26 s reaches BIRD.
            var after = Poll(() => Birdc("show", "route", "protocol", "azure"), s => !s.Contains("192.168.29.0/24", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            output.WriteLine(after);
            Assert.DoesNotContain("192.168.29.0/24", after, StringComparison.Ordinal);

            var (exit, summary) = run.Finish(TimeSpan.FromSeconds(90));
            output.WriteLine(run.Terminal);
            Assert.Equal(0, exit);
            var session = summary.GetProperty("bgp").EnumerateArray().Single();
            Assert.Equal("Established", session.GetProperty("state").GetString());
            Assert.Equal(InteropLab.RightInner, session.GetProperty("neighbor").GetString());
            Assert.Contains(summary.GetProperty("bgpRoutes").EnumerateArray(), r =>
                r.GetProperty("direction").GetString() == "learned" && r.GetProperty("network").GetString() == BirdNetwork && r.GetProperty("asPath").GetString() == "65010");
            // The VM's pings to BIRD's network went into the tunnel on the route BGP brought, and were answered.
            Assert.Equal(6, summary.GetProperty("pings").GetProperty("received").GetInt32());
            Assert.Contains("UPDATE from 10.0.10.1", run.Terminal, StringComparison.Ordinal);
        }
        finally
        {
            InteropLab.TryExec(lab.Right, TimeSpan.FromSeconds(10), "birdc", "-s", socket, "down");
            if (File.Exists(Path.Combine(dir, "bird.log"))) output.WriteLine(File.ReadAllText(Path.Combine(dir, "bird.log")));
        }
    }

    private static string Poll(Func<string> read, Func<string, bool> done, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var last = read();
        while (!done(last) && watch.Elapsed < timeout)
        {
            Thread.Sleep(250);
            last = read();
        }
        return last;
    }
}
