namespace Nodes.Topology.Loading;

/// <summary>
/// The keys each mapping of a topology file may hold. The loader checks files against these lists, and the
/// tests check that topology/nodes-topology.schema.json offers exactly the same keys.
/// </summary>
internal static class TopologyKeys
{
    public static readonly string[] Root = ["name", "seed", "topology", "hub", "placement", "scenarios"];
    public static readonly string[] Hub = ["branches", "proposal", "members"];
    public static readonly string[] Topology = ["defaults", "nodes", "links"];
    public static readonly string[] Defaults = ["mtu", "os"];
    public static readonly string[] NodeCommon = ["kind", "interfaces", "routes", "default-gateway"];
    public static readonly string[] Host = [.. NodeCommon, "os"];
    public static readonly string[] Router = [.. NodeCommon, "mss-clamp"];
    public static readonly string[] NatRouter = [.. NodeCommon, "nat"];
    public static readonly string[] Rras = [.. NodeCommon, "mss-clamp", "lan-interface", "internet-interface", "vpn", "bgp"];
    public static readonly string[] AzureVpnGateway = [.. NodeCommon, "mss-clamp", "public-address", "vnet-address-spaces", "gateway-subnet", "vpn-type", "connections", "nat-rebinding", "bgp-settings", "active-active", "second-public-address"];
    public static readonly string[] AnyNode = [.. Host.Union(Router).Union(NatRouter).Union(Rras).Union(AzureVpnGateway)];
    public static readonly string[] Interface = ["address", "mtu", "external"];
    public static readonly string[] External = ["address"];
    public static readonly string[] Route = ["to", "via", "metric"];
    public static readonly string[] Nat = ["inside", "outside", "outside-address", "mapping", "ports", "port-range", "udp-timeout", "icmp-timeout"];
    public static readonly string[] RrasVpn =
    [
        "interface-name", "destination", "protocol", "authentication-method", "ipv4-subnets", "shared-key", "persistent",
        "idle-disconnect-seconds", "number-of-tries", "retry-interval-seconds", "nat-keepalive", "local-traffic-selectors",
        "remote-traffic-selectors", "custom-policy", "proposals", "esp-proposals", "local-id", "remote-id", "ike-lifetime-seconds",
    ];
    public static readonly string[] RrasCustomPolicy =
    [
        "encryption-method", "integrity-check-method", "dh-group", "cipher-transform-constants", "authentication-transform-constants",
        "pfs-group", "sa-lifetime-seconds", "sa-data-size-kb",
    ];
    public static readonly string[] AzureConnection =
    [
        "name", "local-network-gateway", "shared-key", "connection-protocol", "connection-mode", "dpd-timeout-seconds",
        "use-policy-based-traffic-selectors", "traffic-selector-policies", "ipsec-policy", "local-id", "remote-id",
        "enable-bgp", "gateway-custom-bgp-address",
    ];
    public static readonly string[] LocalNetworkGateway = ["name", "gateway-address", "fqdn", "address-spaces", "bgp-settings"];
    public static readonly string[] AzureBgpSettings = ["asn", "bgp-peering-address", "second-bgp-peering-address", "custom-bgp-addresses"];
    public static readonly string[] LocalNetworkGatewayBgpSettings = ["asn", "bgp-peering-address"];
    public static readonly string[] RrasBgp = ["bgp-identifier", "local-asn", "peers", "custom-routes"];
    public static readonly string[] RrasBgpPeer =
    [
        "name", "local-ip-address", "peer-ip-address", "peer-asn", "operation-mode", "peering-mode", "hold-time-sec",
        "idle-hold-time-sec", "max-allowed-prefix",
    ];
    public static readonly string[] TrafficSelectorPolicy = ["local-address-ranges", "remote-address-ranges"];
    public static readonly string[] AzureIpsecPolicy =
    [
        "ike-encryption", "ike-integrity", "dh-group", "ipsec-encryption", "ipsec-integrity", "pfs-group", "sa-lifetime-seconds",
        "sa-data-size-kilobytes",
    ];
    public static readonly string[] Impairments = ["delay", "jitter", "loss", "duplicate", "reorder", "corrupt", "rate", "correlation"];
    public static readonly string[] Link = ["endpoints", "segment", "mtu", .. Impairments];
    public static readonly string[] Scenario = ["description", "default", "traffic", "expect", "faults", "duration", "time-scale", "nodes"];
    public static readonly string[] TrafficItem = ["ping", "udp", "tcp"];
    public static readonly string[] Ping = ["from", "to", "count", "interval", "size", "df", "start"];
    public static readonly string[] Udp = ["from", "to", "port", "packets", "size", "rate", "start"];
    public static readonly string[] Tcp = ["from", "to", "port", "bytes", "requests", "request-size", "response-size", "start", "limit"];
    public static readonly string[] Expect = ["pings-answered", "udp-delivered", "tcp-completed", "tunnel", "max-drops", "min-drops", "faults", "bgp"];
    public static readonly string[] BgpExpectation = ["node", "peer", "state", "min-routes-received", "learned", "not-learned"];
    public static readonly string[] FaultExpectation = ["same-ike-sa", "peer-endpoint-changed", "max-pings-lost", "min-pings-lost", "recovered-within", "recovers"];
    public static readonly string[] TunnelExpectation = ["name", "state", "nat-detected"];
    public static readonly string[] Fault = ["at", "fault", "node", "link", "params"];

    /// <summary>YAML names of the fault families, in <see cref="Model.FaultKind"/> order.</summary>
    public static readonly string[] FaultNames = [.. Model.FaultCatalog.Names];

    /// <summary>Every key list by the name the schema's $defs use for it.</summary>
    public static IReadOnlyDictionary<string, string[]> ByDefinition { get; } = new Dictionary<string, string[]>
    {
        ["root"] = Root, ["hub"] = Hub, ["topology"] = Topology, ["defaults"] = Defaults, ["host"] = Host, ["router"] = Router,
        ["nat-router"] = NatRouter, ["rras"] = Rras, ["azure-vpn-gateway"] = AzureVpnGateway, ["interface"] = Interface,
        ["external"] = External, ["route"] = Route, ["nat"] = Nat, ["rras-vpn"] = RrasVpn, ["rras-custom-policy"] = RrasCustomPolicy,
        ["azure-connection"] = AzureConnection, ["local-network-gateway"] = LocalNetworkGateway,
        ["azure-bgp-settings"] = AzureBgpSettings, ["lng-bgp-settings"] = LocalNetworkGatewayBgpSettings, ["rras-bgp"] = RrasBgp,
        ["rras-bgp-peer"] = RrasBgpPeer,
        ["traffic-selector-policy"] = TrafficSelectorPolicy, ["azure-ipsec-policy"] = AzureIpsecPolicy, ["impairments"] = Impairments,
        ["link"] = Link, ["scenario"] = Scenario, ["traffic-item"] = TrafficItem, ["ping"] = Ping, ["udp"] = Udp, ["tcp"] = Tcp, ["expect"] = Expect,
        ["tunnel-expectation"] = TunnelExpectation, ["bgp-expectation"] = BgpExpectation, ["fault"] = Fault, ["fault-expectation"] = FaultExpectation, ["node-override"] = AnyNode,
    };
}
