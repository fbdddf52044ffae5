using Nodes.Net.Fragmentation;
using Nodes.Net.Routing;
using Nodes.Wire.Ip;

namespace Nodes.Net.Forwarding;

/// <summary>
/// The last step of every datagram a node puts on a link, forwarded or its own: the egress interface's MTU decides
/// whether it leaves whole or in fragments (RFC 791), and a datagram with DF set that does not fit does not leave.
/// One step for the router, the host stack and the gateways, so that all of them fragment alike.
/// </summary>
public static class Egress
{
    /// <summary>
    /// Adds the transmissions of <paramref name="datagram"/> on <paramref name="egress"/> to <paramref name="into"/>:
    /// the datagram itself when it fits <paramref name="mtu"/> (the interface's unless a smaller one is given), its
    /// fragments when it does not and DF is clear. Returns <see cref="DropReason.FragmentationNeeded"/> when DF forbids
    /// fragmenting, <see cref="DropReason.Malformed"/> for a fragment that cannot be fragmented again (its data ends
    /// past octet 65,535), else <see cref="DropReason.None"/>.
    /// </summary>
    public static DropReason Emit(byte[] datagram, bool dontFragment, Ipv4Address nextHop, IpInterface egress, List<Transmission> into, int? mtu = null)
    {
        var limit = mtu ?? egress.Mtu;
        if (datagram.Length <= limit)
        {
            into.Add(new Transmission(egress.Name, nextHop, datagram));
            return DropReason.None;
        }
        if (dontFragment) return DropReason.FragmentationNeeded;
        if (!Ipv4Fragmenter.TryFragment(datagram, egress.Mtu, out var fragments)) return DropReason.Malformed;
        foreach (var f in fragments) into.Add(new Transmission(egress.Name, nextHop, f));
        return DropReason.None;
    }

    /// <summary>The route and egress interface for <paramref name="destination"/>, when a route leads out of a known interface.</summary>
    public static bool TryRoute(RoutingTable routes, IReadOnlyDictionary<string, IpInterface> interfaces, Ipv4Address destination,
        out Route route, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IpInterface? egress)
    {
        egress = null;
        return routes.TryLookup(destination, out route) && interfaces.TryGetValue(route.Interface, out egress);
    }
}
