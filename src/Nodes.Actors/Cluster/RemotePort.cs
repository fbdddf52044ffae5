using Akka.Actor;
using Akka.Cluster;

namespace Nodes.Actors.Cluster;

/// <summary>
/// Stands in, inside one member, for an actor that lives in another member: a link actor owned by another member
/// (for the nodes here attached to that link) or a node actor of another member (for a link owned here). The peer is
/// found through the cluster by role: the member whose roles include <see cref="Role"/> (the node name of the peer,
/// or of the link's first endpoint) or the role of that node's placement process hosts it under the well-known name
/// <see cref="ActorName"/> below <c>/user</c>.
/// Everything the port receives is forwarded with its original sender.
/// <para>
/// Before the peer is found for the first time, frames wait (up to <see cref="BufferLimit"/>): members start in any
/// order. Once found, the peer is watched; when it becomes unreachable or its member leaves, frames are dropped
/// (a cable pulled out) until a member with the role comes up again, e.g. the same member restarted, and the peer
/// is resolved anew.
/// </para>
/// </summary>
public sealed class RemotePort : ReceiveActor, IWithTimers
{
    public const int BufferLimit = 4096;

    private readonly string _role;
    private readonly string? _processRole;
    private readonly string _actorName;
    private readonly string _portName;
    private readonly IActorRef? _watcher;
    private readonly IActorRef? _directory;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly Queue<(object Message, IActorRef Sender)> _buffer = new();
    private IActorRef? _target;
    private Member? _member;
    private bool _reachable = true;
    private bool _everConnected;
    private long _dropped;
    private int _failedResolves;

    public ITimerScheduler Timers { get; set; } = null!;

    public string Role => _role;
    public string ActorName => _actorName;

    public RemotePort(string portName, string role, string actorName, IActorRef? watcher, string? processRole = null, IActorRef? directory = null)
    {
        _portName = portName;
        _role = role;
        _processRole = processRole;
        _directory = directory;
        _actorName = actorName;
        _watcher = watcher;
        Receive<ClusterEvent.MemberUp>(m => OnMemberUp(m.Member));
        Receive<ClusterEvent.MemberJoined>(_ => { });
        Receive<ClusterEvent.MemberWeaklyUp>(m => OnMemberUp(m.Member));
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (Same(m.Member)) _reachable = false;
        });
        Receive<ClusterEvent.ReachableMember>(m =>
        {
            if (Same(m.Member)) _reachable = true;
        });
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (Same(m.Member)) Lose();
        });
        Receive<ClusterEvent.IMemberEvent>(m =>
        {
            if (Same(m.Member) && m.Member.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving) Lose();
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<Resolved>(r =>
        {
            if (_member is null || !r.Member.Equals(_member.UniqueAddress)) return;
            if (_target is not null) Context.Unwatch(_target);
            _target = r.Actor;
            _reachable = true;
            _everConnected = true;
            _failedResolves = 0;
            Context.Watch(_target);
            while (_buffer.TryDequeue(out var b)) _target.Tell(b.Message, b.Sender);
            _watcher?.Tell(new PortState(_portName, true, _dropped));
        });
        Receive<ResolveFailed>(f =>
        {
            // The member is up but has not created the actor (yet), or answered too late: ask again, less and less
            // often (250 ms doubling to 4 s), so that a hundred thousand ports do not flood a busy member.
            if (_member is null || !f.Member.Equals(_member.UniqueAddress)) return;
            var wait = TimeSpan.FromMilliseconds(250 << Math.Min(4, _failedResolves++));
            Timers.StartSingleTimer("resolve", new Retry(f.Member), wait);
        });
        Receive<Retry>(r =>
        {
            if (_member is not null && r.Member.Equals(_member.UniqueAddress) && _target is null) Resolve(_member);
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_target)) Lose();
        });
        Receive<PortQuery>(_ => Sender.Tell(new PortState(_portName, _target is not null && _reachable, _dropped)));
        ReceiveAny(Forward);
    }

    /// <param name="directory">The member's <see cref="PeerDirectory"/>, which tells the port of the members holding its roles; without one the port subscribes to the cluster's events itself.</param>
    public static Props Props(string portName, string role, string actorName, IActorRef? watcher = null, string? processRole = null, IActorRef? directory = null) =>
        Akka.Actor.Props.Create(() => new RemotePort(portName, role, actorName, watcher, processRole, directory));

    /// <summary>Reported to the watcher whenever the port finds or loses its peer.</summary>
    public sealed record PortState(string Port, bool Connected, long Dropped = 0) : INoSerializationVerificationNeeded;

    /// <summary>Asks the port whether its peer is found; answered with <see cref="PortState"/>.</summary>
    public sealed record PortQuery : INoSerializationVerificationNeeded;

    private sealed record Resolved(UniqueAddress Member, IActorRef Actor) : INoSerializationVerificationNeeded;
    private sealed record ResolveFailed(UniqueAddress Member) : INoSerializationVerificationNeeded;
    private sealed record Retry(UniqueAddress Member) : INoSerializationVerificationNeeded;

    protected override void PreStart()
    {
        if (_directory is not null) _directory.Tell(new PeerDirectory.Register(_processRole is null ? [_role] : [_role, _processRole]));
        else _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop()
    {
        if (_directory is null) _cluster.Unsubscribe(Self);
    }

    private bool Same(Member m) => _member is not null && m.UniqueAddress.Equals(_member.UniqueAddress);

    private void OnMemberUp(Member m)
    {
        if (!(m.HasRole(_role) || (_processRole is not null && m.HasRole(_processRole))) || Same(m)) return;
        if (_target is not null) Context.Unwatch(_target);
        _target = null;
        _member = m;
        Resolve(m);
    }

    private void Resolve(Member m)
    {
        var unique = m.UniqueAddress;
        Context.ActorSelection(new RootActorPath(m.Address) / "user" / _actorName)
            .ResolveOne(TimeSpan.FromSeconds(3))
            .PipeTo(Self, success: a => new Resolved(unique, a), failure: _ => new ResolveFailed(unique));
    }

    private void Lose()
    {
        if (_target is not null) Context.Unwatch(_target);
        var had = _target is not null;
        _target = null;
        _member = null;
        Timers.Cancel("resolve");
        if (had) _watcher?.Tell(new PortState(_portName, false, _dropped));
    }

    private void Forward(object message)
    {
        if (_target is not null && _reachable)
        {
            _target.Tell(message, Sender);
            return;
        }
        if (!_everConnected)
        {
            if (_buffer.Count >= BufferLimit)
            {
                _buffer.Dequeue();
                _dropped++;
            }
            _buffer.Enqueue((message, Sender));
            return;
        }
        // The peer's member is gone or unreachable: like a pulled cable, the frame is lost.
        _dropped++;
    }

}
