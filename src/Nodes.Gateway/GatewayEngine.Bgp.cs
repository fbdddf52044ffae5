using Nodes.Net;
using Nodes.Net.Bgp;
using Nodes.Net.Policy;
using Nodes.Net.Tcp;
using Nodes.Wire;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;

namespace Nodes.Gateway;

// BGP over the tunnels: the gateway's speaker, its TCP segments in and out of the tunnels, and the routes it
// learns installed as the tunnels' remote networks (a route-based VPN routes by what BGP says).
public sealed partial class GatewayEngine
{
    private BgpSpeaker? _bgp;
    private readonly Dictionary<string, string> _bgpTunnelOf = [];

    /// <summary>The gateway's BGP speaker, or null when BGP is not configured.</summary>
    public BgpSpeaker? Bgp => _bgp;

    /// <summary>When the BGP speaker next needs <see cref="BgpTick"/> (time since the lab started), or null.</summary>
    public TimeSpan? NextBgpDeadline => _bgp?.NextDeadline;

    /// <summary>BGP's timers: keepalives, hold timers, TCP retransmissions, retries.</summary>
    public void BgpTick(GatewayTime now)
    {
        _now = now;
        _bgp?.Tick(now.Elapsed);
    }

    /// <summary>
    /// Stops advertising <paramref name="prefix"/> (every originated network when null), to every neighbour or only to
    /// <paramref name="peer"/>; returns what was withdrawn, empty when the speaker does not originate it or has no such
    /// neighbour.
    /// </summary>
    public IReadOnlyList<Ipv4Prefix> WithdrawBgpNetworks(Ipv4Prefix? prefix, GatewayTime now, string? peer = null)
    {
        _now = now;
        if (_bgp is null) return [];
        var gone = _bgp.Networks.Where(n => prefix is null || n == prefix).ToList();
        if (gone.Count == 0) return gone;
        if (peer is null) _bgp.SetNetworks(_bgp.Networks.Except(gone), now.Elapsed);
        else if (!_bgp.Withhold(peer, gone, withhold: true, now.Elapsed)) return [];
        return gone;
    }

    /// <summary>Advertises <paramref name="networks"/> again (the end of a withdrawal's "for"), to every neighbour or to <paramref name="peer"/>.</summary>
    public void RestoreBgpNetworks(IEnumerable<Ipv4Prefix> networks, GatewayTime now, string? peer = null)
    {
        _now = now;
        if (peer is null) _bgp?.SetNetworks(_bgp.Networks.Union(networks), now.Elapsed);
        else _bgp?.Withhold(peer, networks, withhold: false, now.Elapsed);
    }

    /// <summary>Ends every BGP session (Cease / Administrative Reset); returns how many were Established.</summary>
    public int ResetBgp(GatewayTime now)
    {
        _now = now;
        return _bgp?.Reset(now.Elapsed) ?? 0;
    }

    /// <summary>The tunnel a BGP neighbour's session runs through.</summary>
    public string? BgpTunnelOf(string peer) => _bgpTunnelOf.GetValueOrDefault(peer);

    private void StartBgp(ulong seed, TimeScale lab)
    {
        if (_profile.Bgp is not { } b) return;
        foreach (var p in b.Peers) _bgpTunnelOf[p.Options.Name] = p.Tunnel;
        _bgp = new BgpSpeaker(b.SpeakerOptions(seed, lab), new BgpPort(this));
    }

    /// <summary>True for an address the gateway answers on: one of its interfaces', or a BGP address of its own.</summary>
    private bool IsLocal(Ipv4Address address) => _router.IsLocalAddress(address) || (_bgp?.Owns(address) ?? false);

    /// <summary>
    /// TCP for the gateway itself. Only BGP is spoken, and only through the tunnel of the neighbour's session:
    /// a segment that arrived in clear, or through another tunnel, is dropped without an answer, so that nobody
    /// outside the tunnel can reach the session, not even to be told there is one.
    /// </summary>
    private void TcpArrived(Ipv4Header ip, ArraySegment<byte> payload, Tunnel? via)
    {
        if (!TcpHeader.TryParse(payload, ip.Source, ip.Destination, out var tcp, out var data, out var error))
        {
            Drop(error == WireError.BadChecksum ? DropReason.TcpChecksum : DropReason.Malformed);
            return;
        }
        if (_bgp is null || tcp.DestinationPort != BgpSpeaker.Port && !_bgp.Owns(ip.Destination))
        {
            Drop(DropReason.NoListener);
            return;
        }
        var peer = _profile.Bgp!.Peers.FirstOrDefault(p => p.Options.PeerAddress == ip.Source && p.Options.LocalAddress == ip.Destination);
        if (peer is null)
        {
            Drop(GatewayDropReason.BgpNoPeer, $"TCP {ip.Source}:{tcp.SourcePort} → {ip.Destination}:{tcp.DestinationPort}: not a BGP neighbour of this gateway");
            return;
        }
        if (via is null || via.Profile.Name != peer.Tunnel)
        {
            Drop(GatewayDropReason.BgpOutsideTunnel, $"TCP {ip.Source}:{tcp.SourcePort} → {ip.Destination}:{tcp.DestinationPort} {(via is null ? "arrived in clear" : $"came out of tunnel {via.Profile.Name}")}; the BGP session with {peer.Options.PeerAddress} runs through {peer.Tunnel}");
            return;
        }
        _bgp.Receive(ip.Source, ip.Destination, tcp, data, _now.Elapsed);
    }

    /// <summary>The learned routes changed: each tunnel's remote networks are its own and what BGP learned through it.</summary>
    private void InstallBgpRoutes()
    {
        // Multipath (an active-active Azure gateway): a prefix goes into every tunnel whose session offers it with a
        // path as short as the best; otherwise into the best route's tunnel only.
        var routes = _profile.Bgp!.Multipath
            ? _profile.Bgp.Peers.SelectMany(p => _bgp!.RoutesFrom(p.Options.Name))
                .Where(r => _bgp!.BestRoutes.TryGetValue(r.Prefix, out var best) && r.Attributes.AsPathLength == best.Attributes.AsPathLength)
            : _bgp!.BestRoutes.Values;
        var learned = routes.GroupBy(r => _bgpTunnelOf.GetValueOrDefault(r.Peer)).Where(g => g.Key is not null)
            .ToDictionary(g => g.Key!, g => g.Select(r => r.Prefix).ToList());
        _spd = new SecurityPolicyDatabase(_profile.Tunnels.Select(t => new SpdTunnel(t.Name, t.LocalPrefixes,
                learned.TryGetValue(t.Name, out var extra) ? [.. t.RemotePrefixes, .. extra.Where(e => !t.RemotePrefixes.Contains(e))] : t.RemotePrefixes)),
            _protectedSide, _profile.Isolated);
    }

    /// <summary>What the speaker asks of the gateway: its segments go into the neighbour's tunnel.</summary>
    private sealed class BgpPort(GatewayEngine e) : IBgpPort
    {
        public void Send(Ipv4Endpoint local, Ipv4Endpoint remote, TcpSegment segment)
        {
            var peer = e._profile.Bgp!.Peers.FirstOrDefault(p => p.Options.PeerAddress == remote.Address && p.Options.LocalAddress == local.Address);
            if (peer is null || !e._tunnels.TryGetValue(peer.Tunnel, out var tunnel) || e.Down(tunnel)) return;
            var datagram = new byte[Ipv4PacketWriter.TcpDatagramLength(segment.Header, segment.Payload.Length)];
            var ttl = (byte)(e._profile.Kind == "rras" ? 128 : 64);
            Ipv4PacketWriter.WriteTcp(datagram, new Ipv4Template(local.Address, remote.Address, e._ipId++, ttl, DontFragment: true), segment.Header, segment.Payload);
            if (!Ipv4Header.TryParse(datagram, out var ip, out _)) return;
            e.IntoTunnel(tunnel, ip, datagram, e._port.Originated(datagram));
        }

        public void Dropped(string reason, string? detail) => e._port.Dropped(reason, detail);

        public void Report(string text) => e._port.Report("bgp", text);

        public void RoutesChanged() => e.InstallBgpRoutes();
    }
}
