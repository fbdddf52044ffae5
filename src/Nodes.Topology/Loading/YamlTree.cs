using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Nodes.Topology.Loading;

/// <summary>A YAML node with the place it starts in the source file.</summary>
internal abstract class YNode(SourceLocation at)
{
    public SourceLocation At { get; } = at;

    /// <summary>"a mapping", "a list", "text": used in "expected X, found Y" messages.</summary>
    public abstract string Describe();
}

internal sealed class YScalar(SourceLocation at, string value, bool plain) : YNode(at)
{
    public string Value { get; } = value;

    /// <summary>Unquoted; only plain scalars can mean null ("~", "null" or nothing).</summary>
    public bool Plain { get; } = plain;

    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsNull ? "nothing (null)" : $"'{Value}'";
}

internal sealed class YSeq(SourceLocation at, IReadOnlyList<YNode> items) : YNode(at)
{
    public IReadOnlyList<YNode> Items { get; } = items;

    public override string Describe() => "a list";
}

internal sealed class YMap(SourceLocation at, IReadOnlyList<KeyValuePair<YScalar, YNode>> entries) : YNode(at)
{
    public IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries { get; } = entries;

    public YNode? this[string key]
    {
        get
        {
            foreach (var e in Entries)
                if (e.Key.Value == key) return e.Value;
            return null;
        }
    }

    public YScalar? KeyNode(string key)
    {
        foreach (var e in Entries)
            if (e.Key.Value == key) return e.Key;
        return null;
    }

    public override string Describe() => "a mapping";

    /// <summary>
    /// Deep merge used by scenario overrides: mappings merge key by key, anything else replaces, and a null
    /// value removes the key. Locations stay those of whichever side supplied the value.
    /// </summary>
    public static YMap Merge(YMap baseMap, YMap overlay)
    {
        var result = new List<KeyValuePair<YScalar, YNode>>(baseMap.Entries);
        foreach (var (key, value) in overlay.Entries)
        {
            var index = result.FindIndex(e => e.Key.Value == key.Value);
            if (value is YScalar { IsNull: true })
            {
                if (index >= 0) result.RemoveAt(index);
                continue;
            }
            if (index < 0)
            {
                result.Add(new(key, value));
                continue;
            }
            var merged = result[index].Value is YMap bm && value is YMap om ? Merge(bm, om) : value;
            result[index] = new(result[index].Key, merged);
        }
        return new YMap(baseMap.At, result);
    }
}

/// <summary>
/// Builds the <see cref="YNode"/> tree from YamlDotNet's parser events, so that every node keeps its
/// position, duplicate keys are reported (with both places) instead of aborting, aliases resolve to their
/// anchors and "&lt;&lt;" merge keys work. A syntax error becomes one diagnostic at the parser's mark.
/// </summary>
internal static class YamlTree
{
    public static YNode? Read(string text, string file, List<TopologyDiagnostic> diagnostics)
    {
        var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                diagnostics.Add(new(file, 1, 1, "the file is empty", "start with 'name:' and 'topology:'"));
                return null;
            }
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, anchors, diagnostics, 0);
            parser.Consume<DocumentEnd>();
            if (parser.Current is DocumentStart second)
                diagnostics.Add(new(file, Line(second.Start), Col(second.Start), "the file holds more than one YAML document", "keep one topology per file and remove the '---' separator"));
            return root;
        }
        catch (TooDeepException e)
        {
            diagnostics.Add(TopologyDiagnostic.At(e.At, $"mappings and lists are nested deeper than {Model.TopologyLimits.MaxDepth} levels here",
                "a topology needs fewer than ten levels; check for unclosed '[' or '{', or split the structure"));
            return null;
        }
        catch (YamlException e)
        {
            var message = e.InnerException?.Message ?? e.Message;
            // YamlDotNet prefixes its messages with "(Line: x, Col: y, Idx: z) - (…): ", which the diagnostic already shows.
            var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
            if (message.StartsWith("(Line", StringComparison.Ordinal) && cut >= 0) message = message[(cut + 3)..];
            diagnostics.Add(new(file, Line(e.Start), Col(e.Start), $"YAML syntax error: {message}", "check the indentation and quoting around this place"));
            return null;
        }
        catch (ArgumentException e)
        {
            // YamlDotNet refuses some tags ("Global tags must be valid URIs") with an ArgumentException rather than a
            // YamlException (found by afl-fuzz); the place is the end of the last complete event.
            var at = parser.Current?.End ?? Mark.Empty;
            diagnostics.Add(new(file, Math.Max(1, Line(at)), Math.Max(1, Col(at)), $"YAML syntax error: {e.Message.Split(" (Parameter", 2)[0]}",
                "a topology needs no YAML tags ('!' or '!!' before a value): remove them, or quote a value that starts with '!'"));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner gives up on some broken flow collections ("{ a: b" followed by more lines) without a
            // YamlException; the place is then the end of the last complete event.
            var at = parser.Current?.End ?? Mark.Empty;
            diagnostics.Add(new(file, Math.Max(1, Line(at)), Math.Max(1, Col(at)), "YAML syntax error: unterminated or malformed flow collection after this point",
                "check that every '{' and '[' is closed on the same item"));
            return null;
        }
    }

    internal static int Line(Mark m) => (int)m.Line;

    internal static int Col(Mark m) => (int)m.Column;

    private static SourceLocation Loc(string file, Mark m) => new(file, Line(m), Col(m));

    /// <summary>Thrown at the first collection beyond <see cref="Model.TopologyLimits.MaxDepth"/>, before recursing into it.</summary>
    private sealed class TooDeepException(SourceLocation at) : Exception
    {
        public SourceLocation At { get; } = at;
    }

    private static YNode ReadNode(IParser parser, string file, Dictionary<string, YNode> anchors, List<TopologyDiagnostic> diagnostics, int depth)
    {
        var current = parser.Current ?? throw new YamlException("unexpected end of input");
        if (current is SequenceStart or MappingStart && depth >= Model.TopologyLimits.MaxDepth) throw new TooDeepException(Loc(file, current.Start));
        YNode node;
        switch (current)
        {
            case AnchorAlias alias:
                parser.MoveNext();
                if (anchors.TryGetValue(alias.Value.Value, out var target)) return target;
                diagnostics.Add(TopologyDiagnostic.At(Loc(file, alias.Start), $"alias '*{alias.Value.Value}' names no anchor", $"define '&{alias.Value.Value}' before using it"));
                return new YScalar(Loc(file, alias.Start), string.Empty, plain: true);
            case Scalar s:
                parser.MoveNext();
                node = new YScalar(Loc(file, s.Start), s.Value, s.Style == ScalarStyle.Plain);
                break;
            case SequenceStart ss:
            {
                parser.MoveNext();
                var items = new List<YNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                    items.Add(ReadNode(parser, file, anchors, diagnostics, depth + 1));
                node = new YSeq(Loc(file, ss.Start), items);
                break;
            }
            case MappingStart ms:
            {
                parser.MoveNext();
                var entries = new List<KeyValuePair<YScalar, YNode>>();
                var seen = new Dictionary<string, YScalar>(StringComparer.Ordinal);
                var merged = new List<YMap>();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyNode = ReadNode(parser, file, anchors, diagnostics, depth + 1);
                    var value = ReadNode(parser, file, anchors, diagnostics, depth + 1);
                    if (keyNode is not YScalar key)
                    {
                        diagnostics.Add(TopologyDiagnostic.At(keyNode.At, $"a key must be plain text, found {keyNode.Describe()}", "write keys as words like 'address:'"));
                        continue;
                    }
                    if (key.Plain && key.Value == "<<")
                    {
                        switch (value)
                        {
                            case YMap m: merged.Add(m); break;
                            case YSeq seq when seq.Items.All(i => i is YMap):
                                merged.AddRange(seq.Items.Cast<YMap>());
                                break;
                            default:
                                diagnostics.Add(TopologyDiagnostic.At(value.At, "a '<<' merge key needs a mapping or a list of mappings", "write '<<: *anchor' where the anchor names a mapping"));
                                break;
                        }
                        continue;
                    }
                    if (seen.TryGetValue(key.Value, out var first))
                    {
                        diagnostics.Add(TopologyDiagnostic.At(key.At, $"duplicate key '{key.Value}' (first defined at line {first.At.Line})", "each name may appear once in a mapping; rename or remove one of them"));
                        continue;
                    }
                    seen.Add(key.Value, key);
                    entries.Add(new(key, value));
                }
                // Explicit keys win over merged ones (YAML merge key type, yaml.org/type/merge).
                foreach (var m in merged)
                    foreach (var e in m.Entries)
                        if (seen.TryAdd(e.Key.Value, e.Key)) entries.Add(e);
                node = new YMap(Loc(file, ms.Start), entries);
                break;
            }
            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
        if (current is NodeEvent { Anchor.IsEmpty: false } ne) anchors[ne.Anchor.Value] = node;
        return node;
    }
}
