using Nodes.Ike;
using Nodes.Net;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Gateway;

// Datagrams for the gateway itself, and the IKE SA table.
public sealed partial class GatewayEngine
{
    /// <summary>A datagram for this node; <paramref name="payload"/> is its IP payload, a segment of <paramref name="datagram"/>.</summary>
    /// <param name="via">The tunnel the datagram came out of; null when it arrived in clear.</param>
    private void Local(byte[] datagram, Ipv4Header ip, ArraySegment<byte> payload, string traceparent, Tunnel? via)
    {
        switch (ip.Protocol)
        {
            case IpProtocol.Tcp:
                TcpArrived(ip, payload, via);
                break;
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

    /// <summary>The connections this gateway answers IKE_SA_INIT for: each responding tunnel, for its peer's address only.</summary>
    private List<IkeConnection> Connections() =>
        _tunnels.Values.Where(t => t.Profile.Responds).Select(t => new IkeConnection(t.Profile.Responder, t.Profile.Peer, t.Profile.Local)).ToList();

    private void IkeArrived(byte[] message, Ipv4Endpoint from, Ipv4Endpoint to, string traceparent)
    {
        // The table routes by our own SPI, answers IKE_SA_INIT with the connection of the sender's address (cookies
        // when too many SAs are half-open), and drops what belongs to no SA of ours, with a reason.
        _ike.Receive(message, from, to, _now.Node, _ike.Options.KeyExchangeQueue is null ? null : new QueuedArrival(traceparent, from));
        RunIke(traceparent, from);
    }

    /// <summary>Starts an IKE SA as initiator for <paramref name="t"/>.</summary>
    private void Dial(Tunnel t)
    {
        t.Attempts++;
        var local = new Ipv4Endpoint(t.Profile.Local ?? _profile.PublicAddress, UdpPorts.Ike);
        var remote = new Ipv4Endpoint(t.Profile.Peer, UdpPorts.Ike);
        var sa = _ike.Initiate(t.Profile.Initiator, local, remote, _now.Node);
        var h = new IkeLink(sa, t);
        _links[sa] = h;
        // An SA this side starts is the tunnel's own from the start: it authenticates its peer before any Child SA.
        t.Current = h;
        _port.IkeSaStarted(sa, t.Profile.Name, initiator: true, "");
        _port.Report("ike", $"{t.Profile.Name}: dialing {t.Profile.Peer} (attempt {t.Attempts}){(t.Held.Count > 0 ? $", {t.Held.Count} packet(s) waiting" : "")}");
        RunIke();
    }

    /// <summary>The end of the line reported for each new responder SA (one key exchange of ours).</summary>
    public const string AnsweringAsResponder = "answering as responder";

    /// <summary>The link of an SA the table made, a responder's for a new IKE_SA_INIT the first time it speaks.</summary>
    private IkeLink? LinkFor(IkeSa sa, string traceparent)
    {
        if (_links.TryGetValue(sa, out var h)) return h;
        if (!_tunnels.TryGetValue(sa.Config.Name, out var tunnel)) return null;
        h = new IkeLink(sa, tunnel);
        _links[sa] = h;
        _port.IkeSaStarted(sa, tunnel.Profile.Name, initiator: false, traceparent);
        _port.Report("ike", $"{tunnel.Profile.Name}: IKE_SA_INIT from {sa.Remote}, {AnsweringAsResponder}");
        return h;
    }

    /// <summary>Carries out what the IKE table produced: per SA, and the table's own (stateless answers, drops).</summary>
    private void RunIke(string traceparent = "", Ipv4Endpoint? from = null)
    {
        var outputs = _ike.TakeOutputs();
        if (outputs.Count == 0) return;
        List<(IkeLink Link, string? Failure)>? ended = null;
        foreach (var (sa, o) in outputs)
        {
            if (sa is null)
            {
                Stateless(o, traceparent, from);
                continue;
            }
            if (LinkFor(sa, traceparent) is not { } h) continue;
            _port.IkeOutput(sa, h.Tunnel.Profile.Name, o);
            if (Apply(h, o) is { } end) (ended ??= []).Add(end);
        }
        if (ended is not null)
        {
            foreach (var (h, failure) in ended)
            {
                // The negotiation ends after this batch: its last exchange (IKE_AUTH) is reported after the state change.
                _port.IkeNegotiationEnded(h.Sa, failure);
                if (h.Sa.State == IkeSaState.Closed && _links.Remove(h.Sa)) Forget(h, failure ?? "IKE SA closed");
            }
        }
        if (_disconnecting && _links.Count == 0)
        {
            _disconnecting = false;
            _port.Disconnected();
        }
    }

    /// <summary>What the table said without an SA: an answer that keeps no state, a drop, a cookie challenge.</summary>
    private void Stateless(IkeOutput o, string traceparent, Ipv4Endpoint? from)
    {
        switch (o)
        {
            case IkeSend s:
                SendIke(s, traceparent);
                break;
            case IkeDropped d:
                // A cookie challenge answers a flood; its line would be one per request (the fault's end sums them up).
                _port.Dropped(d.Name, d.Reason == IkeDropReason.CookieRequired ? null : d.Detail);
                break;
            case IkeFailure refusal:
                var tunnel = _tunnels.Values.FirstOrDefault(t => from is { } f && t.Profile.Peer == f.Address);
                tunnel?.Failures.Add(refusal.ToString());
                _port.Report("ike", $"{tunnel?.Profile.Name ?? _node}: refused IKE_SA_INIT from {from}: {refusal}");
                CurrentSpan?.AddEvent(new System.Diagnostics.ActivityEvent("IKE_SA_INIT refused",
                    tags: new System.Diagnostics.ActivityTagsCollection { [Telemetry.Attr.IkeEventDetail] = refusal.ToString() }));
                break;
            case IkeEvent e:
                _port.Report("ike", $"{e.Name}: {e.Detail}");
                break;
        }
    }

    /// <summary>Carries out one output of an SA; returns the end of its negotiation when the SA was established or closed.</summary>
    private (IkeLink, string?)? Apply(IkeLink h, IkeOutput o)
    {
        var name = h.Tunnel.Profile.Name;
        switch (o)
        {
            case IkeSend s:
                SendIke(s, _port.IkeMessageTrace(h.Sa, name, s));
                break;
            case IkeSendKeepalive k:
                SendUdp(k.From, k.To, new byte[] { 0xff }, UdpChecksumMode.Compute, "");
                break;
            case ChildSaUp up:
                AddChild(h, up.Sa);
                break;
            case ChildSaOutboundActive a when _children.TryGetValue(a.InboundSpi, out var c):
                foreach (var spi in h.Children) _children[spi].OutboundActive = false;
                c.OutboundActive = true;
                Flush(h.Tunnel);
                break;
            case ChildSaDown down when _children.Remove(down.InboundSpi, out var gone):
                h.Children.Remove(down.InboundSpi);
                _port.ChildSaRemoved(h.Sa, gone.Info, down.Reason);
                gone.Dispose();
                _port.Report("ipsec", $"{name}: Child SA 0x{down.InboundSpi:x8}/0x{down.OutboundSpi:x8} removed ({down.Reason})");
                break;
            case IkeStateChange sc:
                _port.Report("ike", $"{name}: {sc.From} → {sc.To} ({sc.Reason})");
                if (sc.To == IkeSaState.Established)
                {
                    // Only now, with its peer authenticated, does an SA the peer started become the tunnel's.
                    h.Tunnel.Current = h;
                    h.Tunnel.EverConnected = true;
                    h.Tunnel.EstablishedAt = _now.Lab;
                    if (h.Tunnel.DownSince is { } since) h.Tunnel.TotalDown += _now.Lab - since;
                    h.Tunnel.DownSince = null;
                }
                if (sc.To is IkeSaState.Established or IkeSaState.Closed) return (h, sc.To == IkeSaState.Closed ? sc.Reason : null);
                break;
            case IkeFailure f:
                h.Tunnel.Failures.Add(f.ToString());
                _port.Report("ike", $"{name}: {f}");
                break;
            case IkeExchangeDone d:
                _port.Report("ike", $"{name}: {d.PhaseName} ({d.Purpose.ToName()}) {(d.Succeeded ? "done" : "failed: " + d.Error)} in {(d.Ended - d.Started).TotalMilliseconds:0.#} ms");
                break;
            case IkeDropped d:
                _port.Dropped(d.Name, $"{name}: {d.Detail}");
                break;
            case IkeEvent { Kind: IkeEventKind.RequestRetransmittedByPeer } e:
                // The request itself is not processed again (RFC 7296 section 2.1 answers it from the cache): a
                // replayed copy is counted here, as the retransmission it may be.
                Drop(GatewayDropReason.IkeRepeatedRequest, $"{name}: {e.Detail}");
                break;
            case IkeEvent { Kind: IkeEventKind.KeysDerived or IkeEventKind.PeerEndpointChanged }:
                break; // the key event carries no news (and its detail only names SPIs); the endpoint change is reported below
            case IkeEvent e:
                _port.Report("ike", $"{name}: {e.Name}: {e.Detail}");
                break;
            case IkePeerEndpointChanged pe:
                _port.Report("ike", $"{name}: peer endpoint changed {pe.Old} → {pe.New}");
                // The packet that moved the SA shows the move in its own trace.
                CurrentSpan?.AddEvent(new System.Diagnostics.ActivityEvent("peer endpoint changed", tags: new System.Diagnostics.ActivityTagsCollection
                {
                    [Telemetry.Attr.Tunnel] = name,
                    [Telemetry.Attr.IkeEventDetail] = $"{pe.Old} → {pe.New}",
                }));
                break;
        }
        return null;
    }

    private void AddChild(IkeLink h, ChildSaInfo info)
    {
        if (_children.TryGetValue(info.InboundSpi, out var existing))
        {
            // Two SAs may not share an inbound SPI on one gateway (RFC 4301 section 4.1): keep the first, refuse the second.
            Drop(GatewayDropReason.EspSpiInUse, $"{h.Tunnel.Profile.Name}: inbound SPI 0x{info.InboundSpi:x8} is already used by {existing.Ike.Tunnel.Profile.Name}{(existing.Ike == h ? " (same IKE SA)" : "")}");
            return;
        }
        var soft = h.Tunnel.Profile.Initiator.Lifetimes.ChildRekeyBytes;
        _children[info.InboundSpi] = new ChildSa(info, _random(), soft > 0 ? soft : long.MaxValue, _node) { Ike = h };
        h.Children.Add(info.InboundSpi);
        _port.ChildSaInstalled(h.Sa, h.Tunnel.Profile.Name, info);
        _port.Report("ipsec", $"{h.Tunnel.Profile.Name}: Child SA up: {info}");
    }

    private void Forget(IkeLink h, string reason)
    {
        foreach (var spi in h.Children)
            if (_children.Remove(spi, out var c))
            {
                _port.ChildSaRemoved(h.Sa, c.Info, reason);
                c.Dispose();
            }
        h.Children.Clear();
        _port.IkeSaForgotten(h.Sa, reason);
        var t = h.Tunnel;
        if (t.Current != h) return;
        t.Current = null;
        if (t.DownSince is null && t.EverConnected) t.Outages++;
        t.DownSince ??= _now.Lab;
        _port.Report("ike", $"{t.Profile.Name}: tunnel down ({reason})");
        // RRAS redials while traffic waits, up to its number of tries; a persistent interface always redials.
        if (_disconnecting) return;
        if (t.Profile.Initiates && (!t.Profile.DemandDial || t.Held.Count > 0) && t.Attempts < t.Profile.Tries)
            _port.RedialAfter(t.Profile.Name, t.Profile.RetryInterval);
        else if (t.Profile.Initiates && t.Profile.DemandDial) t.Attempts = 0;
    }
}
