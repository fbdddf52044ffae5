using Nodes.Wire.Ip;

namespace Nodes.Net.Fragmentation;

/// <summary>Identifies the fragments of one datagram (RFC 791 §3.2: source, destination, protocol and identification).</summary>
public readonly record struct FragmentKey(Ipv4Address Source, Ipv4Address Destination, IpProtocol Protocol, ushort Identification);

/// <summary>Limits of an <see cref="Ipv4Reassembler"/>.</summary>
public sealed record ReassemblyOptions
{
    /// <summary>
    /// How long an incomplete datagram is kept after its first fragment arrived. 30 s as Linux's
    /// net.ipv4.ipfrag_time (RFC 791 suggests 15 s as a lower bound; RFC 1122 §3.3.2 says 60 to 120 s).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Incomplete datagrams held at once; a fragment of a further datagram is dropped.</summary>
    public int MaxDatagrams { get; init; } = 64;

    /// <summary>Fragment data octets held at once over all datagrams.</summary>
    public int MaxBytes { get; init; } = 4 * 1024 * 1024;
}

/// <summary>What <see cref="Ipv4Reassembler.Accept"/> did with a datagram.</summary>
public enum ReassemblyStatus : byte
{
    /// <summary>A whole datagram is ready in <see cref="ReassemblyResult.Datagram"/> (unfragmented input passes straight through).</summary>
    Complete,

    /// <summary>The fragment was kept; the datagram is not complete yet.</summary>
    Pending,

    /// <summary>The fragment was dropped for <see cref="ReassemblyResult.Reason"/> (possibly with the datagram it belonged to).</summary>
    Dropped,
}

/// <summary>Result of offering one datagram to the reassembler.</summary>
public readonly record struct ReassemblyResult(ReassemblyStatus Status, byte[]? Datagram, DropReason Reason);

/// <summary>An incomplete datagram given up at its timeout, with its first fragment when that arrived (RFC 792 allows the time exceeded, code 1, only then).</summary>
public sealed record ReassemblyTimeout(FragmentKey Key, byte[]? FirstFragment);

/// <summary>
/// Reassembles IPv4 fragments (RFC 791 §3.2, RFC 815 for the hole bookkeeping idea) keyed by
/// <see cref="FragmentKey"/>, with a timeout measured on the caller's clock, bounded memory, and a
/// strict overlap policy taken from RFC 5722 (written for IPv6, applied here to IPv4): a fragment
/// that overlaps a held one is refused and the whole datagram discarded, except an exact repeat,
/// which is dropped alone. Not thread-safe; owned by one node.
/// </summary>
public sealed class Ipv4Reassembler
{
    private readonly ReassemblyOptions _options;
    private readonly Dictionary<FragmentKey, Pending> _pending = new();

    /// <summary>Creates a reassembler with the given limits.</summary>
    public Ipv4Reassembler(ReassemblyOptions? options = null)
    {
        _options = options ?? new ReassemblyOptions();
    }

    /// <summary>Incomplete datagrams held.</summary>
    public int PendingDatagrams => _pending.Count;

    /// <summary>Fragment data octets held.</summary>
    public int PendingBytes { get; private set; }

    /// <summary>Drops counted by reason.</summary>
    public DropCounters Drops { get; } = new();

    /// <summary>The earliest time <see cref="Expire"/> has something to do, or null when nothing is held.</summary>
    public TimeSpan? NextDeadline => _pending.Count == 0 ? null : _pending.Values.Min(p => p.Deadline);

    /// <summary>
    /// Offers a received datagram. An unfragmented datagram comes back complete (copied); a fragment
    /// is held until its datagram completes, and the completing call returns the whole datagram with
    /// MF clear, offset 0, the first fragment's header and options, and a fresh header checksum.
    /// Never throws on any input.
    /// </summary>
    public ReassemblyResult Accept(ReadOnlySpan<byte> datagram, TimeSpan now)
    {
        if (!Ipv4Packet.TryParse(datagram, out var packet, out _)) return Drop(DropReason.Malformed);
        var header = packet.Header;
        if (!header.IsFragment) return new ReassemblyResult(ReassemblyStatus.Complete, packet.Datagram.ToArray(), DropReason.None);

        var key = new FragmentKey(header.Source, header.Destination, header.Protocol, header.Identification);
        var start = header.FragmentByteOffset;
        var data = packet.Payload;
        var end = start + data.Length;
        var last = !header.MoreFragments;

        if (_pending.TryGetValue(key, out var entry) && entry.Deadline <= now)
        {
            Discard(key, entry);
            entry = null;
        }

        // RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets, and none is empty.
        if ((!last && data.Length % 8 != 0) || data.Length == 0) return DropWith(key, entry, DropReason.Malformed);

        // The reassembled datagram must fit 65,535 octets with at least a minimal header.
        if (end > ushort.MaxValue - Ipv4Header.MinLength) return DropWith(key, entry, DropReason.ReassemblyInconsistent);

        if (entry is null)
        {
            if (_pending.Count >= _options.MaxDatagrams) return Drop(DropReason.ReassemblyLimit);
            entry = new Pending(now + _options.Timeout);
        }

        if (entry.TotalLength is { } total && (end > total || (last && end != total)))
        {
            return DropWith(key, entry, DropReason.ReassemblyInconsistent);
        }

        if (last && entry.Pieces.Count > 0 && entry.Pieces[^1].End > end)
        {
            return DropWith(key, entry, DropReason.ReassemblyInconsistent);
        }

        var index = entry.Pieces.FindIndex(p => p.Start >= start);
        if (index < 0) index = entry.Pieces.Count;
        foreach (var neighbour in Neighbours(entry.Pieces, index))
        {
            if (neighbour.Start < end && start < neighbour.End)
            {
                if (neighbour.Start == start && neighbour.End == end && data.SequenceEqual(neighbour.Data))
                {
                    return Drop(DropReason.ReassemblyDuplicate);
                }

                // RFC 5722 §4: "the entire datagram (and any constituent fragments) MUST be silently discarded".
                return DropWith(key, entry, DropReason.ReassemblyOverlap);
            }
        }

        if (PendingBytes + data.Length > _options.MaxBytes) return Drop(DropReason.ReassemblyLimit);

        entry.Pieces.Insert(index, new Piece(start, data.ToArray()));
        entry.HeldBytes += data.Length;
        PendingBytes += data.Length;
        if (last) entry.TotalLength = end;
        if (start == 0) entry.FirstFragment = packet.Datagram.ToArray();
        _pending[key] = entry;

        if (entry.TotalLength is not { } length || entry.FirstFragment is null || entry.HeldBytes != length)
        {
            return new ReassemblyResult(ReassemblyStatus.Pending, null, DropReason.None);
        }

        // No overlaps and every piece inside [0, length): held bytes equal to length means no holes.
        Discard(key, entry);
        return Assemble(entry, length);
    }

    /// <summary>Gives up every datagram whose timeout is at or before <paramref name="now"/>, counting each as a reassembly-timeout drop.</summary>
    public IReadOnlyList<ReassemblyTimeout> Expire(TimeSpan now)
    {
        List<ReassemblyTimeout>? expired = null;
        foreach (var (key, entry) in _pending)
        {
            if (entry.Deadline > now) continue;
            (expired ??= []).Add(new ReassemblyTimeout(key, entry.FirstFragment));
        }

        if (expired is null) return [];
        foreach (var timeout in expired)
        {
            Discard(timeout.Key, _pending[timeout.Key]);
            Drops.Add(DropReason.ReassemblyTimeout);
        }

        return expired;
    }

    private ReassemblyResult Assemble(Pending entry, int length)
    {
        if (!Ipv4Header.TryParse(entry.FirstFragment, out var first, out var options, out _, out _))
        {
            return Drop(DropReason.Malformed);
        }

        var total = first.HeaderLength + length;
        if (total > ushort.MaxValue) return Drop(DropReason.ReassemblyInconsistent);
        var bytes = new byte[total];
        var header = first with { TotalLength = (ushort)total, MoreFragments = false, FragmentOffset = 0 };
        header.Encode(bytes, options);
        foreach (var piece in entry.Pieces)
        {
            piece.Data.CopyTo(bytes.AsSpan(first.HeaderLength + piece.Start));
        }

        return new ReassemblyResult(ReassemblyStatus.Complete, bytes, DropReason.None);
    }

    private static IEnumerable<Piece> Neighbours(List<Piece> pieces, int index)
    {
        // Pieces are sorted and disjoint, so only the one before and the one at the insertion point can overlap.
        if (index > 0) yield return pieces[index - 1];
        if (index < pieces.Count) yield return pieces[index];
    }

    private ReassemblyResult DropWith(FragmentKey key, Pending? entry, DropReason reason)
    {
        if (entry is not null && _pending.ContainsKey(key)) Discard(key, entry);
        return Drop(reason);
    }

    private ReassemblyResult Drop(DropReason reason)
    {
        Drops.Add(reason);
        return new ReassemblyResult(ReassemblyStatus.Dropped, null, reason);
    }

    private void Discard(FragmentKey key, Pending entry)
    {
        if (_pending.Remove(key)) PendingBytes -= entry.HeldBytes;
    }

    private sealed class Pending(TimeSpan deadline)
    {
        public TimeSpan Deadline { get; } = deadline;

        public List<Piece> Pieces { get; } = [];

        public int HeldBytes { get; set; }

        public int? TotalLength { get; set; }

        public byte[]? FirstFragment { get; set; }
    }

    private readonly record struct Piece(int Start, byte[] Data)
    {
        public int End => Start + Data.Length;
    }
}
