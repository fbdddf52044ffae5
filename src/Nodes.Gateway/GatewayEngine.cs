using System.Diagnostics;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Net.Fragmentation;
using Nodes.Net.Policy;
using Nodes.Telemetry;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

/// <summary>The times an input happens at: the lab's clock, the node's own (skewed by a clock fault) and time since the lab started.</summary>
public readonly record struct GatewayTime(DateTimeOffset Lab, DateTimeOffset Node, TimeSpan Elapsed);

/// <summary>
/// A VPN gateway, Windows Server RRAS or the Azure VPN gateway, as a pure engine: a router whose routes to the remote
/// site lead into tunnels. It owns the IKE SA table (<see cref="IkeResponder"/>: routed by our own SPI, connection
/// chosen by the peer's address, cookies under load), the Child SA table with each SA's ESP data plane, the tunnels
/// (demand-dial queue, redial, outage accounting), the security policy database that decides protect / bypass /
/// discard for cleartext in both directions (RFC 4301 section 5), reassembly of fragments addressed to the gateway,
/// and egress (route, MTU, fragments). Time and randomness are inputs; everything it does goes out through its
/// <see cref="IGatewayPort"/>. Not thread-safe: one owner calls it, one input at a time.
/// </summary>
/// <remarks>
/// Inbound, a packet goes: <see cref="Receive"/> → policy → local (IKE, ESP, ICMP echo) or forward; ESP is opened
/// by its Child SA, checked against the SA's selectors and delivered or routed on. Outbound: policy says protect →
/// the tunnel's active Child SA seals it → outer headers written in place → egress. A tunnel without an SA holds the
/// packet and dials (RRAS) or drops it (a responder-only side): nothing for the remote site ever leaves in clear.
/// </remarks>
public sealed partial class GatewayEngine : IDisposable
{
    private readonly string _node;
    private readonly GatewayProfile _profile;
    private readonly Router _router;
    private readonly Func<IRandomSource> _random;
    private readonly IGatewayPort _port;
    private readonly IkeResponder _ike;
    private SecurityPolicyDatabase _spd;
    private readonly List<string> _protectedSide;
    /// <summary>Fragments addressed to the gateway itself (IKE or ESP that a router on the way had to split).</summary>
    private readonly Ipv4Reassembler _reassembler = new();
    private readonly Dictionary<IkeSa, IkeLink> _links = [];
    private readonly Dictionary<uint, ChildSa> _children = [];
    private readonly Dictionary<string, Tunnel> _tunnels = [];
    private ushort _ipId = 1;
    private bool _disconnecting;
    private GatewayTime _now;

    /// <param name="node">The node's name, for spans and metrics.</param>
    /// <param name="random">A fresh random stream each call: one for the IKE table, one per Child SA, in creation order (a seeded run repeats).</param>
    /// <summary>
    /// The IKE table's tuning of a gateway whose owner answers queued key exchanges (<see cref="RunQueuedKeyExchange"/>)
    /// between its other inputs: a queue of 16,384 IKE_SA_INIT requests, enough for a hub's crowd of branches dialing
    /// at once; beyond it a request is dropped and its initiator retransmits.
    /// </summary>
    public static IkeResponderOptions QueuedIkeOptions { get; } = new() { KeyExchangeQueue = 16_384 };

    /// <param name="ikeOptions">The IKE table's tuning (cookies, the key exchange queue); its defaults when null.</param>
    /// <param name="bgpSeed">Seeds the BGP speaker's TCP sequence numbers and ports.</param>
    /// <param name="timeScale">The lab's time scale, for BGP's timers.</param>
    public GatewayEngine(string node, GatewayProfile profile, Router router, Func<IRandomSource> random, IGatewayPort port, IkeResponderOptions? ikeOptions = null,
        ulong bgpSeed = 0, TimeScale timeScale = default)
    {
        _node = node;
        _profile = profile;
        _router = router;
        _random = random;
        _port = port;
        foreach (var t in profile.Tunnels) _tunnels[t.Name] = new Tunnel(t);
        _ike = new IkeResponder(new IkeEnvironment(random()), Connections(), ikeOptions);
        // The protected side: every interface but the internet one (a one-armed RRAS has only the one).
        // (A /32 is a loopback address of the node, not a side.)
        var inside = router.Interfaces.Where(i => i.Key != profile.InternetInterface && i.Key != profile.SecondInternetInterface && i.Value.Prefix.Length < 32).Select(i => i.Key).ToList();
        _protectedSide = inside.Count > 0 ? inside : [.. router.Interfaces.Keys];
        _spd = new SecurityPolicyDatabase(profile.Tunnels.Select(t => new SpdTunnel(t.Name, t.LocalPrefixes, t.RemotePrefixes)), _protectedSide, profile.Isolated);
        StartBgp(bgpSeed, timeScale.Factor == 0 ? new TimeScale(1) : timeScale);
    }

    public GatewayProfile Profile => _profile;

    /// <summary>The tunnels, in the order the profile lists them.</summary>
    public IReadOnlyCollection<Tunnel> Tunnels => _tunnels.Values;

    /// <summary>The IKE table's next deadline on the node's clock (<see cref="DateTimeOffset.MinValue"/>: now), or null.</summary>
    public DateTimeOffset? NextDeadline => _ike.NextDeadline;

    /// <summary>IKE SAs half-open now (IKE_SA_INIT answered, no IKE_AUTH yet).</summary>
    public int HalfOpen => _ike.HalfOpen;

    /// <summary>IKE_SA_INIT requests waiting for their key exchange (<see cref="IkeResponderOptions.KeyExchangeQueue"/>).</summary>
    public int QueuedKeyExchanges => _ike.Queued;

    /// <summary>When the oldest queued IKE_SA_INIT request arrived (node clock), or null when none waits.</summary>
    public DateTimeOffset? OldestQueuedKeyExchange => _ike.OldestQueuedAt;

    /// <summary>IKE_SA_INIT requests taken up for a new responder SA so far.</summary>
    public int KeyExchangesAnswered => _ike.KeyExchangesAnswered;

    /// <summary>Cookie challenges sent (RFC 7296 section 2.6).</summary>
    public int CookiesSent => _ike.CookiesSent;

    /// <summary>The IKE SAs in the table, with their tunnels' names.</summary>
    public IEnumerable<(IkeSa Sa, string Tunnel)> IkeSas => _links.Values.Select(l => (l.Sa, l.Tunnel.Profile.Name));

    /// <summary>The Child SAs of <paramref name="tunnel"/>'s current IKE SA.</summary>
    public IEnumerable<ChildSa> ChildrenOf(Tunnel tunnel) => tunnel.Current is { } h ? h.Children.Select(spi => _children[spi]) : [];

    /// <summary>How many tunnels are Connected (<see cref="ConnectionStatus(Tunnel)"/>): an established IKE SA with a Child SA.</summary>
    public int ConnectedTunnels => _tunnels.Values.Count(t => t.Current is { Sa.State: IkeSaState.Established } h && h.Children.Count > 0);

    /// <summary>
    /// The names of up to <paramref name="most"/> tunnels that are not Connected, with their status and, for each, what
    /// its IKE SAs under way are doing and its last failure: "branch7 (Connecting: IKE SA 1f.._i 9c.._r InitAnswered)".
    /// </summary>
    public IReadOnlyList<string> TunnelsNotConnected(int most)
    {
        var down = _tunnels.Values.Where(t => t.Current is not { Sa.State: IkeSaState.Established } h || h.Children.Count == 0).Take(most).ToList();
        if (down.Count == 0) return [];
        var wanted = down.ToHashSet();
        var under = _links.Values.Where(h => wanted.Contains(h.Tunnel) && h.Sa.State != IkeSaState.Closed).ToLookup(h => h.Tunnel);
        return down.Select(t =>
        {
            var parts = under[t].Select(h => $"IKE SA {h.Sa.InitiatorSpi:x16}_i {h.Sa.ResponderSpi:x16}_r {h.Sa.State}{(h.Children.Count > 0 ? $" with {h.Children.Count} Child SA(s)" : "")}").ToList();
            if (t.Failures.Count > 0) parts.Add($"last failure {t.Failures[^1]}");
            return $"{t.Profile.Name} ({ConnectionStatus(t)}{(parts.Count > 0 ? ": " + string.Join("; ", parts) : "")})";
        }).ToList();
    }

    /// <summary>Azure's connection status values: Unknown, Connecting, Connected, NotConnected.</summary>
    public string ConnectionStatus(Tunnel t) => ConnectionStatus(t, null);

    /// <summary>
    /// The tunnels with an IKE SA under way that is not yet their current one: what <see cref="ConnectionStatus(Tunnel, IReadOnlySet{Tunnel})"/>
    /// needs for every tunnel, found in one pass over the SAs instead of one per tunnel (a hub has a hundred thousand).
    /// </summary>
    public IReadOnlySet<Tunnel> TunnelsDialing() => _links.Values.Where(h => h.Sa.State != IkeSaState.Closed).Select(h => h.Tunnel).ToHashSet();

    /// <summary>Azure's connection status of <paramref name="t"/>, given <see cref="TunnelsDialing"/> when asking for many.</summary>
    public string ConnectionStatus(Tunnel t, IReadOnlySet<Tunnel>? dialing) => t.Current?.Sa.State switch
    {
        IkeSaState.Established when t.Current.Children.Count > 0 => "Connected",
        IkeSaState.Established or IkeSaState.InitSent or IkeSaState.AuthSent or IkeSaState.InitAnswered or IkeSaState.Created => "Connecting",
        null when dialing?.Contains(t) ?? _links.Values.Any(h => h.Tunnel == t && h.Sa.State != IkeSaState.Closed) => "Connecting",
        _ => t.EverConnected || t.Failures.Count > 0 || t.Attempts > 0 ? "NotConnected" : "Unknown",
    };

    // -------------------------------------------------------------------------------------------------------
    // Inputs

    /// <summary>The gateway is switched on: persistent interfaces dial at once.</summary>
    public void Start(GatewayTime now)
    {
        _now = now;
        foreach (var t in _tunnels.Values)
            if (t.Profile.Initiates && !t.Profile.DemandDial) Dial(t);
        _bgp?.Start(now.Elapsed);
    }

    /// <summary>The IKE table's deadline came; <paramref name="asked"/> is the time it asked for.</summary>
    public void Tick(GatewayTime now, DateTimeOffset asked)
    {
        _now = now;
        _ike.Tick(asked > now.Node ? now.Node : asked);
        RunIke();
    }

    /// <summary>Answers the oldest IKE_SA_INIT request waiting for its key exchange, if one waits.</summary>
    public void RunQueuedKeyExchange(GatewayTime now)
    {
        _now = now;
        if (!_ike.RunQueued(now.Node, out var tag)) return;
        var arrival = (QueuedArrival)tag!;
        RunIke(arrival.Traceparent, arrival.From);
    }

    /// <summary>What a queued IKE_SA_INIT keeps of the frame it came in: its trace and its sender.</summary>
    private sealed record QueuedArrival(string Traceparent, Ipv4Endpoint From);

    /// <summary>The node's clock moved (a clock-skew fault): timers that are due now fire.</summary>
    public void ClockChanged(GatewayTime now) => Tick(now, now.Node);

    /// <summary>RRAS's retry interval after a failed dial is over.</summary>
    public void Redial(string tunnel, GatewayTime now)
    {
        _now = now;
        if (_tunnels.TryGetValue(tunnel, out var t) && t.Current is null && (t.Held.Count > 0 || !t.Profile.DemandDial)) Dial(t);
    }

    /// <summary>Drops fragments whose datagram did not complete in time; true while others still wait.</summary>
    public bool ExpireFragments(GatewayTime now)
    {
        _now = now;
        foreach (var _ in _reassembler.Expire(now.Elapsed)) Drop(DropReason.ReassemblyTimeout);
        return _reassembler.PendingDatagrams > 0;
    }

    /// <summary>
    /// The device is switched off: like RRAS stopping or an Azure connection being removed, it deletes its IKE SAs
    /// (INFORMATIONAL with D(IKE)) so that the peer does not wait for its liveness check. Returns how many were up;
    /// <see cref="IGatewayPort.Disconnected"/> follows when the last is gone.
    /// </summary>
    public int Disconnect(GatewayTime now)
    {
        _now = now;
        _disconnecting = true;
        foreach (var t in _tunnels.Values) t.Held.Clear();
        var live = _links.Values.Where(h => h.Sa.State == IkeSaState.Established).ToList();
        foreach (var h in live)
        {
            _port.Report("ike", $"{h.Tunnel.Profile.Name}: disconnecting, sending DELETE for the IKE SA");
            h.Sa.Delete(now.Node);
        }
        RunIke();
        return live.Count;
    }

    public void Dispose()
    {
        _ike.Dispose();
        foreach (var c in _children.Values) c.Dispose();
        _children.Clear();
        _links.Clear();
    }

    // -------------------------------------------------------------------------------------------------------
    // Frames in

    /// <summary>A datagram arrived on <paramref name="ingress"/>; the engine owns its bytes from now on.</summary>
    public void Receive(byte[] datagram, string ingress, string traceparent, GatewayTime now)
    {
        _now = now;
        if (!Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _))
        {
            Drop(DropReason.Malformed);
            return;
        }
        if (_profile.SecondInternetInterface is not null && InstanceOf(ingress, ip.Destination) is >= 0 and var instance && _instanceDown[instance])
        {
            Drop(GatewayDropReason.InstanceDown, $"{ip.Source} → {ip.Destination}: instance {instance} ({Instances.Name(instance)}) is down");
            return;
        }
        // RFC 4301 section 5: cleartext is protected, let through or discarded by policy, in both directions.
        var verdict = _spd.Classify(ip.Source, ip.Destination, ingress);
        if (verdict.Action == SpdAction.Discard)
        {
            Drop(DropReason.SpdDiscard, verdict.Why);
            return;
        }
        if (IsLocal(ip.Destination))
        {
            if (CurrentSpan is { } span) span.DisplayName = SpanNames.GatewayReceive;
            if (ip.IsFragment)
            {
                var whole = _reassembler.Accept(datagram, now.Elapsed);
                if (whole.Status == ReassemblyStatus.Dropped) Drop(whole.Reason);
                _port.FragmentsWaiting();
                if (whole.Datagram is null || !Ipv4Header.TryParse(whole.Datagram, out ip, out _, out payload, out _)) return;
                datagram = whole.Datagram;
            }
            Local(datagram, ip, Within(datagram, payload), traceparent, via: null);
            return;
        }
        if (verdict.Action == SpdAction.Protect && PickTunnel(verdict, ip, datagram) is { } tunnel)
        {
            if (!Ipv4Header.TryDecrementTimeToLive(datagram))
            {
                Forward(datagram, ingress, traceparent); // the router answers TTL exceeded
                return;
            }
            CurrentSpan?.SetTag(Attr.Tunnel, tunnel.Profile.Name);
            IntoTunnel(tunnel, ip, datagram, traceparent);
            return;
        }
        // An Azure gateway carries the VNet's traffic into its tunnels and nowhere else: what no tunnel routes (a
        // prefix BGP withdrew, say) goes no further, and never to the internet in clear.
        if (!_profile.Isolated.IsDefaultOrEmpty && _protectedSide.Contains(ingress) && _profile.Isolated.Any(p => p.Contains(ip.Source)) && !_profile.Isolated.Any(p => p.Contains(ip.Destination)))
        {
            Drop(DropReason.NoRoute, $"{ip.Source} → {ip.Destination}: no tunnel routes {ip.Destination}; the gateway carries VNet traffic only into its tunnels");
            return;
        }
        Forward(datagram, ingress, traceparent);
    }

    private void Forward(byte[] datagram, string ingress, string traceparent)
    {
        var result = _router.ForwardInPlace(datagram, ingress);
        if (result.Disposition == ForwardDisposition.Dropped) Drop(result.Reason);
        if (CurrentSpan is { } span && result.Transmissions.Count > 0)
        {
            span.SetTag(Attr.EgressInterface, result.Transmissions[0].Interface);
            span.SetTag(Attr.NextHop, TagValues.Address(result.Transmissions[0].NextHop.Value));
        }
        foreach (var t in result.Transmissions) _port.Transmit(t, traceparent);
    }

    /// <summary><paramref name="part"/>, a span of <paramref name="datagram"/>, as a segment of it (no copy).</summary>
    private static ArraySegment<byte> Within(byte[] datagram, ReadOnlySpan<byte> part)
    {
        if (part.IsEmpty) return new ArraySegment<byte>(datagram, datagram.Length, 0);
        ((ReadOnlySpan<byte>)datagram).Overlaps(part, out var offset);
        return new ArraySegment<byte>(datagram, offset, part.Length);
    }

    /// <summary>The span of the step being handled, when it is one of ours (the node opens it around each input).</summary>
    private static Activity? CurrentSpan => Activity.Current is { } a && a.Source == NodesTelemetry.Source ? a : null;

    private void Drop(DropReason reason, string? detail = null) => _port.Dropped(reason.ToName(), detail);

    private void Drop(GatewayDropReason reason, string? detail = null) => _port.Dropped(reason.ToName(), detail);
}
