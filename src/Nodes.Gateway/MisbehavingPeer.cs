using Nodes.Ike;

namespace Nodes.Gateway;

/// <summary>
/// A gateway that misbehaves toward its peer while holding the keys: what an authenticated peer with a bug sends. The
/// messages are protected and valid; the peer must still keep every SA it has. Pure: acts on the IKE SAs it is given.
/// </summary>
public static class MisbehavingPeer
{
    /// <summary>
    /// Rekeys the newest Child SA of the first established IKE SA and asks for the old one's DELETE as well, on top of
    /// the DELETE the rekey sends by itself: the old SA is deleted twice, the second time after both sides removed it
    /// (libreswan CVE-2023-38712 acted on the state the first DELETE had freed). Returns what was done, or null when no
    /// Child SA is up.
    /// </summary>
    public static string? DuplicateDelete(IEnumerable<IkeSa> sas, DateTimeOffset now)
    {
        if (sas.FirstOrDefault(s => s.State == IkeSaState.Established && s.ChildSas.Any()) is not { } sa) return null;
        var child = sa.ChildSas.MaxBy(c => c.Established)!;
        sa.RekeyChild(child.InboundSpi, now);
        sa.DeleteChild(child.InboundSpi, now);
        return $"rekeying Child SA 0x{child.InboundSpi:x8}/0x{child.OutboundSpi:x8}, then deleting it twice (DELETE for an SA already deleted)";
    }
}
