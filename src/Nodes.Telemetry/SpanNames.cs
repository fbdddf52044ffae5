namespace Nodes.Telemetry;

/// <summary>Span names: what a node did, low-cardinality (details live in attributes).</summary>
public static class SpanNames
{
    /// <summary>A host sends an echo request: the root of a ping's trace, open until the reply (or the timeout).</summary>
    public const string EchoRequest = "ICMP echo request";
    /// <summary>A host answers an echo request.</summary>
    public const string EchoReply = "ICMP echo reply";
    /// <summary>The pinging host receives the reply: the journey's last hop.</summary>
    public const string EchoReplyReceived = "ICMP echo reply received";
    /// <summary>A host receives anything else.</summary>
    public const string HostReceive = "receive";
    /// <summary>A router or gateway looks up the route and forwards.</summary>
    public const string Forward = "forward";
    /// <summary>A gateway receives a datagram addressed to itself (IKE, ESP, ping).</summary>
    public const string GatewayReceive = "receive";
    /// <summary>A NAT rewrites addresses and ports.</summary>
    public const string Nat = "NAT translation";
    public const string EspEncap = "ESP encapsulation";
    public const string EspDecap = "ESP decapsulation";
    public const string Fragmentation = "IPv4 fragmentation";
    /// <summary>An IKE SA being set up, from dial (or the first IKE_SA_INIT) until established or given up.</summary>
    public const string IkeNegotiation = "IKE SA negotiation";
    /// <summary>A host sends a TCP segment of its own (not an answer to one that arrived): the root of the segment's journey.</summary>
    public const string TcpSegment = "TCP segment";
    /// <summary>A gateway's BGP speaker sends a segment to a neighbour: the root of its journey through the tunnel.</summary>
    public const string BgpMessage = "BGP message";
}
