using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Actors.External;
using Nodes.Actors.Nodes;
using Nodes.Topology.Model;

namespace Nodes.Actors.Lab;

/// <summary>The actors of a running lab, by node and link name.</summary>
public sealed record LabActors(ImmutableDictionary<string, IActorRef> Nodes, ImmutableDictionary<string, IActorRef> Links);

/// <summary>
/// Turns a validated topology into actors in one actor system: a link actor per link, a node actor per node of the
/// right kind (host, router or NAT router, RRAS, Azure VPN gateway), wired to each other.
/// </summary>
public static class LabBuilder
{
    public static LabActors Build(IActorRefFactory system, TopologySpec topology, LabContext lab, Func<string, bool>? hostHere = null)
    {
        hostHere ??= _ => true;
        var links = new Dictionary<string, IActorRef>();
        var byAttachment = new Dictionary<string, Attachment>();
        var i = 0;
        foreach (var link in topology.Links)
        {
            var actor = system.ActorOf(LinkActor.Props(link, lab), $"link-{i++}-{Safe(link.Name)}");
            links[link.Name] = actor;
            foreach (var e in link.Endpoints) byAttachment[LinkActor.AttachmentName(e.Node, e.Interface)] = new Attachment(e.Interface, link.Name, actor);
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
                RrasSpec r => GatewayActor.Props(r, GatewayProfile.Rras(r, lab), attachments, lab),
                AzureVpnGatewaySpec a => GatewayActor.Props(a, GatewayProfile.Azure(a, lab), attachments, lab),
                _ => RouterActor.Props(node, attachments, lab),
            };
            nodes[node.Name] = system.ActorOf(props, $"node-{Safe(node.Name)}");
        }
        foreach (var (node, actor) in externals) actor.Tell(new ExternalLinkActor.Connect(nodes[node]));
        foreach (var link in topology.Links)
        {
            var ends = link.Endpoints.Select(e =>
            {
                var spec = topology.FindNode(e.Node)!;
                var address = spec.FindInterface(e.Interface)!.Address;
                return new LinkActor.End(LinkActor.AttachmentName(e.Node, e.Interface), e.Node, e.Interface, address, nodes.GetValueOrDefault(e.Node, ActorRefs.Nobody));
            }).ToList();
            links[link.Name].Tell(new LinkActor.Connect(ends));
        }
        return new LabActors(nodes.ToImmutableDictionary(), links.ToImmutableDictionary());
    }

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
