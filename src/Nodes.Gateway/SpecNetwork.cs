using Nodes.Net;
using Nodes.Net.Routing;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

/// <summary>From the topology's node specs to the network models' parameters: interfaces and routing table.</summary>
public static class SpecNetwork
{
    public static IReadOnlyList<IpInterface> Interfaces(NodeSpec n) =>
        n.Interfaces.Select(i => new IpInterface(i.Name, i.Address, i.Subnet.Length, i.Mtu)).ToArray();

    /// <summary>Connected routes, the static routes (resolved to the interface whose subnet holds the next hop) and the default gateway.</summary>
    public static RoutingTable Routes(NodeSpec n, IReadOnlyList<IpInterface> interfaces)
    {
        var table = new RoutingTable();
        foreach (var i in interfaces) table.AddConnected(i);
        foreach (var r in n.Routes)
        {
            var via = interfaces.FirstOrDefault(i => i.Prefix.Contains(r.NextHop));
            if (via is not null) table.Add(new Route(r.Destination, r.NextHop, via.Name, r.Metric));
        }
        if (n.DefaultGateway is { } gw && interfaces.FirstOrDefault(i => i.Prefix.Contains(gw)) is { } gwIf)
            table.AddDefault(gw, gwIf.Name, metric: 1000);
        return table;
    }
}
