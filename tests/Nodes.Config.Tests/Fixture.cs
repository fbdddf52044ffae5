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
    public static (ImportResult Result, TopologySpec Topology) ImportValid(params string[] names)
    {
        var result = Import(names);
        Assert.True(result.Fatal.IsEmpty, string.Join("\n", result.Fatal));
        Assert.True(result.Errors.IsEmpty, string.Join("\n", result.Errors) + "\n" + result.Lab?.Yaml);
        var loaded = TopologyLoader.LoadFromString(result.Lab!.Yaml, "lab.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics) + "\n" + result.Lab.Yaml);
        return (result, loaded.Topology!);
    }

    public static RrasVpnSpec Rras(this TopologySpec t) => t.Nodes.OfType<RrasSpec>().Single().Vpn!;

    public static AzureConnectionSpec Connection(this TopologySpec t) => t.Nodes.OfType<AzureVpnGatewaySpec>().Single().Connections.Single();

    public static AzureVpnGatewaySpec Gateway(this TopologySpec t) => t.Nodes.OfType<AzureVpnGatewaySpec>().Single();
}
