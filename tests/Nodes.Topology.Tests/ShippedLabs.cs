using System.Runtime.CompilerServices;
using Nodes.Topology.Loading;

namespace Nodes.Topology.Tests;

/// <summary>Finds the repository's topology/ folder from this source file's path (builds may put binaries anywhere).</summary>
internal static class Labs
{
    public static string Folder => Find();

    private static string Find([CallerFilePath] string source = "")
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(source)!); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "topology");
            if (File.Exists(Path.Combine(candidate, "nodes-topology.schema.json")) || File.Exists(Path.Combine(candidate, "azure-s2s-rras.yaml")))
                return candidate;
        }
        throw new DirectoryNotFoundException("topology/ folder not found above " + source);
    }

    public static IEnumerable<string> Files => Directory.GetFiles(Folder, "*.yaml").Order(StringComparer.Ordinal);

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var f in Files) data.Add(Path.GetFileName(f));
            return data;
        }
    }
}

public class ShippedLabTests
{
    [Theory]
    [MemberData(nameof(Names))]
    public void Shipped_lab_must_load_without_diagnostics(string file)
    {
        var result = TopologyLoader.Load(Path.Combine(Labs.Folder, file));
        Assert.True(result.Diagnostics.IsEmpty, string.Join(Environment.NewLine, result.Diagnostics));
        Assert.NotNull(result.Topology);
    }

    public static TheoryData<string> Names => Labs.Names;
}
