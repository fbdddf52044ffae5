using System.Diagnostics;
using Nodes.Host;
using Nodes.TestKit;

namespace Nodes.Cluster.Tests;

/// <summary>
/// The hub scale run across member processes (<c>nodes hub-scale N --members K</c>) with a few hundred branches: the
/// shape of its figures (every tunnel up, one ping through each, no retransmission storm, every member measured), not
/// its speed, which is for the benchmark.
/// </summary>
public sealed class HubScaleClusterTests
{
    [Fact]
    public async Task Three_hundred_branches_across_three_members_are_all_up_with_a_ping_through_each_and_no_storm()
    {
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : ExternalTool.Find("dotnet") ?? "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "nodes.dll");
        ProcessStartInfo Nodes(IReadOnlyList<string> args)
        {
            var start = new ProcessStartInfo(dotnet) { WorkingDirectory = AppContext.BaseDirectory };
            start.ArgumentList.Add(dll);
            foreach (var a in args) start.ArgumentList.Add(a);
            return start;
        }

        var r = await HubScaleCluster.RunAsync(300, 3, "aes128-sha256-x25519", 5, Nodes);

        Assert.Equal(300, r.TunnelsUp);
        Assert.Equal(300, r.PingsAnswered);
        Assert.Equal(300, r.HubKeyExchanges);
        // No storm: an IKE_AUTH or later exchange retransmitted means the hub let an SA it had started time out.
        Assert.Equal(0, r.IkeRetransmissions - r.InitRetransmissions);
        Assert.Equal(["branches-1", "branches-2", "hub"], r.Members.Select(m => m.Process).Order(StringComparer.Ordinal).ToArray());
        Assert.All(r.Members, m => Assert.True(m.ManagedBytes > 0 && m.BuildMs > 0, $"{m.Process}: {m.ManagedBytes} bytes, built in {m.BuildMs} ms"));
        Assert.NotNull(r.MembersReady);
        Assert.Equal(3 * 300 + 4, r.Nodes);
        Assert.Contains("\"members\":3", HubScaleReport.Json(r), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_program_that_cannot_start_ends_the_run_with_one_sentence_naming_it()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            HubScaleCluster.RunAsync(4, 2, null, 1, _ => new ProcessStartInfo("/nonexistent/nodes-member")));
        Assert.Contains("could not start a member with /nonexistent/nodes-member", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", e.Message, StringComparison.Ordinal);
    }
}
