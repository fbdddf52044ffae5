using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Nodes.Actors.Lab;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Actors.Tests;

/// <summary>
/// A lab on virtual time: Akka's TestScheduler replaces the clock, so link delays, IKE timers (retransmission,
/// DPD, rekeys), NAT timeouts and ping intervals all advance only when the test says so.
/// </summary>
public abstract class VirtualLabSpec : Akka.TestKit.Xunit2.TestKit
{
    protected static readonly Akka.Configuration.Config VirtualTime = ConfigurationFactory.ParseString("""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.actor.default-dispatcher.type = "Akka.TestKit.CallingThreadDispatcherConfigurator, Akka.TestKit"
        akka.loglevel = WARNING
        akka.actor.serialize-messages = on
        """).WithFallback(LabRunner.AkkaConfig(serializeAll: true));

    protected VirtualLabSpec() : base(VirtualTime) { }

    protected TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    protected List<NodeEvent> Events { get; } = [];

    internal static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    protected static TopologySpec Topology(string file, string scenario)
    {
        var loaded = TopologyLoader.Load(Path.Combine(Repo(), "topology", file));
        Assert.Empty(loaded.Diagnostics);
        Assert.True(loaded.Topology!.TrySelectScenario(scenario, out var s, out _));
        return loaded.Topology.ForScenario(s!);
    }

    protected LabActors Build(TopologySpec topology, double timeScale = 1, ulong seed = 1, int memberIncarnation = 0)
    {
        var events = Sys.ActorOf(Props.Create(() => new EventSink(Events)));
        var context = new LabContext(Clock.Now, seed, timeScale, events, null) { MemberIncarnation = memberIncarnation };
        var lab = LabBuilder.Build(Sys, topology, context);
        // A top-level actor finishes starting on a thread of its own: until every node and link has answered, a frame
        // could be handled there while this thread moves the clock, and the run would depend on how busy the machine is.
        var started = CreateTestProbe();
        var actors = lab.Nodes.Values.Concat(lab.Links.Values).Append(events).ToList();
        foreach (var a in actors) a.Tell(new Identify(null), started.Ref);
        started.ReceiveN(actors.Count, TimeSpan.FromSeconds(10));
        return lab;
    }

    /// <summary>Moves virtual time forward in steps, letting the actors work between steps, until the condition holds.</summary>
    protected void AdvanceUntil(Func<bool> condition, TimeSpan step, TimeSpan limit, string what)
    {
        var spent = TimeSpan.Zero;
        while (!condition())
        {
            if (spent >= limit)
            {
                string tail;
                lock (Events) tail = string.Join("\n", Events.TakeLast(25).Select(e => $"  {e.Node}: {e.Text}"));
                throw new Xunit.Sdk.XunitException($"{what}: not reached within {limit} of virtual time; the last events:\n{tail}");
            }
            Clock.Advance(step);
            spent += step;
            Thread.Sleep(2);
        }
    }

    protected void Advance(TimeSpan total, TimeSpan step)
    {
        for (var t = TimeSpan.Zero; t < total; t += step)
        {
            Clock.Advance(step);
            Thread.Sleep(2);
        }
    }

    protected NodeStatus Status(IActorRef node)
    {
        var probe = CreateTestProbe();
        node.Tell(new QueryStatus { Requester = "spec" }, probe.Ref);
        return probe.ExpectMsg<NodeStatus>(TimeSpan.FromSeconds(5));
    }

    private sealed class EventSink : ReceiveActor
    {
        public EventSink(List<NodeEvent> events) => Receive<NodeEvent>(e => { lock (events) events.Add(e); });
    }

    protected bool Logged(string node, string text)
    {
        lock (Events) return Events.Any(e => e.Node == node && e.Text.Contains(text, StringComparison.Ordinal));
    }
}
