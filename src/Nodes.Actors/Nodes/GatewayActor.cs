using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Crypto;
using Nodes.Gateway;
using Nodes.Ike;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;
using IkeProposal = Nodes.Ike.Proposals.Proposal;
using ProposalText = Nodes.Ike.Proposals.ProposalText;

namespace Nodes.Actors.Nodes;

/// <summary>
/// A VPN gateway node, Windows Server RRAS or the Azure VPN gateway, as a thin actor around its pure
/// <see cref="GatewayEngine"/> (IKE SA table, Child SAs with their ESP data plane, tunnels, security policy,
/// reassembly and egress). The actor keeps the mailbox, the timers the engine asks for, the telemetry (each frame's
/// span, IKE negotiation spans and metrics through <see cref="GatewayIkeTelemetry"/>) and the fault hooks. A frame
/// costs one mailbox delivery here, ESP included.
/// </summary>
public sealed class GatewayActor : NodeActor
{
    private readonly GatewayProfile _profile;
    private readonly ulong _seed;
    private long _streams;
    private readonly GatewayEngine _engine;
    private readonly GatewayIkeTelemetry _telemetry;
    private readonly NodeClock _clock = new();
    private DateTimeOffset? _ikeTimerAt;
    private IActorRef? _disconnecting;

    private sealed record IkeTick(DateTimeOffset At) : INoSerializationVerificationNeeded;
    private sealed record BgpTick : INoSerializationVerificationNeeded;
    private TimeSpan? _bgpTimerAt;
    private sealed record ReassemblyTick : INoSerializationVerificationNeeded;
    private sealed record Redial(string Tunnel) : INoSerializationVerificationNeeded;
    private sealed record DisconnectTimeout : INoSerializationVerificationNeeded;
    private sealed record RunKeyExchange : INoSerializationVerificationNeeded
    {
        public static readonly RunKeyExchange Instance = new();
    }


    /// <summary>Half of strongSwan's and Windows' first retransmission timeout (4 s, <see cref="Ike.RetransmitPolicy.Default"/>).</summary>
    // IKE_SA_INIT requests that need a key exchange wait in the engine's queue (GatewayEngine.QueuedIkeOptions); this
    // actor answers one per pass through its mailbox, so what arrived meanwhile (IKE_AUTH of SAs under way, ESP,
    // retransmitted copies) is served first, and one with each frame once the oldest has waited this long.
    private static readonly TimeSpan KeyExchangeUrgency = Ike.RetransmitPolicy.Default.Timeout / 2;

    private bool _keyExchangePosted;

    /// <summary>
    /// Asks for the gateway's tunnels counted (how many, how many Connected) and its IKE drops, answered with
    /// <see cref="TunnelCounts"/>: what a scale run polls, without building a status of every tunnel.
    /// </summary>
    public sealed record CountTunnels : INoSerializationVerificationNeeded
    {
        public static readonly CountTunnels Instance = new();
    }

    /// <summary>The answer to <see cref="CountTunnels"/>.</summary>
    public sealed record TunnelCounts(int Tunnels, int Connected, IReadOnlyList<string> NotConnected, IReadOnlyList<KeyValuePair<string, ulong>> IkeDrops) : INoSerializationVerificationNeeded
    {
        /// <summary>How many names of tunnels not Connected the answer carries (the first, in the gateway's order).</summary>
        public const int NamesKept = 10;
    }

    /// <summary>Delete every IKE SA (the device is being switched off); answered with <see cref="DisconnectDone"/>.</summary>
    public sealed record Disconnect : INoSerializationVerificationNeeded;

    /// <summary>Every IKE SA is gone, or the peers did not answer the DELETE in time.</summary>
    public sealed record DisconnectDone : INoSerializationVerificationNeeded;

    public GatewayActor(NodeSpec spec, GatewayProfile profile, IEnumerable<Attachment> attachments, LabContext lab)
        : base(spec.Name, profile.Kind, attachments, lab)
    {
        _profile = profile;
        _seed = lab.Seed;
        var interfaces = SpecNetwork.Interfaces(spec);
        var routes = SpecNetwork.Routes(spec, interfaces);
        if (spec is AzureVpnGatewaySpec az && interfaces.FirstOrDefault(i => i.Prefix.Contains(az.VnetNextHop)) is { } gwSubnet)
            foreach (var space in az.VnetAddressSpaces) routes.Add(new Net.Routing.Route(space, az.VnetNextHop, gwSubnet.Name, 10));
        _telemetry = new GatewayIkeTelemetry(Name, NodeTag, () => Now, lab.Capture);
        _engine = new GatewayEngine(Name, profile, new Router(interfaces, routes), NewRandom, new Port(this),
            GatewayEngine.QueuedIkeOptions, Net.DeterministicRandom.Derive(lab.Seed, $"{Name}/bgp@{lab.MemberIncarnation}#{Incarnation}"), new TimeScale(lab.TimeScale));
    }

    protected override bool OnMessage(object message)
    {
        switch (message)
        {
            case Frame frame:
                OnFrame(frame);
                break;
            case CountTunnels:
                Sender.Tell(new TunnelCounts(_engine.Tunnels.Count, _engine.ConnectedTunnels, _engine.TunnelsNotConnected(TunnelCounts.NamesKept),
                    Drops.Where(d => d.Key.StartsWith("ike-", StringComparison.Ordinal)).Select(d => new KeyValuePair<string, ulong>(d.Key, (ulong)d.Value)).ToList()));
                break;
            case RunKeyExchange:
                _keyExchangePosted = false;
                _engine.RunQueuedKeyExchange(Time);
                ArmIkeTimer();
                PostKeyExchange();
                break;
            case IkeTick t:
                _ikeTimerAt = null;
                _engine.Tick(Time, t.At);
                ArmIkeTimer();
                break;
            case BgpTick:
                _bgpTimerAt = null;
                _engine.BgpTick(Time);
                ArmIkeTimer();
                break;
            case ReassemblyTick:
                if (!_engine.ExpireFragments(Time)) Timers.Cancel("reassembly");
                break;
            case Redial m:
                _engine.Redial(m.Tunnel, Time);
                ArmIkeTimer();
                break;
            case FloodTick:
                OnFloodTick();
                break;
            case Disconnect:
                _disconnecting = Sender;
                var live = _engine.Disconnect(Time);
                ArmIkeTimer();
                if (live == 0) Disconnected();
                else if (_disconnecting is not null) Timers.StartSingleTimer("disconnect", new DisconnectTimeout(), TimeSpan.FromSeconds(3));
                break;
            case DisconnectTimeout:
                Disconnected();
                break;
            case InstanceUp m:
                Timers.Cancel($"instance-drained-{m.Instance}");
                _engine.InstanceUp(m.Instance, Time);
                ArmIkeTimer();
                break;
            case InstanceDrained m:
                _engine.InstanceDrained(m.Instance, Time);
                ArmIkeTimer();
                break;
            case RestoreNetworks m:
                _engine.RestoreBgpNetworks(m.Networks, Time, m.Peer);
                ArmIkeTimer();
                Report("fault", $"bgp-withdraw over: {string.Join(", ", m.Networks)} advertised again{(m.Peer is null ? "" : $" to {m.Peer}")}");
                break;
            case RestoreProfiles m:
                _engine.RestoreProfiles(m.Profiles);
                Report("fault", $"{m.Fault} over: {string.Join(", ", m.Profiles.Keys)} use their own settings again");
                break;
            default:
                return false;
        }
        return true;
    }

    public static Props Props(NodeSpec spec, GatewayProfile profile, IEnumerable<Attachment> attachments, LabContext lab) =>
        Akka.Actor.Props.Create(() => new GatewayActor(spec, profile, attachments, lab));

    protected override void PreStart()
    {
        _engine.Start(Time);
        ArmIkeTimer();
    }

    protected override void PostStop()
    {
        // A negotiation still open when the lab stops is exported as what it is: unfinished.
        _telemetry.EndAll("the lab stopped before the IKE SA was established");
        _engine.Dispose();
    }

    protected override void OnCrash()
    {
        // A crashed device loses every SA at once, without a word to its peers.
        _telemetry.EndAll("the gateway crashed");
        _engine.Dispose();
    }

    /// <summary>The times of now: the lab's, the node's own clock (a clock-skew fault moves it), time since the lab started.</summary>
    private GatewayTime Time
    {
        get
        {
            var now = Now; // one clock read: each costs about as much as routing the frame
            return new(now, _clock.Now(now), Lab.Since(now));
        }
    }

    /// <summary>
    /// After each input to the engine: makes sure the IKE timer fires no later than the table's next deadline. A
    /// deadline that moved later (traffic postpones keepalives and liveness checks with every packet) leaves the timer
    /// as it is: it fires early, the table finds nothing due, and the timer is set again. Re-arming it per packet would
    /// cost more than the packet.
    /// </summary>
    private void ArmIkeTimer()
    {
        ArmBgpTimer();
        if (_engine.NextDeadline is not { } at)
        {
            if (_ikeTimerAt is not null) Timers.Cancel("ike");
            _ikeTimerAt = null;
            return;
        }
        if (_ikeTimerAt is { } armed && armed <= at) return;
        _ikeTimerAt = at;
        var nodeNow = _clock.Now(Now);
        var delay = at == DateTimeOffset.MinValue ? TimeSpan.Zero : _clock.LabDelay(at - nodeNow);
        Timers.StartSingleTimer("ike", new IkeTick(at == DateTimeOffset.MinValue ? nodeNow : at), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    /// <summary>The BGP speaker's next deadline (time since the lab started), armed the way the IKE timer is.</summary>
    private void ArmBgpTimer()
    {
        if (_engine.Bgp is null) return;
        if (_engine.NextBgpDeadline is not { } at)
        {
            if (_bgpTimerAt is not null) Timers.Cancel("bgp");
            _bgpTimerAt = null;
            return;
        }
        if (_bgpTimerAt is { } armed && armed <= at) return;
        _bgpTimerAt = at;
        var delay = at - Lab.Since(Now);
        Timers.StartSingleTimer("bgp", new BgpTick(), delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private void OnFrame(Frame frame)
    {
        CountIn();
        using var span = ForwardSpan(frame);
        var traceparent = Spans.Context(span, frame.Traceparent);
        var now = Time;
        _engine.Receive(frame.TakePacket(), frame.Interface, traceparent, now);
        // A request that has waited half an initiator's first retransmission timeout is served with this frame too:
        // new SAs are not starved by the exchanges of SAs under way, and no frame waits behind more than one.
        if (_engine.OldestQueuedKeyExchange is { } since && now.Node - since >= KeyExchangeUrgency) _engine.RunQueuedKeyExchange(now);
        ArmIkeTimer();
        PostKeyExchange();
    }

    /// <summary>Asks this actor, behind what its mailbox holds now, to answer the next queued IKE_SA_INIT.</summary>
    private void PostKeyExchange()
    {
        if (_keyExchangePosted || _engine.QueuedKeyExchanges == 0) return;
        _keyExchangePosted = true;
        Self.Tell(RunKeyExchange.Instance);
    }

    private void Disconnected()
    {
        Timers.Cancel("disconnect");
        _disconnecting?.Tell(new DisconnectDone());
        _disconnecting = null;
    }

    /// <summary>
    /// Every SA's own seeded stream, numbered in creation order, so that a seeded run repeats; a restarted device
    /// (a node restart, or its member's process started again at the same address) draws fresh numbers.
    /// </summary>
    private SeededRandomSource NewRandom() =>
        new(_seed, $"{Name}{(Lab.MemberIncarnation == 0 ? "" : $"@{Lab.MemberIncarnation}")}{(Incarnation == 0 ? "" : $"#{Incarnation}")}/{++_streams}");

    protected override NodeStatus Status()
    {
        var s = base.Status();
        var now = Now;
        GatewayStatusMessages.AddTunnels(s, _engine, now, Lab.Since(now));
        return s;
    }

    /// <summary>What the engine asks of the node: links, drops, log lines, timers and IKE telemetry.</summary>
    private sealed class Port(GatewayActor a) : IGatewayPort
    {
        public void Transmit(Transmission transmission, string traceparent) => a.Send(transmission, traceparent);
        public string Originated(byte[] datagram) => Spans.OriginateTcp(a.Name, datagram, a.Lab.Roots);
        public void Dropped(string reason, string? detail) => a.Drop(reason, detail);
        public void Report(string kind, string text) => a.Report(kind, text);
        public void RedialAfter(string tunnel, TimeSpan delay) => a.Timers.StartSingleTimer($"redial-{tunnel}", new Redial(tunnel), a.Lab.Scaled(delay));
        public void FragmentsWaiting()
        {
            if (!a.Timers.IsTimerActive("reassembly")) a.Timers.StartPeriodicTimer("reassembly", new ReassemblyTick(), TimeSpan.FromSeconds(1));
        }
        public void Disconnected() => a.Disconnected();
        public void IkeSaStarted(IkeSa sa, string tunnel, bool initiator, string traceparent) => a._telemetry.Started(sa, tunnel, initiator, traceparent);
        public string IkeMessageTrace(IkeSa sa, string tunnel, IkeSend send) => a._telemetry.MessageTrace(sa, send);
        public void IkeOutput(IkeSa sa, string tunnel, IkeOutput output) => a._telemetry.Output(sa, output);
        public void IkeNegotiationEnded(IkeSa sa, string? failure) => a._telemetry.NegotiationEnded(sa, failure);
        public void IkeSaForgotten(IkeSa sa, string reason) => a._telemetry.Forgotten(sa, reason);
        public void ChildSaInstalled(IkeSa sa, string tunnel, ChildSaInfo info) => a._telemetry.ChildUp(sa, info);
        public void ChildSaRemoved(IkeSa sa, ChildSaInfo info, string reason) => a._telemetry.ChildDown(sa, info, reason);
    }

    // -------------------------------------------------------------------------------------------------------
    // Faults

    /// <summary>The end of a shared-key or proposal fault's "for": the tunnels' settings as they were.</summary>
    private sealed record RestoreProfiles(string Fault, IReadOnlyDictionary<string, TunnelProfile> Profiles) : INoSerializationVerificationNeeded;

    private sealed record RestoreClock : INoSerializationVerificationNeeded;

    /// <summary>The end of an instance fault's "for": the instance is back.</summary>
    private sealed record InstanceUp(int Instance) : INoSerializationVerificationNeeded;

    /// <summary>The end of a planned maintenance's drain: the instance deletes its SAs and goes away.</summary>
    private sealed record InstanceDrained(int Instance) : INoSerializationVerificationNeeded;

    /// <summary>The end of a bgp-withdraw fault's "for": the networks are advertised again.</summary>
    private sealed record RestoreNetworks(IReadOnlyList<Wire.Ip.Ipv4Prefix> Networks, string? Peer) : INoSerializationVerificationNeeded;

    protected override FaultOutcome OnFault(FaultKind kind, InjectFault f)
    {
        switch (kind)
        {
            case FaultKind.ForceRekey:
            {
                var ike = FaultValues.Get(f.Params, kind, "sa") == "ike";
                var done = _engine.ForceRekey(ike, Time);
                ArmIkeTimer();
                return done.Count == 0
                    ? FaultOutcome.Refused($"{Name} has no established {(ike ? "IKE" : "Child")} SA to rekey")
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
                _engine.ClockChanged(Time);
                ArmIkeTimer();
                return FaultOutcome.Applied($"{Name}'s clock is {_clock.Difference(Now).TotalSeconds:+0.###;-0.###;0} s off the lab's and runs at {rate:0.###}x: lifetimes, DPD and keepalives fire by it");
            }
            case FaultKind.BgpWithdraw:
            {
                if (_engine.Bgp is null) return FaultOutcome.Refused($"{Name} does not speak BGP");
                Wire.Ip.Ipv4Prefix? prefix = FaultValues.Get(f.Params, kind, "prefix") is { } text ? Wire.Ip.Ipv4Prefix.Parse(text) : null;
                var peer = FaultValues.Get(f.Params, kind, "peer");
                var names = _engine.Bgp.Options.Peers.Select(p => p.Name).ToList();
                if (peer is not null && !names.Contains(peer))
                    return FaultOutcome.Refused($"{Name} has no BGP neighbour '{peer}'; its neighbours: {string.Join(", ", names)}");
                var gone = _engine.WithdrawBgpNetworks(prefix, Time, peer);
                ArmIkeTimer();
                if (gone.Count == 0)
                    return FaultOutcome.Refused($"{Name} does not advertise {(prefix is null ? "any network of its own" : prefix.ToString())}; it originates: {string.Join(", ", _engine.Bgp.Networks)}");
                if (DurationParam(f, kind, "for") is { } length) Timers.StartSingleTimer($"bgp-restore-{peer}", new RestoreNetworks(gone, peer), length);
                return FaultOutcome.Applied($"{Name} no longer advertises {string.Join(", ", gone)}: UPDATE with the withdrawal sent to {(peer is null ? $"{names.Count} neighbour(s)" : peer)}");
            }
            case FaultKind.GatewayInstanceMaintenance or FaultKind.GatewayInstanceFailure:
            {
                if (_profile.SecondInternetInterface is null) return FaultOutcome.Refused($"{Name} is not an active-active gateway: it has one instance");
                var instance = FaultValues.Get(f.Params, kind, "instance") == "1" ? 1 : 0;
                if (_engine.IsInstanceDown(instance) || _engine.IsInstanceDraining(instance)) return FaultOutcome.Refused($"instance {instance} of {Name} is already down");
                var length = DurationParam(f, kind, "for");
                string text;
                if (kind == FaultKind.GatewayInstanceMaintenance)
                {
                    var drain = DurationParam(f, kind, "drain") ?? TimeSpan.Zero;
                    if (length is { } l && drain >= l)
                        return FaultOutcome.Refused($"the drain ({drain.TotalSeconds:0.###} s) must be shorter than the maintenance (for: {l.TotalSeconds:0.###} s)");
                    text = drain > TimeSpan.Zero ? _engine.InstanceDrain(instance, Time) : _engine.InstanceDown(instance, planned: true, Time);
                    if (drain > TimeSpan.Zero) Timers.StartSingleTimer($"instance-drained-{instance}", new InstanceDrained(instance), drain);
                }
                else text = _engine.InstanceDown(instance, planned: false, Time);
                ArmIkeTimer();
                if (length is { } up) Timers.StartSingleTimer($"instance-up-{instance}", new InstanceUp(instance), up);
                return FaultOutcome.Applied(text);
            }
            case FaultKind.BgpReset:
            {
                if (_engine.Bgp is null) return FaultOutcome.Refused($"{Name} does not speak BGP");
                var n = _engine.ResetBgp(Time);
                ArmIkeTimer();
                return FaultOutcome.Applied($"{Name} ended its BGP sessions with Cease / Administrative Reset ({n} were Established); they start again after the idle hold time");
            }
            case FaultKind.SpoofedIkeSaInit or FaultKind.HalfOpenFlood or FaultKind.CleartextInject or FaultKind.ForgedInformational or FaultKind.CraftedIke or FaultKind.DuplicateDelete:
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
        var peer = _engine.Tunnels.FirstOrDefault()?.Profile;
        Ipv4Address From(string name, Ipv4Address fallback) => FaultValues.Get(f.Params, kind, name) is { } a ? Ipv4Address.Parse(a) : fallback;
        int Count(string name) => int.Parse(FaultValues.Get(f.Params, kind, name)!, System.Globalization.CultureInfo.InvariantCulture);
        switch (kind)
        {
            case FaultKind.SpoofedIkeSaInit or FaultKind.HalfOpenFlood or FaultKind.CraftedIke when peer is null:
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
            case FaultKind.ForgedInformational or FaultKind.CraftedIke:
            {
                var salvo = kind == FaultKind.ForgedInformational
                    ? _adversary.ForgedInformationals(_engine.IkeSas.Select(x => x.Sa), FaultValues.Get(f.Params, kind, "kind")!)
                    : _adversary.Crafted(peer!.Responder, _engine.IkeSas.Select(x => x.Sa), FaultValues.Get(f.Params, kind, "kind")!, From("from", peer.Peer), _profile.PublicAddress);
                foreach (var d in salvo.Datagrams) Hostile(d);
                return salvo.Datagrams.Count == 0 ? FaultOutcome.Refused(salvo.Description) : FaultOutcome.Applied(salvo.Description);
            }
            case FaultKind.DuplicateDelete:
            {
                var done = _engine.DuplicateDelete(Time);
                ArmIkeTimer();
                return done is null ? FaultOutcome.Refused($"{Name} has no established Child SA to delete twice") : FaultOutcome.Applied(done);
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
        if (_flood is not { } flood || _adversary is null || _engine.Tunnels.FirstOrDefault()?.Profile is not { } peer)
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
            Report("fault", $"half-open-flood over: {_engine.HalfOpen} IKE SA(s) half-open, {_engine.CookiesSent} cookie challenge(s) sent");
        }
    }

    /// <summary>A frame of the adversary's, arriving on the internet interface as if off the wire.</summary>
    private void Hostile(byte[] datagram) =>
        Self.Tell(new Frame { Link = "adversary", Node = Name, Interface = _profile.InternetInterface, Packet = Google.Protobuf.ByteString.CopyFrom(datagram) });

    private Dictionary<string, TunnelProfile> Change(InjectFault f, Func<TunnelProfile, TunnelProfile> change)
    {
        var previous = _engine.ChangeProfiles(change);
        if (FaultCatalog.Find(f.Fault) is { } info && DurationParam(f, info.Kind, "for") is { } length)
            Timers.StartSingleTimer("restore-" + f.Fault, new RestoreProfiles(f.Fault, previous), length);
        return previous;
    }

    /// <summary>Resets every connection, as changing its settings in the portal or RRAS console does: DELETE for each IKE SA.</summary>
    private string Reset()
    {
        var text = _engine.Reset(Time);
        ArmIkeTimer();
        return text;
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

}
