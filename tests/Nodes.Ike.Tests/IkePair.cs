using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Proposal = Nodes.Ike.Proposals.Proposal;

namespace Nodes.Ike.Tests;

/// <summary>
/// Two IKE engines joined by an in-memory network with a virtual clock and, optionally, a NAT in front of the
/// initiator (as the ISP router in front of RRAS). Every message that crosses is recorded, so tests read like a
/// message sequence chart and the captures can be handed to tshark.
/// </summary>
public sealed class IkePair : IDisposable
{
    public static readonly Ipv4Endpoint RrasLan = new(Ipv4Address.Parse("192.168.29.52"), 500);
    public static readonly Ipv4Address NatPublic = Ipv4Address.Parse("203.0.113.10");
    public static readonly Ipv4Endpoint AzureGw = new(Ipv4Address.Parse("52.172.171.0"), 500);

    private readonly Dictionary<Ipv4Endpoint, Ipv4Endpoint> _natOut = [];
    private readonly Dictionary<Ipv4Endpoint, Ipv4Endpoint> _natIn = [];
    private ushort _nextNatPort = 61000;

    /// <param name="responderSpis">The responder gateway's inbound SPIs, when a test gives it some already taken.</param>
    public IkePair(IkeSaConfig initiator, IkeSaConfig responder, bool nat = true, ulong seed = 1, IkeResponderOptions? gateway = null, InboundSpis? responderSpis = null)
    {
        InitiatorConfig = initiator;
        ResponderConfig = responder;
        Nat = nat;
        InitiatorEnv = new IkeEnvironment(new SeededRandomSource(seed, "initiator"));
        ResponderEnv = new IkeEnvironment(new SeededRandomSource(seed, "responder")) { InboundSpis = responderSpis ?? new InboundSpis() };
        Initiator = IkeSa.CreateInitiator(initiator, InitiatorEnv, RrasLan, AzureGw);
        Gateway = new IkeResponder(ResponderEnv, [new IkeConnection(responder)], gateway);
        InitiatorPlane = new EspPlane("rras");
        ResponderPlane = new EspPlane("azure");
    }

    /// <summary>Azure's IKE endpoint: routes by SPI and answers IKE_SA_INIT.</summary>
    public IkeResponder Gateway { get; }

    /// <summary>The ESP data planes of both sides, kept in step with the Child SA outputs.</summary>
    public EspPlane InitiatorPlane { get; }
    public EspPlane ResponderPlane { get; }

    /// <summary>What the gateway itself said (no SA): drops, cookie challenges.</summary>
    public List<IkeOutput> GatewayOutputs { get; } = [];

    public IkeSaConfig InitiatorConfig { get; }
    public IkeSaConfig ResponderConfig { get; }
    public IkeEnvironment InitiatorEnv { get; }
    public IkeEnvironment ResponderEnv { get; }
    public bool Nat { get; }
    public IkeSa Initiator { get; }
    public IkeSa? Responder { get; private set; }
    public DateTimeOffset Now { get; private set; } = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Everything each side produced, in order.</summary>
    public List<IkeOutput> InitiatorOutputs { get; } = [];
    public List<IkeOutput> ResponderOutputs { get; } = [];
    public List<IkeFailure> ResponderRefusals { get; } = [];

    /// <summary>Every datagram on the wire between the NAT and the gateway (outer endpoints as seen there).</summary>
    public List<Wired> Wire { get; } = [];

    public sealed record Wired(DateTimeOffset At, Ipv4Endpoint From, Ipv4Endpoint To, byte[] Payload, bool Marker, bool Keepalive, bool Delivered);

    /// <summary>Runs just before a datagram is delivered (to interleave ESP traffic with the IKE messages).</summary>
    public Action<Wired>? OnWire { get; set; }

    /// <summary>Drops datagrams for which this returns true (loss, partitions).</summary>
    public Func<Wired, bool> Drop { get; set; } = _ => false;

    public void Start()
    {
        Initiator.Start(Now);
        Pump();
    }

    /// <summary>Moves virtual time forward, running timers at every deadline on the way.</summary>
    public void Advance(TimeSpan span)
    {
        var end = Now + span;
        while (true)
        {
            var next = Min(Initiator.NextDeadline, Gateway.NextDeadline);
            if (next is null || next > end) break;
            if (next > Now) Now = next.Value;
            Initiator.Tick(Now);
            Gateway.Tick(Now);
            Pump();
        }
        Now = end;
        Initiator.Tick(Now);
        Gateway.Tick(Now);
        Pump();
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>Delivers messages until both sides are quiet.</summary>
    public void Pump()
    {
        for (var round = 0; round < 1000; round++)
        {
            var a = Initiator.TakeOutputs();
            var b = Gateway.TakeOutputs();
            if (a.Count == 0 && b.Count == 0) return;
            InitiatorOutputs.AddRange(a);
            foreach (var o in b)
            {
                if (o.Sa is null)
                {
                    GatewayOutputs.Add(o.Output);
                    if (o.Output is IkeFailure f) ResponderRefusals.Add(f);
                    continue;
                }
                if (o.Sa != Responder && o.Sa.State != IkeSaState.Closed) Responder = o.Sa;
                if (o.Sa == Responder) ResponderOutputs.Add(o.Output);
            }
            // Each owner installs and removes SAs as its engine says before anything it sent reaches the peer.
            foreach (var o in a) InitiatorPlane.Follow(o);
            foreach (var o in b)
                if (o.Sa is not null && o.Sa == Responder) ResponderPlane.Follow(o.Output);
            foreach (var o in a) FromInitiator(o);
            foreach (var o in b) FromResponder(o.Output);
        }
        throw new InvalidOperationException("the engines did not go quiet");
    }

    private void FromInitiator(IkeOutput o)
    {
        switch (o)
        {
            case IkeSend s:
                var outside = Translate(s.From);
                var w = new Wired(Now, outside, s.To, s.Message, s.NeedsNonEspMarker, false, true);
                if (Drop(w)) { Wire.Add(w with { Delivered = false }); return; }
                Wire.Add(w);
                OnWire?.Invoke(w);
                DeliverToResponder(s.Message, outside, s.To);
                break;
            case IkeSendKeepalive k:
                Wire.Add(new Wired(Now, Translate(k.From), k.To, [0xff], false, true, true));
                break;
        }
    }

    private void FromResponder(IkeOutput o)
    {
        if (o is not IkeSend s) return;
        var w = new Wired(Now, s.From, s.To, s.Message, s.NeedsNonEspMarker, false, true);
        if (Drop(w)) { Wire.Add(w with { Delivered = false }); return; }
        Wire.Add(w);
        OnWire?.Invoke(w);
        var inside = Nat ? (_natIn.TryGetValue(s.To, out var i) ? i : (Ipv4Endpoint?)null) : s.To;
        if (inside is null) return; // no mapping: the NAT drops it
        Initiator.Receive(s.Message, s.From, inside.Value, Now);
    }

    private Ipv4Endpoint Translate(Ipv4Endpoint inside)
    {
        if (!Nat) return inside;
        if (!_natOut.TryGetValue(inside, out var outside))
        {
            outside = new Ipv4Endpoint(NatPublic, _nextNatPort++);
            _natOut[inside] = outside;
            _natIn[outside] = inside;
        }
        return outside;
    }

    /// <summary>The NAT forgets its mappings: the next packet from inside gets a new external port.</summary>
    public void RebindNat()
    {
        _natOut.Clear();
        _natIn.Clear();
    }

    private void DeliverToResponder(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to) => Gateway.Receive(message, from, to, Now);

    /// <summary>Puts a datagram on the wire from outside (an attacker, a stale peer) towards the gateway.</summary>
    public void Inject(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to)
    {
        Wire.Add(new Wired(Now, from, to, message, to.Port == 4500, false, true));
        DeliverToResponder(message, from, to);
        Pump();
    }

    /// <summary>Puts a datagram on the wire from the gateway's side towards the initiator (through the NAT).</summary>
    public void InjectToInitiator(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to)
    {
        Wire.Add(new Wired(Now, from, to, message, from.Port == 4500, false, true));
        var inside = Nat ? (_natIn.TryGetValue(to, out var i) ? i : (Ipv4Endpoint?)null) : to;
        if (inside is not null) Initiator.Receive(message, from, inside.Value, Now);
        Pump();
    }

    /// <summary>
    /// Sends one packet through the tunnel from the initiator's side (or the responder's) on whatever Child SA that
    /// side sends on now, and delivers it to the other side's inbound SA. Returns true when it arrived intact.
    /// </summary>
    public bool SendEsp(bool fromInitiator, int size = 64)
    {
        var ok = TransferEsp(fromInitiator, size, out var soft);
        if (soft is { } spi) (fromInitiator ? Initiator : Responder)?.ChildSoftLimitReached(spi, "soft byte lifetime reached", Now);
        Pump();
        return ok;
    }

    /// <summary>One packet each way, without running the engines (safe inside <see cref="OnWire"/>).</summary>
    public void PingBothWays()
    {
        TransferEsp(true, 64, out _);
        TransferEsp(false, 64, out _);
    }

    private bool TransferEsp(bool fromInitiator, int size, out uint? soft)
    {
        var (src, dst) = fromInitiator ? (InitiatorPlane, ResponderPlane) : (ResponderPlane, InitiatorPlane);
        var ok = src.Transfer(dst, size, out soft);
        if (ok)
        {
            (fromInitiator ? Initiator : Responder)?.NoteOutboundTraffic(Now);
            (fromInitiator ? Responder : Initiator)?.NoteInboundTraffic(Now);
        }
        return ok;
    }

    public void Dispose()
    {
        Initiator.Dispose();
        Gateway.Dispose();
        InitiatorPlane.Dispose();
        ResponderPlane.Dispose();
    }

    // ---------------------------------------------------------------------------------------------------------

    public static SecretKey Psk(string text) => new(System.Text.Encoding.ASCII.GetBytes(text));

    /// <summary>RRAS as configured by Azure's script: initiator, Windows' defaults, any-to-any selectors.</summary>
    public static IkeSaConfig Rras(string psk = "AzureSharedKey123", IReadOnlyList<Proposal>? ike = null, IReadOnlyList<Proposal>? esp = null) => new()
    {
        Name = "52.172.171.0",
        LocalId = IkeIdentity.Address(Ipv4Address.Parse("192.168.29.52")),
        SharedKey = Psk(psk),
        IkeProposals = ike ?? DeviceDefaults.WindowsIke,
        EspProposals = esp ?? DeviceDefaults.WindowsEsp,
        Lifetimes = Lifetimes.Rras,
    };

    /// <summary>The Azure gateway's connection to that RRAS: responder, Azure's lists and lifetimes.</summary>
    public static IkeSaConfig Azure(string psk = "AzureSharedKey123", IReadOnlyList<Proposal>? ike = null, IReadOnlyList<Proposal>? esp = null) => new()
    {
        Name = "to-rras",
        LocalId = IkeIdentity.Address(AzureGw.Address),
        SharedKey = Psk(psk),
        IkeProposals = ike ?? DeviceDefaults.AzureIke,
        EspProposals = esp ?? DeviceDefaults.AzureEspResponder,
    };

    public static Proposal IkeP(string s) => ProposalText.Parse(s, forIke: true);
    public static Proposal EspP(string s) => ProposalText.Parse(s, forIke: false);
}
