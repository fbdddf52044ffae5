using Nodes.Host;
using Nodes.TestKit;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Integration.Tests;

/// <summary>
/// The seed lab end to end in one process, with every message serialized as if it crossed a process boundary:
/// the client pings the Azure VM through RRAS, the home NAT and the Azure gateway.
/// </summary>
public class SeedScenarioTests
{
    internal static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    internal static TopologySpec Load(string name)
    {
        var result = TopologyLoader.Load(Path.Combine(Repo(), "topology", name));
        Assert.Empty(result.Diagnostics);
        return result.Topology!;
    }

    internal static Task<RunSummary> Run(TopologySpec t, string? scenario = null, RunOptions? options = null)
    {
        Assert.True(t.TrySelectScenario(scenario, out var s, out var error), error);
        return LabRunner.RunAsync(t, s!, (options ?? new RunOptions()) with { SerializeAllMessages = true, Count = options?.Count ?? 2 });
    }

    [Theory]
    [InlineData("default-gateway")]
    [InlineData("static-route")]
    public async Task Both_routing_methods_must_bring_the_tunnel_up_behind_nat_and_answer_every_ping(string scenario)
    {
        var summary = await Run(Load("azure-s2s-rras.yaml"), scenario);
        Assert.True(summary.Ok, summary.ToJson());
        Assert.Equal(2, summary.Pings.Sent);
        Assert.Equal(2, summary.Pings.Received);
        var azure = summary.Tunnels.Single(t => t.Node == "azure-gw");
        var rras = summary.Tunnels.Single(t => t.Node == "rras");
        Assert.Equal("Connected", azure.State);
        Assert.True(azure.Ike.NatDetected && rras.Ike.NatDetected);
        Assert.Equal("203.0.113.10:4500", azure.Ike.RemoteEndpoint);
        Assert.Equal("52.172.171.0:4500", rras.Ike.RemoteEndpoint);
        Assert.True(rras.Ike.Initiator);
        Assert.False(azure.Ike.Initiator);
        Assert.Equal(azure.Ike.InitiatorSpi, rras.Ike.InitiatorSpi);
        var child = Assert.Single(rras.ChildSas);
        Assert.Equal(child.InboundSpi, azure.ChildSas.Single().OutboundSpi);
        Assert.Equal(2UL, child.PacketsOut);
        Assert.Equal(2UL, child.PacketsIn);
        Assert.True(child.Encapsulated);
    }

    [Fact]
    public async Task Udp_load_through_the_tunnel_must_arrive_whole()
    {
        var t = Load("azure-s2s-rras.yaml");
        Assert.True(t.TrySelectScenario("udp-load", out var s, out _));
        var summary = await LabRunner.RunAsync(t, s!, new RunOptions { SerializeAllMessages = true });
        Assert.True(summary.Ok, summary.ToJson());
        var flow = Assert.Single(summary.Udp!.Flows);
        Assert.Equal(500, flow.Sent);
        Assert.Equal(500, flow.Received);
        Assert.Equal("10.0.10.4:5001", flow.To);
        var child = summary.Tunnels.Single(x => x.Node == "rras").ChildSas.Single();
        Assert.True(child.PacketsOut >= 501, $"{child.PacketsOut} packets out");
    }

    [Theory]
    [InlineData("azure-s2s-policy-based.yaml")]
    [InlineData("azure-s2s-double-nat.yaml")]
    [InlineData("hub-three-branches.yaml")]
    public async Task Every_shipped_topology_must_run_green(string file)
    {
        var summary = await Run(Load(file));
        Assert.True(summary.Ok, summary.ToJson());
        Assert.All(summary.Tunnels, t => Assert.Equal("Connected", t.State));
    }

    [Fact]
    public async Task The_same_seed_must_give_the_same_run()
    {
        var t = Load("azure-s2s-rras.yaml");
        var a = await Run(t, options: new RunOptions { Seed = 7 });
        var b = await Run(t, options: new RunOptions { Seed = 7 });
        var c = await Run(t, options: new RunOptions { Seed = 8 });
        string Spis(RunSummary s) => string.Join(",", s.Tunnels.Select(x => x.Ike.InitiatorSpi + x.Ike.ResponderSpi + string.Concat(x.ChildSas.Select(cs => cs.InboundSpi + cs.OutboundSpi))));
        Assert.Equal(Spis(a), Spis(b));
        Assert.NotEqual(Spis(a), Spis(c));
    }

    [Fact]
    public async Task A_wrong_shared_key_must_fail_with_authentication_failed_and_no_child_sa()
    {
        var text = File.ReadAllText(Path.Combine(Repo(), "topology", "azure-s2s-rras.yaml"));
        var wrong = text.Replace("shared-key: \"Nodes4LabSharedKey\"\n          connection-protocol", "shared-key: \"SomethingElse1\"\n          connection-protocol", StringComparison.Ordinal);
        Assert.NotEqual(text, wrong);
        var loaded = TopologyLoader.LoadFromString(wrong, "psk-mismatch.yaml");
        Assert.Empty(loaded.Diagnostics);
        var summary = await Run(loaded.Topology!);
        Assert.False(summary.Ok);
        Assert.Equal(0, summary.Pings.Received);
        Assert.Contains(summary.Failures, f => f.StartsWith("azure-gw/home-rras: AUTHENTICATION_FAILED", StringComparison.Ordinal));
        Assert.Contains(summary.Failures, f => f.StartsWith("rras/52.172.171.0: AUTHENTICATION_FAILED", StringComparison.Ordinal));
        Assert.All(summary.Tunnels, t => Assert.Empty(t.ChildSas));
        Assert.DoesNotContain("SomethingElse1", summary.ToJson());
    }

    [SkippableFact]
    public async Task Captures_must_decrypt_in_tshark_and_public_links_must_carry_nothing_in_clear()
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-lab-capture-").FullName;
        try
        {
            var summary = await Run(Load("azure-s2s-rras.yaml"), options: new RunOptions { CaptureDirectory = dir });
            Assert.True(summary.Ok);
            var inner = new[] { Ipv4Address.Parse("192.168.29.55"), Ipv4Address.Parse("10.0.10.4") };
            var publicLinks = summary.Captures!.Files.Where(f => f.Contains("internet", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, publicLinks.Count);
            foreach (var file in publicLinks)
            {
                var packets = PcapngReader.Packets(file);
                Assert.NotEmpty(packets);
                foreach (var p in packets)
                {
                    Assert.True(Ipv4Header.TryParse(p, out var ip, out _));
                    Assert.DoesNotContain(ip.Source, inner);
                    Assert.DoesNotContain(ip.Destination, inner);
                    Assert.Equal(IpProtocol.Udp, ip.Protocol); // IKE and ESP ride UDP behind the NAT
                }
                Assert.Equal(0, tshark.Count(file, dir, "_ws.malformed || ip.checksum.status == 0 || udp.checksum.status == 0"));
                Assert.Equal(tshark.Count(file, dir, "esp"), tshark.Count(file, dir, "esp && icmp && esp.icv_good == 1"));
                Assert.Equal(4, tshark.Count(file, dir, "esp && icmp"));
                Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 35 && isakmp.enc.decrypted"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
