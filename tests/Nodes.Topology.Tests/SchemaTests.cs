using System.Text.Json;
using Nodes.Topology.Loading;

namespace Nodes.Topology.Tests;

/// <summary>
/// The JSON Schema editors use must agree with the loader: same keys per mapping, and every shipped lab
/// allowed by it. The walk below follows $ref, properties, additionalProperties, items and anyOf (choosing
/// the branches whose "const" properties match, as a node's kind picks its schema).
/// </summary>
public class SchemaTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Labs.Folder, "nodes-topology.schema.json"))).RootElement;

    [Fact]
    public void Schema_must_offer_exactly_the_loaders_keys()
    {
        var defs = Schema.GetProperty("$defs");
        foreach (var (name, keys) in TopologyKeys.ByDefinition)
        {
            var properties = defs.GetProperty(name).GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
            Assert.Equal(keys.Order(StringComparer.Ordinal), properties);
        }
    }

    [Fact]
    public void Schema_must_be_draft_2020_12()
    {
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema.GetProperty("$schema").GetString());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Shipped_lab_keys_must_be_allowed_by_the_schema(string file)
    {
        var path = Path.Combine(Labs.Folder, file);
        var text = File.ReadAllText(path);
        Assert.StartsWith("# yaml-language-server: $schema=./nodes-topology.schema.json", text, StringComparison.Ordinal);
        var root = YamlTree.Read(text, file, []);
        Assert.NotNull(root);
        var problems = new List<string>();
        Walk(Schema, root!, "", problems);
        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    [Fact]
    public void Schema_walk_must_catch_a_key_the_schema_does_not_allow()
    {
        var root = YamlTree.Read("name: x\ntopology:\n  nodes:\n    a:\n      kind: host\n      mss-clamp: 1350\n      interfaces: {}\n", "x.yaml", []);
        var problems = new List<string>();
        Walk(Schema, root!, "", problems);
        Assert.Equal(["/topology/nodes/a: key 'mss-clamp' not allowed"], problems);
    }

    public static TheoryData<string> Names => Labs.Names;

    private static JsonElement Resolve(JsonElement s)
    {
        while (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("$ref", out var r))
            s = Schema.GetProperty("$defs").GetProperty(r.GetString()!["#/$defs/".Length..]);
        return s;
    }

    private static List<JsonElement> Branches(JsonElement s, YNode node)
    {
        s = Resolve(s);
        if (!s.TryGetProperty("anyOf", out var any)) return [s];
        var result = new List<JsonElement>();
        foreach (var b in any.EnumerateArray().Select(Resolve))
        {
            var fits = (node, b.TryGetProperty("type", out var t) ? t.GetString() : null) switch
            {
                (YMap, "object") => true,
                (YSeq, "array") => true,
                (YScalar, not ("object" or "array")) => true,
                (_, null) => true,
                _ => false,
            };
            if (fits && node is YMap m && b.TryGetProperty("properties", out var props))
                foreach (var p in props.EnumerateObject())
                    if (p.Value.TryGetProperty("const", out var c) && m[p.Name] is YScalar v && v.Value != c.GetString()) fits = false;
            if (fits) result.Add(b);
        }
        return result;
    }

    private static void Walk(JsonElement schema, YNode node, string path, List<string> problems)
    {
        var branches = Branches(schema, node);
        if (branches.Count == 0)
        {
            problems.Add($"{path}: no schema branch fits");
            return;
        }
        switch (node)
        {
            case YMap map:
                foreach (var (key, value) in map.Entries)
                {
                    JsonElement? sub = null;
                    foreach (var b in branches)
                    {
                        if (b.TryGetProperty("properties", out var props) && props.TryGetProperty(key.Value, out var ps)) { sub = ps; break; }
                        if (b.TryGetProperty("additionalProperties", out var ap) && ap.ValueKind == JsonValueKind.Object) { sub = ap; break; }
                        if (!b.TryGetProperty("additionalProperties", out _) && !b.TryGetProperty("properties", out _)) { sub = b; break; }
                    }
                    if (sub is null) problems.Add($"{path}: key '{key.Value}' not allowed");
                    else Walk(sub.Value, value, $"{path}/{key.Value}", problems);
                }
                break;
            case YSeq seq:
                var items = branches.Select(b => b.TryGetProperty("items", out var i) ? i : (JsonElement?)null).FirstOrDefault(i => i is not null);
                if (items is null) problems.Add($"{path}: a list is not allowed here");
                else foreach (var (item, i) in seq.Items.Select((x, i) => (x, i))) Walk(items.Value, item, $"{path}/{i}", problems);
                break;
        }
    }
}
