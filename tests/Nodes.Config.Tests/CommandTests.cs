using System.CommandLine;
using Nodes.Cli;
using Nodes.Topology.Loading;

namespace Nodes.Config.Tests;

/// <summary><c>nodes import</c> and <c>nodes export</c> as a user runs them: files in, files out, exit codes.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "nodes-config-" + Guid.NewGuid().ToString("N"));

    public CommandTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var code = NodesCommand.Root().Parse(args).Invoke(new InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Import_must_write_a_lab_that_loads_and_list_what_it_did_not_map()
    {
        var lab = Path.Combine(dir, "lab.yaml");
        var (code, stdout, stderr) = Run("import", Path.Combine(Fixture.Dir, "rras-azure-script.ps1"), Path.Combine(Fixture.Dir, "vpn-connection-show.json"), "-o", lab);
        Assert.Equal(0, code);
        Assert.Contains("written", stdout);
        Assert.Contains("note: not mapped: Install-WindowsFeature", stderr);
        Assert.True(TopologyLoader.Load(lab).Succeeded);
    }

    [Fact]
    public void Import_of_what_azure_refuses_must_exit_1_naming_the_users_line()
    {
        var script = Path.Combine(dir, "rras.ps1");
        File.WriteAllText(script, "Add-VpnS2SInterface -Name 52.172.171.0 -Destination 52.172.171.0 -Protocol IKEv2 -IPv4Subnet @(\"10.0.0.0/16:100\") -SharedSecret 'Home~Key'\n");
        var (code, _, stderr) = Run("import", script, "-o", Path.Combine(dir, "lab.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("rras.ps1:1:", stderr);
        Assert.Contains("contains '~', which Azure does not accept", stderr);
        Assert.DoesNotContain("Home~Key", stderr);
    }

    [Fact]
    public void Import_of_a_file_nodes_cannot_read_must_exit_2_with_its_name()
    {
        var junk = Path.Combine(dir, "junk.txt");
        File.WriteAllText(junk, "nothing to see\n");
        var (code, _, stderr) = Run("import", junk, "-o", Path.Combine(dir, "lab.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("junk.txt:1:1: error: cannot tell the format", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "lab.yaml")));
    }

    [Fact]
    public void Export_must_write_the_file_and_refuse_a_format_that_does_not_fit()
    {
        var seed = Path.GetFullPath(Path.Combine(Fixture.Dir, "..", "..", "..", "..", "..", "..", "topology", "azure-s2s-rras.yaml"));
        var (code, stdout, _) = Run("export", seed, "--node", "rras", "--as", "rras", "-o", dir);
        Assert.Equal(0, code);
        Assert.Contains("keep it private", stdout);
        Assert.Contains("Add-VpnS2SInterface -Name '52.172.171.0'", File.ReadAllText(Path.Combine(dir, "rras.ps1")));
        var (bad, _, err) = Run("export", seed, "--node", "rras", "--as", "azure-json", "-o", dir);
        Assert.Equal(2, bad);
        Assert.Contains("does not fit node 'rras'", err);
        var (unknown, _, err2) = Run("export", seed, "--node", "rras", "--as", "cisco", "-o", dir);
        Assert.Equal(2, unknown);
        Assert.Contains("--as cisco", err2);
    }
}
