using Nodes.Topology.Model;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;
using Nodes.Wire.Udp;

namespace Nodes.Web;

/// <summary>The topology as the page draws it: nodes by kind, links with their subnets, tunnels between gateways.</summary>
public static class TopologyJson
{
    public static object Of(TopologySpec lab)
    {
        var nodes = lab.Nodes.Select(n => new
        {
            n.Name,
            kind = KindName(n),
            interfaces = n.Interfaces.Select(i => new { i.Name, cidr = i.Cidr, address = i.Address.ToString() }).ToArray(),
        }).ToArray();
        var links = lab.Links.Select(l => new
        {
            l.Name,
            segment = l.Segment,
            endpoints = l.Endpoints.Select(e => new { e.Node, e.Interface, address = lab.FindNode(e.Node)?.Interfaces.FirstOrDefault(i => i.Name == e.Interface)?.Cidr }).ToArray(),
            subnets = l.Endpoints.Select(e => lab.FindNode(e.Node)?.Interfaces.FirstOrDefault(i => i.Name == e.Interface)?.Subnet.ToString()).OfType<string>().Distinct().ToArray(),
        }).ToArray();
        return new { lab.Name, nodes, links, tunnels = Tunnels(lab) };
    }

    public static string KindName(NodeSpec n) => n.Kind switch
    {
        NodeKind.Host => "host",
        NodeKind.Router => "router",
        NodeKind.NatRouter => "nat-router",
        NodeKind.Rras => "rras",
        NodeKind.AzureVpnGateway => "azure-vpn-gateway",
        var k => k.ToString().ToLowerInvariant(),
    };

    /// <summary>Every RRAS demand-dial interface and the Azure gateway whose public address it dials.</summary>
    public static IReadOnlyList<object> Tunnels(TopologySpec lab)
    {
        var result = new List<object>();
        foreach (var r in lab.Nodes.OfType<RrasSpec>())
        {
            if (r.Vpn is not { } vpn) continue;
            var gw = lab.Nodes.OfType<AzureVpnGatewaySpec>().FirstOrDefault(g => g.PublicAddress == vpn.Destination);
            if (gw is null) continue;
            var connection = gw.Connections.FirstOrDefault()?.Name ?? vpn.InterfaceName;
            result.Add(new { from = r.Name, to = gw.Name, name = connection });
        }
        return result;
    }

    /// <summary>Nodes that speak IKE (the ends of tunnels).</summary>
    public static bool IsGateway(NodeSpec? n) => n is RrasSpec or AzureVpnGatewaySpec;
}

/// <summary>
/// What the sending node did with a hop's frame, found from the frames it received just before: routed it (TTL),
/// translated it (NAT old → new), put it into ESP, took it out of ESP, or made it itself; with the node's events of
/// that moment.
/// </summary>
public static class Explainer
{
    public static object Explain(LabRecorder recorder, Hop hop)
    {
        var hops = recorder.Hops();
        var earlier = hops.Where(h => h.Id < hop.Id && h.To.Contains(hop.From) && hop.T - h.T <= 5000).Reverse().ToList();
        var print = FrameFacts.Fingerprint(hop.Bytes);
        var innerOut = FrameFacts.TryOpenEsp(hop.Bytes, recorder, out var inner, out var spi, out var seq) ? FrameFacts.Fingerprint(inner) : null;
        string what = $"{hop.From} sent it: it made this packet itself";
        long? from = null;
        foreach (var p in earlier)
        {
            var pp = FrameFacts.Fingerprint(p.Bytes);
            if (pp is not null && pp == print)
            {
                from = p.Id;
                what = Compare(p.Bytes, hop.Bytes, hop);
                break;
            }
            if (innerOut is not null && pp == innerOut)
            {
                from = p.Id;
                what = $"ESP encapsulation: the packet of hop #{p.Id} went into SPI 0x{spi:x8} seq {seq} (tunnel mode), sent out {hop.FromInterface}";
                break;
            }
            if (FrameFacts.TryOpenEsp(p.Bytes, recorder, out var pin, out var pspi, out var pseq) && FrameFacts.Fingerprint(pin) == print)
            {
                from = p.Id;
                what = $"ESP decapsulation: hop #{p.Id} (SPI 0x{pspi:x8} seq {pseq}) authenticated and decrypted, the inner packet routed out {hop.FromInterface}";
                break;
            }
        }
        var events = recorder.Events().Where(e => (e.Node == hop.From || hop.To.Contains(e.Node) || e.Node == hop.Link) && Math.Abs(e.T - hop.T) <= 250)
            .Select(e => new { e.T, e.Node, e.Kind, e.Text }).ToArray();
        return new { what, from, events };
    }

    private static string Compare(byte[] before, byte[] after, Hop hop)
    {
        Ipv4Header.TryParse(before, out var a, out _, out var ap, out _);
        Ipv4Header.TryParse(after, out var b, out _, out var bp, out _);
        var (aSrc, aDst) = Endpoints(a, ap);
        var (bSrc, bDst) = Endpoints(b, bp);
        var changes = new List<string>();
        if (aSrc != bSrc) changes.Add($"source NAT {aSrc} → {bSrc}");
        if (aDst != bDst) changes.Add($"destination NAT {aDst} → {bDst}");
        var ttl = $"TTL {a.TimeToLive} → {b.TimeToLive}";
        return changes.Count > 0
            ? $"{string.Join(", ", changes)}; routed out {hop.FromInterface} ({ttl})"
            : $"routed {b.Destination} out {hop.FromInterface} ({ttl})";
    }

    private static (string Source, string Destination) Endpoints(Ipv4Header ip, ReadOnlySpan<byte> payload)
    {
        if (ip.Protocol == IpProtocol.Udp && UdpHeader.TryParse(payload, out var u, out _, out _))
            return ($"{ip.Source}:{u.SourcePort}", $"{ip.Destination}:{u.DestinationPort}");
        if (ip.Protocol == IpProtocol.Icmp && payload.Length >= 8)
            return ($"{ip.Source} id 0x{payload[4] << 8 | payload[5]:x4}", $"{ip.Destination}");
        return (ip.Source.ToString(), ip.Destination.ToString());
    }
}

/// <summary>
/// The IKE exchanges between the gateways as a sequence chart: each IKE message a gateway sent (retransmissions
/// included), with its exchange, ports, payloads (those inside SK once the keys are known), the chosen proposal,
/// SPIs and NAT detection.
/// </summary>
public static class IkeChart
{
    public static IReadOnlyList<object> Of(LabRecorder recorder)
    {
        var result = new List<object>();
        foreach (var hop in recorder.Hops())
        {
            if (hop.Protocol != "IKE" || !TopologyJson.IsGateway(recorder.Lab.FindNode(hop.From))) continue;
            if (!Ipv4Header.TryParse(hop.Bytes, out var ip, out _, out var payload, out _) || !UdpHeader.TryParse(payload, out var udp, out var data, out _)) continue;
            if (udp.SourcePort == UdpPorts.IkeNatTraversal || udp.DestinationPort == UdpPorts.IkeNatTraversal)
            {
                if (!UdpEncapsulation.TryClassify(data, out var kind, out var content, out _) || kind != EncapsulatedKind.Ike) continue;
                data = content;
            }
            if (!IkeHeader.TryParse(data, out var h, out _)) continue;
            var decoded = FrameDecoder.Decode(hop.Bytes, recorder);
            var payloads = decoded.Layers.Where(l => l.Name.StartsWith("Payload: ", StringComparison.Ordinal) && !l.Name.StartsWith("Payload: SK", StringComparison.Ordinal))
                .Select(l => l.Name["Payload: ".Length..]).ToArray();
            var proposal = h.IsResponse
                ? decoded.Layers.Where(l => l.Name.StartsWith("Payload: SA", StringComparison.Ordinal)).SelectMany(l => l.Fields).FirstOrDefault(f => f.Name.StartsWith("Proposal", StringComparison.Ordinal))?.Value
                : null;
            var peer = recorder.Lab.Nodes.Where(TopologyJson.IsGateway).FirstOrDefault(n => n.Name != hop.From && n.Interfaces.Any(i => i.Address == ip.Destination))?.Name
                ?? recorder.Lab.Nodes.Where(n => TopologyJson.IsGateway(n) && n.Name != hop.From).Select(n => n.Name).FirstOrDefault() ?? "";
            result.Add(new
            {
                hop = hop.Id, hop.T, from = hop.From, to = peer,
                exchange = FrameDecoder.ExchangeName(h.Exchange), response = h.IsResponse, mid = h.MessageId,
                ports = $"{udp.SourcePort} → {udp.DestinationPort}",
                spis = $"{h.InitiatorSpi:x16}/{h.ResponderSpi:x16}",
                payloads, proposal,
                encrypted = decoded.Layers.Any(l => l.Name == "Decrypted SK payload"),
            });
        }
        return result;
    }
}
