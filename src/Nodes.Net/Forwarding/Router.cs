using Nodes.Net.Fragmentation;
using Nodes.Net.Routing;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;

namespace Nodes.Net.Forwarding;

/// <summary>Behaviour switches of a <see cref="Router"/>.</summary>
public sealed record RouterOptions
{
    /// <summary>Send ICMP errors at all (time exceeded, unreachable, fragmentation needed).</summary>
    public bool SendIcmpErrors { get; init; } = true;

    /// <summary>
    /// Drop too-big DF datagrams without the fragmentation-needed message: the "PMTUD black hole"
    /// of RFC 2923 §2.1, a fault to inject.
    /// </summary>
    public bool SuppressFragmentationNeeded { get; init; }

    /// <summary>Lower the MSS option of forwarded TCP SYNs to this value; null leaves TCP alone.</summary>
    public ushort? ClampMss { get; init; }

    /// <summary>TTL of the ICMP errors the router originates (64, as Linux).</summary>
    public byte IcmpTimeToLive { get; init; } = 64;

    /// <summary>First Identification value of originated datagrams; it then counts up by one.</summary>
    public ushort InitialIdentification { get; init; }
}

/// <summary>What happened to a datagram offered to <see cref="Router.Forward"/>.</summary>
public enum ForwardDisposition : byte
{
    /// <summary>Sent on, as one datagram or as fragments (<see cref="ForwardResult.Transmissions"/>).</summary>
    Forwarded,

    /// <summary>Addressed to the router itself (<see cref="ForwardResult.LocalDatagram"/>).</summary>
    Local,

    /// <summary>Discarded for <see cref="ForwardResult.Reason"/>; an ICMP error may be in <see cref="ForwardResult.Transmissions"/>.</summary>
    Dropped,
}

/// <summary>The outcome of forwarding one datagram: plain values, owned by the caller. A value, not an object: routers answer one per datagram.</summary>
public readonly record struct ForwardResult(
    ForwardDisposition Disposition,
    DropReason Reason,
    TransmissionList Transmissions,
    byte[]? LocalDatagram)
{
    /// <summary>The ICMP error sent back to the source, if any (only with <see cref="ForwardDisposition.Dropped"/>).</summary>
    public Transmission? IcmpError => Disposition == ForwardDisposition.Dropped && Transmissions.Count > 0 ? Transmissions[0] : null;
}

/// <summary>
/// None, one or several transmissions without a collection for the common case of one (a datagram forwarded whole).
/// Indexing, <c>Count</c> and <c>foreach</c> allocate nothing; passed as an <see cref="IReadOnlyList{T}"/> it is boxed.
/// </summary>
public readonly struct TransmissionList : IReadOnlyList<Transmission>
{
    private readonly Transmission? _one;
    private readonly IReadOnlyList<Transmission>? _many;

    public TransmissionList(Transmission one) => _one = one;

    public TransmissionList(IReadOnlyList<Transmission> many) => _many = many;

    public int Count => _many?.Count ?? (_one is null ? 0 : 1);

    public Transmission this[int index] => _many is not null ? _many[index]
        : index == 0 && _one is { } one ? one
        : throw new ArgumentOutOfRangeException(nameof(index));

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Transmission> IEnumerable<Transmission>.GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => ((IEnumerable<Transmission>)this).GetEnumerator();

    /// <summary>Walks the list without allocating.</summary>
    public struct Enumerator(TransmissionList list)
    {
        private int _index = -1;

        public readonly Transmission Current => list[_index];

        public bool MoveNext() => ++_index < list.Count;
    }
}

/// <summary>Counts of a router's work.</summary>
public sealed class RouterCounters
{
    /// <summary>Datagrams sent on (a fragmented datagram counts once).</summary>
    public long Forwarded { get; internal set; }

    /// <summary>Datagrams that had to be fragmented.</summary>
    public long Fragmented { get; internal set; }

    /// <summary>Fragments produced.</summary>
    public long FragmentsCreated { get; internal set; }

    /// <summary>Datagrams delivered to the router itself.</summary>
    public long Delivered { get; internal set; }

    /// <summary>ICMP errors originated.</summary>
    public long IcmpErrorsSent { get; internal set; }

    /// <summary>ICMP errors withheld by RFC 1122 §3.2.2, by configuration, or for lack of a route back.</summary>
    public long IcmpErrorsSuppressed { get; internal set; }

    /// <summary>TCP SYNs whose MSS was lowered.</summary>
    public long MssClamped { get; internal set; }

    /// <summary>Drops by reason.</summary>
    public DropCounters Drops { get; } = new();
}

/// <summary>
/// The IPv4 forwarding plane of a router (RFC 1812 §5.2–5.3), as a pure model:
/// <see cref="Forward"/> takes a received datagram and its ingress interface and returns what goes
/// out where. Steps, in order: parse (malformed → drop), local delivery, TTL (RFC 1812 §5.3.1,
/// decremented with an incremental checksum), route lookup, MSS clamping, then the egress MTU:
/// fragment per RFC 791 or, with DF, answer fragmentation needed with the next-hop MTU (RFC 1191 §4).
/// Not thread-safe: one instance per router node.
/// </summary>
public sealed class Router
{
    private readonly InterfaceSet _set = new();
    private ushort _identification;

    /// <summary>Creates a router with its interfaces; their connected routes are added to <paramref name="routes"/> (or a new table).</summary>
    public Router(IEnumerable<IpInterface> interfaces, RoutingTable? routes = null, RouterOptions? options = null)
    {
        Routes = routes ?? new RoutingTable();
        Options = options ?? new RouterOptions();
        _identification = Options.InitialIdentification;
        foreach (var iface in interfaces)
        {
            _set.Add(iface);
            Routes.AddConnected(iface);
        }
    }

    /// <summary>The routing table (connected routes plus whatever the caller adds).</summary>
    public RoutingTable Routes { get; }

    /// <summary>Behaviour switches; replace to inject faults (e.g. the MTU black hole).</summary>
    public RouterOptions Options { get; set; }

    /// <summary>Counts of work done and drops.</summary>
    public RouterCounters Counters { get; } = new();

    /// <summary>The interfaces by name.</summary>
    public IReadOnlyDictionary<string, IpInterface> Interfaces => _set.ByName;

    /// <summary>True when <paramref name="address"/> is one of the router's own addresses.</summary>
    public bool IsLocalAddress(Ipv4Address address) => _set.HasAddress(address);

    /// <summary>Forwards one received datagram. Never throws on any input bytes.</summary>
    public ForwardResult Forward(ReadOnlySpan<byte> received, string ingress) => Forward(received, null, ingress);

    /// <summary>
    /// Forwards a datagram the caller gives away, as <see cref="Forward(ReadOnlySpan{byte}, string)"/> does but without
    /// copying it: TTL and MSS are changed in <paramref name="datagram"/> and the array itself goes out (or is the
    /// local datagram), unless fragments or an ICMP error are made from it. Never throws on any input bytes.
    /// </summary>
    public ForwardResult ForwardInPlace(byte[] datagram, string ingress) => Forward(datagram, datagram, ingress);

    private ForwardResult Forward(ReadOnlySpan<byte> received, byte[]? owned, string ingress)
    {
        if (!_set.ByName.ContainsKey(ingress)) return Drop(DropReason.UnknownInterface);
        if (!Ipv4Packet.TryParse(received, out var packet, out _)) return Drop(DropReason.Malformed);
        var header = packet.Header;

        // RFC 1812 §5.3.7: never forward a datagram whose source cannot be a host.
        if (AddressClass.IsMartianSource(header.Source)) return Drop(DropReason.MartianSource);

        if (IsLocalAddress(header.Destination) || AddressClass.IsLimitedBroadcast(header.Destination) || IsDirectedBroadcast(header.Destination))
        {
            Counters.Delivered++;
            return new ForwardResult(ForwardDisposition.Local, DropReason.None, default, Owned(packet.Datagram, owned));
        }

        // RFC 1812 §5.3.1: a router never forwards with TTL 0 or 1; it answers time exceeded.
        if (header.TimeToLive <= 1)
        {
            return DropWithError(DropReason.TtlExceeded, Icmpv4Header.TimeExceeded(TimeExceededCode.TtlExceededInTransit), packet.Datagram);
        }

        if (!Routes.TryLookup(header.Destination, out var route) || !_set.ByName.TryGetValue(route.Interface, out var egress))
        {
            return DropWithError(DropReason.NoRoute, Icmpv4Header.DestinationUnreachable(DestinationUnreachableCode.NetUnreachable), packet.Datagram);
        }

        var datagram = Owned(packet.Datagram, owned);
        Ipv4Header.TryDecrementTimeToLive(datagram);
        if (Options.ClampMss is { } mss && TcpMssClamp.TryClamp(datagram, mss)) Counters.MssClamped++;

        var nextHop = route.NextHopFor(header.Destination);
        if (datagram.Length > egress.Mtu && header.DontFragment)
        {
            // RFC 1191 §4: the next-hop MTU goes in the low-order 16 bits of the unused field.
            if (Options.SuppressFragmentationNeeded)
            {
                Counters.IcmpErrorsSuppressed++;
                return Drop(DropReason.FragmentationNeeded);
            }

            return DropWithError(DropReason.FragmentationNeeded, Icmpv4Header.FragmentationNeeded((ushort)egress.Mtu), packet.Datagram);
        }

        if (datagram.Length <= egress.Mtu)
        {
            Counters.Forwarded++;
            return new ForwardResult(ForwardDisposition.Forwarded, DropReason.None, new TransmissionList(new Transmission(egress.Name, nextHop, datagram)), null);
        }
        var transmissions = new List<Transmission>();
        if (Egress.Emit(datagram, dontFragment: false, nextHop, egress, transmissions) is not DropReason.None and var refused) return Drop(refused);
        Counters.Forwarded++;
        Counters.Fragmented++;
        Counters.FragmentsCreated += transmissions.Count;
        return new ForwardResult(ForwardDisposition.Forwarded, DropReason.None, new TransmissionList(transmissions), null);
    }

    /// <summary>The route and egress interface toward <paramref name="destination"/>, for a datagram the node sends itself.</summary>
    public bool TryRoute(Ipv4Address destination, out Route route, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IpInterface? egress) =>
        Egress.TryRoute(Routes, _set.ByName, destination, out route, out egress);

    /// <summary>
    /// Builds an ICMP error about <paramref name="offending"/> from this router, routed back to its
    /// source, when RFC 1122 §3.2.2 allows one and a route back exists; otherwise null.
    /// </summary>
    public Transmission? BuildIcmpError(Icmpv4Header error, ReadOnlySpan<byte> offending)
    {
        if (!Options.SendIcmpErrors || !IcmpErrorPolicy.MaySendErrorAbout(offending, IsDirectedBroadcast))
        {
            Counters.IcmpErrorsSuppressed++;
            return null;
        }

        var source = Ipv4Address.Read(offending[Ipv4Header.Field.Source..]);
        if (!Routes.TryLookup(source, out var back) || !_set.ByName.TryGetValue(back.Interface, out var egress))
        {
            Counters.IcmpErrorsSuppressed++;
            return null;
        }

        // RFC 1812 §4.3.2.4: the source is an address of the interface the error leaves through.
        var template = new Ipv4Template(egress.Address, source, _identification++, Options.IcmpTimeToLive);
        var buffer = new byte[Ipv4PacketWriter.IcmpDatagramLength(Ipv4Header.MaxLength + Icmpv4Header.QuotedDataLength)];
        var length = Ipv4PacketWriter.WriteIcmpError(buffer, template, error, offending);
        Counters.IcmpErrorsSent++;
        return new Transmission(egress.Name, back.NextHopFor(source), buffer[..length]);
    }

    /// <summary>The datagram as an array of its own: the caller's array when it is exactly the datagram, else a copy.</summary>
    private static byte[] Owned(ReadOnlySpan<byte> datagram, byte[]? owned) =>
        owned is not null && owned.Length == datagram.Length ? owned : datagram.ToArray();

    private bool IsDirectedBroadcast(Ipv4Address address) => _set.HasDirectedBroadcast(address);

    private ForwardResult DropWithError(DropReason reason, Icmpv4Header error, ReadOnlySpan<byte> offending)
    {
        var icmp = BuildIcmpError(error, offending);
        Counters.Drops.Add(reason);
        return new ForwardResult(ForwardDisposition.Dropped, reason, icmp is null ? default : new TransmissionList(icmp.Value), null);
    }

    private ForwardResult Drop(DropReason reason)
    {
        Counters.Drops.Add(reason);
        return new ForwardResult(ForwardDisposition.Dropped, reason, default, null);
    }
}
