using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Net.Policy;

/// <summary>What the security policy says of a packet (RFC 4301 section 4.4.1): protect it, let it pass, or discard it.</summary>
public enum SpdAction : byte
{
    /// <summary>Not covered by any tunnel: routed as a plain router would.</summary>
    Bypass,
    /// <summary>Must travel through the tunnel named in the verdict.</summary>
    Protect,
    /// <summary>Must not travel at all.</summary>
    Discard,
}

/// <summary>The policy's answer for one packet: the action, the tunnel it protects into, and why a discard.</summary>
public readonly record struct SpdVerdict(SpdAction Action, string? Tunnel, string? Why)
{
    public static SpdVerdict Bypass { get; } = new(SpdAction.Bypass, null, null);

    /// <summary>
    /// Every tunnel that protects the same longest prefix, <see cref="Tunnel"/> first, when there are several (the
    /// tunnels of an active-active gateway's instances, or the routes BGP learned over each); null when there is one.
    /// </summary>
    public IReadOnlyList<string>? Alternatives { get; init; }
}

/// <summary>One tunnel's policy: traffic between <paramref name="Local"/> and <paramref name="Remote"/> is protected.</summary>
public sealed record SpdTunnel(string Name, ImmutableArray<Ipv4Prefix> Local, ImmutableArray<Ipv4Prefix> Remote);

/// <summary>
/// A VPN gateway's security policy database for cleartext packets, both directions, as RFC 4301 section 5 has it.
/// A packet arriving in clear (not out of an SA) on interface <c>ingress</c>:
/// <list type="number">
/// <item>from a tunnel's remote networks to its local ones is discarded: that traffic must arrive through the SA
/// (section 5.2, "unprotected inbound traffic that the SPD says must be protected");</item>
/// <item>from the public side toward an isolated network (an Azure VNet, reachable from outside only through its
/// tunnels) is discarded, and so is a packet on the public side whose source claims to be in one: it can only be
/// forged (RFC 3704 ingress filtering), and neither routing it on nor answering it (an ICMP error would go into the
/// isolated network) is any use to anyone but its forger;</item>
/// <item>toward a tunnel's remote networks is protected into that tunnel (the longest remote prefix wins) only when it
/// comes from the protected side and from the tunnel's local networks; otherwise it is discarded (section 5.1), so a
/// forged source cannot get a packet encrypted for the peer;</item>
/// <item>anything else bypasses IPsec.</item>
/// </list>
/// Immutable after construction and pure; safe to share.
/// </summary>
public sealed class SecurityPolicyDatabase
{
    // Each tunnel by its remote prefixes, one dictionary per prefix length keyed by network (as the routing table
    // does): a lookup costs at most 33 probes, however many tunnels the gateway has.
    private readonly Dictionary<uint, SpdTunnel>?[] _byRemote = new Dictionary<uint, SpdTunnel>?[33];
    // Tunnels after the first that list the same prefix, for equal-cost choice by the owner.
    private readonly Dictionary<(uint Network, int Length), List<string>> _alternatives = [];
    private readonly ImmutableHashSet<string> _protectedInterfaces;
    private readonly ImmutableArray<Ipv4Prefix> _isolated;

    /// <param name="tunnels">Each tunnel's local and remote networks.</param>
    /// <param name="protectedInterfaces">The interfaces on the protected side (on a one-armed gateway, its only one).</param>
    /// <param name="isolated">Networks behind the gateway that the public side may reach only through a tunnel.</param>
    public SecurityPolicyDatabase(IEnumerable<SpdTunnel> tunnels, IEnumerable<string> protectedInterfaces, IEnumerable<Ipv4Prefix>? isolated = null)
    {
        foreach (var t in tunnels)
            foreach (var p in t.Remote)
            {
                var table = _byRemote[p.Length] ??= [];
                if (table.TryAdd(p.Network.Value, t)) continue; // the first tunnel listing a prefix keeps it
                if (table[p.Network.Value].Name == t.Name) continue;
                if (!_alternatives.TryGetValue((p.Network.Value, p.Length), out var list)) _alternatives[(p.Network.Value, p.Length)] = list = [table[p.Network.Value].Name];
                if (!list.Contains(t.Name)) list.Add(t.Name);
            }
        _protectedInterfaces = [.. protectedInterfaces];
        _isolated = isolated is null ? [] : [.. isolated];
    }

    /// <summary>The verdict for a cleartext packet from <paramref name="source"/> to <paramref name="destination"/> arriving on <paramref name="ingress"/>.</summary>
    public SpdVerdict Classify(Ipv4Address source, Ipv4Address destination, string ingress)
    {
        if (Longest(source) is { } from && Covers(from.Local, destination))
            return new(SpdAction.Discard, from.Name, $"{source} → {destination} arrived in clear, but traffic from {from.Name}'s remote networks must come out of its SA");
        var publicSide = !_protectedInterfaces.Contains(ingress);
        if (publicSide && Covers(_isolated, destination))
            return new(SpdAction.Discard, null, $"{source} → {destination} arrived in clear on the public interface {ingress}; {destination} is reachable from outside only through a tunnel");
        if (publicSide && Covers(_isolated, source))
            return new(SpdAction.Discard, null, $"{source} → {destination} arrived on the public interface {ingress} with a source behind the gateway: forged (RFC 3704 ingress filtering)");
        if (Longest(destination) is not { } to) return SpdVerdict.Bypass;
        if (publicSide)
            return new(SpdAction.Discard, to.Name, $"{source} → {destination} arrived on the public interface {ingress}; only the protected side sends into {to.Name}");
        if (!Covers(to.Local, source))
            return new(SpdAction.Discard, to.Name, $"{source} → {destination}: {source} is not one of {to.Name}'s local networks ({string.Join(", ", to.Local)})");
        return new(SpdAction.Protect, to.Name, null) { Alternatives = AlternativesOf(destination) };
    }

    private IReadOnlyList<string>? AlternativesOf(Ipv4Address destination)
    {
        if (_alternatives.Count == 0) return null;
        for (var length = 32; length >= 0; length--)
        {
            if (_byRemote[length] is not { } table) continue;
            var network = destination.Value & (length == 0 ? 0u : uint.MaxValue << (32 - length));
            if (table.ContainsKey(network)) return _alternatives.GetValueOrDefault((network, length));
        }
        return null;
    }

    /// <summary>The tunnel with the longest remote prefix holding <paramref name="address"/>.</summary>
    private SpdTunnel? Longest(Ipv4Address address)
    {
        for (var length = 32; length >= 0; length--)
        {
            if (_byRemote[length] is not { } table) continue;
            var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
            if (table.TryGetValue(address.Value & mask, out var t)) return t;
        }
        return null;
    }

    private static bool Covers(ImmutableArray<Ipv4Prefix> prefixes, Ipv4Address address)
    {
        foreach (var p in prefixes)
            if (p.Contains(address)) return true;
        return false;
    }
}
