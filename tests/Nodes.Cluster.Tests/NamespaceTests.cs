using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// The seven members as on separate machines: each in its own network namespace with its own address on a bridge
/// (a veth to a bridge namespace), the driver in one more. Needs root and iproute2; skipped with the reason
/// elsewhere, failed when CI is set.
/// </summary>
public sealed class NamespaceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _prefix = $"nc{Environment.ProcessId % 10000}";
    private readonly List<string> _namespaces = [];

    private void Ip(params string[] args)
    {
        var r = ExternalTool.Run("ip", args, TimeSpan.FromSeconds(10));
        if (r.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {r.StdErr}");
    }

    private void Unavailable(string reason)
    {
        if (ExternalTool.InCi) throw new InvalidOperationException($"CI is set and {reason}");
        throw new SkipException(reason);
    }

    private string AddMember(string bridge, string name, int index)
    {
        var ns = $"{_prefix}-{index}";
        Ip("netns", "add", ns);
        _namespaces.Add(ns);
        Ip("-n", ns, "link", "set", "lo", "up");
        Ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", $"p{index}", "netns", bridge);
        Ip("-n", bridge, "link", "set", $"p{index}", "master", "br0", "up");
        Ip("-n", ns, "addr", "add", $"10.231.0.{10 + index}/24", "dev", "eth0");
        Ip("-n", ns, "link", "set", "eth0", "up");
        output.WriteLine($"{name}: namespace {ns}, 10.231.0.{10 + index}");
        return ns;
    }

    [SkippableFact]
    public void Seven_members_in_their_own_network_namespaces_run_the_seed_ping()
    {
        ExternalTool.Require("ip", "Debian package iproute2");
        if (Environment.UserName != "root") Unavailable("network namespaces need root (ip netns add)");
        var bridge = $"{_prefix}-br";
        try
        {
            Ip("netns", "add", bridge);
        }
        catch (InvalidOperationException e)
        {
            Unavailable($"cannot create network namespaces here: {e.Message}");
        }
        _namespaces.Add(bridge);
        Ip("-n", bridge, "link", "add", "br0", "type", "bridge");
        Ip("-n", bridge, "link", "set", "br0", "up");
        var nsOf = new Dictionary<string, string>();
        for (var i = 0; i < LabCommandLine.Nodes.Length; i++) nsOf[LabCommandLine.Nodes[i]] = AddMember(bridge, LabCommandLine.Nodes[i], i);
        var driverNs = AddMember(bridge, "driver", 90);
        var address = LabCommandLine.Nodes.Select((n, i) => (n, $"10.231.0.{10 + i}")).ToDictionary(x => x.n, x => x.Item2);

        // The same port everywhere, as on separate machines; each member binds its own namespace's address.
        using var lab = new ClusterLab(output, n => address[n], _ => 4053, n => nsOf[n]);
        lab.StartAll();
        foreach (var (n, p) in lab.Members)
            Assert.Contains($"at akka.tcp://nodes@{address[n]}:4053", p.StdOut);
        var (code, summary, _) = lab.Drive(driverNs);

        Assert.Equal(0, code);
        Assert.True(summary.GetProperty("ok").GetBoolean());
        Assert.Equal(4, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var cluster = summary.GetProperty("cluster");
        Assert.StartsWith("akka.tcp://nodes@10.231.0.100:", cluster.GetProperty("driver").GetString());
        Assert.Equal(address.Values.Order(), cluster.GetProperty("members").EnumerateArray().Select(m => new Uri(m.GetProperty("address").GetString()!.Replace("akka.tcp://nodes@", "tcp://")).Host).Order());
    }

    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces)) ExternalTool.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(10));
    }
}
