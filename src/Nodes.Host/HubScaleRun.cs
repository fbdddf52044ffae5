using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Ike.Proposals;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>What a hub scale run measured.</summary>
public sealed record HubScaleResult(
    int Branches,
    string Proposal,
    ulong Seed,
    int Nodes,
    int Links,
    TimeSpan Built,
    TimeSpan TunnelsUpAt,
    TimeSpan UpAt,
    int TunnelsUp,
    int FirstPingsAnswered,
    int PingsAnswered,
    int IkeRetransmissions,
    int InitRetransmissions,
    int HubKeyExchanges,
    IReadOnlyDictionary<string, ulong> HubIkeDrops,
    long ManagedBytesBeforeTraffic,
    long ManagedBytes,
    long ResidentBytes,
    long PeakResidentBytes)
{
    /// <summary>Branches that dialed per second (0: all at once).</summary>
    public int DialRate { get; init; }

    /// <summary>The members of a run across processes, with what each held at the end; empty for a run in one process.</summary>
    public IReadOnlyList<HubScaleMember> Members { get; init; } = [];

    /// <summary>Across processes: from starting the members until every one was up and connected to its peers.</summary>
    public TimeSpan? MembersReady { get; init; }

    /// <summary>Tunnels set up per second, from the end of the build to the moment the hub showed them all Connected.</summary>
    public double SetupsPerSecond => TunnelsUp / Math.Max(1e-9, (TunnelsUpAt - Built).TotalSeconds);
}

/// <summary>
/// A hub with N NATed RRAS branches (<see cref="HubTopology"/>) in this process: every branch client pings the VM once,
/// which dials its tunnel on demand (that first ping may time out while the tunnel comes up, as on Windows); once the
/// hub shows every connection Connected (or a deadline passes), every client pings again, and the run is "up" when
/// those pings are answered. Seeded: the same N, seed and proposal build the same lab.
/// </summary>
public static class HubScaleRun
{
    /// <param name="dialRate">First pings (each dials its branch's tunnel) started per second; 0: all at once.</param>
    public static HubScaleResult Run(int branches, Proposal? proposal = null, ulong seed = 1, Action<string>? progress = null, int dialRate = 0)
    {
        var phase = Stopwatch.StartNew();
        var topology = HubTopology.Generate(branches, seed, proposal);
        var generated = phase.Elapsed;
        var problems = Topology.Validation.TopologyValidator.Validate(topology);
        progress?.Invoke($"topology generated in {generated.TotalSeconds:0.00} s, validated in {(phase.Elapsed - generated).TotalSeconds:0.00} s");
        if (problems.Length > 0) throw new InvalidOperationException(string.Join('\n', problems.Select(p => p.ToString())));
        topology.TrySelectScenario(null, out var scenario, out _);
        var lab = topology.ForScenario(scenario!);
        using var system = ActorSystem.Create("hub-scale", LabRunner.AkkaConfig(serializeAll: false));
        var tally = new IkeEventTally(node => node == "azure-gw");
        var events = system.ActorOf(Props.Create(() => new EventCounter(tally)), "events");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var residentBefore = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        var actors = LabBuilder.Build(system, lab, new LabContext(system.Scheduler.Now, seed, 1, events, null));
        WaitStarted(actors);
        clock.Stop(); // the full collection that measures the built lab is not part of any time
        var built = clock.Elapsed;
        var afterBuild = GC.GetTotalMemory(forceFullCollection: true);
        clock.Start();
        var clients = actors.Nodes.Where(n => n.Key.EndsWith("-client", StringComparison.Ordinal)).Select(n => n.Value).ToList();
        var hub = actors.Nodes["azure-gw"];
        var vm = scenario!.Traffic.OfType<PingSpec>().First().To.ToString();
        Task<PingSummary> Ping(IActorRef c) => c.Ask<PingSummary>(new StartPing { Host = "client", Destination = vm, Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(120));

        // Paced: the i-th client dials at i / rate seconds, as branches of a real network come up over time; the pings
        // through the tunnels go at the same rate.
        Task<PingSummary>[] PingAll() => dialRate <= 0
            ? clients.Select(Ping).ToArray()
            : clients.Select(async (c, i) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(i / (double)dialRate));
                return await Ping(c);
            }).ToArray();
        var first = PingAll();
        var connected = 0;
        var deadline = TimeSpan.FromSeconds(Math.Max(60, branches / 50.0));
        while (clock.Elapsed < deadline)
        {
            // An overloaded hub may take longer than the poll waits to answer: the run goes on and says so.
            if (Counts(hub) is { } counts)
            {
                connected = counts.Connected;
                if (connected == branches) break;
                progress?.Invoke($"{clock.Elapsed.TotalSeconds:0.0}s: {connected} of {branches} tunnels Connected, {tally.Retransmissions} IKE retransmissions so far");
            }
            else progress?.Invoke($"{clock.Elapsed.TotalSeconds:0.0}s: the hub did not answer a status query within 30 s, {tally.Retransmissions} IKE retransmissions so far");
            Thread.Sleep(500);
        }
        var tunnelsUp = clock.Elapsed;
        Settle(first);
        var second = PingAll();
        Settle(second);
        var up = clock.Elapsed;
        var hubDrops = (Counts(hub)?.IkeDrops ?? []).ToDictionary(d => d.Key, d => d.Value);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var resident = Process.GetCurrentProcess();
        var result = new HubScaleResult(branches, proposal?.ToString() ?? "device defaults", seed, actors.Nodes.Count, actors.Links.Count, built, tunnelsUp, up,
            connected, first.Count(Answered), second.Count(Answered), (int)tally.Retransmissions,
            (int)tally.InitRetransmissions, (int)tally.ResponderExchanges, hubDrops, afterBuild - before, after - before, resident.WorkingSet64 - residentBefore, resident.PeakWorkingSet64)
        {
            DialRate = Math.Max(0, dialRate),
        };
        system.Terminate().Wait();
        return result;
    }

    /// <summary>
    /// Built means every node and link has run its constructor: an actor's is run on the pool after ActorOf returns,
    /// and pings sent before that would time their IKE exchanges against a lab still starting up. A method of its own so
    /// that the answers (five small objects a branch) are gone before the lab's memory is measured, not kept alive by a
    /// slot of the caller's frame.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void WaitStarted(LabActors actors) =>
        Task.WaitAll(actors.Nodes.Values.Concat(actors.Links.Values).Select(a => a.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(60))).ToArray());

    /// <summary>The hub's tunnels counted, without a status of every tunnel (which a poll every half second would pay for).</summary>
    private static Actors.Nodes.GatewayActor.TunnelCounts? Counts(IActorRef hub)
    {
        try
        {
            return hub.Ask<Actors.Nodes.GatewayActor.TunnelCounts>(Actors.Nodes.GatewayActor.CountTunnels.Instance, TimeSpan.FromSeconds(30)).Result;
        }
        catch (AggregateException e) when (e.InnerException is AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Waits for every ping, answered or not (a ping whose answer never came back within the wait counts as lost).</summary>
    private static void Settle(Task<PingSummary>[] pings) => Task.WhenAll(pings).ContinueWith(_ => { }, TaskScheduler.Default).Wait();

    private static bool Answered(Task<PingSummary> ping) => ping.IsCompletedSuccessfully && ping.Result.Received == 1;

    /// <summary>The lab's event sink: every node event goes to the tally (retransmissions, the hub's key exchanges).</summary>
    private sealed class EventCounter : ReceiveActor
    {
        public EventCounter(IkeEventTally tally) => Receive<NodeEvent>(tally.Add);
    }
}
