using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>DELETE from our side: a run ended with --disconnect switches its gateways off, and they delete their IKE SAs.</summary>
public sealed class OurDeleteTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Ending_a_run_with_disconnect_must_delete_the_ike_sa_at_the_real_peer()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "we-delete");
        lab.StartCharon(new CharonConfig());
        var run = lab.StartNodes(Topologies.Shipped, "--count", "2", "--disconnect");
        var (exit, summary) = run.Finish(TimeSpan.FromSeconds(90));

        Assert.Equal(0, exit);
        Assert.Equal(2, summary.GetProperty("pings").GetProperty("received").GetInt32());
        Assert.Contains("disconnecting, sending DELETE for the IKE SA", run.Terminal, StringComparison.Ordinal);
        // charon's side: our INFORMATIONAL with D(IKE) arrived, was answered, and nothing is left established.
        var log = lab.CharonLog();
        Assert.Contains("received DELETE for IKE_SA", log, StringComparison.Ordinal);
        var sas = lab.Swanctl("--list-sas").StdOut;
        output.WriteLine(sas);
        Assert.DoesNotContain("ESTABLISHED", sas, StringComparison.Ordinal);
    }
}
