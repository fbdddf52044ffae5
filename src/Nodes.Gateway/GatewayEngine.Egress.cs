using Nodes.Ike;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Telemetry;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;

namespace Nodes.Gateway;

// What the gateway sends itself: IKE, ESP and its answers, written in place where the bytes left room, then egress.
public sealed partial class GatewayEngine
{
    private void SendIke(IkeSend s, string traceparent)
    {
        var message = s.Message;
        if (s.NeedsNonEspMarker)
        {
            message = new byte[s.Message.Length + UdpEncapsulation.NonEspMarkerLength];
            UdpEncapsulation.WriteIke(message, s.Message);
        }
        SendUdp(s.From, s.To, message, UdpChecksumMode.Compute, traceparent);
    }

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

    /// <summary>Sends a datagram this node originates (or decapsulated) by a route lookup, through the shared egress step.</summary>
    private void Originate(byte[] datagram, string traceparent)
    {
        if (!Ipv4Header.TryParse(datagram, out var ip, out _) || !_router.TryRoute(ip.Destination, out var route, out var egress))
        {
            Drop(DropReason.NoRoute);
            return;
        }
        var nextHop = route.NextHopFor(ip.Destination);
        // The second instance of an active-active gateway sends from its own public address out of its own link.
        if (_profile.SecondInternetInterface is { } si && route.Interface == _profile.InternetInterface && _router.Interfaces.TryGetValue(si, out var second)
            && ip.Source == second.Address && second.Prefix.Length == 31)
        {
            egress = second;
            nextHop = new Ipv4Address(second.Address.Value ^ 1);
        }
        if (CurrentSpan is { } current)
        {
            current.SetTag(Attr.EgressInterface, route.Interface);
            current.SetTag(Attr.NextHop, TagValues.Address(nextHop.Value));
        }
        if (datagram.Length <= egress.Mtu)
        {
            _port.Transmit(new Transmission(egress.Name, nextHop, datagram), traceparent);
            return;
        }
        var sent = new List<Transmission>();
        using var frag = Spans.Continue(_node, SpanNames.Fragmentation, traceparent);
        frag?.SetTag(Attr.Mtu, egress.Mtu);
        if (Egress.Emit(datagram, ip.DontFragment, nextHop, egress, sent) is not DropReason.None and var reason)
        {
            Drop(reason);
            return;
        }
        frag?.SetTag(Attr.FragmentCount, sent.Count);
        var context = Spans.Context(frag, traceparent);
        foreach (var t in sent) _port.Transmit(t, context);
    }
}
