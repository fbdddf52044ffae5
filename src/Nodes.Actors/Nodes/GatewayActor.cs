using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Capture;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Ike;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Net.Fragmentation;
using Nodes.Net.Policy;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;
using IkeProposal = Nodes.Ike.Proposals.Proposal;
using ProposalText = Nodes.Ike.Proposals.ProposalText;

namespace Nodes.Actors.Nodes;

/// <summary>
/// A VPN gateway node, Windows Server RRAS or the Azure VPN gateway: a router whose routes to the remote site lead
/// into a tunnel. Its IKE SAs live in one pure table (<see cref="IkeResponder"/>: routed by our own SPI, connection
/// chosen by the peer's address, cookies under load), driven with one timer at the table's next deadline; per Child
/// SA a <see cref="ChildSaActor"/> child, found by SPI. A tunnel's current IKE SA is one this side initiated, or one
/// whose peer authenticated: a half-open SA never replaces an established one. RRAS dials on demand: the first packet
/// for the remote site starts IKE and waits in a small queue; nothing for the remote site is ever forwarded in clear.
/// </summary>
public sealed class GatewayActor : NodeActor
{
    private const int DemandDialQueueLimit = 16;

    private readonly GatewayProfile _profile;
    private readonly Router _router;
    private readonly ulong _seed;
    private long _streams;
    private readonly IkeResponder _ike;
    private readonly SecurityPolicyDatabase _spd;
    /// <summary>Fragments addressed to the gateway itself (IKE or ESP that a router on the way had to split).</summary>
    private readonly Ipv4Reassembler _reassembler = new();

    private sealed record ReassemblyTick : INoSerializationVerificationNeeded;
    private readonly Dictionary<IkeSa, IkeHandle> _ikeBySa = [];
    private DateTimeOffset? _ikeTimerAt;
    private readonly Dictionary<uint, ChildHandle> _childBySpi = [];
    private readonly Dictionary<string, TunnelState> _tunnels = [];
    private ushort _ipId = 1;
    private long _childActors;
    private readonly NodeClock _clock = new();

    private sealed class TunnelState(TunnelProfile profile)
    {
        /// <summary>The tunnel's settings; a shared-key or proposal fault replaces them.</summary>
        public TunnelProfile Profile { get; set; } = profile;
        public IkeHandle? Current { get; set; }
        public Queue<(byte[] Packet, string Traceparent)> Held { get; } = new();
        public List<string> Failures { get; } = [];
        public int Attempts { get; set; }
        public bool EverConnected { get; set; }
        public DateTimeOffset? DownSince { get; set; }
        public TimeSpan TotalDown { get; set; }
        public int Outages { get; set; }
    }

    private sealed class IkeHandle(IkeSa sa, TunnelState tunnel)
    {
        public IkeSa Sa { get; } = sa;
        public TunnelState Tunnel { get; } = tunnel;
        public List<uint> Children { get; } = [];
        /// <summary>The span of the negotiation, open from dial (or the first IKE_SA_INIT) until established or failed.</summary>
        public Activity? Negotiation { get; set; }
        /// <summary>The negotiation's context, kept after it ends: later exchanges (rekeys, DPD) link to it.</summary>
        public ActivityContext NegotiationContext { get; set; }
        /// <summary>IKE events (retransmissions, DPD, rekeys, NAT detection) waiting for the span of the exchange they belong to.</summary>
        public List<ActivityEvent> Pending { get; } = [];
        /// <summary>The state this SA is counted under in the nodes.ipsec.ike_sas metric.</summary>
        public IkeSaState? Counted { get; set; }
    }

    private sealed class ChildHandle(IActorRef actor, ChildSaInfo info, IkeHandle ike)
    {
        public IActorRef Actor { get; } = actor;
        public ChildSaInfo Info { get; } = info;
        public IkeHandle Ike { get; } = ike;
        public bool OutboundActive { get; set; }
        public ChildCounters? Counters { get; set; }
    }

    private sealed record Redial(string Tunnel) : INoSerializationVerificationNeeded;

    /// <summary>Child SAs removed a moment ago, whose actors may still answer for packets they took before.</summary>
    private readonly Dictionary<uint, ChildHandle> _retired = [];

    private static readonly TimeSpan RetiredGrace = TimeSpan.FromSeconds(5);

    private sealed record ForgetRetired(uint InboundSpi) : INoSerializationVerificationNeeded;

    public GatewayActor(NodeSpec spec, GatewayProfile profile, IEnumerable<Attachment> attachments, LabContext lab)
        : base(spec.Name, profile.Kind, attachments, lab)
    {
        _profile = profile;
        var interfaces = Conversions.Interfaces(spec);
        var routes = Conversions.Routes(spec, interfaces);
        if (spec is AzureVpnGatewaySpec az && interfaces.FirstOrDefault(i => i.Prefix.Contains(az.VnetNextHop)) is { } gwSubnet)
            foreach (var space in az.VnetAddressSpaces) routes.Add(new Net.Routing.Route(space, az.VnetNextHop, gwSubnet.Name, 10));
        _router = new Router(interfaces, routes);
        _seed = lab.Seed;
        foreach (var t in profile.Tunnels) _tunnels[t.Name] = new TunnelState(t);
        _ike = new IkeResponder(NewEnvironment(), Connections());
        // The protected side: every interface but the internet one (a one-armed RRAS has only the one).
        var inside = interfaces.Select(i => i.Name).Where(n => n != profile.InternetInterface).ToList();
        _spd = new SecurityPolicyDatabase(profile.Tunnels.Select(t => new SpdTunnel(t.Name, t.LocalPrefixes, t.RemotePrefixes)),
            inside.Count > 0 ? inside : interfaces.Select(i => i.Name), profile.Isolated);

        Receive<Frame>(OnFrame);
        Receive<FloodTick>(_ => OnFloodTick());
        Receive<ReassemblyTick>(_ =>
        {
            foreach (var expired in _reassembler.Expire(LabNow)) Drop(DropReason.ReassemblyTimeout);
            if (_reassembler.PendingDatagrams == 0) Timers.Cancel("reassembly");
        });
        Receive<IkeTick>(t =>
        {
            _ikeTimerAt = null;
            var now = IkeNow;
            _ike.Tick(t.At > now ? now : t.At);
            RunIke();
        });
        Receive<Sealed>(OnSealed);
        Receive<Opened>(OnOpened);
        Receive<EspDropped>(m => Drop("esp-" + m.Reason.ToString().ToLowerInvariant())); // the ESP span already carries the reason
        Receive<ChildSoftLimit>(m =>
        {
            if (!_childBySpi.TryGetValue(m.InboundSpi, out var c)) return;
            c.Ike.Sa.ChildSoftLimitReached(m.InboundSpi, "byte lifetime reached", IkeNow);
            RunIke();
        });
        Receive<ForgetRetired>(m => _retired.Remove(m.InboundSpi));
        Receive<Redial>(m =>
        {
            if (_tunnels.TryGetValue(m.Tunnel, out var t) && t.Current is null && (t.Held.Count > 0 || !t.Profile.DemandDial)) Dial(t, default);
        });
        Receive<Disconnect>(_ =>
        {
            // The device is switched off: like RRAS stopping or an Azure connection being removed, it deletes its
            // IKE SAs (INFORMATIONAL with D(IKE)) so that the peer does not wait for its liveness check.
            _disconnecting = Sender;
            foreach (var t in _tunnels.Values) t.Held.Clear();
            var live = _ikeBySa.Values.Where(h => h.Sa.State == IkeSaState.Established).ToList();
            foreach (var h in live)
            {
                Report("ike", $"{h.Tunnel.Profile.Name}: disconnecting, sending DELETE for the IKE SA");
                h.Sa.Delete(IkeNow);
            }
            RunIke();
            if (live.Count == 0) Disconnected();
            else Timers.StartSingleTimer("disconnect", new DisconnectTimeout(), TimeSpan.FromSeconds(3));
        });
        Receive<DisconnectTimeout>(_ => Disconnected());
        Receive<RestoreProfiles>(m =>
        {
            foreach (var t in _tunnels.Values)
                if (m.Profiles.TryGetValue(t.Profile.Name, out var p)) t.Profile = p;
            _ike.ReplaceConnections(Connections());
            Report("fault", $"{m.Fault} over: {string.Join(", ", m.Profiles.Keys)} use their own settings again");
        });
        Receive<FreshCounters>(f =>
        {
            foreach (var m in f.Counters)
                if (_childBySpi.TryGetValue(m.InboundSpi, out var c)) c.Counters = m;
            f.ReplyTo.Tell(Status());
        });
    }

    // -------------------------------------------------------------------------------------------------------
    // Faults

    /// <summary>The end of a shared-key or proposal fault's "for": the tunnels' settings as they were.</summary>
    private sealed record RestoreProfiles(string Fault, IReadOnlyDictionary<string, TunnelProfile> Profiles) : INoSerializationVerificationNeeded;

    private sealed record RestoreClock : INoSerializationVerificationNeeded;

    protected override FaultOutcome OnFault(FaultKind kind, InjectFault f)
    {
        switch (kind)
        {
            case FaultKind.ForceRekey:
            {
                var what = FaultValues.Get(f.Params, kind, "sa");
                var done = new List<string>();
                foreach (var t in _tunnels.Values)
                {
                    if (t.Current is not { Sa.State: IkeSaState.Established } h) continue;
                    if (what == "ike")
                    {
                        done.Add($"IKE SA {h.Sa.InitiatorSpi:x16}/{h.Sa.ResponderSpi:x16} of {t.Profile.Name}");
                        h.Sa.RekeyIke(IkeNow);
                    }
                    else if (h.Children.Select(spi => _childBySpi[spi]).FirstOrDefault(c => c.OutboundActive) is { } c)
                    {
                        h.Sa.RekeyChild(c.Info.InboundSpi, IkeNow);
                        done.Add($"Child SA 0x{c.Info.InboundSpi:x8}/0x{c.Info.OutboundSpi:x8} of {t.Profile.Name}");
                    }
                }
                RunIke();
                return done.Count == 0
                    ? FaultOutcome.Refused($"{Name} has no established {(what == "ike" ? "IKE" : "Child")} SA to rekey")
                    : FaultOutcome.Applied($"rekeying now (CREATE_CHILD_SA): {string.Join("; ", done)}");
            }
            case FaultKind.PskMismatch:
            {
                var given = FaultValues.Get(f.Params, kind, "shared-key");
                var random = NewRandom();
                Span<byte> b = stackalloc byte[12];
                random.Fill(b);
                var text = given ?? "Changed" + Convert.ToHexString(b);
                var key = new SecretKey(System.Text.Encoding.ASCII.GetBytes(text));
                var previous = Change(f, t => t with { Initiator = t.Initiator with { SharedKey = key }, Responder = t.Responder with { SharedKey = key } });
                // Never the key itself: only that it changed and how long it is.
                return FaultOutcome.Applied($"shared key of {string.Join(", ", previous.Keys)} changed ({text.Length} characters{(given is null ? ", one the peer does not have" : "")}); {Reset()}");
            }
            case FaultKind.ProposalMismatch:
            {
                var ike = Proposals(FaultValues.Get(f.Params, kind, "ike"), forIke: true, out var ikeError);
                var esp = Proposals(FaultValues.Get(f.Params, kind, "esp"), forIke: false, out var espError);
                if ((ikeError ?? espError) is { } error) return FaultOutcome.Refused(error);
                var previous = Change(f, t => t with
                {
                    Initiator = t.Initiator with { IkeProposals = ike ?? t.Initiator.IkeProposals, EspProposals = esp ?? t.Initiator.EspProposals },
                    Responder = t.Responder with { IkeProposals = ike ?? t.Responder.IkeProposals, EspProposals = esp ?? t.Responder.EspProposals },
                });
                return FaultOutcome.Applied($"proposals of {string.Join(", ", previous.Keys)} now{(ike is null ? "" : $" IKE {ProposalText.List(ike)}")}{(esp is null ? "" : $" ESP {ProposalText.List(esp)}")}; {Reset()}");
            }
            case FaultKind.ClockSkew:
            {
                FaultValues.TrySignedDuration(FaultValues.Get(f.Params, kind, "offset")!, out var offset);
                var rate = double.Parse(FaultValues.Get(f.Params, kind, "rate")!, System.Globalization.CultureInfo.InvariantCulture);
                // The offset is protocol time, shrunk by the time scale like the lifetimes and DPD timers it races.
                var scaled = TimeSpan.FromTicks((long)(offset.Ticks / Lab.TimeScale));
                _clock.Change(Now, scaled, rate);
                _ike.Tick(IkeNow);
                RunIke();
                return FaultOutcome.Applied($"{Name}'s clock is {_clock.Difference(Now).TotalSeconds:+0.###;-0.###;0} s off the lab's and runs at {rate:0.###}x: lifetimes, DPD and keepalives fire by it");
            }
            case FaultKind.SpoofedIkeSaInit or FaultKind.HalfOpenFlood or FaultKind.CleartextInject:
                return Attack(kind, f);
            default:
                return base.OnFault(kind, f);
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // Attacks: an adversary on the internet, whose packets arrive on the internet interface like any other frame

    private Adversary? _adversary;
    private (int Left, int PerTick, Ipv4Address From)? _flood;

    private sealed record FloodTick : INoSerializationVerificationNeeded;

    private FaultOutcome Attack(FaultKind kind, InjectFault f)
    {
        _adversary ??= new Adversary(NewRandom());
        var peer = _tunnels.Values.FirstOrDefault()?.Profile;
        Ipv4Address From(string name, Ipv4Address fallback) => FaultValues.Get(f.Params, kind, name) is { } a ? Ipv4Address.Parse(a) : fallback;
        int Count(string name) => int.Parse(FaultValues.Get(f.Params, kind, name)!, System.Globalization.CultureInfo.InvariantCulture);
        switch (kind)
        {
            case FaultKind.SpoofedIkeSaInit or FaultKind.HalfOpenFlood when peer is null:
                return FaultOutcome.Refused($"{Name} has no connection an IKE_SA_INIT could be aimed at");
            case FaultKind.SpoofedIkeSaInit:
            {
                var from = From("from", peer!.Peer);
                var count = Count("count");
                for (var i = 0; i < count; i++) Hostile(_adversary.IkeSaInit(peer.Responder, from, _profile.PublicAddress));
                return FaultOutcome.Applied($"{count} IKE_SA_INIT request(s) claiming to come from {from}:500 sent to {_profile.PublicAddress}:500");
            }
            case FaultKind.HalfOpenFlood:
            {
                var from = From("from", peer!.Peer);
                var count = Count("count");
                var rate = Count("rate");
                // Ten bursts a second at the rate asked for.
                _flood = (count, Math.Max(1, rate / 10), from);
                Timers.StartPeriodicTimer("flood", new FloodTick(), TimeSpan.FromMilliseconds(100));
                return FaultOutcome.Applied($"flooding {_profile.PublicAddress}:500 with {count} IKE_SA_INIT request(s) from {from} at {rate} a second");
            }
            default:
            {
                if (FaultValues.Get(f.Params, kind, "destination") is not { } d)
                    return FaultOutcome.Refused("cleartext-inject needs a destination (--param destination=10.0.10.4)");
                var source = From("source", Ipv4Address.Parse("198.51.100.66"));
                var destination = Ipv4Address.Parse(d);
                var count = Count("count");
                for (var i = 0; i < count; i++) Hostile(_adversary.Echo(source, destination, (ushort)(i + 1)));
                return FaultOutcome.Applied($"{count} cleartext ICMP echo request(s) {source} → {destination} sent to {Name}'s {_profile.InternetInterface} interface");
            }
        }
    }

    private void OnFloodTick()
    {
        if (_flood is not { } flood || _adversary is null || _tunnels.Values.FirstOrDefault()?.Profile is not { } peer)
        {
            Timers.Cancel("flood");
            return;
        }
        var n = Math.Min(flood.Left, flood.PerTick);
        for (var i = 0; i < n; i++) Hostile(_adversary.IkeSaInit(peer.Responder, flood.From, _profile.PublicAddress));
        _flood = flood.Left - n > 0 ? flood with { Left = flood.Left - n } : null;
        if (_flood is null)
        {
            Timers.Cancel("flood");
            Report("fault", $"half-open-flood over: {_ike.HalfOpen} IKE SA(s) half-open, {_ike.CookiesSent} cookie challenge(s) sent");
        }
    }

    /// <summary>A frame of the adversary's, arriving on the internet interface as if off the wire.</summary>
    private void Hostile(byte[] datagram) =>
        Self.Tell(new Frame { Link = "adversary", Node = Name, Interface = _profile.InternetInterface, Packet = Google.Protobuf.ByteString.CopyFrom(datagram) });

    private Dictionary<string, TunnelProfile> Change(InjectFault f, Func<TunnelProfile, TunnelProfile> change)
    {
        var previous = _tunnels.Values.ToDictionary(t => t.Profile.Name, t => t.Profile);
        foreach (var t in _tunnels.Values) t.Profile = change(t.Profile);
        _ike.ReplaceConnections(Connections());
        if (FaultCatalog.Find(f.Fault) is { } info && DurationParam(f, info.Kind, "for") is { } length)
            Timers.StartSingleTimer("restore-" + f.Fault, new RestoreProfiles(f.Fault, previous), length);
        return previous;
    }

    /// <summary>Resets every connection, as changing its settings in the portal or RRAS console does: DELETE for each IKE SA.</summary>
    private string Reset()
    {
        var live = _ikeBySa.Values.Where(h => h.Sa.State == IkeSaState.Established).ToList();
        foreach (var h in live) h.Sa.Delete(IkeNow);
        foreach (var h in _ikeBySa.Values.Except(live).ToList()) h.Sa.Abandon("the connection's settings changed", IkeNow); // half-made SAs are abandoned
        RunIke();
        return live.Count == 0 ? "no IKE SA was up; the next negotiation uses the new settings" : $"connection reset: DELETE sent for {live.Count} IKE SA(s); the next negotiation uses the new settings";
    }

    private static IReadOnlyList<IkeProposal>? Proposals(string? text, bool forIke, out string? error)
    {
        error = null;
        if (text is null) return null;
        var list = new List<IkeProposal>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ProposalText.TryParse(part, forIke, out var p, out var why))
            {
                error = $"{(forIke ? "IKE" : "ESP")} proposal '{part}': {why}";
                return null;
            }
            list.Add(p!);
        }
        return list;
    }

    /// <summary>Delete every IKE SA (the device is being switched off); answered with <see cref="DisconnectDone"/>.</summary>
    public sealed record Disconnect : INoSerializationVerificationNeeded;

    /// <summary>Every IKE SA is gone, or the peers did not answer the DELETE in time.</summary>
    public sealed record DisconnectDone : INoSerializationVerificationNeeded;

    private sealed record DisconnectTimeout : INoSerializationVerificationNeeded;

    private IActorRef? _disconnecting;

    private void Disconnected()
    {
        Timers.Cancel("disconnect");
        _disconnecting?.Tell(new DisconnectDone());
        _disconnecting = null;
    }

    private sealed record FreshCounters(ChildCounters[] Counters, IActorRef ReplyTo) : INoSerializationVerificationNeeded;

    public static Props Props(NodeSpec spec, GatewayProfile profile, IEnumerable<Attachment> attachments, LabContext lab) =>
        Akka.Actor.Props.Create(() => new GatewayActor(spec, profile, attachments, lab));

    protected override void PreStart()
    {
        foreach (var t in _tunnels.Values)
            if (t.Profile.Initiates && !t.Profile.DemandDial) Dial(t, default);
    }

    protected override void PostStop()
    {
        // A negotiation still open when the lab stops is exported as what it is: unfinished.
        foreach (var h in _ikeBySa.Values) EndNegotiation(h, "the lab stopped before the IKE SA was established");
        _ike.Dispose();
    }

    protected override void OnCrash()
    {
        // A crashed device loses every SA at once, without a word to its peers.
        foreach (var h in _ikeBySa.Values) EndNegotiation(h, "the gateway crashed");
        _ike.Dispose();
        _ikeBySa.Clear();
        _childBySpi.Clear();
    }

    /// <summary>The connections this gateway answers IKE_SA_INIT for: each responding tunnel, for its peer's address only.</summary>
    private IEnumerable<IkeConnection> Connections() =>
        _tunnels.Values.Where(t => t.Profile.Responds).Select(t => new IkeConnection(t.Profile.Responder, t.Profile.Peer)).ToList();

    /// <summary>The node's clock (skewed by a clock-skew fault), which IKE lifetimes and timers run on.</summary>
    private DateTimeOffset IkeNow => _clock.Now(Now);

    /// <summary>The IKE table's deadline has come; <paramref name="At"/> is the time it asked for.</summary>
    private sealed record IkeTick(DateTimeOffset At) : INoSerializationVerificationNeeded;

    /// <summary>Carries out what the IKE table produced and sets the timer to its next deadline.</summary>
    private void RunIke(string traceparent = "", Ipv4Endpoint? from = null)
    {
        ProcessIke(_ike.TakeOutputs(), traceparent, from);
        if (_ike.NextDeadline is not { } at)
        {
            if (_ikeTimerAt is not null) Timers.Cancel("ike");
            _ikeTimerAt = null;
            return;
        }
        if (_ikeTimerAt == at) return;
        _ikeTimerAt = at;
        var delay = at == DateTimeOffset.MinValue ? TimeSpan.Zero : _clock.LabDelay(at - IkeNow);
        Timers.StartSingleTimer("ike", new IkeTick(at == DateTimeOffset.MinValue ? IkeNow : at), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    // -------------------------------------------------------------------------------------------------------
    // Frames in

    private void OnFrame(Frame frame)
    {
        CountIn();
        using var span = Spans.Continue(Name, SpanNames.Forward, frame.Traceparent);
        if (span is not null)
        {
            span.SetTag(Attr.Link, frame.Link);
            span.SetTag(Attr.IngressInterface, frame.Interface);
            Spans.TagPacket(span, frame.Packet.Span);
        }
        var traceparent = Spans.Context(span, frame.Traceparent);
        var datagram = frame.TakePacket();
        if (!Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out var error))
        {
            Drop(DropReason.Malformed);
            return;
        }
        // RFC 4301 section 5: cleartext is protected, let through or discarded by policy, in both directions.
        var verdict = _spd.Classify(ip.Source, ip.Destination, frame.Interface);
        if (verdict.Action == SpdAction.Discard)
        {
            Drop(DropReason.SpdDiscard, verdict.Why);
            return;
        }
        if (_router.IsLocalAddress(ip.Destination))
        {
            if (span is not null) span.DisplayName = SpanNames.GatewayReceive;
            if (ip.IsFragment)
            {
                var whole = _reassembler.Accept(datagram, LabNow);
                if (whole.Status == ReassemblyStatus.Dropped) Drop(whole.Reason);
                if (!Timers.IsTimerActive("reassembly")) Timers.StartPeriodicTimer("reassembly", new ReassemblyTick(), TimeSpan.FromSeconds(1));
                if (whole.Datagram is null || !Ipv4Header.TryParse(whole.Datagram, out ip, out _, out payload, out _)) return;
                datagram = whole.Datagram;
            }
            Local(datagram, ip, Within(datagram, payload), traceparent);
            return;
        }
        if (verdict.Action == SpdAction.Protect && _tunnels.TryGetValue(verdict.Tunnel!, out var tunnel))
        {
            if (!Ipv4Header.TryDecrementTimeToLive(datagram))
            {
                Forward(datagram, frame.Interface, traceparent); // the router answers TTL exceeded
                return;
            }
            span?.SetTag(Attr.Tunnel, tunnel.Profile.Name);
            IntoTunnel(tunnel, ip, datagram, traceparent);
            return;
        }
        Forward(datagram, frame.Interface, traceparent);
    }

    private void Forward(byte[] datagram, string ingress, string traceparent)
    {
        var result = _router.ForwardInPlace(datagram, ingress);
        if (result.Disposition == ForwardDisposition.Dropped) Drop(result.Reason);
        if (Activity.Current is { } span && span.Source == NodesTelemetry.Source && result.Transmissions.Count > 0)
        {
            span.SetTag(Attr.EgressInterface, result.Transmissions[0].Interface);
            span.SetTag(Attr.NextHop, TagValues.Address(result.Transmissions[0].NextHop.Value));
        }
        Send(result.Transmissions, traceparent);
    }

    /// <summary><paramref name="part"/>, a span of <paramref name="datagram"/>, as a segment of it (no copy).</summary>
    private static ArraySegment<byte> Within(byte[] datagram, ReadOnlySpan<byte> part)
    {
        if (part.IsEmpty) return new ArraySegment<byte>(datagram, datagram.Length, 0);
        ((ReadOnlySpan<byte>)datagram).Overlaps(part, out var offset);
        return new ArraySegment<byte>(datagram, offset, part.Length);
    }

    /// <summary>A datagram for this node; <paramref name="payload"/> is its IP payload, a segment of <paramref name="datagram"/>.</summary>
    private void Local(byte[] datagram, Ipv4Header ip, ArraySegment<byte> payload, string traceparent)
    {
        switch (ip.Protocol)
        {
            case IpProtocol.Udp:
                if (!UdpHeader.TryParse(payload, out var udp, out var udpPayload, out _))
                {
                    Drop(DropReason.Malformed);
                    return;
                }
                var from = new Ipv4Endpoint(ip.Source, udp.SourcePort);
                var to = new Ipv4Endpoint(ip.Destination, udp.DestinationPort);
                if (udp.DestinationPort == UdpPorts.Ike)
                {
                    IkeArrived(udpPayload.ToArray(), from, to, traceparent);
                }
                else if (udp.DestinationPort == UdpPorts.IkeNatTraversal)
                {
                    if (!UdpEncapsulation.TryClassify(udpPayload, out var kind, out var content, out _))
                    {
                        Drop(DropReason.Malformed);
                        return;
                    }
                    switch (kind)
                    {
                        case EncapsulatedKind.Keepalive: break; // RFC 3948 section 2.3: ignored, and not proof of life
                        case EncapsulatedKind.Ike: IkeArrived(content.ToArray(), from, to, traceparent); break;
                        default: EspArrived(Within(datagram, content), from, traceparent); break;
                    }
                }
                else
                {
                    Drop(DropReason.NoListener);
                }
                break;
            case IpProtocol.Esp:
                EspArrived(payload, new Ipv4Endpoint(ip.Source, 0), traceparent);
                break;
            case IpProtocol.Icmp when payload.Count >= 8 && payload[0] == (byte)Icmpv4Type.EchoRequest:
                var reply = new byte[datagram.Length];
                var data = payload.AsSpan(8);
                var n = Ipv4PacketWriter.WriteIcmpEcho(reply, new Ipv4Template(ip.Destination, ip.Source, _ipId++, 128), reply: true,
                    (ushort)(payload[4] << 8 | payload[5]), (ushort)(payload[6] << 8 | payload[7]), data);
                Originate(reply[..n], traceparent);
                break;
            default:
                Drop(DropReason.NotForThisHost);
                break;
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // IKE

    private void IkeArrived(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, string traceparent)
    {
        // The table routes by our own SPI, answers IKE_SA_INIT with the connection of the sender's address (cookies
        // when too many SAs are half-open), and drops what belongs to no SA of ours, with a reason.
        _ike.Receive(message, from, to, IkeNow);
        RunIke(traceparent, from);
    }

    /// <summary>Starts an IKE SA as initiator; <paramref name="trigger"/> is the span of the packet that made RRAS dial, if any.</summary>
    private void Dial(TunnelState t, ActivityContext trigger)
    {
        t.Attempts++;
        var local = new Ipv4Endpoint(_profile.PublicAddress, UdpPorts.Ike);
        var remote = new Ipv4Endpoint(t.Profile.Peer, UdpPorts.Ike);
        var sa = _ike.Initiate(t.Profile.Initiator, local, remote, IkeNow);
        var negotiation = StartNegotiation(t, ActivityKind.Client, default, trigger == default ? null : [new ActivityLink(trigger)], remote, sa.InitiatorSpi, initiator: true);
        var h = new IkeHandle(sa, t) { Negotiation = negotiation, NegotiationContext = negotiation?.Context ?? default };
        CountIkeState(h, IkeSaState.Created);
        _ikeBySa[sa] = h;
        // An SA this side starts is the tunnel's own from the start: it authenticates its peer before any Child SA.
        t.Current = h;
        Report("ike", $"{t.Profile.Name}: dialing {t.Profile.Peer} (attempt {t.Attempts}){(t.Held.Count > 0 ? $", {t.Held.Count} packet(s) waiting" : "")}");
        RunIke();
    }

    /// <summary>The handle of an SA the table made, a responder's for a new IKE_SA_INIT the first time it speaks.</summary>
    private IkeHandle? HandleFor(IkeSa sa, string traceparent)
    {
        if (_ikeBySa.TryGetValue(sa, out var h)) return h;
        if (!_tunnels.TryGetValue(sa.Config.Name, out var tunnel)) return null;
        // The responder's negotiation continues the trace of the IKE_SA_INIT that arrived (the initiator's negotiation).
        var parent = Spans.IsSampled(traceparent) && ActivityContext.TryParse(traceparent, null, true, out var p) ? p : default;
        var negotiation = StartNegotiation(tunnel, ActivityKind.Server, parent, null, sa.Remote, sa.InitiatorSpi, initiator: false);
        h = new IkeHandle(sa, tunnel) { Negotiation = negotiation, NegotiationContext = negotiation?.Context ?? default };
        CountIkeState(h, IkeSaState.Created);
        _ikeBySa[sa] = h;
        Report("ike", $"{tunnel.Profile.Name}: IKE_SA_INIT from {sa.Remote}, answering as responder");
        return h;
    }

    /// <summary>Carries out the outputs of the IKE table: per SA, and the table's own (stateless answers, drops).</summary>
    private void ProcessIke(IReadOnlyList<IkeSaOutput> outputs, string traceparent, Ipv4Endpoint? from = null)
    {
        if (outputs.Count == 0) return;
        List<(IkeHandle Handle, string? Failure)>? ended = null;
        foreach (var (sa, o) in outputs)
        {
            if (sa is null)
            {
                Stateless(o, traceparent, from);
                continue;
            }
            if (HandleFor(sa, traceparent) is not { } h) continue;
            if (Apply(h, o) is { } end) (ended ??= []).Add(end);
        }
        if (ended is null) return;
        foreach (var (h, failure) in ended)
        {
            // The negotiation ends after this batch: its last exchange (IKE_AUTH) is reported after the state change.
            EndNegotiation(h, failure);
            if (h.Sa.State == IkeSaState.Closed && _ikeBySa.Remove(h.Sa)) Forget(h, failure ?? "IKE SA closed");
        }
        if (_disconnecting is not null && _ikeBySa.Count == 0) Disconnected();
    }

    /// <summary>What the table said without an SA: an answer that keeps no state, a drop, a cookie challenge.</summary>
    private void Stateless(IkeOutput o, string traceparent, Ipv4Endpoint? from)
    {
        switch (o)
        {
            case IkeSend s:
                SendIke(s.From, s.To, s.NeedsNonEspMarker ? WithMarker(s.Message) : s.Message, traceparent);
                break;
            case IkeDropped d:
                // A cookie challenge answers a flood; its line would be one per request (the fault's end sums them up).
                Drop(d.Name, d.Reason == IkeDropReason.CookieRequired ? null : d.Detail);
                break;
            case IkeFailure refusal:
                var tunnel = _tunnels.Values.FirstOrDefault(t => from is { } f && t.Profile.Peer == f.Address);
                tunnel?.Failures.Add(refusal.ToString());
                Report("ike", $"{tunnel?.Profile.Name ?? Name}: refused IKE_SA_INIT from {from}: {refusal}");
                Activity.Current?.AddEvent(new ActivityEvent("IKE_SA_INIT refused", tags: new ActivityTagsCollection { [Attr.IkeEventDetail] = refusal.ToString() }));
                break;
            case IkeEvent e:
                Report("ike", $"{e.Name}: {e.Detail}");
                break;
        }
    }

    /// <summary>Carries out one output of an SA; returns the end of its negotiation when the SA was established or closed.</summary>
    private (IkeHandle, string?)? Apply(IkeHandle h, IkeOutput o)
    {
        switch (o)
        {
            case IkeSend s:
            {
                // While the SA is being negotiated its messages carry the negotiation's trace through the NAT to the
                // peer. Later messages (liveness checks, rekeys, deletes) each start a short trace of their own, linked
                // to the negotiation, so that every hop they take shows as it does for a ping.
                var message = h.Negotiation is null ? IkeMessageSpan(h, s) : null;
                SendIke(s.From, s.To, s.NeedsNonEspMarker ? WithMarker(s.Message) : s.Message, h.Negotiation?.Id ?? message?.Id ?? "");
                Spans.StopDetached(message);
                break;
            }
            case IkeSendKeepalive k:
                SendUdp(k.From, k.To, new byte[] { 0xff }, UdpChecksumMode.Compute, "");
                break;
            case ChildSaUp up:
                AddChild(h, up.Sa);
                break;
            case ChildSaOutboundActive a when _childBySpi.TryGetValue(a.InboundSpi, out var c):
                foreach (var other in _childBySpi.Values.Where(x => x.Ike == h && x.OutboundActive)) other.OutboundActive = false;
                c.OutboundActive = true;
                Flush(h.Tunnel);
                break;
            case ChildSaDown down when _childBySpi.Remove(down.InboundSpi, out var gone):
                h.Children.Remove(down.InboundSpi);
                if (NodesTelemetry.ChildSas.Enabled) NodesTelemetry.ChildSas.Add(-1, NodeTag);
                Pend(h, "Child SA removed", $"0x{down.InboundSpi:x8}/0x{down.OutboundSpi:x8}: {down.Reason}");
                // Packets already handed to the SA's actor (sealed before the switch to the new SA, or authenticated
                // on their way in) still come out of it: the actor stops after them, and its answers find it here
                // for a little while. New packets no longer reach it.
                gone.Actor.Tell(PoisonPill.Instance);
                _retired[down.InboundSpi] = gone;
                Timers.StartSingleTimer($"retired-{down.InboundSpi:x8}", new ForgetRetired(down.InboundSpi), RetiredGrace);
                Report("ipsec", $"{h.Tunnel.Profile.Name}: Child SA 0x{down.InboundSpi:x8}/0x{down.OutboundSpi:x8} removed ({down.Reason})");
                break;
            case IkeSpisChanged:
                CaptureKeys(h);
                break;
            case IkeStateChange sc:
                Report("ike", $"{h.Tunnel.Profile.Name}: {sc.From} → {sc.To} ({sc.Reason})");
                CountIkeState(h, sc.To);
                Pend(h, "state " + sc.To, sc.Reason);
                if (sc.To == IkeSaState.Established)
                {
                    CaptureKeys(h);
                    // Only now, with its peer authenticated, does an SA the peer started become the tunnel's.
                    h.Tunnel.Current = h;
                    h.Tunnel.EverConnected = true;
                    if (h.Tunnel.DownSince is { } since) h.Tunnel.TotalDown += Now - since;
                    h.Tunnel.DownSince = null;
                }
                if (sc.To is IkeSaState.Established or IkeSaState.Closed) return (h, sc.To == IkeSaState.Closed ? sc.Reason : null);
                break;
            case IkeFailure f:
                h.Tunnel.Failures.Add(f.ToString());
                Pend(h, "failure", f.ToString());
                Report("ike", $"{h.Tunnel.Profile.Name}: {f}");
                break;
            case IkeExchangeDone d:
                ExchangeSpan(h, d);
                Report("ike", $"{h.Tunnel.Profile.Name}: {d.PhaseName} ({d.Purpose}) {(d.Succeeded ? "done" : "failed: " + d.Error)} in {(d.Ended - d.Started).TotalMilliseconds:0.#} ms");
                break;
            case IkeEvent { Name: "dropped" } e:
                Drop("ike-dropped", $"{h.Tunnel.Profile.Name}: {e.Detail}");
                break;
            case IkeEvent { Name: "request retransmitted by peer" } e:
                // The request itself is not processed again (RFC 7296 section 2.1 answers it from the cache): a
                // replayed copy is counted here, as the retransmission it may be.
                Drop("ike-repeated-request", $"{h.Tunnel.Profile.Name}: {e.Detail}");
                Pend(h, e.Name, e.Detail);
                break;
            case IkeEvent { Name: "keys derived" or "peer endpoint changed" }:
                break; // the key event carries no news (and its detail only names SPIs); the endpoint change is reported below
            case IkeEvent e:
                CountIkeEvent(e);
                Pend(h, e.Name, e.Detail);
                Report("ike", $"{h.Tunnel.Profile.Name}: {e.Name}: {e.Detail}");
                break;
            case IkePeerEndpointChanged pe:
                Pend(h, "peer endpoint changed", $"{pe.Old} → {pe.New}");
                Report("ike", $"{h.Tunnel.Profile.Name}: peer endpoint changed {pe.Old} → {pe.New}");
                // The packet that moved the SA shows the move in its own trace.
                if (Activity.Current is { } span && span.Source == NodesTelemetry.Source)
                    span.AddEvent(new ActivityEvent("peer endpoint changed", tags: new ActivityTagsCollection
                    {
                        [Attr.Tunnel] = h.Tunnel.Profile.Name,
                        [Attr.IkeEventDetail] = $"{pe.Old} → {pe.New}",
                    }));
                break;
        }
        return null;
    }

    /// <summary>The IKE SA's keys for a capture's Wireshark key file (the user asked for a decryptable capture).</summary>
    private void CaptureKeys(IkeHandle h)
    {
        if (Lab.Capture is { } capture && h.Sa.ExportKeysForCapture() is { } k)
            capture.AddKeys(new IkeSaKeyEntry(h.Sa.InitiatorSpi, h.Sa.ResponderSpi, k.Suite.Cipher, k.Keys.SkEi, k.Keys.SkEr, k.Keys.SkAi, k.Keys.SkAr));
    }

    private void AddChild(IkeHandle h, ChildSaInfo info)
    {
        if (_childBySpi.TryGetValue(info.InboundSpi, out var existing))
        {
            // Two SAs may not share an inbound SPI on one gateway (RFC 4301 section 4.1): keep the first, refuse the second.
            Drop("esp-spi-in-use", $"{h.Tunnel.Profile.Name}: inbound SPI 0x{info.InboundSpi:x8} is already used by {existing.Ike.Tunnel.Profile.Name}{(existing.Ike == h ? " (same IKE SA)" : "")}");
            return;
        }
        var soft = h.Tunnel.Profile.Initiator.Lifetimes.ChildRekeyBytes;
        var actor = Context.ActorOf(ChildSaActor.Props(info, NewRandom(), soft, Name), $"child-{info.InboundSpi:x8}-{++_childActors}");
        _childBySpi[info.InboundSpi] = new ChildHandle(actor, info, h);
        if (NodesTelemetry.ChildSas.Enabled) NodesTelemetry.ChildSas.Add(1, NodeTag);
        if (info.ReplacesInboundSpi is not null && NodesTelemetry.Rekeys.Enabled) NodesTelemetry.Rekeys.Add(1, NodeTag, new(Attr.IkeRekeyKind, "child"));
        Pend(h, "Child SA up", $"in {Spans.Spi(info.InboundSpi)} out {Spans.Spi(info.OutboundSpi)} {info.Suite}");
        h.Children.Add(info.InboundSpi);
        Report("ipsec", $"{h.Tunnel.Profile.Name}: Child SA up: {info}");
        if (Lab.Capture is { } capture)
        {
            // Wildcard addresses: the same SA shows up with different outer addresses on each side of a NAT.
            capture.AddKeys(new EspSaKeyEntry("*", "*", info.OutboundSpi, info.Suite.Cipher, info.OutboundEncryptionKey, info.OutboundIntegrityKey));
            capture.AddKeys(new EspSaKeyEntry("*", "*", info.InboundSpi, info.Suite.Cipher, info.InboundEncryptionKey, info.InboundIntegrityKey));
        }
    }

    /// <summary>
    /// Every SA actor gets its own seeded stream: random sources are not shared between actors (they run on different
    /// threads), and streams numbered in creation order keep a seeded run repeatable.
    /// </summary>
    private SeededRandomSource NewRandom() => new(_seed, Incarnation == 0 ? $"{Name}/{++_streams}" : $"{Name}#{Incarnation}/{++_streams}");

    private IkeEnvironment NewEnvironment() => new(NewRandom());

    private void Forget(IkeHandle h, string reason)
    {
        foreach (var spi in h.Children.ToList())
            if (_childBySpi.Remove(spi, out var c))
            {
                Context.Stop(c.Actor);
                if (NodesTelemetry.ChildSas.Enabled) NodesTelemetry.ChildSas.Add(-1, NodeTag);
            }
        h.Children.Clear();
        CountIkeState(h, null);
        EndNegotiation(h, reason);
        var t = h.Tunnel;
        if (t.Current != h) return;
        t.Current = null;
        if (t.DownSince is null && t.EverConnected) t.Outages++;
        t.DownSince ??= Now;
        Report("ike", $"{t.Profile.Name}: tunnel down ({reason})");
        // RRAS redials while traffic waits, up to its number of tries; a persistent interface always redials.
        if (_disconnecting is not null) return;
        if (t.Profile.Initiates && (!t.Profile.DemandDial || t.Held.Count > 0) && t.Attempts < t.Profile.Tries)
            Timers.StartSingleTimer($"redial-{t.Profile.Name}", new Redial(t.Profile.Name), Lab.Scaled(t.Profile.RetryInterval));
        else if (t.Profile.Initiates && t.Profile.DemandDial) t.Attempts = 0;
    }

    // -------------------------------------------------------------------------------------------------------
    // ESP

    private void IntoTunnel(TunnelState t, Ipv4Header ip, byte[] datagram, string traceparent)
    {
        var child = t.Current is { } h ? ActiveChild(h, ip) : null;
        if (child is not null)
        {
            child.Actor.Tell(new SealInner(datagram, traceparent));
            return;
        }
        // Demand-dial: hold the packet (never send it in clear) and bring the tunnel up.
        if (t.Held.Count >= DemandDialQueueLimit)
        {
            t.Held.Dequeue();
            Drop("demand-dial-queue-full");
        }
        t.Held.Enqueue((datagram, traceparent));
        if (t.Current is null)
        {
            if (t.Profile.Initiates)
            {
                if (t.Attempts == 0) Report("ike", $"{t.Profile.Name}: packet for {ip.Destination} from {ip.Source} triggers demand-dial");
                var packet = Activity.Current is { } span && span.Source == NodesTelemetry.Source ? span : null;
                Dial(t, packet?.Context ?? default);
                // The packet and the negotiation it caused point at each other.
                if (packet is not null && t.Current?.Negotiation is { } negotiation)
                {
                    packet.AddLink(new ActivityLink(negotiation.Context));
                    packet.AddEvent(new ActivityEvent("demand-dial", tags: new ActivityTagsCollection { [Attr.Tunnel] = t.Profile.Name }));
                }
            }
            else
            {
                t.Held.Clear();
                Drop("no-tunnel", $"{ip.Source} → {ip.Destination}: tunnel {t.Profile.Name} is down and this side does not initiate");
            }
        }
    }

    private ChildHandle? ActiveChild(IkeHandle h, Ipv4Header ip)
    {
        foreach (var spi in h.Children)
        {
            var c = _childBySpi[spi];
            if (c.OutboundActive && Covers(c.Info.LocalTs, ip.Source) && Covers(c.Info.RemoteTs, ip.Destination)) return c;
        }
        return null;
    }

    /// <summary>True when one of the traffic selectors holds <paramref name="address"/>.</summary>
    private static bool Covers(ImmutableArray<TsRange> selectors, Ipv4Address address)
    {
        foreach (var r in selectors)
            if (r.Contains(address)) return true;
        return false;
    }

    private void Flush(TunnelState t)
    {
        if (t.Current is not { } h) return;
        var n = t.Held.Count;
        for (var i = 0; i < n; i++)
        {
            var (packet, trace) = t.Held.Dequeue();
            if (!Ipv4Header.TryParse(packet, out var ip, out _)) continue;
            if (ActiveChild(h, ip) is { } c) c.Actor.Tell(new SealInner(packet, trace));
            else t.Held.Enqueue((packet, trace));
        }
    }

    private void OnSealed(Sealed m)
    {
        if (!_childBySpi.TryGetValue(m.InboundSpi, out var c) && !_retired.TryGetValue(m.InboundSpi, out c))
        {
            Drop("esp-sa-gone", $"a packet sealed by SA 0x{m.InboundSpi:x8} after it was removed");
            return;
        }
        var s = c.Ike.Sa;
        if (s.Encapsulated) SendUdp(s.Local, s.Remote, m.Esp, UdpChecksumMode.Zero, m.Traceparent);
        else Originate(RawEsp(s.Local.Address, s.Remote.Address, m.Esp), m.Traceparent);
        s.NoteOutboundTraffic(IkeNow);
    }

    /// <summary>An ESP packet for this node, a segment of the datagram it came in (which is this node's to change).</summary>
    private void EspArrived(ArraySegment<byte> esp, Ipv4Endpoint from, string traceparent)
    {
        if (esp.Count < 8)
        {
            Drop("esp-malformed");
            return;
        }
        var spi = (uint)(esp[0] << 24 | esp[1] << 16 | esp[2] << 8 | esp[3]);
        if (!_childBySpi.TryGetValue(spi, out var c))
        {
            Drop("esp-unknown-spi");
            return;
        }
        c.Actor.Tell(new OpenEsp(esp, from, traceparent));
    }

    private void OnOpened(Opened m)
    {
        if (!_childBySpi.TryGetValue(m.InboundSpi, out var c) && !_retired.TryGetValue(m.InboundSpi, out c))
        {
            Drop("esp-sa-gone", $"a packet opened by SA 0x{m.InboundSpi:x8} after it was removed");
            return;
        }
        // The decapsulated packet's next step: delivered here or routed on, child of the ESP decapsulation span.
        using var span = Spans.Continue(Name, SpanNames.Forward, m.Traceparent);
        Spans.TagPacket(span, m.Inner);
        var traceparent = Spans.Context(span, m.Traceparent);
        var sa = c.Ike.Sa;
        sa.NoteInboundTraffic(IkeNow);
        // An authenticated packet from a new endpoint: the peer's NAT rebound. The IKE SA decides whether to follow,
        // at once, so that the answer to this very packet already goes to the new endpoint.
        if (m.From.Port != 0 && sa.Encapsulated && sa.Remote != m.From)
        {
            sa.AuthenticatedPacketFrom(m.From, IkeNow);
            RunIke();
        }
        if (!Ipv4Header.TryParse(m.Inner, out var ip, out _))
        {
            Drop("esp-inner-malformed");
            return;
        }
        // RFC 4301 section 5.2: what comes out of an SA must match its selectors.
        if (!Covers(c.Info.RemoteTs, ip.Source) || !Covers(c.Info.LocalTs, ip.Destination))
        {
            Drop("esp-selector-mismatch", $"{ip.Source} → {ip.Destination} does not match {string.Join(',', c.Info.RemoteTs)} === {string.Join(',', c.Info.LocalTs)}");
            return;
        }
        if (_router.IsLocalAddress(ip.Destination))
        {
            if (span is not null) span.DisplayName = SpanNames.GatewayReceive;
            if (Ipv4Header.TryParse(m.Inner, out var inner, out _, out var payload, out _)) Local(m.Inner, inner, Within(m.Inner, payload), traceparent);
            return;
        }
        if (!Ipv4Header.TryDecrementTimeToLive(m.Inner))
        {
            Drop(DropReason.TtlExceeded);
            return;
        }
        Originate(m.Inner, traceparent);
    }

    // -------------------------------------------------------------------------------------------------------
    // Telemetry of IKE: negotiation spans, exchange spans with their events, metrics

    private Activity? StartNegotiation(TunnelState t, ActivityKind kind, ActivityContext parent, IEnumerable<ActivityLink>? links, Ipv4Endpoint peer, ulong initiatorSpi, bool initiator)
    {
        var a = Spans.StartRoot(Name, SpanNames.IkeNegotiation, kind, parent, links);
        if (a is null || !a.IsAllDataRequested) return a;
        a.SetTag(Attr.Tunnel, t.Profile.Name);
        a.SetTag(Attr.IkeRole, initiator ? "initiator" : "responder");
        a.SetTag(Attr.IkeInitiatorSpi, Spans.IkeSpi(initiatorSpi));
        a.SetTag(initiator ? Attr.ServerAddress : Attr.ClientAddress, peer.Address.ToString());
        a.SetTag(initiator ? Attr.ServerPort : Attr.ClientPort, (int)peer.Port);
        return a;
    }

    private void EndNegotiation(IkeHandle h, string? failure)
    {
        if (h.Negotiation is not { } a) return;
        h.Negotiation = null;
        var s = h.Sa;
        if (a.IsAllDataRequested)
        {
            a.SetTag(Attr.IkeResponderSpi, Spans.IkeSpi(s.ResponderSpi));
            a.SetTag(Attr.IkeState, s.State.ToString());
            a.SetTag(Attr.IkeNatDetected, s.LocalBehindNat || s.RemoteBehindNat);
            if (s.Suite is not null) a.SetTag(Attr.IkeSuite, s.Suite.ToString());
        }
        if (failure is not null) a.SetStatus(ActivityStatusCode.Error, failure);
        // Events no exchange span took (a give-up, a failure) stay with the negotiation.
        foreach (var e in h.Pending) a.AddEvent(e);
        h.Pending.Clear();
        Spans.StopDetached(a);
    }

    /// <summary>Keeps an IKE event for the span of the exchange it belongs to (spans are written when the exchange is done).</summary>
    private void Pend(IkeHandle h, string name, string detail)
    {
        if (!Spans.Listening) return;
        if (h.Pending.Count >= 64) h.Pending.RemoveAt(0); // an SA that only ever retransmits must not grow without bound
        h.Pending.Add(new ActivityEvent(name, Now, new ActivityTagsCollection { [Attr.IkeEventDetail] = detail }));
    }

    private static string ExchangeName(ExchangeType e) => e switch
    {
        ExchangeType.IkeSaInit => "IKE_SA_INIT",
        ExchangeType.IkeAuth => "IKE_AUTH",
        ExchangeType.CreateChildSa => "CREATE_CHILD_SA",
        ExchangeType.Informational => "INFORMATIONAL",
        _ => e.ToString(),
    };

    /// <summary>The span of one IKE message sent after the negotiation: "IKE INFORMATIONAL request", linked to the negotiation.</summary>
    private Activity? IkeMessageSpan(IkeHandle h, IkeSend s)
    {
        if (!Spans.Listening) return null;
        var exchange = ExchangeName(s.Exchange);
        var span = Spans.StartRoot(Name, $"IKE {exchange} {(s.IsResponse ? "response" : "request")}", ActivityKind.Producer, default,
            h.NegotiationContext != default ? [new ActivityLink(h.NegotiationContext)] : null);
        if (span is null || !span.IsAllDataRequested) return span;
        span.SetTag(Attr.Tunnel, h.Tunnel.Profile.Name);
        span.SetTag(Attr.IkeExchange, exchange);
        span.SetTag(Attr.IkeMessageId, (long)s.MessageId);
        if (s.IsRetransmission) span.SetTag("ipsec.ike.retransmission", true);
        span.SetTag(Attr.ServerAddress, s.To.Address.ToString());
        span.SetTag(Attr.ServerPort, (int)s.To.Port);
        return span;
    }

    /// <summary>One span per finished IKE exchange, named for the exchange and its phase, with the events seen during it.</summary>
    private void ExchangeSpan(IkeHandle h, IkeExchangeDone d)
    {
        var exchange = ExchangeName(d.Exchange);
        if (NodesTelemetry.IkeExchangeDuration.Enabled)
            NodesTelemetry.IkeExchangeDuration.Record((d.Ended - d.Started).TotalSeconds, NodeTag, new(Attr.IkeExchange, exchange), new(Attr.Tunnel, h.Tunnel.Profile.Name));
        if (!Spans.Listening) return;
        // During the negotiation an exchange is its child; afterwards (rekeys, DPD) it starts a trace linked to the negotiation.
        var parent = h.Negotiation?.Context ?? default;
        var links = parent == default && h.NegotiationContext != default ? new[] { new ActivityLink(h.NegotiationContext) } : null;
        var span = Spans.StartRoot(Name, d.PhaseName, d.WeInitiated ? ActivityKind.Client : ActivityKind.Server, parent, links, d.Started);
        if (span is null) return;
        if (span.IsAllDataRequested)
        {
            span.SetTag(Attr.Tunnel, h.Tunnel.Profile.Name);
            span.SetTag(Attr.IkeExchange, exchange);
            span.SetTag(Attr.IkePhase, d.Exchange switch { ExchangeType.IkeSaInit or ExchangeType.IkeAuth => 1, ExchangeType.CreateChildSa => 2, _ => 0 });
            span.SetTag(Attr.IkePurpose, d.Purpose);
            span.SetTag(Attr.IkeMessageId, (long)d.MessageId);
            span.SetTag(Attr.IkeRole, d.WeInitiated ? "initiator" : "responder");
            var s = h.Sa;
            {
                span.SetTag(Attr.IkeInitiatorSpi, Spans.IkeSpi(s.InitiatorSpi));
                span.SetTag(Attr.IkeResponderSpi, Spans.IkeSpi(s.ResponderSpi));
                span.SetTag(d.WeInitiated ? Attr.ServerAddress : Attr.ClientAddress, s.Remote.Address.ToString());
                span.SetTag(d.WeInitiated ? Attr.ServerPort : Attr.ClientPort, (int)s.Remote.Port);
            }
            var retransmissions = h.Pending.Count(e => e.Name == "retransmit");
            if (retransmissions > 0) span.SetTag("ipsec.ike.retransmissions", retransmissions);
            foreach (var e in h.Pending) span.AddEvent(e);
            h.Pending.Clear();
            if (!d.Succeeded) span.SetStatus(ActivityStatusCode.Error, d.Error);
        }
        Spans.StopDetached(span, d.Ended);
    }

    private void CountIkeState(IkeHandle h, IkeSaState? state)
    {
        var enabled = NodesTelemetry.IkeSas.Enabled;
        if (h.Counted is { } old && enabled) NodesTelemetry.IkeSas.Add(-1, NodeTag, new(Attr.IkeState, old.ToString()));
        h.Counted = state is IkeSaState.Closed ? null : state;
        if (h.Counted is { } now && enabled) NodesTelemetry.IkeSas.Add(1, NodeTag, new(Attr.IkeState, now.ToString()));
    }

    private void CountIkeEvent(IkeEvent e)
    {
        switch (e.Name)
        {
            case "liveness check" or "peer alive" or "giving up" when NodesTelemetry.DpdEvents.Enabled:
                NodesTelemetry.DpdEvents.Add(1, NodeTag, new(Attr.IkeDpd, e.Name));
                break;
            case "IKE SA rekeyed" when NodesTelemetry.Rekeys.Enabled:
                NodesTelemetry.Rekeys.Add(1, NodeTag, new(Attr.IkeRekeyKind, "ike"));
                break;
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // Sending

    private static byte[] WithMarker(byte[] ike)
    {
        var b = new byte[ike.Length + UdpEncapsulation.NonEspMarkerLength];
        UdpEncapsulation.WriteIke(b, ike);
        return b;
    }

    private void SendIke(Ipv4Endpoint from, Ipv4Endpoint to, byte[] payload, string traceparent) =>
        SendUdp(from, to, payload, UdpChecksumMode.Compute, traceparent);

    /// <summary>Sends <paramref name="payload"/> in UDP; a payload that ends its array after exactly the room for the headers gets them written in place.</summary>
    private void SendUdp(Ipv4Endpoint from, Ipv4Endpoint to, ArraySegment<byte> payload, UdpChecksumMode checksum, string traceparent)
    {
        var datagram = EndsAfter(payload, Ipv4PacketWriter.UdpPayloadOffset) ? payload.Array! : new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Count)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from.Address, to.Address, _ipId++, 128), from.Port, to.Port, payload, checksum);
        Originate(datagram, traceparent);
    }

    /// <summary>True when <paramref name="payload"/> ends its array and has exactly <paramref name="headroom"/> bytes before it.</summary>
    private static bool EndsAfter(ArraySegment<byte> payload, int headroom) =>
        payload.Array is { } a && payload.Offset == headroom && headroom + payload.Count == a.Length;

    private byte[] RawEsp(Ipv4Address from, Ipv4Address to, ArraySegment<byte> esp)
    {
        byte[] datagram;
        if (EndsAfter(esp, Ipv4Header.MinLength)) datagram = esp.Array!;
        else
        {
            datagram = new byte[Ipv4Header.MinLength + esp.Count];
            esp.AsSpan().CopyTo(datagram.AsSpan(Ipv4Header.MinLength));
        }
        new Ipv4Header
        {
            TotalLength = (ushort)datagram.Length,
            Identification = _ipId++,
            TimeToLive = 128,
            Protocol = IpProtocol.Esp,
            Source = from,
            Destination = to,
        }.Encode(datagram);
        return datagram;
    }

    /// <summary>Sends a datagram this node originates (or decapsulated) by a route lookup.</summary>
    private void Originate(byte[] datagram, string traceparent)
    {
        if (!Ipv4Header.TryParse(datagram, out var ip, out _) || !_router.Routes.TryLookup(ip.Destination, out var route))
        {
            Drop(DropReason.NoRoute);
            return;
        }
        var mtu = _router.Interfaces[route.Interface].Mtu;
        if (Activity.Current is { } current && current.Source == NodesTelemetry.Source)
        {
            current.SetTag(Attr.EgressInterface, route.Interface);
            current.SetTag(Attr.NextHop, TagValues.Address((route.NextHop ?? ip.Destination).Value));
        }
        if (datagram.Length > mtu)
        {
            using var frag = Spans.Continue(Name, SpanNames.Fragmentation, traceparent);
            frag?.SetTag(Attr.Mtu, mtu);
            if (!Net.Fragmentation.Ipv4Fragmenter.TryFragment(datagram, mtu, out var fragments))
            {
                Drop(DropReason.FragmentationNeeded);
                return;
            }
            frag?.SetTag(Attr.FragmentCount, fragments.Count);
            var fragmentContext = Spans.Context(frag, traceparent);
            foreach (var f in fragments) Send(new Transmission(route.Interface, route.NextHop ?? ip.Destination, f), fragmentContext);
            return;
        }
        Send(new Transmission(route.Interface, route.NextHop ?? ip.Destination, datagram), traceparent);
    }

    // -------------------------------------------------------------------------------------------------------
    // Status

    protected override void OnQueryStatus(QueryStatus query)
    {
        // Fresh counters from every Child SA actor first, then the answer.
        var replyTo = Sender;
        var asks = _childBySpi.Values.Select(c => c.Actor.Ask<ChildCounters>(new ChildCountersQuery(), TimeSpan.FromSeconds(2))).ToArray();
        Task.WhenAll(asks).ContinueWith(t => new FreshCounters(t.IsCompletedSuccessfully ? t.Result : [], replyTo), TaskScheduler.Default).PipeTo(Self);
    }

    protected override NodeStatus Status()
    {
        var s = base.Status();
        foreach (var t in _tunnels.Values)
        {
            var snap = t.Current?.Sa;
            var ts = new TunnelStatus
            {
                Name = t.Profile.Name,
                State = AzureState(t),
                IkeState = snap?.State.ToString() ?? "None",
                InitiatorSpi = snap?.InitiatorSpi ?? 0,
                ResponderSpi = snap?.ResponderSpi ?? 0,
                NatDetected = snap is { } x && (x.LocalBehindNat || x.RemoteBehindNat),
                LocalEndpoint = snap?.Local.ToString() ?? "",
                RemoteEndpoint = snap?.Remote.ToString() ?? "",
                IkeRekeys = (uint)(snap?.IkeRekeys ?? 0),
                ChildRekeys = (uint)(snap?.ChildRekeys ?? 0),
                Suite = snap?.Suite?.ToString() ?? "",
                Initiator = snap?.IsOriginalInitiator ?? false,
                Outages = (uint)t.Outages,
                DownMs = (t.TotalDown + (t.DownSince is { } since ? Now - since : TimeSpan.Zero)).TotalMilliseconds,
            };
            ts.Failures.AddRange(t.Failures);
            if (t.Current is { } h)
            {
                foreach (var spi in h.Children)
                {
                    var c = _childBySpi[spi];
                    ts.ChildSas.Add(new ChildSaStatus
                    {
                        InboundSpi = c.Info.InboundSpi,
                        OutboundSpi = c.Info.OutboundSpi,
                        Suite = c.Info.Suite.ToString(),
                        PacketsIn = (ulong)(c.Counters?.PacketsIn ?? 0),
                        PacketsOut = (ulong)(c.Counters?.PacketsOut ?? 0),
                        BytesIn = (ulong)(c.Counters?.BytesIn ?? 0),
                        BytesOut = (ulong)(c.Counters?.BytesOut ?? 0),
                        LocalTs = string.Join(',', c.Info.LocalTs),
                        RemoteTs = string.Join(',', c.Info.RemoteTs),
                        Encapsulated = c.Info.Encapsulated,
                    });
                }
            }
            s.Tunnels.Add(ts);
        }
        return s;
    }

    /// <summary>Azure's connection status values: Unknown, Connecting, Connected, NotConnected.</summary>
    private string AzureState(TunnelState t) => t.Current?.Sa.State switch
    {
        IkeSaState.Established when t.Current.Children.Count > 0 => "Connected",
        IkeSaState.Established or IkeSaState.InitSent or IkeSaState.AuthSent or IkeSaState.InitAnswered or IkeSaState.Created => "Connecting",
        null when _ikeBySa.Values.Any(h => h.Tunnel == t && h.Sa.State != IkeSaState.Closed) => "Connecting",
        _ => t.EverConnected || t.Failures.Count > 0 || t.Attempts > 0 ? "NotConnected" : "Unknown",
    };
}
