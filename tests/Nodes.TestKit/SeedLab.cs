namespace Nodes.TestKit;

/// <summary>Facts of topology/azure-s2s-rras.yaml that tests of several projects check against.</summary>
public static class SeedLab
{
    /// <summary>The nodes one ping's trace passes through, in hop order: request to the VM and the reply back.</summary>
    public static readonly string[] PingVisits =
        ["client", "rras", "isp-router", "internet", "azure-gw", "vnet-router", "vm", "vnet-router", "azure-gw", "internet", "isp-router", "rras", "client"];
}
