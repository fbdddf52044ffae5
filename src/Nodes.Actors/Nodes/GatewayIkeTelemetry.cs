using System.Diagnostics;
using Nodes.Capture;
using Nodes.Ike;
using Nodes.Telemetry;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Nodes;

/// <summary>
/// The telemetry of a gateway's IKE SAs: a negotiation span per SA from dial (or the first IKE_SA_INIT) until
/// established or failed, a span per finished exchange with the events seen during it, a short linked trace per
/// later message (DPD, rekeys, deletes), the IKE metrics, and the keys a decryptable capture asked for. It only
/// watches: what the gateway does is decided by its engine.
/// </summary>
internal sealed class GatewayIkeTelemetry(string node, KeyValuePair<string, object?> nodeTag, Func<DateTimeOffset> now, Lab.CaptureSink? capture)
{
    private sealed class SaSpans
    {
        /// <summary>The span of the negotiation, open from dial (or the first IKE_SA_INIT) until established or failed.</summary>
        public Activity? Negotiation { get; set; }
        /// <summary>The negotiation's context, kept after it ends: later exchanges (rekeys, DPD) link to it.</summary>
        public ActivityContext NegotiationContext { get; set; }
        /// <summary>IKE events (retransmissions, DPD, rekeys, NAT detection) waiting for the span of the exchange they belong to.</summary>
        public List<ActivityEvent> Pending { get; } = [];
        /// <summary>The state this SA is counted under in the nodes.ipsec.ike_sas metric.</summary>
        public IkeSaState? Counted { get; set; }
        public string Tunnel { get; init; } = "";
    }

    private readonly Dictionary<IkeSa, SaSpans> _sas = [];
    private static readonly string RetransmitName = IkeEventKind.Retransmit.ToName();

    public void Started(IkeSa sa, string tunnel, bool initiator, string traceparent)
    {
        Activity? negotiation;
        if (initiator)
        {
            // A demand-dial starts inside the span of the packet that made RRAS dial: the two point at each other.
            var packet = Activity.Current is { } span && span.Source == NodesTelemetry.Source ? span : null;
            negotiation = StartNegotiation(tunnel, ActivityKind.Client, default, packet is null ? null : [new ActivityLink(packet.Context)], sa.Remote, sa.InitiatorSpi, true);
            if (packet is not null && negotiation is not null)
            {
                packet.AddLink(new ActivityLink(negotiation.Context));
                packet.AddEvent(new ActivityEvent("demand-dial", tags: new ActivityTagsCollection { [Attr.Tunnel] = tunnel }));
            }
        }
        else
        {
            // The responder's negotiation continues the trace of the IKE_SA_INIT that arrived (the initiator's negotiation).
            var parent = Spans.IsSampled(traceparent) && ActivityContext.TryParse(traceparent, null, true, out var p) ? p : default;
            negotiation = StartNegotiation(tunnel, ActivityKind.Server, parent, null, sa.Remote, sa.InitiatorSpi, false);
        }
        var s = new SaSpans { Negotiation = negotiation, NegotiationContext = negotiation?.Context ?? default, Tunnel = tunnel };
        _sas[sa] = s;
        Count(s, IkeSaState.Created);
    }

    /// <summary>While the SA is negotiated its messages carry the negotiation's trace; later ones each start a short trace of their own, linked to it.</summary>
    public string MessageTrace(IkeSa sa, IkeSend send)
    {
        if (!_sas.TryGetValue(sa, out var s)) return "";
        if (s.Negotiation is { } n) return n.Id ?? "";
        var span = MessageSpan(s, send);
        var id = span?.Id ?? "";
        Spans.StopDetached(span);
        return id;
    }

    public void Output(IkeSa sa, IkeOutput o)
    {
        if (!_sas.TryGetValue(sa, out var s)) return;
        switch (o)
        {
            case IkeSpisChanged:
                CaptureKeys(sa);
                break;
            case IkeStateChange sc:
                Count(s, sc.To);
                Pend(s, "state " + sc.To, sc.Reason);
                if (sc.To == IkeSaState.Established) CaptureKeys(sa);
                break;
            case IkeFailure f:
                Pend(s, "failure", f.ToString());
                break;
            case IkeExchangeDone d:
                ExchangeSpan(sa, s, d);
                break;
            case IkeEvent { Kind: IkeEventKind.KeysDerived or IkeEventKind.PeerEndpointChanged }:
                break;
            case IkeEvent { Kind: IkeEventKind.RequestRetransmittedByPeer } e:
                Pend(s, e.Name, e.Detail);
                break;
            case IkeEvent e:
                CountEvent(e);
                Pend(s, e.Name, e.Detail);
                break;
            case IkePeerEndpointChanged pe:
                Pend(s, "peer endpoint changed", $"{pe.Old} → {pe.New}");
                break;
        }
    }

    public void ChildUp(IkeSa sa, ChildSaInfo info)
    {
        if (NodesTelemetry.ChildSas.Enabled) NodesTelemetry.ChildSas.Add(1, nodeTag);
        if (info.ReplacesInboundSpi is not null && NodesTelemetry.Rekeys.Enabled) NodesTelemetry.Rekeys.Add(1, nodeTag, new(Attr.IkeRekeyKind, "child"));
        if (_sas.TryGetValue(sa, out var s)) Pend(s, "Child SA up", $"in {Spans.Spi(info.InboundSpi)} out {Spans.Spi(info.OutboundSpi)} {info.Suite}");
        if (capture is not null)
        {
            // Wildcard addresses: the same SA shows up with different outer addresses on each side of a NAT.
            capture.AddKeys(new EspSaKeyEntry("*", "*", info.OutboundSpi, info.Suite.Cipher, info.OutboundEncryptionKey, info.OutboundIntegrityKey));
            capture.AddKeys(new EspSaKeyEntry("*", "*", info.InboundSpi, info.Suite.Cipher, info.InboundEncryptionKey, info.InboundIntegrityKey));
        }
    }

    public void ChildDown(IkeSa sa, ChildSaInfo info, string reason)
    {
        if (NodesTelemetry.ChildSas.Enabled) NodesTelemetry.ChildSas.Add(-1, nodeTag);
        if (_sas.TryGetValue(sa, out var s)) Pend(s, "Child SA removed", $"0x{info.InboundSpi:x8}/0x{info.OutboundSpi:x8}: {reason}");
    }

    /// <summary>The negotiation is over: its span ends, with the failure if there was one.</summary>
    public void NegotiationEnded(IkeSa sa, string? failure)
    {
        if (_sas.TryGetValue(sa, out var s)) EndNegotiation(sa, s, failure);
    }

    public void Forgotten(IkeSa sa, string reason)
    {
        if (!_sas.Remove(sa, out var s)) return;
        Count(s, null);
        EndNegotiation(sa, s, reason);
    }

    /// <summary>Every negotiation still open ends as what it is: unfinished (the lab stopped, the gateway crashed).</summary>
    public void EndAll(string why)
    {
        foreach (var (sa, s) in _sas) EndNegotiation(sa, s, why);
        _sas.Clear();
    }

    private Activity? StartNegotiation(string tunnel, ActivityKind kind, ActivityContext parent, IEnumerable<ActivityLink>? links, Ipv4Endpoint peer, ulong initiatorSpi, bool initiator)
    {
        var a = Spans.StartRoot(node, SpanNames.IkeNegotiation, kind, parent, links);
        if (a is null || !a.IsAllDataRequested) return a;
        a.SetTag(Attr.Tunnel, tunnel);
        a.SetTag(Attr.IkeRole, initiator ? "initiator" : "responder");
        a.SetTag(Attr.IkeInitiatorSpi, Spans.IkeSpi(initiatorSpi));
        a.SetTag(initiator ? Attr.ServerAddress : Attr.ClientAddress, peer.Address.ToString());
        a.SetTag(initiator ? Attr.ServerPort : Attr.ClientPort, (int)peer.Port);
        return a;
    }

    private static void EndNegotiation(IkeSa sa, SaSpans s, string? failure)
    {
        if (s.Negotiation is not { } a) return;
        s.Negotiation = null;
        if (a.IsAllDataRequested)
        {
            a.SetTag(Attr.IkeResponderSpi, Spans.IkeSpi(sa.ResponderSpi));
            a.SetTag(Attr.IkeState, sa.State.ToString());
            a.SetTag(Attr.IkeNatDetected, sa.LocalBehindNat || sa.RemoteBehindNat);
            if (sa.Suite is not null) a.SetTag(Attr.IkeSuite, sa.Suite.ToString());
        }
        if (failure is not null) a.SetStatus(ActivityStatusCode.Error, failure);
        // Events no exchange span took (a give-up, a failure) stay with the negotiation.
        foreach (var e in s.Pending) a.AddEvent(e);
        s.Pending.Clear();
        Spans.StopDetached(a);
    }

    /// <summary>Keeps an IKE event for the span of the exchange it belongs to (spans are written when the exchange is done).</summary>
    private void Pend(SaSpans s, string name, string detail)
    {
        if (!Spans.Listening) return;
        if (s.Pending.Count >= 64) s.Pending.RemoveAt(0); // an SA that only ever retransmits must not grow without bound
        s.Pending.Add(new ActivityEvent(name, now(), new ActivityTagsCollection { [Attr.IkeEventDetail] = detail }));
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
    private Activity? MessageSpan(SaSpans s, IkeSend send)
    {
        if (!Spans.Listening) return null;
        var exchange = ExchangeName(send.Exchange);
        var span = Spans.StartRoot(node, $"IKE {exchange} {(send.IsResponse ? "response" : "request")}", ActivityKind.Producer, default,
            s.NegotiationContext != default ? [new ActivityLink(s.NegotiationContext)] : null);
        if (span is null || !span.IsAllDataRequested) return span;
        span.SetTag(Attr.Tunnel, s.Tunnel);
        span.SetTag(Attr.IkeExchange, exchange);
        span.SetTag(Attr.IkeMessageId, (long)send.MessageId);
        if (send.IsRetransmission) span.SetTag("ipsec.ike.retransmission", true);
        span.SetTag(Attr.ServerAddress, send.To.Address.ToString());
        span.SetTag(Attr.ServerPort, (int)send.To.Port);
        return span;
    }

    /// <summary>One span per finished IKE exchange, named for the exchange and its phase, with the events seen during it.</summary>
    private void ExchangeSpan(IkeSa sa, SaSpans s, IkeExchangeDone d)
    {
        var exchange = ExchangeName(d.Exchange);
        if (NodesTelemetry.IkeExchangeDuration.Enabled)
            NodesTelemetry.IkeExchangeDuration.Record((d.Ended - d.Started).TotalSeconds, nodeTag, new(Attr.IkeExchange, exchange), new(Attr.Tunnel, s.Tunnel));
        if (!Spans.Listening) return;
        // During the negotiation an exchange is its child; afterwards (rekeys, DPD) it starts a trace linked to the negotiation.
        var parent = s.Negotiation?.Context ?? default;
        var links = parent == default && s.NegotiationContext != default ? new[] { new ActivityLink(s.NegotiationContext) } : null;
        var span = Spans.StartRoot(node, d.PhaseName, d.WeInitiated ? ActivityKind.Client : ActivityKind.Server, parent, links, d.Started);
        if (span is null) return;
        if (span.IsAllDataRequested)
        {
            span.SetTag(Attr.Tunnel, s.Tunnel);
            span.SetTag(Attr.IkeExchange, exchange);
            span.SetTag(Attr.IkePhase, d.Exchange switch { ExchangeType.IkeSaInit or ExchangeType.IkeAuth => 1, ExchangeType.CreateChildSa => 2, _ => 0 });
            span.SetTag(Attr.IkePurpose, d.Purpose.ToName());
            span.SetTag(Attr.IkeMessageId, (long)d.MessageId);
            span.SetTag(Attr.IkeRole, d.WeInitiated ? "initiator" : "responder");
            span.SetTag(Attr.IkeInitiatorSpi, Spans.IkeSpi(sa.InitiatorSpi));
            span.SetTag(Attr.IkeResponderSpi, Spans.IkeSpi(sa.ResponderSpi));
            span.SetTag(d.WeInitiated ? Attr.ServerAddress : Attr.ClientAddress, sa.Remote.Address.ToString());
            span.SetTag(d.WeInitiated ? Attr.ServerPort : Attr.ClientPort, (int)sa.Remote.Port);
            var retransmissions = s.Pending.Count(e => e.Name == RetransmitName);
            if (retransmissions > 0) span.SetTag("ipsec.ike.retransmissions", retransmissions);
            foreach (var e in s.Pending) span.AddEvent(e);
            s.Pending.Clear();
            if (!d.Succeeded) span.SetStatus(ActivityStatusCode.Error, d.Error);
        }
        Spans.StopDetached(span, d.Ended);
    }

    private void Count(SaSpans s, IkeSaState? state)
    {
        var enabled = NodesTelemetry.IkeSas.Enabled;
        if (s.Counted is { } old && enabled) NodesTelemetry.IkeSas.Add(-1, nodeTag, new(Attr.IkeState, old.ToString()));
        s.Counted = state is IkeSaState.Closed ? null : state;
        if (s.Counted is { } current && enabled) NodesTelemetry.IkeSas.Add(1, nodeTag, new(Attr.IkeState, current.ToString()));
    }

    private void CountEvent(IkeEvent e)
    {
        switch (e.Kind)
        {
            case IkeEventKind.LivenessCheck or IkeEventKind.PeerAlive or IkeEventKind.GivingUp when NodesTelemetry.DpdEvents.Enabled:
                NodesTelemetry.DpdEvents.Add(1, nodeTag, new(Attr.IkeDpd, e.Name));
                break;
            case IkeEventKind.IkeSaRekeyed when NodesTelemetry.Rekeys.Enabled:
                NodesTelemetry.Rekeys.Add(1, nodeTag, new(Attr.IkeRekeyKind, "ike"));
                break;
        }
    }

    /// <summary>The IKE SA's keys for a capture's Wireshark key file (the user asked for a decryptable capture).</summary>
    private void CaptureKeys(IkeSa sa)
    {
        if (capture is not null && sa.ExportKeysForCapture() is { } k)
            capture.AddKeys(new IkeSaKeyEntry(sa.InitiatorSpi, sa.ResponderSpi, k.Suite.Cipher, k.Keys.SkEi, k.Keys.SkEr, k.Keys.SkAi, k.Keys.SkAr));
    }
}
