using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Topology.Tests;

public class SecretPrintingTests
{
    [Fact]
    public void Printing_a_topology_must_never_show_a_shared_key() => Check(Here());

    private static string Here([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    private static void Check(string thisFile)
    {
        var dir = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "topology"));
        var loaded = TopologyLoader.Load(Path.Combine(dir, "azure-s2s-rras.yaml"));
        Assert.Empty(loaded.Diagnostics);
        var rras = loaded.Topology!.Nodes.OfType<RrasSpec>().Single();
        var azure = loaded.Topology.Nodes.OfType<AzureVpnGatewaySpec>().Single();
        var text = rras.ToString() + rras.Vpn + azure + string.Join(",", azure.Connections) + loaded.Topology;
        Assert.Equal("Nodes4LabSharedKey", rras.Vpn!.SharedKey);
        Assert.DoesNotContain("Nodes4LabSharedKey", text);
        Assert.Contains("[redacted]", text);
    }
}
