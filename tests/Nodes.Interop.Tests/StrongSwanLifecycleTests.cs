using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// A tunnel's life after it is up, against the real charon: Child SA and IKE SA rekeys started by either side while
/// pings cross, the DELETEs for the SAs a rekey replaced, dead peer detection when charon dies, and the protected
/// AUTHENTICATION_FAILED report when charon's AUTH does not verify.
/// </summary>
public sealed partial class StrongSwanLifecycleTests(ITestOutputHelper output)
{
    /// <summary>
    /// The tunnel's newest Child SA: a rekey that ends just as the run does leaves the one it replaces listed too, with
    /// its DELETE still on the way, and the peer's current SA is the new one.
    /// </summary>
    private static System.Text.Json.JsonElement NewestChild(System.Text.Json.JsonElement tunnel)
    {
        var children = tunnel.GetProperty("childSas");
        return children[children.GetArrayLength() - 1];
    }

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The shipped scenario rekeys-under-pings: RRAS lifetimes (IKE 28,800 s, Child 3,600 s) shrunk 1,000 times, so
    /// 128 pings 250 ms apart see a Child rekey every 4.5 to 5 s (the floor) and one IKE rekey after 26 to 28.8 s.
    /// </summary>
    [SkippableFact]
    public void Simulated_rras_rekeys_child_and_ike_sas_under_pings_and_charon_loses_none()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "we-rekey");
        lab.StartCharon(new CharonConfig());
        var run = lab.StartNodes(Topologies.Shipped, "--scenario", "rekeys-under-pings");
        Assert.True(run.WaitForLine("Child SA up", TimeSpan.FromSeconds(20)), run.Terminal);
        var first = CharonSas(lab);
        var (exit, summary) = run.Finish(RunTimeout);
        var last = CharonSas(lab);

        Assert.Equal(0, exit);
        Assert.Equal(128, summary.GetProperty("pings").GetProperty("sent").GetInt32());
        Assert.Equal(128, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var tunnel = Tunnel(summary);
        Assert.Equal("Connected", tunnel.GetProperty("state").GetString());
        var ike = tunnel.GetProperty("ike");
        Assert.Equal(1, ike.GetProperty("rekeys").GetInt32());
        var child = NewestChild(tunnel);

        // New SPIs on both sides, and charon's current SAs are ours.
        Assert.NotEqual(first.IkeInitiator, ike.GetProperty("initiatorSpi").GetString());
        Assert.NotEqual(first.IkeResponder, ike.GetProperty("responderSpi").GetString());
        Assert.Equal(ike.GetProperty("initiatorSpi").GetString(), last.IkeInitiator);
        Assert.Equal(ike.GetProperty("responderSpi").GetString(), last.IkeResponder);
        Assert.NotEqual(first.ChildIn, Bare(child.GetProperty("outboundSpi")));
        Assert.NotEqual(first.ChildOut, Bare(child.GetProperty("inboundSpi")));
        Assert.Equal(Bare(child.GetProperty("outboundSpi")), last.ChildIn);
        Assert.Equal(Bare(child.GetProperty("inboundSpi")), last.ChildOut);

        // charon answered every rekey we started (and started none), and each SA a rekey replaced went with our DELETE.
        var log = lab.CharonLog();
        var ourChildRekeys = Count(run.Terminal, "CREATE_CHILD_SA (rekey Child SA) done");
        Assert.True(ourChildRekeys >= 5, $"{ourChildRekeys} Child rekeys in 32 s with a 5 s lifetime");
        Assert.Equal(ourChildRekeys, ike.GetProperty("childRekeys").GetInt32());
        Assert.Equal(ourChildRekeys, RekeyRequestsParsed().Matches(log).Count);
        Assert.Equal(ourChildRekeys, Count(log, "received DELETE for ESP CHILD_SA with SPI"));
        Assert.Contains($"received DELETE for ESP CHILD_SA with SPI {first.ChildOut}", log, StringComparison.Ordinal);
        Assert.Contains($"IKE_SA s2s[2] rekeyed between {InteropLab.RightOuter}[{InteropLab.RightId}]...{InteropLab.LeftOuter}[{InteropLab.LeftId}]", log, StringComparison.Ordinal);
        Assert.Contains("received DELETE for IKE_SA s2s[1]", log, StringComparison.Ordinal);
        Assert.DoesNotContain("generating CREATE_CHILD_SA request", log, StringComparison.Ordinal);
        // No SA of charon's reached its hard lifetime ("closing expired CHILD_SA", "recreate after hard expire").
        Assert.DoesNotContain("expire", log, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// charon rekeys its Child SA every 3 to 4 s (hard lifetime 8 s) and its IKE SA after 10.8 to 12 s; our RRAS runs
    /// rekeys-under-pings unscaled (its real lifetimes) for 76 pings and only answers.
    /// </summary>
    [SkippableFact]
    public void Charon_rekeys_child_and_ike_sas_under_pings_and_we_lose_none()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "charon-rekeys");
        lab.StartCharon(new CharonConfig { ChildRekeyTime = "4s", ChildLifetimes = ("8s", "1s"), IkeRekeyTime = "12s" });
        var run = lab.StartNodes(Topologies.Shipped, "--scenario", "rekeys-under-pings", "--time-scale", "1", "--count", "76");
        Assert.True(run.WaitForLine("Child SA up", TimeSpan.FromSeconds(20)), run.Terminal);
        var first = CharonSas(lab);
        var (exit, summary) = run.Finish(RunTimeout);
        var last = CharonSas(lab);

        Assert.Equal(0, exit);
        Assert.Equal(76, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var tunnel = Tunnel(summary);
        Assert.Equal("Connected", tunnel.GetProperty("state").GetString());
        var ike = tunnel.GetProperty("ike");
        Assert.True(ike.GetProperty("rekeys").GetInt32() >= 1, "charon's IKE rekey counted on our side");
        var child = NewestChild(tunnel);
        Assert.NotEqual(first.IkeInitiator, ike.GetProperty("initiatorSpi").GetString());
        Assert.Equal(ike.GetProperty("initiatorSpi").GetString(), last.IkeInitiator);
        Assert.Equal(ike.GetProperty("responderSpi").GetString(), last.IkeResponder);
        Assert.NotEqual(first.ChildIn, Bare(child.GetProperty("outboundSpi")));
        Assert.Equal(Bare(child.GetProperty("outboundSpi")), last.ChildIn);
        Assert.Equal(Bare(child.GetProperty("inboundSpi")), last.ChildOut);

        // Both sides count the same rekeys: every one charon started was a rekey (none a hard expiry and a new SA),
        // and charon deleted each SA it replaced.
        var log = lab.CharonLog();
        var charonChildRekeys = RekeyRequestsGenerated().Matches(log).Count;
        Assert.True(charonChildRekeys >= 3, $"{charonChildRekeys} Child rekeys by charon");
        Assert.Equal(charonChildRekeys, ike.GetProperty("childRekeys").GetInt32());
        Assert.Equal(charonChildRekeys, Count(run.Terminal, "CREATE_CHILD_SA (rekey Child SA) done"));
        Assert.Equal(ike.GetProperty("rekeys").GetInt32(), IkeRekeyed().Matches(log).Count);
        Assert.Equal(charonChildRekeys, Count(run.Terminal, "removed (the peer deleted it)"));
        Assert.Contains($"IKE_SA s2s[2] rekeyed between {InteropLab.RightOuter}[{InteropLab.RightId}]...{InteropLab.LeftOuter}[{InteropLab.LeftId}]", log, StringComparison.Ordinal);
        Assert.Contains("sending DELETE for IKE_SA s2s[1]", log, StringComparison.Ordinal);
        Assert.Contains("IKE SA rekeyed: now", run.Terminal, StringComparison.Ordinal);
        Assert.DoesNotContain("parsed CREATE_CHILD_SA request", log, StringComparison.Ordinal); // we started none
        Assert.DoesNotContain("expire", log, StringComparison.OrdinalIgnoreCase);               // no hard lifetime reached
    }

    /// <summary>
    /// charon dies (SIGKILL, no DELETE) while the client keeps pinging. RRAS's liveness check waits 30 s of silence
    /// and gives up after 45 s; shrunk 6 times that is the 5 s delay and the 15 s floor of the timeout.
    /// </summary>
    [SkippableFact]
    public void When_charon_is_killed_dead_peer_detection_takes_the_tunnel_down()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "dead-peer");
        lab.StartCharon(new CharonConfig());
        var run = lab.StartNodes(Topologies.Rras(), "--count", "46", "--time-scale", "6");
        Assert.True(run.WaitForLine("Child SA up", TimeSpan.FromSeconds(20)), run.Terminal);
        Assert.True(run.WaitForLine("reply from 10.0.10.1", TimeSpan.FromSeconds(5)), run.Terminal);
        Thread.Sleep(1500);
        var answeredBefore = Count(run.Terminal, "reply from 10.0.10.1");
        lab.KillCharon();
        var killed = Stopwatch.StartNew();
        Assert.False(lab.CharonRunning);

        Assert.True(run.WaitForLine("Established → Closed (dead peer: liveness check unanswered)", TimeSpan.FromSeconds(40)), run.Terminal);
        var down = killed.Elapsed;
        output.WriteLine($"IKE SA closed {down.TotalSeconds:0.0} s after charon was killed");
        // The last reply came at most one ping interval before the kill: 5 s of silence, then 15 s of retried checks.
        Assert.InRange(down.TotalSeconds, 18.5, 24);
        Assert.True(run.WaitForLine("tunnel down", TimeSpan.FromSeconds(5)), run.Terminal);
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.NotEqual(0, exit);
        var terminal = run.Terminal;
        Assert.Contains("liveness check: nothing heard from 198.51.100.2:4500", terminal, StringComparison.Ordinal);
        Assert.Matches(@"retransmit: Informational message ID 2, attempt 2", terminal);
        Assert.Matches(@"giving up: dead peer: liveness check unanswered after [3-9] transmissions", terminal);
        Assert.Matches(@"Child SA 0x[0-9a-f]{8}/0x[0-9a-f]{8} removed \(dead peer: liveness check unanswered\)", terminal);
        var pings = summary.GetProperty("pings");
        Assert.Equal(46, pings.GetProperty("sent").GetInt32());
        Assert.InRange(pings.GetProperty("received").GetInt32(), answeredBefore, answeredBefore + 1);
        var tunnel = Tunnel(summary);
        Assert.NotEqual("Connected", tunnel.GetProperty("state").GetString());
        Assert.Empty(tunnel.GetProperty("childSas").EnumerateArray());
    }

    /// <summary>
    /// charon holds a second key that names only its own identity, and RRAS uses that one: charon finds it among its
    /// keys when it checks our AUTH, but signs its own AUTH with the key that names both identities. RRAS's check of
    /// charon's AUTH fails, so RRAS reports AUTHENTICATION_FAILED in a protected INFORMATIONAL (RFC 7296 section
    /// 2.21.2) and forgets the SA; charon takes the report as a DELETE and closes its IKE SA and Child SA.
    /// </summary>
    [SkippableFact]
    public void When_charons_auth_does_not_verify_we_report_authentication_failed_to_charon()
    {
        InteropLab.RequireEnvironment();
        using var lab = new InteropLab(output, "peer-auth-fails");
        lab.StartCharon(new CharonConfig { SecondSharedKey = CharonOnlyKey });
        var run = lab.StartNodes(Topologies.Rras(sharedKey: CharonOnlyKey), "--count", "1");
        var (exit, summary) = run.Finish(RunTimeout);

        Assert.NotEqual(0, exit);
        Assert.Equal(0, summary.GetProperty("pings").GetProperty("received").GetInt32());
        var failures = string.Join('\n', summary.GetProperty("failures").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains($"AUTHENTICATION_FAILED: the AUTH payload of {InteropLab.RightId} does not verify with our pre-shared key", failures, StringComparison.Ordinal);
        Assert.Contains("IKE INFORMATIONAL (report AUTHENTICATION_FAILED) done", run.Terminal, StringComparison.Ordinal);
        Assert.Empty(Tunnel(summary).GetProperty("childSas").EnumerateArray());
        var log = lab.CharonLog();
        // charon accepted our AUTH and sent its own; our report is the INFORMATIONAL request 2 that follows.
        Assert.Contains($"authentication of '{InteropLab.LeftId}' with pre-shared key successful", log, StringComparison.Ordinal);
        Assert.Contains("parsed INFORMATIONAL request 2 [ N(AUTH_FAILED) ]", log, StringComparison.Ordinal);
        // charon takes the report as a DELETE of the IKE SA, answers it, and drops the Child SA it had installed.
        Assert.Contains("received DELETE for IKE_SA s2s[1]", log, StringComparison.Ordinal);
        Assert.Contains("generating INFORMATIONAL response 2 [ ]", log, StringComparison.Ordinal);
        Assert.Contains("CHILD_SA net{1} state change: INSTALLED => DESTROYING", log, StringComparison.Ordinal);
        Assert.DoesNotContain("ESTABLISHED", lab.Swanctl("--list-sas").StdOut, StringComparison.Ordinal);
    }

    private const string CharonOnlyKey = "charon-only-psk-0123456789";

    private sealed record SaSnapshot(string IkeInitiator, string IkeResponder, string ChildIn, string ChildOut);

    /// <summary>charon's installed IKE SA and Child SA SPIs (hex without 0x) from swanctl --list-sas.</summary>
    private SaSnapshot CharonSas(InteropLab lab)
    {
        var sas = lab.Swanctl("--list-sas").StdOut;
        output.WriteLine(sas);
        var ike = IkeSpis().Match(sas);
        var inSpi = ChildIn().Match(sas);
        var outSpi = ChildOut().Match(sas);
        Assert.True(ike.Success && inSpi.Success && outSpi.Success, $"charon lists no established IKE SA with an installed Child SA:\n{sas}");
        return new SaSnapshot(ike.Groups[1].Value, ike.Groups[2].Value, inSpi.Groups[1].Value, outSpi.Groups[1].Value);
    }

    [GeneratedRegex(@"ESTABLISHED, IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r")]
    private static partial Regex IkeSpis();

    [GeneratedRegex(@"INSTALLED, TUNNEL[\s\S]*?\n\s+in\s+([0-9a-f]{8})")]
    private static partial Regex ChildIn();

    [GeneratedRegex(@"INSTALLED, TUNNEL[\s\S]*?\n\s+out\s+([0-9a-f]{8})")]
    private static partial Regex ChildOut();

    [GeneratedRegex(@"parsed CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\)")]
    private static partial Regex RekeyRequestsParsed();

    [GeneratedRegex(@"IKE_SA s2s\[\d+\] rekeyed between")]
    private static partial Regex IkeRekeyed();

    [GeneratedRegex(@"generating CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\)")]
    private static partial Regex RekeyRequestsGenerated();

    private static int Count(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static JsonElement Tunnel(JsonElement summary) => summary.GetProperty("tunnels")[0];

    private static string Bare(JsonElement spi) => spi.GetString()!.Replace("0x", "", StringComparison.Ordinal);
}
