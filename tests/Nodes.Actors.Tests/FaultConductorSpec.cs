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
}
