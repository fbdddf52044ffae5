using Akka.Actor;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Actors.Cluster;

/// <summary>
/// The lab actor of one member, <c>/user/lab</c>: answers <see cref="MemberInfoRequest"/> with what the member hosts
/// and which of its ports still wait for their peers, receives the events of its nodes (it is the member's
/// <see cref="Lab.LabContext.Events"/>) and passes each to the local terminal and to every subscribed driver. It is
/// also where a fault injected live (<c>nodes fault</c>) enters the member: it forwards the
/// <see cref="InjectFault"/> to the node and link actors of this member that the fault targets, keeping the sender,
/// and tells the sender which targets those are (<see cref="FaultRouted"/>).
/// </summary>
public sealed class MemberLabActor : ReceiveActor
{
    public const string Name = "lab";

    private readonly MemberInfo _info;
    private readonly Action<NodeEvent>? _onEvent;
    private readonly IReadOnlyList<LinkSpec> _links;
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _subscribers = [];
    private IReadOnlyDictionary<string, IActorRef> _nodesHere = new Dictionary<string, IActorRef>();
    private IReadOnlyDictionary<string, IActorRef> _linksHere = new Dictionary<string, IActorRef>();

    /// <summary>The ports the member built; each reports when it finds its peer.</summary>
    public sealed record ExpectPorts(IReadOnlyCollection<string> Ports) : INoSerializationVerificationNeeded;

    /// <summary>The node actors (by node name) and link actors (by link name) this member built: where faults go.</summary>
    public sealed record Hosted(IReadOnlyDictionary<string, IActorRef> Nodes, IReadOnlyDictionary<string, IActorRef> Links) : INoSerializationVerificationNeeded;

    /// <param name="links">Every link of the topology, to resolve a link named by one end and the links of a node.</param>
    /// <param name="ikeActivity">What this member recorded of a gateway's IKE activity (for Azure's diagnostics); null: nothing.</param>
    public MemberLabActor(MemberInfo info, Action<NodeEvent>? onEvent, IReadOnlyList<LinkSpec> links, Func<string, IkeActivityLog>? ikeActivity = null)
    {
        _info = info;
        _onEvent = onEvent;
        _links = links;
        Receive<ExpectPorts>(m => _waiting.UnionWith(m.Ports));
        Receive<Hosted>(h =>
        {
            _nodesHere = h.Nodes;
            _linksHere = h.Links;
        });
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
        Receive<QueryIkeActivity>(q => Sender.Tell(ikeActivity?.Invoke(q.Node) ?? new IkeActivityLog { Node = q.Node }));
        Receive<InjectFault>(f =>
        {
            var targets = Targets(f, _links).Where(t => t.IsLink ? _linksHere.ContainsKey(t.Name) : _nodesHere.ContainsKey(t.Name)).ToList();
            // The count first, so that the sender knows how many answers to wait for; each target answers the sender.
            Sender.Tell(new FaultRouted(f.Id, _info.Process, targets.Select(t => t.Name).ToArray()));
            foreach (var (name, isLink) in targets) (isLink ? _linksHere[name] : _nodesHere[name]).Forward(f);
        });
    }

    public static Props Props(MemberInfo info, Action<NodeEvent>? onEvent, IReadOnlyList<LinkSpec> links, Func<string, IkeActivityLog>? ikeActivity = null) =>
        Akka.Actor.Props.Create(() => new MemberLabActor(info, onEvent, links, ikeActivity));

    /// <summary>
    /// Every node or link a fault acts on, wherever it is hosted: the link named by <see cref="InjectFault.Link"/>
    /// (its name, or one of its ends "node:interface"); for a partition or heal of a node, every link the node
    /// attaches to; otherwise the node named by <see cref="InjectFault.Node"/>. Empty when the link is unknown.
    /// </summary>
    public static IReadOnlyList<(string Name, bool IsLink)> Targets(InjectFault f, IReadOnlyList<LinkSpec> links)
    {
        if (f.Link.Length > 0)
        {
            var link = links.FirstOrDefault(l => l.Name == f.Link) ?? links.FirstOrDefault(l => l.Endpoints.Any(e => e.ToString() == f.Link));
            return link is null ? [] : [(link.Name, true)];
        }
        if (f.Node.Length == 0) return [];
        if (FaultCatalog.Find(f.Fault) is { Target: FaultTarget.LinkOrNode })
            return links.Where(l => l.Endpoints.Any(e => e.Node == f.Node)).Select(l => (l.Name, true)).ToList();
        return [(f.Node, false)];
    }
}
