using System.Collections.Immutable;
using System.Globalization;
using Nodes.Ike.Proposals;
using Nodes.Topology.Model;
using Nodes.Topology.Validation;

namespace Nodes.Topology.Loading;

/// <summary>The outcome of loading a topology file: the model when the file is clean, and every diagnostic found.</summary>
public sealed record TopologyLoadResult(TopologySpec? Topology, ImmutableArray<TopologyDiagnostic> Diagnostics)
{
    public bool Succeeded => Topology is not null;
}

/// <summary>
/// Reads topology YAML into a <see cref="TopologySpec"/> and validates it. Never throws on bad input: YAML
/// syntax errors, unknown keys, bad values and inconsistent wiring all come back as diagnostics, as many as can
/// be found in one pass, sorted by position.
/// </summary>
public static class TopologyLoader
{
    public static TopologyLoadResult Load(string path)
    {
        string text;
        try
        {
            // Read at most one byte past the limit: a device such as /dev/zero never ends, and its length reads 0.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[TopologyLimits.MaxFileBytes + 1];
            var length = 0;
            for (int n; length < buffer.Length && (n = stream.Read(buffer, length, buffer.Length - length)) > 0;) length += n;
            if (length > TopologyLimits.MaxFileBytes) return TooLarge(path);
            using var reader = new StreamReader(new MemoryStream(buffer, 0, length), detectEncodingFromByteOrderMarks: true);
            text = reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new TopologyLoadResult(null, [new TopologyDiagnostic(path, 1, 1, $"cannot read the file: {e.Message}", "check the path and permissions")]);
        }
        return LoadFromString(text, path);
    }

    private static TopologyLoadResult TooLarge(string fileName) => new(null,
        [new TopologyDiagnostic(fileName, 1, 1, $"the file is larger than {TopologyLimits.MaxFileBytes / 1024} KB, the most a topology file may hold", "a topology is a few KB of YAML: check that this is the right file")]);

    public static TopologyLoadResult LoadFromString(string text, string fileName)
    {
        if (text.Length > TopologyLimits.MaxFileBytes) return TooLarge(fileName);
        var ctx = new ParseContext(fileName);
        var root = YamlTree.Read(text, fileName, ctx.Diagnostics);
        TopologySpec? spec = null;
        if (root is not null) spec = new TopologyParser(ctx).Parse(root);
        if (spec is not null)
        {
            var topologyWide = TopologyValidator.Validate(spec, ctx.Broken);
            ctx.Diagnostics.AddRange(topologyWide);
            // A scenario's nodes are the topology's with its overrides, so the topology's own problems come back in each:
            // only what an override adds is reported, once, naming every scenario it shows in.
            var known = topologyWide.Select(d => (d.Line, d.Column, d.Message)).ToHashSet();
            var added = new Dictionary<(int Line, int Column, string Message), (TopologyDiagnostic First, List<string> Scenarios)>();
            foreach (var s in spec.Scenarios.Where(s => !s.NodeOverrides.IsDefaultOrEmpty))
                foreach (var d in TopologyValidator.Validate(spec.ForScenario(s), ctx.Broken))
                {
                    var key = (d.Line, d.Column, d.Message);
                    if (known.Contains(key)) continue;
                    if (added.TryGetValue(key, out var seen)) seen.Scenarios.Add(s.Name);
                    else added[key] = (d, [s.Name]);
                }
            foreach (var (first, scenarios) in added.Values)
                ctx.Diagnostics.Add(first with { Message = $"{first.Message} (in scenario{(scenarios.Count > 1 ? "s" : "")} {string.Join(", ", scenarios.Select(n => $"'{n}'"))})" });
        }
        var diagnostics = ctx.Diagnostics
            .DistinctBy(d => (d.Line, d.Column, d.Message))
            .OrderBy(d => d.Line).ThenBy(d => d.Column)
            .ToImmutableArray();
        return new TopologyLoadResult(diagnostics.IsEmpty ? spec : null, diagnostics);
    }
}

/// <summary>Reads the document root, topology, links, placement and scenarios.</summary>
internal sealed class TopologyParser(ParseContext ctx)
{
    public TopologySpec? Parse(YNode root)
    {
        var r = ctx.Map(root, "the topology file", TopologyKeys.Root);
        if (r is null) return null;
        var name = ctx.Text(r.Required("name", "name the lab, e.g. 'name: azure-s2s-rras'"), "name");
        ulong? seed = null;
        if (r.Has("seed") && ctx.Text(r["seed"], "seed") is { } st)
        {
            if (ulong.TryParse(st, NumberStyles.None, CultureInfo.InvariantCulture, out var sv)) seed = sv;
            else ctx.Error(r["seed"]!, $"seed '{st}' is not a whole number", "use a number from 0 to 18446744073709551615");
        }
        if (r.Has("hub")) return Hub(r, name, seed);
        var t = ctx.Map(r.Required("topology", "add 'topology:' with 'nodes:' and 'links:'"), "topology", TopologyKeys.Topology);
        var defaults = DefaultsSpec.Standard;
        if (t is not null && ctx.Map(t["defaults"], "defaults", TopologyKeys.Defaults) is { } d)
        {
            var mtu = d.Has("mtu") ? ctx.Int(d["mtu"], "default mtu", 68, 9216) : defaults.Mtu;
            var os = d.Has("os") ? ctx.Choice(d["os"], "default os", NodeParser.OsNames) : defaults.Os;
            defaults = new DefaultsSpec(mtu ?? defaults.Mtu, os ?? defaults.Os);
        }
        var nodeParser = new NodeParser(ctx, defaults);
        var nodes = ImmutableArray.CreateBuilder<NodeSpec>();
        var nodesNode = t?.Required("nodes", "declare the nodes, e.g. 'nodes: { client: { kind: host, ... } }'");
        var nodesMap = nodesNode as YMap;
        if (nodesNode is not null && nodesMap is null)
            ctx.Error(nodesNode, $"nodes must be a mapping of node names, found {nodesNode.Describe()}", "write 'client: { kind: host, ... }' under nodes");
        foreach (var (key, value) in nodesMap?.Entries ?? [])
            if (nodeParser.Parse(key, value) is { } n) nodes.Add(n);
        var spec0 = new TopologySpec(name ?? "", seed, defaults, nodes.ToImmutable(), [], null, [], root.At);
        var links = ImmutableArray.CreateBuilder<LinkSpec>();
        if (t is not null)
            foreach (var item in ctx.List(t["links"], "links"))
                if (Link(item, nodeParser) is { } l) links.Add(l);
        var declaredNodes = nodesMap?.Entries.Select(e => e.Key.Value).ToArray() ?? [];
        var placement = r.Has("placement") ? Placement(r["placement"]!, declaredNodes) : null;
        var spec1 = spec0 with { Links = links.ToImmutable() };
        var scenarios = ImmutableArray.CreateBuilder<ScenarioSpec>();
        if (r["scenarios"] is { } sn)
        {
            if (sn is YMap sm)
            {
                YScalar? firstDefault = null;
                foreach (var (key, value) in sm.Entries)
                {
                    var s = new ScenarioParser(ctx, spec1, nodesMap, nodeParser, declaredNodes).Parse(key, value);
                    if (s is null) continue;
                    if (s.IsDefault)
                    {
                        if (firstDefault is not null)
                            ctx.Error(key, $"scenarios '{firstDefault.Value}' and '{key.Value}' are both marked default", "mark one scenario 'default: true'");
                        else firstDefault = key;
                    }
                    scenarios.Add(s);
                }
            }
            else if (sn is not YScalar { IsNull: true })
                ctx.Error(sn, $"scenarios must be a mapping of scenario names, found {sn.Describe()}", "write 'ping-vm: { traffic: [...], expect: {...} }' under scenarios");
        }
        if (name is null || t is null || nodesMap is null) return null;
        return spec1 with { Placement = placement, Scenarios = scenarios.ToImmutable() };
    }

    /// <summary>
    /// A generated hub (<see cref="HubTopology"/>): <c>hub: { branches: N, proposal: P, members: K }</c> in place of
    /// <c>topology:</c>, <c>placement:</c> and <c>scenarios:</c>, which the generator makes.
    /// </summary>
    private TopologySpec? Hub(MapReader r, string? name, ulong? seed)
    {
        var hubNode = r["hub"]!;
        foreach (var key in new[] { "topology", "placement", "scenarios" })
            if (r.Has(key))
                ctx.Error(r[key]!, $"'{key}' cannot stand beside 'hub': the hub generator makes the nodes, links, placement and scenario",
                    "keep 'hub:' for a generated hub, or remove it and write the topology out");
        var h = ctx.Map(hubNode, "hub", TopologyKeys.Hub);
        if (h is null) return null;
        var branches = ctx.Int(h.Required("branches", "say how many branch sites, e.g. 'branches: 1000'"), "hub branches", 1, HubTopology.MaxBranches);
        Proposal? proposal = null;
        if (h.Has("proposal") && ctx.Text(h["proposal"], "hub proposal") is { } text && !ProposalText.TryParse(text, forIke: true, out proposal, out var why))
            ctx.Error(h["proposal"]!, $"hub proposal '{text}' is not an IKE proposal: {why}", "write it in strongSwan syntax, e.g. aes128-sha256-x25519, or leave it out for each device's defaults");
        var members = h.Has("members") ? ctx.Int(h["members"], "hub members", 1, HubTopology.MaxMembers) : 1;
        if (branches is { } b && members is { } m && m > b + 1)
            ctx.Error(h["members"]!, $"hub members {m} is more than the hub's process and one per branch ({b + 1})", $"use at most {b + 1} members");
        if (name is null || branches is null || members is null || ctx.Diagnostics.Count > 0) return null;
        return HubTopology.Generate(branches.Value, seed ?? 1, proposal, Math.Min(members.Value, branches.Value + 1), hubNode.At) with { Name = name, Seed = seed };
    }

    private LinkSpec? Link(YNode item, NodeParser nodeParser)
    {
        var m = ctx.Map(item, "link", TopologyKeys.Link);
        if (m is null) return null;
        var ok = true;
        var endpoints = ImmutableArray.CreateBuilder<EndpointSpec>();
        var epNode = m.Required("endpoints", "write endpoints: [\"client:eth0\", \"rras:lan\"]");
        foreach (var e in ctx.List(epNode, "endpoints"))
        {
            if (ctx.Text(e, "endpoint") is not { } text) { ok = false; continue; }
            var colon = text.IndexOf(':');
            if (colon <= 0 || colon == text.Length - 1 || text.IndexOf(':', colon + 1) >= 0)
            {
                ctx.Error(e, $"endpoint '{text}' is not 'node:interface'", "write the node name and the interface name joined by ':', e.g. \"rras:lan\"");
                ok = false;
                continue;
            }
            endpoints.Add(new EndpointSpec(ctx.Name(text[..colon]), ctx.Name(text[(colon + 1)..]), e.At));
        }
        string? segment = null;
        if (m.Has("segment"))
        {
            segment = ctx.Text(m["segment"], "segment");
            if (segment is not null && !NodeParser.NameRule().IsMatch(segment))
            {
                ctx.Error(m["segment"]!, $"segment name '{segment}' is not allowed", "use letters, digits, '-', '_' and '.'");
                ok = false;
            }
        }
        if (epNode is YSeq seq && seq.Items.Count < 2)
        {
            ctx.Error(epNode, $"a link needs at least two endpoints, found {seq.Items.Count}", "list both ends, e.g. [\"client:eth0\", \"rras:lan\"]");
            ok = false;
        }
        if (epNode is YSeq seq3 && seq3.Items.Count > 2 && !m.Has("segment"))
        {
            ctx.Error(epNode, $"a link with {seq3.Items.Count} endpoints is a shared segment and needs a name", "add 'segment: home-lan' (a switch joining all the endpoints)");
            ok = false;
        }
        var mtu = m.Has("mtu") ? ctx.Int(m["mtu"], "link mtu", 68, 9216) : null;
        // A link whose settings are bad still joins its endpoints, so its interfaces are not reported as unattached too.
        var impairments = nodeParser.Impairments(m, "this link") ?? ImpairmentSpec.None;
        if (epNode is null || (!ok && endpoints.Count < 2)) return null;
        var name = segment ?? string.Join("--", endpoints.Select(e => e.ToString()));
        return new LinkSpec(name, segment, endpoints.ToImmutable(), mtu, impairments, item.At);
    }

    private PlacementSpec? Placement(YNode body, string[] declaredNodes)
    {
        if (body is not YMap map)
        {
            ctx.Error(body, $"placement must be a mapping of process names to node lists, found {body.Describe()}", "write 'home: [client, rras, isp-router]'");
            return null;
        }
        var processes = ImmutableArray.CreateBuilder<ProcessPlacement>();
        var placedAt = new Dictionary<string, (string Process, YNode At)>();
        foreach (var (key, value) in map.Entries)
        {
            if (!NodeParser.NameRule().IsMatch(key.Value))
                ctx.Error(key, $"process name '{key.Value}' is not allowed", "use letters, digits, '-', '_' and '.'");
            var names = ImmutableArray.CreateBuilder<string>();
            foreach (var item in ctx.List(value, $"nodes of process '{key.Value}'"))
            {
                if (ctx.Text(item, "node name") is not { } n) continue;
                if (!declaredNodes.Contains(n))
                {
                    var near = Suggest.Closest(n, declaredNodes);
                    ctx.Error(item, $"placement of process '{key.Value}' names unknown node '{n}'", near is not null ? $"did you mean '{near}'?" : $"nodes are: {string.Join(", ", declaredNodes)}");
                    continue;
                }
                if (placedAt.TryGetValue(n, out var first))
                {
                    ctx.Error(item, $"node '{n}' is placed in process '{key.Value}' and in process '{first.Process}' (line {first.At.At.Line})", "a node runs in exactly one process; remove one of the two");
                    continue;
                }
                placedAt[n] = (key.Value, item);
                names.Add(n);
            }
            processes.Add(new ProcessPlacement(key.Value, names.ToImmutable(), key.At));
        }
        foreach (var n in declaredNodes.Where(n => !placedAt.ContainsKey(n)))
            ctx.Error(body, $"node '{n}' is not placed in any process", $"add it to one of the processes ({string.Join(", ", map.Entries.Select(e => e.Key.Value))}), or remove placement to run everything in one process");
        return new PlacementSpec(processes.ToImmutable(), body.At);
    }
}
