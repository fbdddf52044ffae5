using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Nodes.Actors.Cluster;
using Nodes.Ike.Proposals;
using Nodes.Messages;
using Nodes.Topology;

namespace Nodes.Host;

/// <summary>What one member of a hub scale run held at the end, and how long it took to build its part.</summary>
public sealed record HubScaleMember(string Process, long ManagedBytes, long ResidentBytes, long PeakResidentBytes, double BuildMs);

/// <summary>
/// The hub scale run over cluster members on this machine: the generated hub (<see cref="HubTopology"/>) written as a
/// topology file with a <c>hub:</c> block and <c>members: K</c>, one <c>nodes host FILE --process P</c> process per
/// placement process (the hub's nodes in one, the branches in equal shares in the others), and this process as the
/// driver. Each member starts the pings of the clients it hosts and reports its figures (<see cref="MemberFigures"/>);
/// the run is measured as in one process: every tunnel Connected at the hub, then one ping answered through each.
/// </summary>
public static class HubScaleCluster
{
    /// <summary>How long the members have to start, load the topology, build their nodes and find their peers.</summary>
    public static readonly TimeSpan ReadyPatience = TimeSpan.FromMinutes(5);

    /// <param name="proposal">The IKE proposal of every RRAS and Azure connection in strongSwan syntax, or null for the devices' defaults.</param>
    /// <param name="memberCommand">How to start <c>nodes</c> with the given arguments (the CLI starts itself).</param>
    /// <param name="dialRate">First pings (each dials its branch's tunnel) started per second over all branches; 0: all at once.</param>
    public static async Task<HubScaleResult> RunAsync(int branches, int members, string? proposal, ulong seed,
        Func<IReadOnlyList<string>, ProcessStartInfo> memberCommand, Action<string>? progress = null, CancellationToken cancel = default, int dialRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(members, Math.Min(HubTopology.MaxMembers, branches + 1));
        var dir = Directory.CreateTempSubdirectory("nodes-hub-scale-");
        var file = Path.Combine(dir.FullName, "hub.yaml");
        var described = proposal is null ? "device defaults" : ProposalText.Parse(proposal, forIke: true).ToString();
        var proposalLine = proposal is null ? "" : $"\n  proposal: {proposal}";
        File.WriteAllText(file, $"name: hub-{branches}-branches\nseed: {seed}\nhub:\n  branches: {branches}{proposalLine}\n  members: {members}\n");
        var processes = new[] { HubTopology.HubProcess }.Concat(Enumerable.Range(1, members - 1).Select(HubTopology.BranchProcess)).ToList();
        var ports = FreePorts(members);
        var seedAddress = $"akka.tcp://{ClusterSettings.SystemName}@127.0.0.1:{ports[0]}";
        var running = new List<(string Process, Process Os, string Log)>();
        var launch = Stopwatch.StartNew();
        ActorSystem? driver = null;
        var keepLogs = true;
        try
        {
            for (var i = 0; i < members; i++)
            {
                var log = Path.Combine(dir.FullName, $"{processes[i]}.log");
                running.Add((processes[i], Start(memberCommand(["host", file, "--process", processes[i], "--port", ports[i].ToString(CultureInfo.InvariantCulture),
                    "--seed-nodes", seedAddress, "--quiet", "--state-dir", dir.FullName]), log), log));
            }
            progress?.Invoke($"{members} members started (nodes host {file} --process {string.Join("|", processes)}), logs in {dir.FullName}");
            // The driver's standard output is the report (JSON with --json): Akka's own log lines (the seed member not
            // listening yet while it loads the topology) stay out of it; what goes wrong surfaces as this run's error.
            driver = new ClusterSettings
            {
                Hostname = "127.0.0.1", Port = 0, SeedNodes = [seedAddress], Roles = [ClusterSettings.DriverRole],
                Overrides = Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = OFF\nakka.stdout-loglevel = OFF"),
            }.CreateSystem();
            var figures = await ReadyAsync(driver, processes, running, progress, cancel);
            var ready = launch.Elapsed;
            progress?.Invoke($"{ready.TotalSeconds:0.0}s: every member is up and every port has found its peer");
            var hub = figures[HubTopology.HubProcess].Address;
            var branchMembers = figures.Where(f => f.Key != HubTopology.HubProcess).Select(f => f.Value.Address).ToList();

            var clock = Stopwatch.StartNew();
            var patience = TimeSpan.FromSeconds(Math.Max(120, branches / 100.0));
            // Each branch member dials its share of the rate; the answers are awaited after the last dial.
            var perMember = dialRate <= 0 ? 0u : (uint)Math.Max(1, dialRate / branchMembers.Count);
            var first = branchMembers.Select(m => Pings(driver, m, patience, cancel, perMember, branches / (members - 1))).ToArray();
            var connected = 0;
            var deadline = TimeSpan.FromSeconds(Math.Max(60, branches / 50.0));
            MemberFigures? hubNow = null;
            // Once every first ping has its answer, a tunnel that is still not up waits for traffic to dial again (as a
            // demand-dial interface does): after 20 s without progress the pings go, and their answers tell.
            var lastChange = TimeSpan.Zero;
            var lastConnected = -1;
            while (clock.Elapsed < deadline)
            {
                hubNow = await FiguresAsync(driver, hub, collect: false, cancel);
                if (hubNow is not null)
                {
                    connected = hubNow.TunnelsConnected;
                    if (connected == branches) break;
                    if (connected != lastConnected) (lastConnected, lastChange) = (connected, clock.Elapsed);
                    if (first.All(t => t.IsCompleted) && clock.Elapsed - lastChange > TimeSpan.FromSeconds(20))
                    {
                        progress?.Invoke($"{clock.Elapsed.TotalSeconds:0.0}s: every first ping is done and {branches - connected} tunnels are still not up ({string.Join(", ", hubNow.NotConnected)}); pinging through every tunnel");
                        foreach (var line in await BranchSidesAsync(driver, hubNow.NotConnected, branches, members, figures, cancel)) progress?.Invoke($"  {line}");
                        break;
                    }
                    var others = await Task.WhenAll(branchMembers.Select(m => FiguresAsync(driver, m, collect: false, cancel, TimeSpan.FromSeconds(5))));
                    var retransmitted = hubNow.IkeRetransmissions + others.Sum(f => f?.IkeRetransmissions ?? 0);
                    var drops = string.Join(", ", hubNow.IkeDrops.Select(d => $"{d.Key} {d.Value}"));
                    var missing = branches - connected <= hubNow.NotConnected.Count ? $" (not yet: {string.Join(", ", hubNow.NotConnected)})" : "";
                    progress?.Invoke($"{clock.Elapsed.TotalSeconds:0.0}s: {connected} of {branches} tunnels Connected at the hub{missing}, {retransmitted} IKE retransmissions so far{(drops.Length > 0 ? $"; the hub's IKE drops: {drops}" : "")}");
                }
                else progress?.Invoke($"{clock.Elapsed.TotalSeconds:0.0}s: the hub's member did not answer within 30 s");
                Exited(running);
                await Task.Delay(1000, cancel);
            }
            var tunnelsUp = clock.Elapsed;
            var firstDone = await Task.WhenAll(first);
            // The pings through the tunnels go at the same rate: a hundred thousand at once would queue behind each other
            // on the way into the hub for longer than a ping waits.
            var second = await Task.WhenAll(branchMembers.Select(m => Pings(driver, m, patience, cancel, perMember, branches / (members - 1))));
            var up = clock.Elapsed;
            var end = new List<MemberFigures>();
            foreach (var (process, (address, _)) in figures)
                end.Add(await FiguresAsync(driver, address, collect: true, cancel)
                    ?? throw new InvalidOperationException($"member {process} did not answer for its figures"));
            var hubEnd = end.Single(f => f.Process == HubTopology.HubProcess);
            var all = end.Sum(f => f.IkeRetransmissions);
            var init = end.Sum(f => f.InitRetransmissions);
            // A branch is 3 nodes and 2 links; the hub 4 nodes (internet router, gateway, VNet router, VM) and 3 links.
            // Times count as in one process: the build (the slowest member's, they build at once), then the traffic. The
            // members' start, topology load and port resolution before traffic are MembersReady.
            var built = TimeSpan.FromMilliseconds(end.Max(f => f.BuildMs));
            keepLogs = false;
            return new HubScaleResult(branches, described, seed, 3 * branches + 4, 2 * branches + 3, built, built + tunnelsUp, built + up,
                hubEnd.TunnelsConnected, firstDone.Sum(d => d.Answered), second.Sum(d => d.Answered), (int)all, (int)init, (int)hubEnd.ResponderExchanges,
                hubEnd.IkeDrops.ToDictionary(d => d.Key, d => d.Value), -1, end.Sum(f => f.ManagedBytes - f.ManagedBaseline),
                end.Sum(f => f.ResidentBytes - f.ResidentBaseline), end.Sum(f => f.PeakResidentBytes))
            {
                Members = end.Select(f => new HubScaleMember(f.Process, f.ManagedBytes - f.ManagedBaseline, f.ResidentBytes - f.ResidentBaseline, f.PeakResidentBytes, f.BuildMs)).ToList(),
                MembersReady = ready,
                DialRate = Math.Max(0, dialRate),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"{e.Message}{Tails(running)}\n  the members' logs are in {dir.FullName}", e);
        }
        finally
        {
            if (driver is not null) await driver.Terminate().WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            foreach (var (_, os, _) in running)
            {
                try
                {
                    if (!os.HasExited) os.Kill(entireProcessTree: true);
                    await os.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
                }
                catch (InvalidOperationException)
                {
                    // never started, or already gone
                }
                os.Dispose();
            }
            try
            {
                // A run that failed keeps the members' logs (its message names the folder).
                if (!keepLogs) dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a member's log still open: the temporary folder is cleaned later
            }
        }
    }

    private static Process Start(ProcessStartInfo start, string log)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var writer = new StreamWriter(log) { AutoFlush = true };
        var os = new Process { StartInfo = start, EnableRaisingEvents = true };
        os.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        os.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        os.Exited += (_, _) => { lock (writer) writer.Dispose(); };
        try
        {
            if (!os.Start()) throw new InvalidOperationException($"could not start {start.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            writer.Dispose();
            throw new InvalidOperationException($"could not start a member with {start.FileName}: {e.Message}", e);
        }
        os.BeginOutputReadLine();
        os.BeginErrorReadLine();
        return os;
    }

    /// <summary>Throws when a member's process has ended: the run cannot go on without it.</summary>
    private static void Exited(List<(string Process, Process Os, string Log)> running)
    {
        foreach (var (process, os, _) in running)
            if (os.HasExited) throw new InvalidOperationException($"member {process} exited with code {os.ExitCode}");
    }

    /// <summary>The last lines each member wrote, for a run that failed.</summary>
    private static string Tails(List<(string Process, Process Os, string Log)> running)
    {
        var parts = new List<string>();
        foreach (var (process, _, log) in running)
        {
            try
            {
                using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length > 0) parts.Add($"\n  member {process}:\n    " + string.Join("\n    ", lines.TakeLast(5)));
            }
            catch (IOException)
            {
                // no log yet
            }
        }
        return string.Concat(parts);
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    /// <summary>Waits until the driver has joined, every member is Up and answers, and none of their ports waits for its peer.</summary>
    private static async Task<Dictionary<string, (Address Address, MemberFigures Figures)>> ReadyAsync(ActorSystem driver, IReadOnlyList<string> processes,
        List<(string Process, Process Os, string Log)> running, Action<string>? progress, CancellationToken cancel)
    {
        var cluster = Akka.Cluster.Cluster.Get(driver);
        var deadline = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            Exited(running);
            var found = new Dictionary<string, (Address, MemberFigures)>(StringComparer.Ordinal);
            var waiting = 0;
            foreach (var m in cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterSettings.LabRole)))
            {
                if (await FiguresAsync(driver, m.Address, collect: false, cancel, TimeSpan.FromSeconds(5)) is not { } f) continue;
                found[f.Process] = (m.Address, f);
                waiting += f.PortsWaiting;
            }
            if (found.Count == processes.Count && waiting == 0) return found;
            if (deadline.Elapsed > ReadyPatience)
                throw new TimeoutException($"the members were not ready within {ReadyPatience.TotalMinutes:0} minutes: {found.Count} of {processes.Count} up, {waiting} ports waiting for their peers");
            if (deadline.Elapsed - lastReport >= TimeSpan.FromSeconds(5))
            {
                lastReport = deadline.Elapsed;
                progress?.Invoke($"{deadline.Elapsed.TotalSeconds:0}s: {found.Count} of {processes.Count} members up{(found.Count > 0 ? $", {waiting} ports still looking for their peers" : " (loading the topology and building)")}");
            }
            await Task.Delay(500, cancel);
        }
    }

    /// <summary>What the RRAS of each branch the hub names as not Connected says of its end of the tunnel.</summary>
    private static async Task<List<string>> BranchSidesAsync(ActorSystem driver, IReadOnlyList<string> notConnected, int branches, int members,
        Dictionary<string, (Address Address, MemberFigures Figures)> figures, CancellationToken cancel)
    {
        var lines = new List<string>();
        foreach (var entry in notConnected)
        {
            var name = entry.Split(' ', 2)[0];
            if (!name.StartsWith("branch", StringComparison.Ordinal) || !int.TryParse(name.AsSpan("branch".Length), out var i) || i < 1 || i > branches) continue;
            if (!figures.TryGetValue(HubTopology.ProcessOfBranch(i, branches, members), out var member)) continue;
            var rras = $"{name}-rras";
            try
            {
                var status = await driver.ActorSelection(new RootActorPath(member.Address) / "user" / Actors.Lab.LabBuilder.NodeActorName(rras))
                    .Ask<NodeStatus>(new QueryStatus { Requester = "hub-scale" }, TimeSpan.FromSeconds(10), cancel);
                lines.Add(status.Tunnels.FirstOrDefault() is { } t
                    ? $"{rras} sees {t.State}, IKE SA {t.InitiatorSpi:x16}_i {t.ResponderSpi:x16}_r {(t.IkeState.Length > 0 ? t.IkeState : "none")}, {t.ChildSas.Count} Child SA(s){(t.Failures.Count > 0 ? $", failures: {string.Join("; ", t.Failures)}" : "")}"
                    : $"{rras} has no tunnel");
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                lines.Add($"{rras} did not answer its status query within 10 s");
            }
        }
        return lines;
    }

    private static async Task<MemberFigures?> FiguresAsync(ActorSystem driver, Address member, bool collect, CancellationToken cancel, TimeSpan? wait = null)
    {
        var patience = wait ?? TimeSpan.FromSeconds(collect ? 120 : 30);
        try
        {
            // Bounded twice: an answer stuck behind a member's busy remoting must not hold the run.
            return await driver.ActorSelection(new RootActorPath(member) / "user" / MemberLabActor.Name)
                .Ask<MemberFigures>(new MemberFiguresRequest(collect), patience, cancel).WaitAsync(patience + TimeSpan.FromSeconds(5), cancel);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return null;
        }
    }

    private static async Task<HostedPingsDone> Pings(ActorSystem driver, Address member, TimeSpan patience, CancellationToken cancel, uint perSecond = 0, int hosts = 0)
    {
        var dialing = perSecond == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(hosts / (double)perSecond + 1);
        return await driver.ActorSelection(new RootActorPath(member) / "user" / MemberLabActor.Name)
            .Ask<HostedPingsDone>(new RunHostedPings(1, (uint)patience.TotalMilliseconds, perSecond), dialing + patience + TimeSpan.FromSeconds(30), cancel);
    }
}
