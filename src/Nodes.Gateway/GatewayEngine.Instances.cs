using Nodes.Net;
using Nodes.Net.Policy;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

// The two instances of an active-active Azure gateway: each carries its own tunnel of every connection, from its own
// public address; the VNet's traffic is spread over the instances' tunnels flow by flow; an instance can be taken
// down for maintenance (it says goodbye) or fail (it goes silent), and come back.
public sealed partial class GatewayEngine
{
    private readonly bool[] _instanceDown = new bool[2];

    /// <summary>True while instance <paramref name="instance"/> is down.</summary>
    public bool IsInstanceDown(int instance) => instance is >= 0 and < 2 && _instanceDown[instance];

    private bool Down(Tunnel t) => _instanceDown[t.Profile.Instance];

    /// <summary>Instances in planned maintenance that have withdrawn their BGP routes but still carry what arrives.</summary>
    private readonly bool[] _instanceDraining = new bool[2];

    public bool IsInstanceDraining(int instance) => instance is >= 0 and < 2 && _instanceDraining[instance];

    /// <summary>The instance whose public side a datagram arrived on or is addressed to, or -1.</summary>
    private int InstanceOf(string ingress, Ipv4Address destination)
    {
        if (_profile.SecondInternetInterface is not { } second) return -1;
        if (ingress == second || _tunnels.Values.Any(t => t.Profile.Instance == 1 && t.Profile.Local == destination)) return 1;
        if (ingress == _profile.InternetInterface || destination == _profile.PublicAddress) return 0;
        return -1;
    }

    /// <summary>
    /// Starts planned maintenance of an instance (Azure's switchover): it ends its BGP sessions with Cease, so its
    /// neighbours withdraw what they learned over them and move their traffic to the other instance, and it sends
    /// nothing more into its own tunnels while it still decrypts and forwards what was already on its way.
    /// <see cref="InstanceDrained"/> ends the maintenance's first part: the instance deletes its IKE SAs and goes away.
    /// </summary>
    public string InstanceDrain(int instance, GatewayTime now)
    {
        _now = now;
        if (_profile.SecondInternetInterface is null) return "the gateway is not active-active";
        if (_instanceDown[instance] || _instanceDraining[instance]) return $"instance {instance} is already down";
        _instanceDraining[instance] = true;
        var peers = PeersOf(instance);
        foreach (var p in peers) _bgp!.SuspendPeer(p, graceful: true, "the gateway instance went into maintenance", now.Elapsed);
        RunIke();
        _port.Report("fault", $"instance {instance} ({Instances.Name(instance)}) draining: BGP Cease to {peers.Count} peer(s)");
        return $"instance {instance} ({Instances.Name(instance)}) in planned maintenance: BGP Cease to {peers.Count} peer(s); its IKE SAs are deleted when the traffic has moved";
    }

    /// <summary>
    /// Takes an instance down. Planned (<paramref name="planned"/>, after <see cref="InstanceDrain"/>): it deletes its
    /// IKE SAs (INFORMATIONAL with D) and stops answering. Unplanned (a failure): it stops at once and says nothing; its
    /// peers notice by their liveness checks and hold timers. Returns what it did.
    /// </summary>
    public string InstanceDown(int instance, bool planned, GatewayTime now)
    {
        _now = now;
        if (_profile.SecondInternetInterface is null) return "the gateway is not active-active";
        if (_instanceDown[instance]) return $"instance {instance} is already down";
        if (planned && !_instanceDraining[instance]) InstanceDrain(instance, now);
        var tunnels = _tunnels.Values.Where(t => t.Profile.Instance == instance).ToList();
        var names = tunnels.Select(t => t.Profile.Name).ToHashSet();
        var peers = PeersOf(instance);
        var live = tunnels.Where(t => t.Current?.Sa.State == Ike.IkeSaState.Established).ToList();
        if (planned)
        {
            foreach (var t in live) t.Current!.Sa.Delete(now.Node);
            RunIke();
            _instanceDown[instance] = true;
            foreach (var h in _links.Values.Where(h => names.Contains(h.Tunnel.Profile.Name)).ToList()) h.Sa.Abandon("the gateway instance went into maintenance", now.Node);
        }
        else
        {
            _instanceDown[instance] = true;
            foreach (var p in peers) _bgp!.SuspendPeer(p, graceful: false, "the gateway instance failed", now.Elapsed);
            foreach (var h in _links.Values.Where(h => names.Contains(h.Tunnel.Profile.Name)).ToList()) h.Sa.Abandon("the gateway instance failed", now.Node);
        }
        _instanceDraining[instance] = false;
        RunIke();
        foreach (var t in tunnels) t.Held.Clear();
        var what = planned ? $"DELETE for {live.Count} IKE SA(s)" : "no word to its peers";
        _port.Report("fault", $"instance {instance} ({Instances.Name(instance)}) down: {string.Join(", ", names)}; {what}");
        return $"instance {instance} ({Instances.Name(instance)}) down, {(planned ? "planned" : "unplanned")}: tunnels {string.Join(", ", names)}; {what}";
    }

    /// <summary>The end of a planned maintenance's drain: the instance deletes its IKE SAs and goes away.</summary>
    public string InstanceDrained(int instance, GatewayTime now) =>
        _instanceDraining[instance] ? InstanceDown(instance, planned: true, now) : $"instance {instance} is not draining";

    private List<string> PeersOf(int instance)
    {
        var names = _tunnels.Values.Where(t => t.Profile.Instance == instance).Select(t => t.Profile.Name).ToHashSet();
        return _profile.Bgp?.Peers.Where(p => names.Contains(p.Tunnel)).Select(p => p.Options.Name).ToList() ?? [];
    }

    /// <summary>The instance is back, with no SAs: its peers dial again, its BGP sessions start again.</summary>
    public string InstanceUp(int instance, GatewayTime now)
    {
        _now = now;
        if (instance is < 0 or > 1 || !(_instanceDown[instance] || _instanceDraining[instance])) return $"instance {instance} is not down";
        var wasDown = _instanceDown[instance];
        _instanceDown[instance] = false;
        _instanceDraining[instance] = false;
        var names = _tunnels.Values.Where(t => t.Profile.Instance == instance).Select(t => t.Profile.Name).ToHashSet();
        if (!wasDown)
        {
            // The maintenance ended before the instance went away: its tunnels are still up, only BGP starts again.
            foreach (var p in PeersOf(instance)) _bgp!.ResumePeer(p, now.Elapsed);
            _port.Report("fault", $"instance {instance} ({Instances.Name(instance)}) back from maintenance: its BGP sessions start again");
            return $"instance {instance} ({Instances.Name(instance)}) back";
        }
        foreach (var p in _profile.Bgp?.Peers.Where(p => names.Contains(p.Tunnel)) ?? []) _bgp!.ResumePeer(p.Options.Name, now.Elapsed);
        foreach (var t in _tunnels.Values.Where(t => names.Contains(t.Profile.Name) && t.Profile.Initiates && !t.Profile.DemandDial)) Dial(t);
        _port.Report("fault", $"instance {instance} ({Instances.Name(instance)}) back: {string.Join(", ", names)} take IKE_SA_INIT again");
        return $"instance {instance} ({Instances.Name(instance)}) back";
    }

    /// <summary>
    /// The tunnel a protected packet goes into. Several tunnels for one prefix (an active-active gateway's instances):
    /// one of those with an SA for the packet, chosen by a hash of the flow (addresses, protocol, ports), so a flow
    /// stays on one tunnel while both carry traffic; none up: the first that is not down.
    /// </summary>
    private Tunnel? PickTunnel(SpdVerdict verdict, Ipv4Header ip, byte[] datagram)
    {
        if (verdict.Alternatives is not { Count: > 1 } names) return _tunnels.GetValueOrDefault(verdict.Tunnel!);
        var up = new List<Tunnel>(names.Count);
        foreach (var n in names)
            if (_tunnels.TryGetValue(n, out var t) && !Down(t) && !_instanceDraining[t.Profile.Instance] && t.Current is { } h && ActiveChild(h, ip) is not null) up.Add(t);
        if (up.Count > 0) return up[(int)(FlowHash(ip, datagram) % (uint)up.Count)];
        foreach (var n in names)
            if (_tunnels.TryGetValue(n, out var t) && !Down(t)) return t;
        return _tunnels.GetValueOrDefault(verdict.Tunnel!);
    }

    /// <summary>
    /// FNV-1a over source, destination, protocol and (TCP, UDP) the two ports, then MurmurHash3's 32-bit finaliser: FNV's
    /// low bits depend only on the low bits of each input byte, and the tunnel is the hash modulo a small count, so
    /// without the finaliser flows that differ only in high bits (10.0.10.4 and 10.0.10.68) would share a tunnel.
    /// </summary>
    private static uint FlowHash(Ipv4Header ip, byte[] datagram)
    {
        var h = 2166136261u;
        void Mix(uint v)
        {
            for (var i = 0; i < 4; i++)
            {
                h ^= (byte)(v >> (8 * i));
                h *= 16777619;
            }
        }
        Mix(ip.Source.Value);
        Mix(ip.Destination.Value);
        Mix((uint)ip.Protocol);
        var at = ip.HeaderLength;
        if (ip.Protocol is IpProtocol.Tcp or IpProtocol.Udp && !ip.IsFragment && datagram.Length >= at + 4)
            Mix((uint)(datagram[at] << 24 | datagram[at + 1] << 16 | datagram[at + 2] << 8 | datagram[at + 3]));
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return h;
    }
}

/// <summary>Azure's names for the instances of a gateway, as its diagnostics logs and metric dimensions print them.</summary>
public static class Instances
{
    public static string Name(int instance) => $"GatewayTenantWorker_IN_{instance}";
}
