using Akka.Actor;
using Nodes.Messages;

namespace Nodes.Actors.Cluster;

/// <summary>
/// The lab actor of one member, <c>/user/lab</c>: answers <see cref="MemberInfoRequest"/> with what the member hosts
/// and which of its ports still wait for their peers, receives the events of its nodes (it is the member's
/// <see cref="Lab.LabContext.Events"/>) and passes each to the local terminal and to every subscribed driver.
/// </summary>
public sealed class MemberLabActor : ReceiveActor
{
    public const string Name = "lab";

    private readonly MemberInfo _info;
    private readonly Action<NodeEvent>? _onEvent;
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _subscribers = [];

    /// <summary>The ports the member built; each reports when it finds its peer.</summary>
    public sealed record ExpectPorts(IReadOnlyCollection<string> Ports) : INoSerializationVerificationNeeded;

    public MemberLabActor(MemberInfo info, Action<NodeEvent>? onEvent)
    {
        _info = info;
        _onEvent = onEvent;
        Receive<ExpectPorts>(m => _waiting.UnionWith(m.Ports));
        Receive<RemotePort.PortState>(s =>
        {
            if (s.Connected) _waiting.Remove(s.Port);
            else _waiting.Add(s.Port);
        });
        Receive<MemberInfoRequest>(_ => Sender.Tell(_info with { Waiting = _waiting.Order(StringComparer.Ordinal).ToArray() }));
        Receive<SubscribeEvents>(_ =>
        {
            if (_subscribers.Add(Sender)) Context.Watch(Sender);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<NodeEvent>(e =>
        {
            _onEvent?.Invoke(e);
            foreach (var s in _subscribers) s.Tell(e);
        });
        Receive<FaultApplied>(f =>
        {
            foreach (var s in _subscribers) s.Tell(f);
        });
    }

    public static Props Props(MemberInfo info, Action<NodeEvent>? onEvent) => Akka.Actor.Props.Create(() => new MemberLabActor(info, onEvent));
}
