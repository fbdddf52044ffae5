using Nodes.Net.Routing;
using Nodes.Wire.Ip;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests;

public class RoutingTableTests
{
    private static RoutingTable Table()
    {
        var table = new RoutingTable();
        table.AddDefault(A("192.168.29.1"), "lan", metric: 25);
        table.AddConnected(IpInterface.Parse("lan", "192.168.29.55/24"));
        table.Add(new Route(Ipv4Prefix.Parse("10.0.0.0/8"), A("192.168.29.2"), "lan", 10));
        table.Add(new Route(Ipv4Prefix.Parse("10.0.10.0/24"), A("192.168.29.52"), "lan", 5));
        table.Add(new Route(Ipv4Prefix.Parse("10.0.10.4/32"), A("192.168.29.60"), "lan", 1));
        return table;
    }

    [Theory]
    [InlineData("10.0.10.4", "10.0.10.4/32", "192.168.29.60")]
    [InlineData("10.0.10.5", "10.0.10.0/24", "192.168.29.52")]
    [InlineData("10.9.9.9", "10.0.0.0/8", "192.168.29.2")]
    [InlineData("52.172.171.0", "0.0.0.0/0", "192.168.29.1")]
    [InlineData("192.168.29.52", "192.168.29.0/24", "192.168.29.52")]
    public void RoutingTable_must_pick_the_longest_matching_prefix(string destination, string prefix, string nextHop)
    {
        Assert.True(Table().TryLookup(A(destination), out var route));
        Assert.Equal(Ipv4Prefix.Parse(prefix), route.Prefix);
        Assert.Equal(A(nextHop), route.NextHopFor(A(destination)));
    }

    [Fact]
    public void RoutingTable_must_break_ties_on_the_same_prefix_by_metric_then_insertion()
    {
        var table = new RoutingTable();
        var prefix = Ipv4Prefix.Parse("10.0.10.0/24");
        table.Add(new Route(prefix, A("192.168.29.3"), "lan", 20));
        table.Add(new Route(prefix, A("192.168.29.52"), "lan", 10));
        table.Add(new Route(prefix, A("192.168.29.9"), "lan", 10));
        Assert.True(table.TryLookup(A("10.0.10.4"), out var best));
        Assert.Equal(A("192.168.29.52"), best.NextHop);

        Assert.True(table.Remove(best));
        Assert.True(table.TryLookup(A("10.0.10.4"), out var next));
        Assert.Equal(A("192.168.29.9"), next.NextHop);
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void RoutingTable_must_find_nothing_without_a_default_route()
    {
        var table = new RoutingTable();
        table.AddConnected(IpInterface.Parse("lan", "192.168.29.55/24"));
        Assert.False(table.TryLookup(A("10.0.10.4"), out _));
        Assert.Equal(1, table.RemoveInterface("lan"));
        Assert.False(table.TryLookup(A("192.168.29.1"), out _));
    }

    [Fact]
    public void RoutingTable_must_not_allocate_per_lookup()
    {
        var table = Table();
        table.TryLookup(A("10.0.10.4"), out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) table.TryLookup(new Ipv4Address((uint)i * 2654435761u), out _);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData(5)]
    [InlineData(RoutingTable.SmallLimit)]
    [InlineData(RoutingTable.SmallLimit + 1)]
    [InlineData(200)]
    public void RoutingTable_small_and_indexed_forms_must_answer_and_list_like_a_walk_of_every_route(int routes)
    {
        var random = new Random(routes);
        var table = new RoutingTable();
        var all = new List<Route>();
        for (var n = 0; n < routes; n++)
        {
            // Few networks and lengths, so that prefixes repeat and metrics tie.
            var length = random.Next(4) switch { 0 => 0, 1 => 8, 2 => 24, _ => 32 };
            var prefix = new Ipv4Prefix(new Ipv4Address((uint)random.Next(4) << 24 | (uint)random.Next(3) << 8 | (uint)random.Next(2)), length);
            var route = new Route(prefix, new Ipv4Address((uint)n + 1), "if" + n, random.Next(3));
            table.Add(route);
            all.Add(route);
        }
        Assert.Equal(routes, table.Count);
        // The reference: longest matching prefix, then lowest metric, then the first added.
        Route? Walk(Ipv4Address d) => all.Where(r => r.Prefix.Contains(d)).OrderByDescending(r => r.Prefix.Length).ThenBy(r => r.Metric).Cast<Route?>().FirstOrDefault();
        for (var probe = 0; probe < 500; probe++)
        {
            var d = new Ipv4Address((uint)random.Next(4) << 24 | (uint)random.Next(3) << 8 | (uint)random.Next(2));
            var expected = Walk(d);
            Assert.Equal(expected is not null, table.TryLookup(d, out var got));
            if (expected is { } e) Assert.Equal(e, got);
        }
        var listed = all.OrderByDescending(r => r.Prefix.Length).ThenBy(r => r.Prefix.Network.Value).ThenBy(r => r.Metric).ToList();
        Assert.Equal(listed, table.Routes.ToList());
        // Removing half keeps the answers right, whichever form the table is in.
        foreach (var r in all.Where((_, n) => n % 2 == 0).ToList())
        {
            Assert.True(table.Remove(r));
            all.Remove(r);
        }
        Assert.Equal(all.Count, table.Count);
        for (var probe = 0; probe < 200; probe++)
        {
            var d = new Ipv4Address((uint)random.Next(4) << 24 | (uint)random.Next(3) << 8 | (uint)random.Next(2));
            var expected = Walk(d);
            Assert.Equal(expected is not null, table.TryLookup(d, out var got));
            if (expected is { } e) Assert.Equal(e, got);
        }
    }
}
