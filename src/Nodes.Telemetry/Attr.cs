namespace Nodes.Telemetry;

/// <summary>
/// Attribute names on Nodes spans and metrics. OpenTelemetry semantic conventions where one exists (<c>network.*</c>,
/// <c>source.*</c>, <c>destination.*</c>, <c>server.*</c>, <c>client.*</c>, <c>error.type</c>), <c>ipsec.*</c> for IKE and
/// ESP, <c>nodes.*</c> for the lab itself. ATTRIBUTES.md beside this file lists each with its meaning. No attribute ever
/// carries key material: SPIs, sequence numbers, message IDs and endpoints only.
/// </summary>
public static class Attr
{
    // The lab
    public const string Node = "nodes.node";
    public const string NodeKind = "nodes.node.kind";
    public const string Lab = "nodes.lab";
    public const string Link = "nodes.link";
    public const string IngressInterface = "nodes.interface.ingress";
    public const string EgressInterface = "nodes.interface.egress";
    public const string NextHop = "nodes.next_hop";
    public const string DropReason = "nodes.drop.reason";
    public const string FrameSequence = "nodes.frame.sequence";

    // The packet (OpenTelemetry semantic conventions)
    public const string NetworkType = "network.type";
    public const string NetworkTransport = "network.transport";
    public const string SourceAddress = "source.address";
    public const string SourcePort = "source.port";
    public const string DestinationAddress = "destination.address";
    public const string DestinationPort = "destination.port";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ClientAddress = "client.address";
    public const string ClientPort = "client.port";
    public const string ErrorType = "error.type";

    // ICMP and IPv4
    public const string IpProtocol = "nodes.ip.protocol";
    public const string IpTtl = "nodes.ip.ttl";
    public const string IcmpType = "nodes.icmp.type";
    public const string IcmpIdentifier = "nodes.icmp.identifier";
    public const string IcmpSequence = "nodes.icmp.sequence";
    public const string PingRttMs = "nodes.ping.rtt_ms";
    public const string TcpFlags = "nodes.tcp.flags";
    public const string TcpSequence = "nodes.tcp.seq";
    public const string TcpAcknowledgement = "nodes.tcp.ack";
    public const string TcpLength = "nodes.tcp.length";
    public const string BgpMessageTypes = "nodes.bgp.message";
    public const string FragmentCount = "nodes.fragment.count";
    public const string Mtu = "nodes.mtu";

    // NAT
    public const string NatDirection = "nodes.nat.direction";
    public const string NatOriginal = "nodes.nat.original";
    public const string NatTranslated = "nodes.nat.translated";
    public const string NatProtocol = "nodes.nat.protocol";
    public const string NatEventKind = "nodes.nat.event";

    // IPsec
    public const string Tunnel = "ipsec.tunnel";
    public const string EspSpi = "ipsec.esp.spi";
    public const string EspSequence = "ipsec.esp.sequence";
    public const string EspReplay = "ipsec.esp.replay";
    public const string EspEncapsulation = "ipsec.esp.encapsulation";
    public const string EspDirection = "ipsec.esp.direction";
    public const string IkeExchange = "ipsec.ike.exchange";
    public const string IkePhase = "ipsec.ike.phase";
    public const string IkePurpose = "ipsec.ike.purpose";
    public const string IkeMessageId = "ipsec.ike.message_id";
    public const string IkeInitiatorSpi = "ipsec.ike.spi.initiator";
    public const string IkeResponderSpi = "ipsec.ike.spi.responder";
    public const string IkeRole = "ipsec.ike.role";
    public const string IkeState = "ipsec.ike.state";
    public const string IkeNatDetected = "ipsec.ike.nat_detected";
    public const string IkeSuite = "ipsec.ike.suite";
    public const string IkeEventDetail = "ipsec.ike.detail";
    public const string IkeDpd = "ipsec.ike.dpd";
    public const string IkeRekeyKind = "ipsec.ike.rekey";

    // Faults
    public const string FaultName = "nodes.fault.name";
    public const string FaultDetail = "nodes.fault.detail";
}
