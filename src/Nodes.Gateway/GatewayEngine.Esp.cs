using Nodes.Esp;
using Nodes.Ike;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Telemetry;
using Nodes.Wire.Ip;

namespace Nodes.Gateway;

// The tunnels' data plane: packets into a tunnel (sealed, or held while it dials) and ESP out of it.
public sealed partial class GatewayEngine
{
    private void IntoTunnel(Tunnel t, Ipv4Header ip, byte[] datagram, string traceparent)
    {
        ClampMss(datagram);
        if (t.Current is { } h && ActiveChild(h, ip) is { } child)
        {
            Seal(child, datagram, traceparent);
            return;
        }
        // Demand-dial: hold the packet (never send it in clear) and bring the tunnel up.
        if (t.Held.Count >= Tunnel.DemandDialQueueLimit)
        {
            t.Held.Dequeue();
            Drop(GatewayDropReason.DemandDialQueueFull);
        }
        t.Held.Enqueue((datagram, traceparent));
        if (t.Current is not null) return;
        if (t.Profile.Initiates)
        {
            if (t.Attempts == 0) _port.Report("ike", $"{t.Profile.Name}: packet for {ip.Destination} from {ip.Source} triggers demand-dial");
            Dial(t);
        }
        else
        {
            t.Held.Clear();
            Drop(GatewayDropReason.NoTunnel, $"{ip.Source} → {ip.Destination}: tunnel {t.Profile.Name} is down and this side does not initiate");
        }
    }

    private ChildSa? ActiveChild(IkeLink h, Ipv4Header ip)
    {
        foreach (var spi in h.Children)
        {
            var c = _children[spi];
            if (c.OutboundActive && c.CoversOutbound(ip.Source, ip.Destination)) return c;
        }
        return null;
    }

    /// <summary>Sends what the tunnel held while it dialled, now that it has an active Child SA.</summary>
    private void Flush(Tunnel t)
    {
        if (t.Current is not { } h) return;
        var n = t.Held.Count;
        for (var i = 0; i < n; i++)
        {
            var (packet, trace) = t.Held.Dequeue();
            if (!Ipv4Header.TryParse(packet, out var ip, out _)) continue;
            if (ActiveChild(h, ip) is { } c) Seal(c, packet, trace);
            else t.Held.Enqueue((packet, trace));
        }
    }

    /// <summary>Seals <paramref name="inner"/> on <paramref name="c"/> and sends it to the peer, in UDP 4500 when the SA is encapsulated.</summary>
    private void Seal(ChildSa c, byte[] inner, string traceparent)
    {
        using var span = Spans.Continue(_node, SpanNames.EspEncap, traceparent);
        var status = c.Seal(inner, out var esp);
        if (status != EspSealStatus.Sealed)
        {
            Drop("esp-" + status.ToString().ToLowerInvariant()); // the port marks the open span, the ESP step's
            SoftLimit(c);
            return;
        }
        if (span is not null)
        {
            span.SetTag(Attr.EspSpi, c.OutSpiText);
            span.SetTag(Attr.EspSequence, (long)c.LastSequenceOut);
            span.SetTag(Attr.EspDirection, "out");
            span.SetTag(Attr.EspEncapsulation, c.Info.Encapsulated ? "udp" : "none");
            Spans.TagInnerAddresses(span, inner);
        }
        var context = Spans.Context(span, traceparent);
        var s = c.Ike.Sa;
        if (s.Encapsulated) SendUdp(s.Local, s.Remote, esp, UdpChecksumMode.Zero, context);
        else Originate(RawEsp(s.Local.Address, s.Remote.Address, esp), context);
        s.NoteOutboundTraffic(_now.Node);
        if (c.AtSoftLimit) SoftLimit(c);
    }

    /// <summary>The Child SA reached a soft limit (bytes, or sequence numbers running out): its IKE SA rekeys it, once.</summary>
    private void SoftLimit(ChildSa c)
    {
        if (c.SoftReported) return;
        c.SoftReported = true;
        c.Ike.Sa.ChildSoftLimitReached(c.Info.InboundSpi, "byte lifetime reached", _now.Node);
        RunIke();
    }

    /// <summary>An ESP packet for this node, a segment of the datagram it came in (which is this node's to change).</summary>
    private void EspArrived(ArraySegment<byte> esp, Ipv4Endpoint from, string traceparent)
    {
        if (esp.Count < 8)
        {
            Drop(GatewayDropReason.EspMalformed);
            return;
        }
        var spi = (uint)(esp[0] << 24 | esp[1] << 16 | esp[2] << 8 | esp[3]);
        if (!_children.TryGetValue(spi, out var c))
        {
            Drop(GatewayDropReason.EspUnknownSpi);
            return;
        }
        byte[] inner;
        string context;
        using (var span = Spans.Continue(_node, SpanNames.EspDecap, traceparent))
        {
            if (span is not null)
            {
                span.SetTag(Attr.EspSpi, c.InSpiText);
                span.SetTag(Attr.EspDirection, "in");
                span.SetTag(Attr.EspEncapsulation, c.Info.Encapsulated ? "udp" : "none");
                span.SetTag(Attr.EspSequence, (long)(uint)(esp[4] << 24 | esp[5] << 16 | esp[6] << 8 | esp[7]));
            }
            if (!c.TryOpen(esp, out inner, out var sequence, out var reason))
            {
                span?.SetTag(Attr.EspReplay, reason.ToString().ToLowerInvariant());
                Drop(reason.ToName()); // inside the ESP step's span, which the port marks
                return;
            }
            if (span is not null)
            {
                span.SetTag(Attr.EspSequence, (long)sequence);
                span.SetTag(Attr.EspReplay, "ok");
                Spans.TagInnerAddresses(span, inner);
            }
            context = Spans.Context(span, traceparent);
        }
        if (c.AtSoftLimit) SoftLimit(c);
        Opened(c, inner, from, context);
    }

    /// <summary>What an SA authenticated and decrypted: delivered here or routed on, in a span of its own.</summary>
    private void Opened(ChildSa c, byte[] inner, Ipv4Endpoint from, string traceparent)
    {
        using var span = Spans.Continue(_node, SpanNames.Forward, traceparent);
        Spans.TagPacket(span, inner);
        var context = Spans.Context(span, traceparent);
        var sa = c.Ike.Sa;
        sa.NoteInboundTraffic(_now.Node);
        // An authenticated packet from a new endpoint: the peer's NAT rebound. The IKE SA decides whether to follow,
        // at once, so that the answer to this very packet already goes to the new endpoint.
        if (from.Port != 0 && sa.Encapsulated && sa.Remote != from)
        {
            sa.AuthenticatedPacketFrom(from, _now.Node);
            RunIke();
        }
        if (!Ipv4Header.TryParse(inner, out var ip, out _, out var payload, out _))
        {
            Drop(GatewayDropReason.EspInnerMalformed);
            return;
        }
        // RFC 4301 section 5.2: what comes out of an SA must match its selectors.
        if (!c.CoversInbound(ip.Source, ip.Destination))
        {
            Drop(GatewayDropReason.EspSelectorMismatch, $"{ip.Source} → {ip.Destination} does not match {string.Join(',', c.Info.RemoteTs)} === {string.Join(',', c.Info.LocalTs)}");
            return;
        }
        if (IsLocal(ip.Destination))
        {
            if (span is not null) span.DisplayName = SpanNames.GatewayReceive;
            Local(inner, ip, Within(inner, payload), context, c.Ike.Tunnel);
            return;
        }
        if (!Ipv4Header.TryDecrementTimeToLive(inner))
        {
            Drop(DropReason.TtlExceeded);
            return;
        }
        ClampMss(inner);
        Originate(inner, context);
    }

    /// <summary>Lowers the MSS of a TCP SYN crossing the tunnel to the profile's clamp (in place, checksum patched).</summary>
    private void ClampMss(byte[] datagram)
    {
        if (_profile.MssClamp is { } mss) TcpMssClamp.TryClamp(datagram, mss);
    }

    private void Drop(string reason) => _port.Dropped(reason, null);
}
