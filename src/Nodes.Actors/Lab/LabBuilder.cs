using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Actors.External;
using Nodes.Actors.Nodes;
using Nodes.Gateway;
using Nodes.Topology.Model;

namespace Nodes.Actors.Lab;

/// <summary>The actors of a running lab, by node and link name; <paramref name="Ports"/> stand in for peers in other processes.</summary>
public sealed record LabActors(ImmutableDictionary<string, IActorRef> Nodes, ImmutableDictionary<string, IActorRef> Links, ImmutableDictionary<string, IActorRef>? Ports = null);

/// <summary>
/// A peer in another process: the member with role <paramref name="Role"/> (the peer's node name), or with role
/// <paramref name="ProcessRole"/> (the placement process of that node, when the topology places it), hosts it as
/// <c>/user/{ActorName}</c>.
/// </summary>
public sealed record RemotePeer(string PortName, string Role, string ActorName, string? ProcessRole = null);

/// <summary>
/// Turns a validated topology into actors in one actor system: a link actor per link, a node actor per node of the
/// right kind (host, router or NAT router, RRAS, Azure VPN gateway), wired to each other.
/// </summary>
public static class LabBuilder
{
    /// <summary>The well-known name of a node's actor below <c>/user</c> (the same in every process).</summary>
    public static string NodeActorName(string node) => $"node-{Safe(node)}";

    /// <summary>The well-known name of a link's actor below <c>/user</c> (the same in every process).</summary>
    public static string LinkActorName(TopologySpec topology, LinkSpec link) => $"link-{topology.IndexOfLink(link)}-{Safe(link.Name)}";

    /// <summary>
    /// The node that decides where a link actor lives: the link is hosted by the process of its first endpoint, so
    /// frames between two nodes of one process never leave it, and each link has exactly one owner.
    /// </summary>
    public static string LinkOwner(LinkSpec link) => link.Endpoints[0].Node;

    /// <summary>The cluster role of the member hosting every node of placement process <paramref name="process"/>.</summary>
    public static string ProcessRole(string process) => $"process:{process}";

    /// <summary>
    /// The cluster roles naming what a member hosts: for each placement process whose nodes are all hosted here, the
    /// process's role; for every other node, its name. A member of a generated hub hosts tens of thousands of nodes,
    /// and the cluster's gossip carries every member's roles: one role per process keeps that small.
    /// </summary>
    public static IReadOnlyList<string> MemberRoles(TopologySpec topology, IReadOnlyCollection<string> hosted)
    {
        var set = hosted as IReadOnlySet<string> ?? hosted.ToHashSet(StringComparer.Ordinal);
        var whole = topology.Placement?.Processes.Where(p => p.Nodes.Length > 0 && p.Nodes.All(set.Contains)).ToList() ?? [];
        var covered = whole.SelectMany(p => p.Nodes).ToHashSet(StringComparer.Ordinal);
        return [.. whole.Select(p => ProcessRole(p.Name)), .. hosted.Where(n => !covered.Contains(n))];
    }

    private static string? ProcessRoleOf(TopologySpec topology, string node) =>
        topology.Placement?.ProcessOf(node) is { } p ? ProcessRole(p) : null;

    /// <summary>
    /// Builds the lab in one process (<paramref name="hostHere"/> null) or this process's part of it. With
    /// <paramref name="remote"/> given, only the nodes <paramref name="hostHere"/> accepts and the links whose first
    /// endpoint is one of them are built; every other link one of those nodes attaches to, and every node at the far
    /// end of a link built here, is a port made by <paramref name="remote"/> that finds the real actor in its process.
    /// Without <paramref name="remote"/> every link is built here, as before.
    /// </summary>
    public static LabActors Build(IActorRefFactory system, TopologySpec topology, LabContext lab, Func<string, bool>? hostHere = null,
        Func<RemotePeer, IActorRef>? remote = null)
    {
        hostHere ??= _ => true;
        // Akka's timer scheduler starts on its first use and waits for that start. Nodes start timers in their
        // constructors, so a thousand of them built at once would each wait on a thread-pool thread for a start that
        // itself needs one: the pool starves for tens of seconds. Starting it here, on the caller's thread, avoids that.
        if (system is ActorSystem actorSystem) actorSystem.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), static () => { });
        var links = new Dictionary<string, IActorRef>();
        var ports = new Dictionary<string, IActorRef>();
        var byAttachment = new Dictionary<string, Attachment>();
        foreach (var link in topology.Links)
        {
            var here = remote is null || hostHere(LinkOwner(link));
            var touches = link.Endpoints.Any(e => hostHere(e.Node));
            if (!here && !touches) continue;
            IActorRef actor;
            LinkShortcut? shortcut = null;
            if (here)
            {
                shortcut = new LinkShortcut(link.Name);
                actor = system.ActorOf(LinkActor.Props(link, lab, shortcut), LinkActorName(topology, link));
                links[link.Name] = actor;
            }
            else
            {
                var port = new RemotePeer($"port-{LinkActorName(topology, link)}", LinkOwner(link), LinkActorName(topology, link), ProcessRoleOf(topology, LinkOwner(link)));
                actor = remote!(port);
                ports[port.PortName] = actor;
            }
            foreach (var e in link.Endpoints) byAttachment[LinkActor.AttachmentName(e.Node, e.Interface)] = new Attachment(e.Interface, link.Name, actor, shortcut);
        }
        var nodes = new Dictionary<string, IActorRef>();
        var externals = new List<(string Node, IActorRef Actor)>();
        foreach (var node in topology.Nodes.Where(n => hostHere(n.Name)))
        {
            // An external interface is attached to the machine's own network by real UDP sockets, not to a link.
            foreach (var iface in node.Interfaces.Where(x => x.External is not null && !byAttachment.ContainsKey(LinkActor.AttachmentName(node.Name, x.Name))))
            {
                var name = ExternalLinkActor.LinkName(node.Name, iface.Name);
                var actor = system.ActorOf(ExternalLinkActor.Props(node.Name, iface, lab), Safe(name));
                links[name] = actor;
                externals.Add((node.Name, actor));
                byAttachment[LinkActor.AttachmentName(node.Name, iface.Name)] = new Attachment(iface.Name, name, actor);
            }
            var attachments = node.Interfaces
                .Select(iface => byAttachment.GetValueOrDefault(LinkActor.AttachmentName(node.Name, iface.Name)))
                .OfType<Attachment>()
                .ToArray();
            var props = node switch
            {
                HostSpec h => HostActor.Props(h, attachments, lab),
                RrasSpec r => GatewayActor.Props(r, GatewayProfile.Rras(r, new TimeScale(lab.TimeScale)), attachments, lab),
                AzureVpnGatewaySpec a => GatewayActor.Props(a, GatewayProfile.Azure(a, new TimeScale(lab.TimeScale)), attachments, lab),
                _ => RouterActor.Props(node, attachments, lab),
            };
            nodes[node.Name] = system.ActorOf(props, NodeActorName(node.Name));
        }
        foreach (var (node, actor) in externals) actor.Tell(new ExternalLinkActor.Connect(nodes[node]));
        foreach (var link in topology.Links.Where(l => links.ContainsKey(l.Name)))
        {
            var ends = link.Endpoints.Select(e =>
            {
                var spec = topology.FindNode(e.Node)!;
                var address = spec.FindInterface(e.Interface)!.Address;
                var actor = nodes.GetValueOrDefault(e.Node);
                if (actor is null && remote is not null)
                {
                    var port = new RemotePeer($"port-{NodeActorName(e.Node)}", e.Node, NodeActorName(e.Node), ProcessRoleOf(topology, e.Node));
                    if (!ports.TryGetValue(port.PortName, out actor))
                    {
                        actor = remote(port);
                        ports[port.PortName] = actor;
                    }
                }
                return new LinkActor.End(LinkActor.AttachmentName(e.Node, e.Interface), e.Node, e.Interface, address, actor ?? ActorRefs.Nobody);
            }).ToList();
            links[link.Name].Tell(new LinkActor.Connect(ends));
        }
        return new LabActors(nodes.ToImmutableDictionary(), links.ToImmutableDictionary(), ports.ToImmutableDictionary());
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
