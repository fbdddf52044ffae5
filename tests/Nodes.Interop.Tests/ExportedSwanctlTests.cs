using Nodes.Config.Export;
using Nodes.TestKit;
using Nodes.Topology.Loading;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// The swanctl.conf <c>nodes export --as swanctl</c> writes for an RRAS node, loaded unchanged by a real charon, brings
/// the tunnel up against the simulated Azure gateway of the same addresses.
/// </summary>
public sealed class ExportedSwanctlTests(ITestOutputHelper output)
{
    /// <summary>
    /// An RRAS site at charon's address (198.51.100.2, LAN 10.0.10.0/24 holding charon's inner 10.0.10.1) dialing the
    /// simulated Azure gateway at 198.51.100.1, with Windows' default proposals and the identities the Azure lab expects.
    /// </summary>
    private static string RrasSite => $$"""
        name: exported-rras-site
        topology:
          nodes:
            rras:
              kind: rras
              interfaces:
                lan: { address: 10.0.10.2/24 }
                internet: { address: {{InteropLab.RightOuter}}/24, external: { address: {{InteropLab.RightOuter}} } }
              lan-interface: lan
              internet-interface: internet
              vpn:
                interface-name: azure
                destination: {{InteropLab.LeftOuter}}
                ipv4-subnets: ["192.168.29.0/24:100"]
                shared-key: "{{Topologies.AzureSharedKey}}"
                local-id: {{InteropLab.RightId}}
                remote-id: {{InteropLab.LeftId}}
            pc:
              kind: host
              interfaces:
                eth0: { address: 10.0.10.55/24 }
          links:
            - endpoints: ["pc:eth0", "rras:lan"]
        """;

    [SkippableFact]
    public void The_exported_swanctl_conf_loads_unchanged_and_brings_the_tunnel_up_against_the_simulated_azure_gateway()
    {
        InteropLab.RequireEnvironment();
        ExternalTool.Require("ping", "apt-get install iputils-ping");
        var site = TopologyLoader.LoadFromString(RrasSite, "rras-site.yaml");
        Assert.True(site.Succeeded, string.Join("\n", site.Diagnostics));
        var exported = Exporter.Export(site.Topology!, "rras", ExportFormat.Swanctl, out var error);
        Assert.True(exported is not null, error);
        output.WriteLine(exported!.Text);

        using var lab = new InteropLab(output, "exported-swanctl");
        lab.StartCharon(new CharonConfig(), exported.Text);
        var run = lab.StartNodes(Topologies.Azure("Default", pingStartSeconds: 5, pings: 6));
        Assert.True(run.WaitForLine("attached to the real network", TimeSpan.FromSeconds(30)), run.Terminal);
        var initiate = lab.Swanctl("--initiate", "--child", "net", "--timeout", "15");
        output.WriteLine(initiate.StdOut + initiate.StdErr);
        Assert.Equal(0, initiate.ExitCode);
        var ping = InteropLab.TryExec(lab.Right, TimeSpan.FromSeconds(20), "ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-I", InteropLab.RightInner, "192.168.29.4");
        output.WriteLine(ping.StdOut + ping.StdErr);
        Assert.Contains("3 received", ping.StdOut, StringComparison.Ordinal);
        var (exit, summary) = run.Finish(TimeSpan.FromSeconds(90));
        Assert.Equal(0, exit);
        Assert.Equal(6, summary.GetProperty("pings").GetProperty("received").GetInt32());
        Assert.Contains($"authentication of '{InteropLab.LeftId}' with pre-shared key successful", lab.CharonLog(), StringComparison.Ordinal);
    }
}
