using Akka.Actor;
using Akka.TestKit;
using Nodes.Host;
using Nodes.Messages;

namespace Nodes.Actors.Tests;

/// <summary>The run's fault conductor answers its Finish in bounded time, whatever the observed members do.</summary>
public class FaultConductorSpec() : Akka.TestKit.Xunit2.TestKit(Akka.Configuration.ConfigurationFactory.ParseString("""
    akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
    akka.loglevel = WARNING
    """))
{
    // The effects never leave the driver's process: no serialization check here (the lab's own messages have theirs).
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    /// <summary>A member that hears everything and answers nothing (restarted, partitioned or starved).</summary>
    private sealed class Silent : ReceiveActor
    {
        public Silent() => ReceiveAny(_ => { });
    }

    [Fact]
    public void Finish_must_be_answered_within_its_patience_while_a_live_fault_snapshot_waits_on_a_silent_member()
    {
        var silent = Sys.ActorOf(Props.Create(() => new Silent()));
        var conductor = Sys.ActorOf(FaultConductor.Props([], [silent, silent, silent], Clock.Now));
        // A fault injected live elsewhere: the conductor snapshots every member, and this one never answers.
        conductor.Tell(new FaultApplied { Id = "live-1", Fault = "link-down", Target = "internet", Ok = true, Origin = "live" });
        conductor.Tell(FaultConductor.Finish.Instance, TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Clock.Advance(FaultConductor.FinishPatience);
        var effects = ExpectMsg<IReadOnlyList<FaultEffect>>(TimeSpan.FromSeconds(5));
        Assert.Single(effects);
    }

    // faults: [{ at: 0s, partition: { link: internet-azure } }]   traffic: ping at 0 s
    // The traffic waits until the partition is in place: a first packet must never cross before a fault at 0 s.
    [Fact]
    public void Traffic_must_wait_until_every_target_of_a_fault_at_zero_has_applied_it()
    {
        var target = CreateTestProbe();
        var fault = new global::Nodes.Topology.Model.FaultSpec(TimeSpan.Zero, global::Nodes.Topology.Model.FaultKind.Partition, null, "internet-azure",
            System.Collections.Immutable.ImmutableDictionary<string, string>.Empty, new global::Nodes.Topology.SourceLocation("lab.yaml", 40, 9));
        var conductor = Sys.ActorOf(FaultConductor.Props([new FaultConductor.Planned(fault, [("internet-azure", target.Ref)])], [], Clock.Now));
        conductor.Tell(FaultConductor.WhenStarted.Instance, TestActor);

        var inject = target.ExpectMsg<InjectFault>();
        Assert.Equal(("partition", "internet-azure", "timeline"), (inject.Fault, inject.Link, inject.Origin));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        target.Reply(new FaultApplied { Id = inject.Id, Fault = "partition", Target = "internet-azure", Ok = true, Origin = "timeline" });
        ExpectMsg<FaultConductor.Started>();

        // Asked again (a second driver), it answers at once.
        conductor.Tell(FaultConductor.WhenStarted.Instance, TestActor);
        ExpectMsg<FaultConductor.Started>();
    }

    [Fact]
    public void Traffic_must_start_after_the_patience_when_a_target_of_a_fault_at_zero_never_answers()
    {
        var silent = Sys.ActorOf(Props.Create(() => new Silent()));
        var fault = new global::Nodes.Topology.Model.FaultSpec(TimeSpan.Zero, global::Nodes.Topology.Model.FaultKind.LinkDown, null, "home-lan",
            System.Collections.Immutable.ImmutableDictionary<string, string>.Empty, new global::Nodes.Topology.SourceLocation("lab.yaml", 41, 9));
        var conductor = Sys.ActorOf(FaultConductor.Props([new FaultConductor.Planned(fault, [("home-lan", silent)])], [], Clock.Now));
        conductor.Tell(FaultConductor.WhenStarted.Instance, TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(FaultConductor.StartPatience);
        ExpectMsg<FaultConductor.Started>();
    }

    [Fact]
    public void Traffic_must_start_at_once_without_a_fault_at_zero()
    {
        var conductor = Sys.ActorOf(FaultConductor.Props([], [], Clock.Now));
        conductor.Tell(FaultConductor.WhenStarted.Instance, TestActor);
        ExpectMsg<FaultConductor.Started>();
    }
}
