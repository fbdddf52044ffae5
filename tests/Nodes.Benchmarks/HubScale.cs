using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Ike.Proposals;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Model;

namespace Nodes.Benchmarks;

/// <summary>
/// The scale run: a generated hub with N branch sites (each a client, a NATed RRAS and its NAT router) in one process.
/// Every branch client pings the VM once, which dials every tunnel on demand (a first ping may time out while its
/// tunnel comes up, as on Windows); once the hub shows every connection Connected, every client pings again, and
/// the run is "up" when each of those pings is answered. It reports build and up times, IKE retransmissions, the
/// managed memory the lab holds per tunnel and the process's resident memory per tunnel. Seeded: the same N, seed
/// and proposal build the same lab.
/// <c>dotnet run -c Release --project tests/Nodes.Benchmarks -- hub-scale 10000 [--proposal aes128-sha256-x25519] [--seed 1] [--json]</c>
/// </summary>
internal static class HubScale
{
    private const string Usage = "usage: hub-scale N [--proposal IKE-PROPOSAL] [--seed S] [--json]   (N from 1 to 39680; the proposal in strongSwan syntax, e.g. aes128-sha256-x25519)";

    public static int Run(string[] args)
    {
        if (!TryParse(args, out var branches, out var proposal, out var seed, out var json, out var error))
        {
            Console.Error.WriteLine($"hub-scale: {error}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var topology = HubTopology.Generate(branches, seed, proposal);
        var validation = Topology.Validation.TopologyValidator.Validate(topology);
        if (validation.Length > 0)
        {
            foreach (var d in validation) Console.Error.WriteLine(d.ToString());
            return 2;
        }
        topology.TrySelectScenario(null, out var scenario, out _);
        var lab = topology.ForScenario(scenario!);
        using var system = ActorSystem.Create("hub-scale", LabRunner.AkkaConfig(serializeAll: false));
        var retransmits = new EventCounter("retransmit");
        var events = system.ActorOf(Props.Create(() => new CountingSink(retransmits)), "events");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var residentBefore = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        var actors = LabBuilder.Build(system, lab, new LabContext(system.Scheduler.Now, seed, 1, events, null));
        clock.Stop(); // the full collection that measures the built lab is not part of any time
        var built = clock.Elapsed;
        var afterBuild = GC.GetTotalMemory(forceFullCollection: true);
        clock.Start();
        var clients = actors.Nodes.Where(n => n.Key.EndsWith("-client", StringComparison.Ordinal)).Select(n => n.Value).ToList();
        var hub = actors.Nodes["azure-gw"];
        var vm = scenario!.Traffic.OfType<PingSpec>().First().To.ToString();
        Task<PingSummary> Ping(IActorRef c) => c.Ask<PingSummary>(new StartPing { Host = "client", Destination = vm, Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(120));
        void Progress(string what) => Log(json, $"  {clock.Elapsed.TotalSeconds:0.0}s: {what}, {retransmits.Count} IKE retransmissions so far");

        // 1. The first pings dial every tunnel on demand.
        var first = clients.Select(Ping).ToArray();
        // 2. Until the hub has every connection up (polled, and bounded: a lab that cannot get there says so).
        var connected = 0;
        var deadline = TimeSpan.FromSeconds(Math.Max(60, branches / 50.0));
        while (clock.Elapsed < deadline)
        {
            var status = hub.Ask<NodeStatus>(new QueryStatus(), TimeSpan.FromSeconds(30)).Result;
            connected = status.Tunnels.Count(t => t.State == "Connected");
            if (connected == branches) break;
            Progress($"{connected} of {branches} tunnels Connected, {first.Count(t => t.IsCompleted && t.Result.Received == 1)} first pings answered");
            Thread.Sleep(500);
        }
        var tunnelsUp = clock.Elapsed;
        // 3. One ping through each tunnel.
        Task.WaitAll(first);
        var firstAnswered = first.Count(t => t.Result.Received == 1);
        var second = clients.Select(Ping).ToArray();
        Task.WaitAll(second);
        var up = clock.Elapsed;
        var answered = second.Count(t => t.Result.Received == 1);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var residentAfter = Process.GetCurrentProcess().WorkingSet64;
        var perTunnel = (after - before) / (double)branches;
        var setupSeconds = (tunnelsUp - built).TotalSeconds;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                branches,
                proposal = proposal?.ToString() ?? "device defaults",
                seed,
                nodes = actors.Nodes.Count,
                links = actors.Links.Count,
                buildSeconds = Math.Round(built.TotalSeconds, 3),
                tunnelsUpSeconds = Math.Round(tunnelsUp.TotalSeconds, 3),
                upSeconds = Math.Round(up.TotalSeconds, 3),
                tunnelsUp = connected,
                firstPingsAnswered = firstAnswered,
                pingsAnswered = answered,
                ikeRetransmissions = retransmits.Count,
                setupsPerSecond = Math.Round(connected / setupSeconds, 1),
                managedBytesPerTunnel = Math.Round(perTunnel),
                managedBytesPerBranchBeforeTraffic = Math.Round((afterBuild - before) / (double)branches),
                residentBytesPerTunnel = Math.Round((residentAfter - residentBefore) / (double)branches),
                peakResidentBytes = Process.GetCurrentProcess().PeakWorkingSet64,
            }));
        }
        else
        {
            Console.WriteLine($"hub-scale: {branches} branch sites, {actors.Nodes.Count} nodes, {actors.Links.Count} links, IKE {proposal?.ToString() ?? "device defaults"}, seed {seed}");
            Console.WriteLine($"  lab built in {built.TotalSeconds:0.00} s");
            Console.WriteLine($"  {connected} of {branches} tunnels up after {tunnelsUp.TotalSeconds:0.00} s ({connected / setupSeconds:0} setups/s); {firstAnswered} first pings answered (the others timed out while their tunnel dialed)");
            Console.WriteLine($"  {answered} of {branches} pings answered through their tunnel after {up.TotalSeconds:0.00} s");
            Console.WriteLine($"  IKE retransmissions on the way: {retransmits.Count}");
            Console.WriteLine($"  managed memory held by the lab: {(after - before) / 1048576.0:0.0} MiB, {perTunnel / 1024:0.0} KiB per tunnel (both gateways' SAs, the branch's three nodes and links); {(afterBuild - before) / (double)branches / 1024:0.0} KiB per branch before any traffic");
            Console.WriteLine($"  resident memory: {(residentAfter - residentBefore) / (double)branches / 1024:0.0} KiB per tunnel, peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB");
        }
        system.Terminate().Wait();
        return answered == branches ? 0 : 1;
    }

    private static void Log(bool json, string line)
    {
        if (json) Console.Error.WriteLine(line);
        else Console.WriteLine(line);
    }

    private static bool TryParse(string[] args, out int branches, out Proposal? proposal, out ulong seed, out bool json, out string error)
    {
        branches = 1000;
        proposal = null;
        seed = 1;
        json = false;
        error = "";
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "--json":
                    json = true;
                    break;
                case "--proposal":
                    if (Value() is not { } text || !ProposalText.TryParse(text, forIke: true, out proposal, out var why))
                    {
                        error = $"--proposal needs an IKE proposal in strongSwan syntax ({(i < args.Length ? args[i] : "none given")})";
                        return false;
                    }
                    break;
                case "--seed":
                    if (!ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                    {
                        error = "--seed needs a whole number";
                        return false;
                    }
                    break;
                default:
                    if (i == 1 && int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out branches) && branches is >= 1 and <= HubTopology.MaxBranches) break;
                    error = i == 1 ? $"'{a}' is not a number of branches from 1 to {HubTopology.MaxBranches}" : $"unknown option '{a}'";
                    return false;
            }
        }
        return true;
    }
}

internal sealed class EventCounter(string text)
{
    private int _count;
    public string Text { get; } = text;
    public int Count => _count;
    public void Add() => Interlocked.Increment(ref _count);
}

internal sealed class CountingSink : ReceiveActor
{
    public CountingSink(EventCounter counter) => Receive<NodeEvent>(e =>
    {
        if (e.Text.Contains(counter.Text, StringComparison.Ordinal)) counter.Add();
    });
}
