using Akka.Actor;
using Akka.Cluster;

namespace Nodes.Actors.Cluster;

/// <summary>
/// One per member, <c>/user/peers</c>: subscribes to the cluster's member and reachability events once and passes
/// each to the <see cref="RemotePort"/>s registered for one of the member's roles, replaying what is known to a port
/// that registers late. A member of a generated hub holds a hundred thousand ports; each subscribing to the cluster
/// by itself makes every subscription walk the event stream's subscribers, quadratic in the ports, and the member
/// spends minutes on it while its heartbeats starve.
/// </summary>
public sealed class PeerDirectory : ReceiveActor
{
    public const string Name = "peers";

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly Dictionary<string, HashSet<IActorRef>> _byRole = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string[]> _roles = [];
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];

    /// <summary>The sender wants the events of members holding any of <see cref="Roles"/>.</summary>
    public sealed record Register(string[] Roles) : INoSerializationVerificationNeeded;

    public PeerDirectory()
    {
        Receive<Register>(r =>
        {
            var port = Sender;
            if (!_roles.TryAdd(port, r.Roles)) return;
            foreach (var role in r.Roles)
            {
                if (!_byRole.TryGetValue(role, out var ports)) _byRole[role] = ports = [];
                ports.Add(port);
            }
            Context.Watch(port);
            foreach (var m in _members.Values.Where(m => r.Roles.Any(m.HasRole)))
            {
                if (m.Status == MemberStatus.Up) port.Tell(new ClusterEvent.MemberUp(m));
                else if (m.Status == MemberStatus.WeaklyUp) port.Tell(new ClusterEvent.MemberWeaklyUp(m));
                if (_unreachable.Contains(m.UniqueAddress)) port.Tell(new ClusterEvent.UnreachableMember(m));
            }
        });
        Receive<Terminated>(t =>
        {
            if (!_roles.Remove(t.ActorRef, out var roles)) return;
            foreach (var role in roles)
                if (_byRole.TryGetValue(role, out var ports)) ports.Remove(t.ActorRef);
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (e is ClusterEvent.MemberRemoved) _members.Remove(e.Member.UniqueAddress);
            else _members[e.Member.UniqueAddress] = e.Member;
            if (e is ClusterEvent.MemberRemoved) _unreachable.Remove(e.Member.UniqueAddress);
            Pass(e.Member, e);
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.UniqueAddress);
            Pass(e.Member, e);
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.UniqueAddress);
            Pass(e.Member, e);
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new PeerDirectory());

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>Tells every port registered for one of the member's roles, once each.</summary>
    private void Pass(Member member, object e)
    {
        var told = new HashSet<IActorRef>();
        foreach (var role in member.Roles)
            if (_byRole.TryGetValue(role, out var ports))
                foreach (var port in ports)
                    if (told.Add(port)) port.Tell(e);
    }
}
