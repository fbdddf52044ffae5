namespace Nodes.Net.Links;

/// <summary>How frames put on a link reach the other attachments.</summary>
public enum LinkKind : byte
{
    /// <summary>Two ends; a frame from one goes to the other.</summary>
    PointToPoint,

    /// <summary>A shared segment (a LAN); a frame from one attachment goes to every other one.</summary>
    Segment,
}

/// <summary>One copy of a frame for one attachment of the link.</summary>
public sealed record LinkDelivery(string To, TimeSpan DeliverAt, byte[] Frame, bool IsDuplicate, bool IsCorrupted);

/// <summary>What a link did with a frame: deliveries per receiving attachment, or the drop reason when there are none.</summary>
public sealed record LinkTransmitResult(IReadOnlyList<LinkDelivery> Deliveries, DropReason Drop);

/// <summary>
/// A link between node interfaces (attachments named by the caller, e.g. "client/eth0"). Each
/// attachment has its own egress <see cref="LinkChannel"/> with its own impairments, as netem sits
/// on an interface's egress; on a segment, the outcome of the sender's channel (kept, delayed,
/// duplicated, corrupted) is copied to every other attachment. Every channel's seed is derived from
/// the link seed and the attachment name, so the same seed gives the same run. Not thread-safe.
/// </summary>
public sealed class LinkModel
{
    private readonly Dictionary<string, LinkChannel> _egress = new(StringComparer.Ordinal);
    private readonly List<string> _attachments;

    private LinkModel(string name, LinkKind kind, IReadOnlyList<(string Attachment, LinkImpairments Impairments)> ends, ulong seed)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
        _attachments = ends.Select(e => e.Attachment).ToList();
        foreach (var (attachment, impairments) in ends)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(attachment);
            _egress.Add(attachment, new LinkChannel(impairments, DeterministicRandom.Derive(seed, name + "/" + attachment)));
        }
    }

    /// <summary>A point-to-point link from <paramref name="a"/> to <paramref name="b"/> with per-direction impairments.</summary>
    public static LinkModel PointToPoint(string name, string a, string b, ulong seed, LinkImpairments? aToB = null, LinkImpairments? bToA = null) =>
        new(name, LinkKind.PointToPoint, [(a, aToB ?? LinkImpairments.None), (b, bToA ?? LinkImpairments.None)], seed);

    /// <summary>A shared segment; <paramref name="impairments"/> applies to every attachment's egress (change one with <see cref="Egress"/>).</summary>
    public static LinkModel Segment(string name, IEnumerable<string> attachments, ulong seed, LinkImpairments? impairments = null) =>
        new(name, LinkKind.Segment, attachments.Select(a => (a, impairments ?? LinkImpairments.None)).ToList(), seed);

    /// <summary>The link's name.</summary>
    public string Name { get; }

    /// <summary>Point-to-point or segment.</summary>
    public LinkKind Kind { get; }

    /// <summary>Attachment names in the order given.</summary>
    public IReadOnlyList<string> Attachments => _attachments;

    /// <summary>The egress direction of <paramref name="attachment"/>, to read counters or change impairments.</summary>
    public LinkChannel Egress(string attachment) => _egress[attachment];

    /// <summary>True when every direction delivers frames within its MTU at once, once and unchanged (<see cref="LinkImpairments.DeliversUnchanged"/>).</summary>
    public bool DeliversUnchanged => _egress.Values.All(c => c.Impairments.DeliversUnchanged);

    /// <summary>Brings every direction up or down (link-down drops everything).</summary>
    public void SetUp(bool up)
    {
        foreach (var channel in _egress.Values) channel.Impairments = channel.Impairments with { Up = up };
    }

    /// <summary>Sends <paramref name="frame"/> from <paramref name="from"/> at <paramref name="now"/>. An unknown sender drops with unknown-interface.</summary>
    public LinkTransmitResult Transmit(string from, ReadOnlySpan<byte> frame, TimeSpan now)
    {
        if (!_egress.TryGetValue(from, out var channel)) return new LinkTransmitResult([], DropReason.UnknownInterface);
        var outcome = channel.Transmit(frame, now);
        if (outcome.Deliveries.Count == 0) return new LinkTransmitResult([], outcome.Drop);

        var deliveries = new List<LinkDelivery>();
        var receivers = _attachments.Where(a => a != from).ToList();
        foreach (var copy in outcome.Deliveries)
        {
            for (var i = 0; i < receivers.Count; i++)
            {
                // Each receiver owns its bytes; the first reuses the channel's copy.
                var bytes = i == 0 ? copy.Frame : (byte[])copy.Frame.Clone();
                deliveries.Add(new LinkDelivery(receivers[i], copy.DeliverAt, bytes, copy.IsDuplicate, copy.IsCorrupted));
            }
        }

        return new LinkTransmitResult(deliveries, DropReason.None);
    }
}
