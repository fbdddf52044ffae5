using System.Collections.Immutable;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Validation;

/// <summary>
/// Checks that a topology is wired consistently: link endpoints exist and are used once, the interfaces on a
/// link share a subnet, links do not overlap, every interface is attached, every route's next hop is a
/// neighbour's address, and Azure gateways can reach their VNet. Shared keys or proposals that differ between
/// two gateways are not checked: that is a failure to watch when the lab runs.
/// </summary>
public static class TopologyValidator
{
    /// <summary>Every problem found in <paramref name="spec"/>; empty when it is consistent.</summary>
    public static ImmutableArray<TopologyDiagnostic> Validate(TopologySpec spec) => Validate(spec, new HashSet<string>());

    /// <param name="broken">Node names and "node:interface" names that were declared but failed to load; references to them are not reported again.</param>
    internal static ImmutableArray<TopologyDiagnostic> Validate(TopologySpec spec, IReadOnlySet<string> broken)
    {
        var d = new List<TopologyDiagnostic>();
        var nodes = new Dictionary<string, NodeSpec>(StringComparer.Ordinal);
        foreach (var n in spec.Nodes)
            if (!nodes.TryAdd(n.Name, n))
                d.Add(TopologyDiagnostic.At(n.Location, $"duplicate node name '{n.Name}' (first at line {nodes[n.Name].Location.Line})", "give every node its own name"));

        // Endpoint → link, and each link's resolved interfaces.
        var linkOf = new Dictionary<(string, string), LinkSpec>();
        // Links with an endpoint already reported or dropped: their addresses are not known for sure, so next hops on
        // them are not checked (a gateway "leading nowhere" because its neighbour's line had an error is no news).
        var doubtful = new HashSet<LinkSpec>(ReferenceEqualityComparer.Instance);
        var misnamed = new HashSet<string>(StringComparer.Ordinal); // nodes with an endpoint naming a missing interface
        var resolved = new Dictionary<LinkSpec, List<(EndpointSpec End, InterfaceSpec If)>>(ReferenceEqualityComparer.Instance);
        foreach (var link in spec.Links)
        {
            var list = new List<(EndpointSpec, InterfaceSpec)>();
            resolved[link] = list;
            foreach (var e in link.Endpoints)
            {
                if (!nodes.TryGetValue(e.Node, out var node))
                {
                    doubtful.Add(link);
                    if (broken.Contains(e.Node)) continue;
                    var near = Suggest.Closest(e.Node, nodes.Keys);
                    d.Add(TopologyDiagnostic.At(e.Location, $"link endpoint '{e}' names unknown node '{e.Node}'", near is not null ? $"did you mean '{near}'?" : $"nodes are: {string.Join(", ", nodes.Keys)}"));
                    continue;
                }
                var iface = node.FindInterface(e.Interface);
                if (iface is null)
                {
                    misnamed.Add(e.Node);
                    doubtful.Add(link);
                    if (broken.Contains(e.ToString())) continue;
                    var names = node.Interfaces.Select(i => i.Name).ToArray();
                    var near = Suggest.Closest(e.Interface, names);
                    d.Add(TopologyDiagnostic.At(e.Location, $"link endpoint '{e}': node '{e.Node}' has no interface '{e.Interface}'", near is not null ? $"did you mean '{e.Node}:{near}'?" : $"its interfaces are: {string.Join(", ", names)}"));
                    continue;
                }
                if (linkOf.TryGetValue((e.Node, e.Interface), out var other))
                {
                    var otherEnd = other.Endpoints.First(x => x.Node == e.Node && x.Interface == e.Interface);
                    d.Add(TopologyDiagnostic.At(e.Location, $"interface '{e}' is already on link '{other.Name}' (line {otherEnd.Location.Line})", "an interface plugs into one link; use a segment to join several nodes"));
                    continue;
                }
                linkOf[(e.Node, e.Interface)] = link;
                list.Add((e, iface));
            }
        }

        // The interfaces of a link share one subnet and have distinct addresses.
        var subnetOf = new Dictionary<LinkSpec, Ipv4Prefix>(ReferenceEqualityComparer.Instance);
        var nextHops = spec.Nodes.SelectMany(n => n.EffectiveRoutes.Select(r => r.NextHop)).ToHashSet();
        foreach (var (link, ends) in resolved)
        {
            if (ends.Count == 0) continue;
            var (firstEnd, first) = ends[0];
            subnetOf[link] = first.Subnet;
            var seen = new Dictionary<Ipv4Address, EndpointSpec> { [first.Address] = firstEnd };
            // A suggested address must be free on the whole link, not just among the ends read so far; an address some
            // node routes through belongs to a router, even one whose own lines failed to load.
            // Enumerated only for a suggestion (a hub's link would otherwise copy every next hop of the lab).
            var used = ends.Select(x => x.If.Address).Concat(nextHops);
            foreach (var (end, iface) in ends.Skip(1))
            {
                if (iface.Subnet != first.Subnet)
                {
                    doubtful.Add(link);
                    d.Add(TopologyDiagnostic.At(end.Location, $"'{end}' has {iface.Cidr}, which is not in {first.Subnet} like '{firstEnd}' on the same link",
                        $"give the interfaces of one link addresses in one subnet (same prefix length), e.g. {SuggestAddress(first.Subnet, used)}/{first.Subnet.Length}"));
                    continue;
                }
                if (!seen.TryAdd(iface.Address, end))
                {
                    doubtful.Add(link);
                    d.Add(TopologyDiagnostic.At(end.Location, $"'{end}' has address {iface.Address}, already used by '{seen[iface.Address]}' on the same link", $"use another address, e.g. {SuggestAddress(first.Subnet, used)}"));
                }
            }
        }

        // Links must not overlap: one subnet per link, as on real networks (sorted sweep, O(n log n)).
        var bySubnet = subnetOf.OrderBy(kv => kv.Value.Network.Value).ThenBy(kv => kv.Value.Length).ToList();
        KeyValuePair<LinkSpec, Ipv4Prefix>? open = null;
        foreach (var kv in bySubnet)
        {
            if (open is { } o && kv.Value.Network.Value <= o.Value.Last.Value)
            {
                d.Add(TopologyDiagnostic.At(kv.Key.Location, $"subnet {kv.Value} of link '{kv.Key.Name}' overlaps {o.Value} of link '{o.Key.Name}' (line {o.Key.Location.Line})", "give every link its own, non-overlapping subnet"));
                if (kv.Value.Last.Value <= o.Value.Last.Value) continue;
            }
            open = kv;
        }

        foreach (var node in spec.Nodes)
        {
            // A /32 without a link is a loopback address of the node's own (a BGP address, say): nothing is sent on it.
            foreach (var iface in node.Interfaces)
                if (iface.External is null && iface.Subnet.Length < 32 && !misnamed.Contains(node.Name) && !linkOf.ContainsKey((node.Name, iface.Name)) && !spec.Links.Any(l => l.Endpoints.Any(e => e.Node == node.Name && e.Interface == iface.Name)))
                    d.Add(TopologyDiagnostic.At(iface.Location, $"interface '{node.Name}:{iface.Name}' is not attached to any link", $"add a link with endpoint \"{node.Name}:{iface.Name}\", mark it external, give it a /32 to make it a loopback address, or remove it"));

            foreach (var route in node.EffectiveRoutes)
                CheckNextHop(node, route.NextHop, route.Location, route.Destination.Length == 0 && route.Metric == 0 && node.DefaultGateway == route.NextHop && route.Location == node.DefaultGatewayLocation
                    ? $"default gateway {route.NextHop} of node '{node.Name}'"
                    : $"route to {route.Destination} via {route.NextHop} on node '{node.Name}'", linkOf, resolved, doubtful, broken, d);

            if (node is AzureVpnGatewaySpec gw)
                CheckNextHop(gw, gw.VnetNextHop, gw.Location, $"the VNet route of azure-vpn-gateway '{gw.Name}' (via {gw.VnetNextHop}, the GatewaySubnet's reserved gateway address)", linkOf, resolved, doubtful, broken, d);
        }
        d.AddRange(AzureAcceptance.Check(spec));
        return [.. d];
    }

    private static void CheckNextHop(NodeSpec node, Ipv4Address hop, SourceLocation at, string what,
        Dictionary<(string, string), LinkSpec> linkOf, Dictionary<LinkSpec, List<(EndpointSpec End, InterfaceSpec If)>> resolved, HashSet<LinkSpec> doubtful,
        IReadOnlySet<string> broken, List<TopologyDiagnostic> d)
    {
        if (node.Interfaces.Any(i => i.Address == hop))
        {
            d.Add(TopologyDiagnostic.At(at, $"{what} points at the node's own address", "the next hop is a neighbour's address on a shared subnet"));
            return;
        }
        var iface = node.Interfaces.FirstOrDefault(i => i.Subnet.Contains(hop));
        if (iface is null)
        {
            // The hop may well be on an interface of this node that failed to load, and was reported.
            if (broken.Any(b => b.StartsWith(node.Name + ":", StringComparison.Ordinal))) return;
            var subnets = string.Join(", ", node.Interfaces.Select(i => i.Subnet.ToString()));
            d.Add(TopologyDiagnostic.At(at, $"{what} leads nowhere: {hop} is on none of the node's subnets ({subnets})", "use a next hop on a connected subnet"));
            return;
        }
        if (!linkOf.TryGetValue((node.Name, iface.Name), out var link)) return; // reported as an unattached interface
        if (doubtful.Contains(link)) return;
        if (link.Endpoints.Any(e => broken.Contains(e.Node))) return; // the neighbour failed to load and is reported itself
        var neighbours = resolved[link].Where(x => x.End.Node != node.Name).ToList();
        if (neighbours.Any(x => x.If.Address == hop)) return;
        var present = neighbours.Count == 0 ? "none" : string.Join(", ", neighbours.Select(x => $"{x.End} {x.If.Address}"));
        d.Add(TopologyDiagnostic.At(at, $"{what} leads nowhere: no node on link '{link.Name}' has address {hop}", $"addresses on that link: {present}"));
    }

    private static Ipv4Address SuggestAddress(Ipv4Prefix subnet, IEnumerable<Ipv4Address> used)
    {
        var taken = used.ToHashSet();
        for (var v = subnet.Network.Value + 1; v < subnet.Last.Value; v++)
            if (!taken.Contains(new Ipv4Address(v))) return new Ipv4Address(v);
        return subnet.Network;
    }
}
