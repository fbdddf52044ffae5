using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Config.Tests;

/// <summary>Reads the import fixtures and imports them the way nodes import does.</summary>
internal static class Fixture
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static (string Path, string Text) File(string name) => (name, System.IO.File.ReadAllText(Path.Combine(Dir, name)));

    public static ImportResult Import(params string[] names) => Importer.Import(names.Select(File), "imported", "lab.yaml");

    /// <summary>Imports and asserts the lab loads and validates; returns the loaded topology.</summary>
    public static (ImportResult Result, TopologySpec Topology) ImportValid(params string[] names) => ImportValid2(names.Select(File));

    /// <summary>As <see cref="ImportValid(string[])"/>, for files given as text.</summary>
    public static (ImportResult Result, TopologySpec Topology) ImportValid2(IEnumerable<(string Path, string Text)> files)
    {
        var result = Importer.Import(files, "imported", "lab.yaml");
        Assert.True(result.Fatal.IsEmpty, string.Join("\n", result.Fatal));
        Assert.True(result.Errors.IsEmpty, string.Join("\n", result.Errors) + "\n" + result.Lab?.Yaml);
        var loaded = TopologyLoader.LoadFromString(result.Lab!.Yaml, "lab.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        return (result, loaded.Topology!);
    }

    public static RrasVpnSpec Rras(this TopologySpec t) => t.Nodes.OfType<RrasSpec>().Single().Vpn!;

    public static AzureConnectionSpec Connection(this TopologySpec t) => t.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections.Single();

    public static AzureVpnGatewaySpec Gateway(this TopologySpec t) => t.Nodes.OfType<AzureVpnGatewaySpec>().Single();
}
