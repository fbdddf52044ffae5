namespace Nodes.Net;

/// <summary>
/// Why the network model discarded a datagram or frame. Every drop in Nodes.Net carries exactly
/// one of these; <see cref="DropReasonNames.ToName"/> gives the stable kebab-case name used as a
/// metric label and in JSON, which must not change once published.
/// </summary>
public enum DropReason : byte
{
    /// <summary>Nothing was dropped.</summary>
    None = 0,

    /// <summary>The bytes are not a valid IPv4 datagram (bad version, length or header checksum).</summary>
    Malformed,

    /// <summary>The ingress interface name is not one of the node's interfaces.</summary>
    UnknownInterface,

    /// <summary>The source address cannot be a sender: broadcast, multicast or loopback (RFC 1812 §5.3.7).</summary>
    MartianSource,

    /// <summary>The TTL would reach zero at this hop (RFC 1812 §5.3.1).</summary>
    TtlExceeded,

    /// <summary>No route covers the destination.</summary>
    NoRoute,

    /// <summary>Larger than the egress MTU with DF set (RFC 1191).</summary>
    FragmentationNeeded,

    /// <summary>A frame above the link MTU reached the link.</summary>
    LinkMtu,

    /// <summary>The link is administratively or physically down.</summary>
    LinkDown,

    /// <summary>The link's loss impairment took the frame.</summary>
    LinkLoss,

    /// <summary>The link's rate queue already held its limit of frames.</summary>
    LinkQueueFull,

    /// <summary>No live NAT mapping matches an inbound datagram (never created, expired or rebound).</summary>
    NoNatMapping,

    /// <summary>A mapping exists but its filtering behaviour refuses this remote endpoint (RFC 4787 §5).</summary>
    NatFiltered,

    /// <summary>Every external port of the NAT's range is in use.</summary>
    NatPortsExhausted,

    /// <summary>The NAT does not translate this protocol or ICMP type.</summary>
    NatUnsupported,

    /// <summary>A non-first fragment reached the NAT, which has no ports to translate by.</summary>
    NatFragment,

    /// <summary>Not every fragment of a datagram arrived before the reassembly timer ran out.</summary>
    ReassemblyTimeout,

    /// <summary>A fragment overlaps another of the same datagram with different extent (RFC 5722 spirit).</summary>
    ReassemblyOverlap,

    /// <summary>An exact repeat of a fragment already held.</summary>
    ReassemblyDuplicate,

    /// <summary>The reassembly buffer is at its datagram or byte limit.</summary>
    ReassemblyLimit,

    /// <summary>The fragments describe a datagram longer than 65,535 octets or contradict its end.</summary>
    ReassemblyInconsistent,

    /// <summary>A host received a datagram for an address it does not hold.</summary>
    NotForThisHost,

    /// <summary>A UDP datagram for a port nobody listens on.</summary>
    NoListener,

    /// <summary>An ICMP message the host has no use for (an echo reply nobody waits for, an error about nothing it sent).</summary>
    UnmatchedIcmp,

    /// <summary>A gateway's security policy discards the cleartext packet (RFC 4301 section 5): it must travel in a tunnel, or not at all.</summary>
    SpdDiscard,

    /// <summary>A TCP segment whose checksum (with the IPv4 pseudo-header) does not verify (RFC 9293 §3.1).</summary>
    TcpChecksum,
}

/// <summary>Stable names of <see cref="DropReason"/> values.</summary>
public static class DropReasonNames
{
    /// <summary>The kebab-case name, e.g. "no-nat-mapping".</summary>
    public static string ToName(this DropReason reason) => reason switch
    {
        DropReason.None => "none",
        DropReason.Malformed => "malformed",
        DropReason.UnknownInterface => "unknown-interface",
        DropReason.MartianSource => "martian-source",
        DropReason.TtlExceeded => "ttl-exceeded",
        DropReason.NoRoute => "no-route",
        DropReason.FragmentationNeeded => "fragmentation-needed",
        DropReason.LinkMtu => "link-mtu",
        DropReason.LinkDown => "link-down",
        DropReason.LinkLoss => "link-loss",
        DropReason.LinkQueueFull => "link-queue-full",
        DropReason.NoNatMapping => "no-nat-mapping",
        DropReason.NatFiltered => "nat-filtered",
        DropReason.NatPortsExhausted => "nat-ports-exhausted",
        DropReason.NatUnsupported => "nat-unsupported",
        DropReason.NatFragment => "nat-fragment",
        DropReason.ReassemblyTimeout => "reassembly-timeout",
        DropReason.ReassemblyOverlap => "reassembly-overlap",
        DropReason.ReassemblyDuplicate => "reassembly-duplicate",
        DropReason.ReassemblyLimit => "reassembly-limit",
        DropReason.ReassemblyInconsistent => "reassembly-inconsistent",
        DropReason.NotForThisHost => "not-for-this-host",
        DropReason.NoListener => "no-listener",
        DropReason.UnmatchedIcmp => "unmatched-icmp",
        DropReason.SpdDiscard => "spd-discard",
        DropReason.TcpChecksum => "tcp-checksum",
        _ => "unknown",
    };

    /// <summary>The value whose <see cref="ToName"/> is <paramref name="name"/>.</summary>
    public static bool TryParse(string name, out DropReason reason)
    {
        foreach (var value in Enum.GetValues<DropReason>())
        {
            if (value.ToName() == name)
            {
                reason = value;
                return true;
            }
        }

        reason = DropReason.None;
        return false;
    }
}

/// <summary>
/// Drop counts by reason. One per model instance, owned by it; not thread-safe.
/// </summary>
public sealed class DropCounters
{
    private static readonly int Reasons = Enum.GetValues<DropReason>().Length;

    // Made at the first drop: a lab holds a few of these per node, and most never count one.
    private long[]? _counts;

    /// <summary>Counts one drop.</summary>
    public void Add(DropReason reason)
    {
        if ((int)reason < Reasons) (_counts ??= new long[Reasons])[(int)reason]++;
    }

    /// <summary>Drops counted for <paramref name="reason"/>.</summary>
    public long this[DropReason reason] => _counts is { } c && (int)reason < c.Length ? c[(int)reason] : 0;

    /// <summary>Every drop counted, all reasons together.</summary>
    public long Total => _counts?.Sum() ?? 0;

    /// <summary>Non-zero counts keyed by the stable name.</summary>
    public IReadOnlyDictionary<string, long> ByName()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (_counts is null) return result;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0) result[((DropReason)i).ToName()] = _counts[i];
        }

        return result;
    }
}
