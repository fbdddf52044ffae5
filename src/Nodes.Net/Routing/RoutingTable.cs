using Nodes.Wire.Ip;

namespace Nodes.Net.Routing;

/// <summary>
/// Longest-prefix-match IPv4 routing table. A table of up to <see cref="SmallLimit"/> routes (a host's, a branch
/// router's) is one list in lookup order, walked until the first match; a bigger one (a hub's) keeps one dictionary
/// per prefix length, keyed by network address, and a lookup probes the populated lengths from /32 down to /0, at
/// most 33 hash probes. Neither allocates on lookup. Among routes for the same prefix the lowest metric wins; equal
/// metrics keep insertion order (the first added wins). Not thread-safe.
/// </summary>
public sealed class RoutingTable
{
    /// <summary>Routes a table holds as one list; with more it indexes them by prefix length.</summary>
    public const int SmallLimit = 16;

    // Small form: every route, longest prefix first, then network, then metric, then insertion order. Null once indexed.
    private List<Route>? _small = [];
    // Indexed form, made when the table outgrows the list.
    private Dictionary<uint, List<Route>>?[]? _byLength;

    // Bit n set when some route of prefix length n exists.
    private ulong _lengths;

    /// <summary>Number of routes held.</summary>
    public int Count { get; private set; }

    /// <summary>Every route, longest prefixes first, then by network and metric.</summary>
    public IEnumerable<Route> Routes
    {
        get
        {
            if (_small is not null)
            {
                foreach (var route in _small.ToArray()) yield return route;
                yield break;
            }
            for (var length = 32; length >= 0; length--)
            {
                if (_byLength![length] is not { } table) continue;
                foreach (var key in table.Keys.Order())
                {
                    foreach (var route in table[key]) yield return route;
                }
            }
        }
    }

    /// <summary>Adds a route.</summary>
    public void Add(Route route)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(route.Interface);
        if (_small is not null)
        {
            if (_small.Count < SmallLimit)
            {
                _small.Insert(SmallPosition(route), route);
                Count++;
                return;
            }
            var held = _small;
            _small = null;
            _byLength = new Dictionary<uint, List<Route>>?[33];
            Count = 0;
            foreach (var r in held) AddIndexed(r);
        }
        AddIndexed(route);
    }

    /// <summary>Where <paramref name="route"/> goes in the small list: after every route that sorts before it or equal.</summary>
    private int SmallPosition(Route route)
    {
        var list = _small!;
        var i = 0;
        while (i < list.Count && !Before(route, list[i])) i++;
        return i;
    }

    // True when a sorts strictly before b: longer prefix, then lower network, then lower metric.
    private static bool Before(Route a, Route b) =>
        a.Prefix.Length != b.Prefix.Length ? a.Prefix.Length > b.Prefix.Length
        : a.Prefix.Network.Value != b.Prefix.Network.Value ? a.Prefix.Network.Value < b.Prefix.Network.Value
        : a.Metric < b.Metric;

    private void AddIndexed(Route route)
    {
        var table = _byLength![route.Prefix.Length] ??= new Dictionary<uint, List<Route>>();
        if (!table.TryGetValue(route.Prefix.Network.Value, out var list))
        {
            list = new List<Route>(1);
            table.Add(route.Prefix.Network.Value, list);
        }

        // Insert after every route with a metric lower or equal: stable among equals.
        var index = list.FindLastIndex(r => r.Metric <= route.Metric) + 1;
        list.Insert(index, route);
        _lengths |= 1UL << route.Prefix.Length;
        Count++;
    }

    /// <summary>Adds the connected route of an interface: its subnet, on-link, metric 0.</summary>
    public void AddConnected(IpInterface iface) => Add(new Route(iface.Prefix, null, iface.Name));

    /// <summary>Adds 0.0.0.0/0 via <paramref name="gateway"/>.</summary>
    public void AddDefault(Ipv4Address gateway, string iface, int metric = 0) =>
        Add(new Route(default, gateway, iface, metric));

    /// <summary>Removes one route equal to <paramref name="route"/>; false when none is held.</summary>
    public bool Remove(Route route)
    {
        if (_small is not null)
        {
            if (!_small.Remove(route)) return false;
            Count--;
            return true;
        }
        if (_byLength![route.Prefix.Length] is not { } table) return false;
        if (!table.TryGetValue(route.Prefix.Network.Value, out var list)) return false;
        if (!list.Remove(route)) return false;
        Count--;
        if (list.Count == 0)
        {
            table.Remove(route.Prefix.Network.Value);
            if (table.Count == 0)
            {
                _byLength[route.Prefix.Length] = null;
                _lengths &= ~(1UL << route.Prefix.Length);
            }
        }

        return true;
    }

    /// <summary>Removes every route through <paramref name="iface"/> (the interface went away); returns how many.</summary>
    public int RemoveInterface(string iface)
    {
        var doomed = Routes.Where(r => r.Interface == iface).ToList();
        foreach (var route in doomed) Remove(route);
        return doomed.Count;
    }

    /// <summary>
    /// The best route for <paramref name="destination"/>: the longest matching prefix, then the lowest
    /// metric. False when nothing matches (no default route).
    /// </summary>
    public bool TryLookup(Ipv4Address destination, out Route route)
    {
        if (_small is { } small)
        {
            foreach (var r in small)
                if (r.Prefix.Contains(destination))
                {
                    route = r;
                    return true;
                }
            route = default;
            return false;
        }
        var lengths = _lengths;
        while (lengths != 0)
        {
            var length = 63 - System.Numerics.BitOperations.LeadingZeroCount(lengths);
            lengths &= ~(1UL << length);
            var key = destination.Value & Ipv4Prefix.MaskFor(length);
            if (_byLength![length]!.TryGetValue(key, out var list))
            {
                route = list[0];
                return true;
            }
        }

        route = default;
        return false;
    }
}
