using System.Collections.Immutable;

namespace Nodes.Topology.Model;

/// <summary>
/// A whole lab as written in one topology file: nodes, the links between their interfaces, which process
/// hosts which node, and the scenarios that can be run on it. Immutable; produced by
/// <see cref="Loading.TopologyLoader"/> or <see cref="HubTopology.Generate"/>.
/// </summary>
public sealed record TopologySpec(
    string Name,
    ulong? Seed,
    DefaultsSpec Defaults,
    ImmutableArray<NodeSpec> Nodes,
    ImmutableArray<LinkSpec> Links,
    PlacementSpec? Placement,
    ImmutableArray<ScenarioSpec> Scenarios,
    SourceLocation Location)
{
    // Indexes of a topology, built on first use and kept beside it (not in it: a record's equality covers its fields).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TopologySpec, Index> Indexes = new();

    private sealed class Index(TopologySpec t)
    {
        public Dictionary<string, NodeSpec> Nodes { get; } = t.Nodes.DistinctBy(n => n.Name).ToDictionary(n => n.Name, StringComparer.Ordinal);
        public Dictionary<LinkSpec, int> Links { get; } = ByReference(t.Links);

        private static Dictionary<LinkSpec, int> ByReference(ImmutableArray<LinkSpec> links)
        {
            var d = new Dictionary<LinkSpec, int>(links.Length, ReferenceEqualityComparer.Instance);
            for (var i = 0; i < links.Length; i++) d.TryAdd(links[i], i);
            return d;
        }
    }

    private Index Indexed => Indexes.GetValue(this, t => new Index(t));

    /// <summary>The node called <paramref name="name"/>, or null (the first of that name).</summary>
    public NodeSpec? FindNode(string name) => Indexed.Nodes.GetValueOrDefault(name);

    /// <summary>The position of <paramref name="link"/> in <see cref="Links"/>, or -1.</summary>
    public int IndexOfLink(LinkSpec link) => Indexed.Links.TryGetValue(link, out var i) ? i : Links.IndexOf(link);

    /// <summary>The link holding <paramref name="node"/>:<paramref name="interfaceName"/>, or null.</summary>
    public LinkSpec? FindLink(string node, string interfaceName)
    {
        foreach (var l in Links)
            foreach (var e in l.Endpoints)
                if (e.Node == node && e.Interface == interfaceName) return l;
        return null;
    }

    /// <summary>
    /// Picks a scenario the way "nodes run FILE --scenario NAME" does: by name when one is given, otherwise the
    /// one marked <c>default: true</c>, otherwise the first. False with a sentence when nothing fits.
    /// </summary>
    public bool TrySelectScenario(string? name, out ScenarioSpec? scenario, out string? error)
    {
        scenario = null;
        error = null;
        if (Scenarios.IsDefaultOrEmpty)
        {
            error = $"topology '{Name}' defines no scenarios";
            return false;
        }
        if (name is null)
        {
            scenario = Scenarios.FirstOrDefault(s => s.IsDefault) ?? Scenarios[0];
            return true;
        }
        scenario = Scenarios.FirstOrDefault(s => s.Name == name);
        if (scenario is not null) return true;
        error = $"topology '{Name}' has no scenario '{name}' (it has: {string.Join(", ", Scenarios.Select(s => s.Name))})";
        return false;
    }

    /// <summary>The topology as a scenario sees it: nodes the scenario overrides are replaced by its versions.</summary>
    public TopologySpec ForScenario(ScenarioSpec scenario)
    {
        if (scenario.NodeOverrides.IsDefaultOrEmpty) return this;
        var replaced = Nodes.Select(n => scenario.NodeOverrides.FirstOrDefault(o => o.Name == n.Name) ?? n).ToImmutableArray();
        return this with { Nodes = replaced };
    }
}

/// <summary>Values that apply to every node unless the node says otherwise.</summary>
public sealed record DefaultsSpec(int Mtu, HostOs Os)
{
    /// <summary>Ethernet's 1500-byte MTU and Windows hosts.</summary>
    public static DefaultsSpec Standard { get; } = new(1500, HostOs.Windows);
}

/// <summary>Which simulator process hosts which nodes. Every node is placed exactly once.</summary>
public sealed record PlacementSpec(ImmutableArray<ProcessPlacement> Processes, SourceLocation Location)
{
    // A generated hub places hundreds of thousands of nodes: they are looked up by name, indexed on first use (kept
    // beside the record, so that equality stays the placement's own).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PlacementSpec, Dictionary<string, string>> Indexes = new();

    /// <summary>The process hosting <paramref name="node"/>, or null when the node is not placed.</summary>
    public string? ProcessOf(string node) => Indexes.GetValue(this, static p =>
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var process in p.Processes)
            foreach (var n in process.Nodes) index.TryAdd(n, process.Name);
        return index;
    }).GetValueOrDefault(node);
}

/// <summary>One process and the nodes it hosts.</summary>
public sealed record ProcessPlacement(string Name, ImmutableArray<string> Nodes, SourceLocation Location);
