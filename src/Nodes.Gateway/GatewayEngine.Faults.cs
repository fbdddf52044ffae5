using Nodes.Ike;

namespace Nodes.Gateway;

// What an operator (or a fault on the timeline) does to a running gateway: rekey now, change settings, reset.
public sealed partial class GatewayEngine
{
    /// <summary>
    /// Rekeys every tunnel's established IKE SA (<paramref name="ike"/>) or its active Child SA, now
    /// (CREATE_CHILD_SA). Returns what was rekeyed, one line each; empty when nothing was up.
    /// </summary>
    public IReadOnlyList<string> ForceRekey(bool ike, GatewayTime now)
    {
        _now = now;
        var done = new List<string>();
        foreach (var t in _tunnels.Values)
        {
            if (t.Current is not { Sa.State: IkeSaState.Established } h) continue;
            if (ike)
            {
                done.Add($"IKE SA {h.Sa.InitiatorSpi:x16}/{h.Sa.ResponderSpi:x16} of {t.Profile.Name}");
                h.Sa.RekeyIke(now.Node);
            }
            else if (h.Children.Select(spi => _children[spi]).FirstOrDefault(c => c.OutboundActive) is { } c)
            {
                h.Sa.RekeyChild(c.Info.InboundSpi, now.Node);
                done.Add($"Child SA 0x{c.Info.InboundSpi:x8}/0x{c.Info.OutboundSpi:x8} of {t.Profile.Name}");
            }
        }
        RunIke();
        return done;
    }

    /// <summary>
    /// The gateway misbehaves as an authenticated peer (<see cref="MisbehavingPeer.DuplicateDelete"/>): it rekeys a
    /// Child SA and deletes the old one twice. Returns what it did, or null when no Child SA is up.
    /// </summary>
    public string? DuplicateDelete(GatewayTime now)
    {
        _now = now;
        var done = MisbehavingPeer.DuplicateDelete(_links.Values.Select(l => l.Sa), now.Node);
        RunIke();
        return done;
    }

    /// <summary>Replaces every tunnel's settings with <paramref name="change"/>'s; returns the settings as they were, by tunnel.</summary>
    public Dictionary<string, TunnelProfile> ChangeProfiles(Func<TunnelProfile, TunnelProfile> change)
    {
        var previous = _tunnels.Values.ToDictionary(t => t.Profile.Name, t => t.Profile);
        foreach (var t in _tunnels.Values) t.Profile = change(t.Profile);
        _ike.ReplaceConnections(Connections());
        return previous;
    }

    /// <summary>Puts back the settings <see cref="ChangeProfiles"/> returned.</summary>
    public void RestoreProfiles(IReadOnlyDictionary<string, TunnelProfile> profiles)
    {
        foreach (var t in _tunnels.Values)
            if (profiles.TryGetValue(t.Profile.Name, out var p)) t.Profile = p;
        _ike.ReplaceConnections(Connections());
    }

    /// <summary>Resets every connection, as changing its settings in the portal or RRAS console does: DELETE for each IKE SA.</summary>
    public string Reset(GatewayTime now)
    {
        _now = now;
        var live = _links.Values.Where(h => h.Sa.State == IkeSaState.Established).ToList();
        foreach (var h in live) h.Sa.Delete(now.Node);
        foreach (var h in _links.Values.Except(live).ToList()) h.Sa.Abandon("the connection's settings changed", now.Node); // half-made SAs are abandoned
        RunIke();
        return live.Count == 0 ? "no IKE SA was up; the next negotiation uses the new settings" : $"connection reset: DELETE sent for {live.Count} IKE SA(s); the next negotiation uses the new settings";
    }
}
