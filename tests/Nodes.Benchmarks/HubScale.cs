using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Model;

namespace Nodes.Benchmarks;

/// <summary>
/// The scale run: a generated hub with N branch sites (each a client, a NATed RRAS and its NAT router) in one process.
/// Every branch client pings the VM once, which dials every tunnel on demand; the run reports the time until every
/// ping was answered (every tunnel up and carrying traffic) and the managed memory the lab holds per tunnel.
/// <c>dotnet run -c Release --project tests/Nodes.Benchmarks -- hub-scale 1000</c>
/// </summary>
internal static class HubScale
{
    public static int Run(int branches)
    {
        var topology = HubTopology.Generate(branches);
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
        var clock = Stopwatch.StartNew();
        var actors = LabBuilder.Build(system, lab, new LabContext(system.Scheduler.Now, 1, 1, events, null));
        var built = clock.Elapsed;
        var clients = actors.Nodes.Where(n => n.Key.EndsWith("-client", StringComparison.Ordinal)).Select(n => n.Value).ToList();
        var vm = scenario!.Traffic.OfType<PingSpec>().First().To.ToString();
        var replies = clients.Select(c => c.Ask<PingSummary>(new StartPing { Host = "client", Destination = vm, Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(120))).ToArray();
        // Progress every 5 s: how many first pings are answered, and what the hub gateway's tunnels look like.
        while (!Task.WaitAll(replies, TimeSpan.FromSeconds(5)))
        {
            Console.WriteLine($"  {clock.Elapsed.TotalSeconds:0}s: {replies.Count(r => r.IsCompleted)} of {branches} answered, {retransmits.Count} IKE retransmissions so far"
                + $" (GC gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, pool threads {ThreadPool.ThreadCount}, queued {ThreadPool.PendingWorkItemCount}, CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s)");
        }
        var up = clock.Elapsed;
        var answered = replies.Count(r => r.Result.Received == 1);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var perTunnel = (after - before) / (double)branches;
        Console.WriteLine($"hub-scale: {branches} branch sites, {actors.Nodes.Count} nodes, {actors.Links.Count} links");
        Console.WriteLine($"  lab built in {built.TotalSeconds:0.00} s");
        Console.WriteLine($"  {answered} of {branches} first pings answered (every tunnel dialed on demand and up) after {up.TotalSeconds:0.00} s");
        Console.WriteLine($"  IKE retransmissions on the way: {retransmits.Count}");
        Console.WriteLine($"  managed memory held by the lab: {(after - before) / 1048576.0:0.0} MiB, {perTunnel / 1024:0.0} KiB per tunnel (both gateways' SAs, the branch's three nodes and links)");
        system.Terminate().Wait();
        return answered == branches ? 0 : 1;
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
