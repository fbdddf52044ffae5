using Akka.Actor;
using Google.Protobuf;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Lab;

/// <summary>
/// The way past a link actor for frames the link would hand over at once and unchanged: while the link is up and
/// has no impairment (no delay, jitter, loss, duplicate, reorder, corrupt or rate limit) and nothing captures it, a
/// sending node gives the frame straight to the receiving node, with the link actor as the sender and the fields the
/// link actor would have set, and the link still counts it. Everything else (a frame over the MTU, a broadcast on a
/// segment, a next hop nobody on the segment owns) still goes through the link actor, which drops and counts as before.
/// <para>
/// The link actor owns it: it opens it only after every frame already queued to it has been passed on (so no frame
/// overtakes an earlier one) and closes it as soon as anything changes its impairments or state. Nodes of the same
/// process read it from any thread.
/// </para>
/// </summary>
public sealed class LinkShortcut(string link)
{
    /// <summary>One attachment of an open shortcut: who receives there, and the MTU of its own egress.</summary>
    internal sealed record End(string NodeName, string Interface, Ipv4Address Address, IActorRef Node, int? EgressMtu);

    /// <summary>The ends of an open shortcut, and the link actor that stands as the frames' sender.</summary>
    internal sealed record Route(End[] Ends, bool Segment, IActorRef Link);

    private volatile Route? _route;
    // One counter per end, each on a cache line of its own and written only by the node at that end (an actor runs on
    // one thread at a time): the two directions of a link no longer fight over one interlocked counter.
    private const int Stride = 8;
    private long[] _sent = [];
    private long _earlier;

    /// <summary>The link's name.</summary>
    public string Link { get; } = link;

    /// <summary>Frames handed over through the shortcut.</summary>
    public long Carried
    {
        get
        {
            var sent = _sent;
            var total = Interlocked.Read(ref _earlier);
            for (var i = 0; i < sent.Length; i += Stride) total += Volatile.Read(ref sent[i]);
            return total;
        }
    }

    /// <summary>True while frames may pass.</summary>
    public bool IsOpen => _route is not null;

    internal void Open(Route route)
    {
        if (_sent.Length != route.Ends.Length * Stride)
        {
            Interlocked.Exchange(ref _earlier, Carried);
            _sent = new long[route.Ends.Length * Stride];
        }
        _route = route;
    }

    internal void Close() => _route = null;

    /// <summary>
    /// Hands <paramref name="t"/>, sent by <paramref name="node"/>, to the node at the other end when the shortcut is
    /// open and the link would deliver it untouched; false leaves the frame for the link actor.
    /// </summary>
    public bool TrySend(string node, Transmission t, string traceparent, ulong sequence)
    {
        if (_route is not { } route) return false;
        End? from = null;
        End? to = null;
        var fromIndex = -1;
        var ends = route.Ends;
        for (var i = 0; i < ends.Length; i++)
        {
            var e = ends[i];
            if (Same(e.Interface, t.Interface) && Same(e.NodeName, node))
            {
                from = e;
                fromIndex = i;
            }
            // On a segment the frame goes to the owner of the next hop (what ARP finds); point to point, to the other end.
            else if (!route.Segment || e.Address == t.NextHop) to ??= e;
        }
        if (from is null || to is null) return false;
        if (from.EgressMtu is { } mtu && t.Datagram.Length > mtu) return false;
        if (route.Segment && t.NextHop == Ipv4Address.Broadcast) return false;
        var sent = _sent;
        if (fromIndex * Stride < sent.Length) Volatile.Write(ref sent[fromIndex * Stride], sent[fromIndex * Stride] + 1);
        else Interlocked.Increment(ref _earlier);
        to.Node.Tell(new Frame
        {
            Link = Link,
            Node = to.NodeName,
            Interface = to.Interface,
            Packet = UnsafeByteOperations.UnsafeWrap(t.Datagram),
            Traceparent = traceparent,
            Sequence = sequence,
            NextHop = t.NextHop.Value,
        }, route.Link);
        return true;
    }

    /// <summary>String equality that is done at once for the same instance, which the lab's names usually are.</summary>
    private static bool Same(string a, string b) => ReferenceEquals(a, b) || a == b;
}
