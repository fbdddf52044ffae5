using Akka.Actor;
using Akka.Configuration;
using Nodes.Actors.Nodes;

namespace Nodes.Actors.Lab;

/// <summary>
/// The supervision of the lab's top-level actors (nodes and links live under <c>/user</c>): Akka's default decisions,
/// except that a node restarting on purpose (the node-restart fault) is not logged as a failure: it is reported as a
/// fault event instead.
/// </summary>
public sealed class LabGuardianStrategy : SupervisorStrategyConfigurator
{
    public override SupervisorStrategy Create() => new Strategy();

    /// <summary>Makes an actor system use this strategy for <c>/user</c>.</summary>
    public static Config Configuration { get; } = ConfigurationFactory.ParseString(
        $"akka.actor.guardian-supervisor-strategy = \"{typeof(LabGuardianStrategy).FullName}, {typeof(LabGuardianStrategy).Assembly.GetName().Name}\"");

    private sealed class Strategy() : OneForOneStrategy(SupervisorStrategy.DefaultDecider)
    {
        protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive)
        {
            if (cause is NodeActor.NodeRestartRequested) return;
            base.LogFailure(context, child, cause, directive);
        }
    }
}
