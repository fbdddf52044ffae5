using System.Globalization;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Loading;

/// <summary>
/// Collects diagnostics while the YAML tree is read, and reads typed values from nodes. Every reader reports
/// its own problem (with the node's position) and returns null, so parsing goes on and finds the next one.
/// </summary>
internal sealed class ParseContext(string file)
{
    public string File { get; } = file;

    public List<TopologyDiagnostic> Diagnostics { get; } = [];

    /// <summary>Nodes and "node:interface" names declared in the file but dropped from the model because of an error.</summary>
    public HashSet<string> Broken { get; } = new(StringComparer.Ordinal);

    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    /// <summary>
    /// One instance per node and interface name of the file, wherever it is written: every frame is matched against
    /// them (links, routers, gateways), and equal names that are the same object compare at once.
    /// </summary>
    public string Name(string name)
    {
        if (_names.TryGetValue(name, out var known)) return known;
        _names[name] = name;
        return name;
    }

    public void Error(YNode at, string message, string? hint) => Error(at.At, message, hint);

    public void Error(SourceLocation at, string message, string? hint) => Diagnostics.Add(TopologyDiagnostic.At(at, message, hint));

    /// <summary>Opens a mapping, reporting unknown keys (with a did-you-mean hint) against <paramref name="allowed"/>.</summary>
    public MapReader? Map(YNode? node, string what, IReadOnlyList<string> allowed)
    {
        if (node is null) return null;
        if (node is not YMap map)
        {
            Error(node, $"{what} must be a mapping, found {node.Describe()}", $"write it as 'key: value' lines indented under it");
            return null;
        }
        foreach (var (key, _) in map.Entries)
        {
            if (allowed.Contains(key.Value)) continue;
            var near = Suggest.Closest(key.Value, allowed);
            Error(key, $"unknown key '{key.Value}' in {what}",
                near is not null ? $"did you mean '{near}'?" : $"allowed keys: {string.Join(", ", allowed)}");
        }
        return new MapReader(this, map, what);
    }

    public string? Text(YNode? node, string what)
    {
        if (node is null) return null;
        if (node is YScalar { IsNull: false } s) return s.Value;
        Error(node, $"{what} must be text, found {node.Describe()}", null);
        return null;
    }

    public int? Int(YNode? node, string what, int min, int max)
    {
        if (Text(node, what) is not { } t) return null;
        if (!int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            Error(node!, $"{what} must be a whole number, found '{t}'", $"write a number from {min} to {max}");
            return null;
        }
        if (v < min || v > max)
        {
            Error(node!, $"{what} {v} is out of range", $"use a value from {min} to {max}");
            return null;
        }
        return v;
    }

    public double? Number(YNode? node, string what, double min, double max)
    {
        if (Text(node, what) is not { } t) return null;
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            Error(node!, $"{what} must be a number, found '{t}'", null);
            return null;
        }
        if (v < min || v > max)
        {
            Error(node!, $"{what} {t} is out of range", $"use a value from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return v;
    }

    public bool? Bool(YNode? node, string what)
    {
        if (Text(node, what) is not { } t) return null;
        switch (t.ToLowerInvariant())
        {
            case "true": return true;
            case "false": return false;
            default:
                Error(node!, $"{what} must be true or false, found '{t}'", null);
                return null;
        }
    }

    /// <summary>A value from a fixed list, compared case-insensitively; the hint suggests the nearest name.</summary>
    public T? Choice<T>(YNode? node, string what, IReadOnlyList<(string Name, T Value)> choices) where T : struct
    {
        if (Text(node, what) is not { } t) return null;
        foreach (var (name, value) in choices)
            if (string.Equals(name, t, StringComparison.OrdinalIgnoreCase)) return value;
        var names = choices.Select(c => c.Name).ToArray();
        var near = Suggest.Closest(t, names);
        Error(node!, $"{what} '{t}' is not one of {string.Join(", ", names)}", near is not null ? $"did you mean '{near}'?" : null);
        return null;
    }

    public Ipv4Address? Address(YNode? node, string what)
    {
        if (Text(node, what) is not { } t) return null;
        if (Ipv4Address.TryParse(t, out var a)) return a;
        var hint = t.Contains('/', StringComparison.Ordinal) ? "write the address without a prefix length" : "write four numbers 0-255 separated by dots, without leading zeros, e.g. 192.168.29.1";
        Error(node!, $"{what} '{t}' is not an IPv4 address", hint);
        return null;
    }

    /// <summary>A network prefix; host bits must be zero (10.0.10.0/24, not 10.0.10.4/24).</summary>
    public Ipv4Prefix? Prefix(YNode? node, string what)
    {
        if (Text(node, what) is not { } t) return null;
        return Prefix(node!, t, what);
    }

    public Ipv4Prefix? Prefix(YNode at, string t, string what)
    {
        if (!Ipv4Prefix.TryParse(t, out var p))
        {
            Error(at, $"{what} '{t}' is not an IPv4 prefix", "write a.b.c.d/n with n from 0 to 32, e.g. 10.0.10.0/24");
            return null;
        }
        if (!Ipv4Prefix.TryParseExact(t, out _))
        {
            Error(at, $"{what} '{t}' has host bits set", $"did you mean '{p}'?");
            return null;
        }
        return p;
    }

    public List<YNode> List(YNode? node, string what)
    {
        switch (node)
        {
            case null: return [];
            case YSeq s: return [.. s.Items];
            default:
                Error(node, $"{what} must be a list, found {node.Describe()}", "write each item on its own line starting with '- '");
                return [];
        }
    }

    /// <summary>A list of prefixes; a single prefix written without brackets is accepted.</summary>
    public List<Ipv4Prefix> Prefixes(YNode? node, string what)
    {
        var items = node is YScalar { IsNull: false } ? [node] : List(node, what);
        var result = new List<Ipv4Prefix>();
        foreach (var item in items)
            if (Prefix(item, what) is { } p) result.Add(p);
        return result;
    }

    public TimeSpan? Duration(YNode? node, string what)
    {
        if (Text(node, what) is not { } t) return null;
        if (!Units.TryDuration(t, out var d))
        {
            Error(node!, $"{what} '{t}' is not a duration", "write a number with a unit: us, ms, s, m or h, e.g. 500ms or 30s");
            return null;
        }
        if (d > TopologyLimits.MaxDuration)
        {
            Error(node!, $"{what} '{t}' is longer than a day, the longest a lab runs", $"write at most {TopologyLimits.MaxDurationText}");
            return null;
        }
        return d;
    }
}

/// <summary>A mapping being read; keys were checked when it was opened.</summary>
internal sealed class MapReader(ParseContext ctx, YMap map, string what)
{
    public YMap Node => map;

    public string What => what;

    public YNode? this[string key] => map[key];

    public bool Has(string key) => map[key] is { } v && v is not YScalar { IsNull: true };

    /// <summary>The value of a key that must be present; reports it missing otherwise.</summary>
    public YNode? Required(string key, string? hint = null)
    {
        var v = map[key];
        if (v is null or YScalar { IsNull: true })
        {
            ctx.Error(v ?? (YNode)map, v is null ? $"{what} is missing required key '{key}'" : $"'{key}' in {what} has no value", hint);
            return null;
        }
        return v;
    }
}
