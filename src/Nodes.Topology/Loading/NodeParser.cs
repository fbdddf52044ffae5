using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Nodes.Ike.Proposals;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Loading;

/// <summary>Reads one node mapping (any kind) into its <see cref="NodeSpec"/>.</summary>
internal sealed partial class NodeParser(ParseContext ctx, DefaultsSpec defaults)
{
    private static readonly (string, NodeKind)[] Kinds =
    [
        ("host", NodeKind.Host), ("router", NodeKind.Router), ("nat-router", NodeKind.NatRouter), ("rras", NodeKind.Rras),
        ("azure-vpn-gateway", NodeKind.AzureVpnGateway),
    ];

    internal static readonly (string, HostOs)[] OsNames = [("windows", HostOs.Windows), ("linux", HostOs.Linux)];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    internal static partial Regex NameRule();

    public NodeSpec? Parse(YScalar nameNode, YNode body)
    {
        var name = ctx.Name(nameNode.Value);
        if (!NameRule().IsMatch(name))
        {
            ctx.Error(nameNode, $"node name '{name}' is not allowed", "use letters, digits, '-', '_' and '.', starting with a letter or digit (':' separates node and interface in links)");
            ctx.Broken.Add(name);
            return null;
        }
        NodeKind? kind = null;
        var kindNode = (body as YMap)?["kind"];
        if (kindNode is not null) kind = ctx.Choice(kindNode, $"kind of node '{name}'", Kinds);
        var allowed = kind switch
        {
            NodeKind.Host => TopologyKeys.Host,
            NodeKind.Router => TopologyKeys.Router,
            NodeKind.NatRouter => TopologyKeys.NatRouter,
            NodeKind.Rras => TopologyKeys.Rras,
            NodeKind.AzureVpnGateway => TopologyKeys.AzureVpnGateway,
            _ => TopologyKeys.AnyNode,
        };
        var what = kind is null ? $"node '{name}'" : $"{((YScalar)kindNode!).Value} node '{name}'";
        var m = ctx.Map(body, what, allowed);
        if (m is null)
        {
            ctx.Broken.Add(name);
            return null;
        }
        if (kindNode is null) m.Required("kind", "kinds: host, router, nat-router, rras, azure-vpn-gateway");
        var interfaces = Interfaces(name, m);
        var routes = Routes(name, m);
        var gw = ctx.Address(m["default-gateway"], $"default-gateway of node '{name}'");
        var at = nameNode.At;
        if (kind is null)
        {
            ctx.Broken.Add(name);
            return null;
        }
        NodeSpec? node = kind switch
        {
            NodeKind.Host => new HostSpec(name, interfaces, routes, gw, at,
                ctx.Choice(m["os"], $"os of node '{name}'", OsNames) ?? defaults.Os),
            NodeKind.Router => new RouterSpec(name, interfaces, routes, gw, at, ctx.Int(m["mss-clamp"], $"mss-clamp of node '{name}'", 536, 9000)),
            NodeKind.NatRouter => NatRouter(name, m, interfaces, routes, gw, at),
            NodeKind.Rras => Rras(name, m, interfaces, routes, gw, at),
            NodeKind.AzureVpnGateway => AzureGateway(name, m, interfaces, routes, gw, at),
            _ => null,
        };
        if (node is null)
        {
            ctx.Broken.Add(name);
            return null;
        }
        return m["default-gateway"] is { } gwNode ? node with { DefaultGatewayLocation = gwNode.At } : node;
    }

    private ImmutableArray<InterfaceSpec> Interfaces(string node, MapReader m)
    {
        var result = ImmutableArray.CreateBuilder<InterfaceSpec>();
        var body = m.Required("interfaces", "give the node at least one interface, e.g. 'interfaces: { eth0: { address: 192.168.29.55/24 } }'");
        if (body is null) return result.ToImmutable();
        if (body is not YMap map)
        {
            ctx.Error(body, $"interfaces of node '{node}' must be a mapping of interface names, found {body.Describe()}", "write 'eth0: { address: 192.168.29.55/24 }'");
            return result.ToImmutable();
        }
        foreach (var (key, value) in map.Entries)
        {
            var name = key.Value;
            if (!NameRule().IsMatch(name))
            {
                ctx.Error(key, $"interface name '{name}' is not allowed", "use letters, digits, '-', '_' and '.'");
                ctx.Broken.Add($"{node}:{name}");
                continue;
            }
            var i = Interface(node, name, key.At, value);
            if (i is null) ctx.Broken.Add($"{node}:{name}");
            else result.Add(i);
        }
        if (map.Entries.Count == 0) ctx.Error(body, $"node '{node}' has no interfaces", "add one, e.g. 'eth0: { address: 192.168.29.55/24 }'");
        return result.ToImmutable();
    }

    private InterfaceSpec? Interface(string node, string name, SourceLocation at, YNode body)
    {
        var what = $"interface '{name}' of node '{node}'";
        var m = ctx.Map(body, what, TopologyKeys.Interface);
        if (m is null) return null;
        var addressNode = m.Required("address", "write the address with its prefix length, e.g. 192.168.29.55/24");
        var mtu = m.Has("mtu") ? ctx.Int(m["mtu"], $"mtu of {what}", 68, 9216) : defaults.Mtu;
        ExternalSpec? external = null;
        if (ctx.Map(m["external"], $"external of {what}", TopologyKeys.External) is { } em)
        {
            var ea = ctx.Address(em.Required("address", "the address Nodes uses on the real network"), $"external address of {what}");
            if (ea is null) return null;
            external = new ExternalSpec(ea.Value, em.Node.At);
        }
        if (ctx.Text(addressNode, $"address of {what}") is not { } text || mtu is null) return null;
        var slash = text.IndexOf('/');
        if (slash < 0)
        {
            ctx.Error(addressNode!, $"address of {what} '{text}' has no prefix length", $"write it with the subnet's length, e.g. {text}/24");
            return null;
        }
        if (!Ipv4Address.TryParse(text[..slash], out var address) || !Ipv4Prefix.TryParse(text, out var subnet))
        {
            ctx.Error(addressNode!, $"address of {what} '{text}' is not an IPv4 address with prefix length", "write it like 192.168.29.55/24");
            return null;
        }
        if (subnet.Length == 0)
        {
            // 0.0.0.0/0 is a default route's destination, not a subnet an interface can sit on.
            ctx.Error(addressNode!, $"address of {what} '{text}' puts the interface on /0, every address there is", "write the interface's own address and its subnet's length, e.g. 192.168.29.55/24");
            return null;
        }
        if (subnet.Length <= 30 && (address == subnet.Network || address == subnet.Last))
        {
            var which = address == subnet.Network ? "network" : "broadcast";
            ctx.Error(addressNode!, $"{text} is the {which} address of {subnet}", $"use a host address such as {new Ipv4Address(subnet.Network.Value + 1)}/{subnet.Length}, or a /31 for a point-to-point link");
            return null;
        }
        return new InterfaceSpec(ctx.Name(name), address, subnet, mtu.Value, external, at);
    }

    private ImmutableArray<RouteSpec> Routes(string node, MapReader m)
    {
        var result = ImmutableArray.CreateBuilder<RouteSpec>();
        foreach (var item in ctx.List(m["routes"], $"routes of node '{node}'"))
        {
            var r = ctx.Map(item, $"route of node '{node}'", TopologyKeys.Route);
            if (r is null) continue;
            var to = ctx.Prefix(r.Required("to", "the destination prefix, e.g. 10.0.10.0/24"), "route destination");
            var via = ctx.Address(r.Required("via", "the next hop's address on a connected subnet"), "route next hop");
            var metric = r.Has("metric") ? ctx.Int(r["metric"], "route metric", 0, 9999) : 1;
            if (to is { } t && via is { } v && metric is { } mt) result.Add(new RouteSpec(t, v, mt, item.At));
        }
        return result.ToImmutable();
    }

    private string? InterfaceRef(YNode? node, string what, string nodeName, ImmutableArray<InterfaceSpec> interfaces, YMap declared)
    {
        if (ctx.Text(node, what) is not { } t) return null;
        var names = declared["interfaces"] is YMap im ? im.Entries.Select(e => e.Key.Value).ToArray() : [];
        if (names.Contains(t)) return interfaces.Any(i => i.Name == t) ? ctx.Name(t) : null;
        var near = Suggest.Closest(t, names);
        ctx.Error(node!, $"{what} '{t}' is not an interface of node '{nodeName}'", near is not null ? $"did you mean '{near}'?" : $"its interfaces are: {string.Join(", ", names)}");
        return null;
    }

    private NatRouterSpec? NatRouter(string name, MapReader m, ImmutableArray<InterfaceSpec> interfaces, ImmutableArray<RouteSpec> routes, Ipv4Address? gw, SourceLocation at)
    {
        var n = ctx.Map(m.Required("nat", "say which interfaces are inside and which one is outside, e.g. 'nat: { inside: [lan], outside: wan }'"), $"nat of node '{name}'", TopologyKeys.Nat);
        if (n is null) return null;
        var insideNode = n.Required("inside", "the LAN-side interface(s), e.g. [lan]");
        var insideItems = insideNode is YScalar ? [insideNode] : ctx.List(insideNode, "inside");
        var inside = new List<string>();
        var ok = insideNode is not null;
        foreach (var i in insideItems)
        {
            if (InterfaceRef(i, "inside interface", name, interfaces, m.Node) is { } s) inside.Add(s);
            else ok = false;
        }
        var outsideNode = n.Required("outside", "the internet-side interface, e.g. wan");
        var outside = InterfaceRef(outsideNode, "outside interface", name, interfaces, m.Node);
        if (outside is not null && inside.Contains(outside))
        {
            ctx.Error(outsideNode!, $"interface '{outside}' of node '{name}' is both inside and outside", "a NAT needs different inside and outside interfaces");
            ok = false;
        }
        Ipv4Address? outsideAddress = interfaces.FirstOrDefault(i => i.Name == outside)?.Address;
        if (n.Has("outside-address"))
        {
            outsideAddress = ctx.Address(n["outside-address"], $"outside-address of node '{name}'");
            var oi = interfaces.FirstOrDefault(i => i.Name == outside);
            if (outsideAddress is { } oa && oi is not null && !oi.Subnet.Contains(oa))
            {
                ctx.Error(n["outside-address"]!, $"outside-address {oa} is not on the outside interface's subnet {oi.Subnet}", $"use an address in {oi.Subnet}, or leave it out to use {oi.Address}");
                outsideAddress = null;
            }
        }
        var mapping = n.Has("mapping")
            ? ctx.Choice(n["mapping"], "nat mapping", [("endpoint-independent", NatMapping.EndpointIndependent), ("address-dependent", NatMapping.AddressDependent)])
            : NatMapping.EndpointIndependent;
        var ports = n.Has("ports")
            ? ctx.Choice(n["ports"], "nat ports", [("preserve", NatPortAllocation.Preserve), ("random", NatPortAllocation.Random)])
            : NatPortAllocation.Preserve;
        var range = n.Has("port-range") ? PortRange(n["port-range"]!) : NatSpec.DefaultPortRange;
        var udp = n.Has("udp-timeout") ? Positive(ctx.Duration(n["udp-timeout"], "udp-timeout"), n["udp-timeout"]!, "udp-timeout") : NatSpec.DefaultUdpTimeout;
        var icmp = n.Has("icmp-timeout") ? Positive(ctx.Duration(n["icmp-timeout"], "icmp-timeout"), n["icmp-timeout"]!, "icmp-timeout") : NatSpec.DefaultIcmpTimeout;
        if (!ok || outside is null || outsideAddress is null || mapping is null || ports is null || range is null || udp is null || icmp is null) return null;
        var nat = new NatSpec([.. inside], outside, outsideAddress.Value, mapping.Value, ports.Value, range.Value, udp.Value, icmp.Value, n.Node.At);
        return new NatRouterSpec(name, interfaces, routes, gw, at, nat);
    }

    private TimeSpan? Positive(TimeSpan? value, YNode at, string what)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            ctx.Error(at, $"{what} must be longer than zero", "e.g. 30s");
            return null;
        }
        return value;
    }

    private PortRange? PortRange(YNode node)
    {
        if (ctx.Text(node, "port-range") is not { } t) return null;
        var parts = t.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && ushort.TryParse(parts[0], out var a) && ushort.TryParse(parts[1], out var b) && a >= 1 && a <= b)
            return new PortRange(a, b);
        ctx.Error(node, $"port-range '{t}' is not a range of ports", "write first-last with 1 <= first <= last <= 65535, e.g. 1024-65535");
        return null;
    }

    private RrasSpec? Rras(string name, MapReader m, ImmutableArray<InterfaceSpec> interfaces, ImmutableArray<RouteSpec> routes, Ipv4Address? gw, SourceLocation at)
    {
        var declared = m.Node["interfaces"] is YMap im ? im.Entries.Count : 0;
        string? Pick(string key)
        {
            if (m.Has(key)) return InterfaceRef(m[key], key, name, interfaces, m.Node);
            if (declared == 1) return interfaces.Length == 1 ? interfaces[0].Name : null;
            if (declared > 1) ctx.Error(m.Node, $"rras node '{name}' has several interfaces and no '{key}'", $"name the interface, e.g. '{key}: {(m.Node["interfaces"] as YMap)!.Entries[0].Key.Value}'");
            return null;
        }
        var lan = Pick("lan-interface");
        var internet = Pick("internet-interface");
        RrasVpnSpec? vpn = null;
        var more = ImmutableArray.CreateBuilder<RrasVpnSpec>();
        var vpnOk = true;
        if (m["vpn"] is { } vn)
        {
            // One Add-VpnS2SInterface, or a list of them (one to each instance of an active-active Azure gateway).
            var names = new Dictionary<string, YNode>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in vn is YSeq seq ? seq.Items : [vn])
            {
                var v = RrasVpn(name, item);
                if (v is null) { vpnOk = false; continue; }
                if (names.TryGetValue(v.InterfaceName, out var first))
                {
                    ctx.Error(item, $"interface-name '{v.InterfaceName}' is used twice on node '{name}' (first at line {first.At.Line})", "give each site-to-site interface its own name");
                    vpnOk = false;
                    continue;
                }
                names[v.InterfaceName] = item;
                if (vpn is null) vpn = v;
                else more.Add(v);
            }
        }
        RrasBgpSpec? bgp = null;
        if (m["bgp"] is { } bn)
        {
            bgp = RrasBgp(name, bn, interfaces, vpn is null ? [] : [vpn, .. more]);
            vpnOk &= bgp is not null;
        }
        if (lan is null || internet is null || !vpnOk) return null;
        return new RrasSpec(name, interfaces, routes, gw, at, lan, internet, vpn) { MssClamp = ctx.Int(m["mss-clamp"], $"mss-clamp of node '{name}'", 536, 9000), Bgp = bgp, MoreVpns = more.ToImmutable() };
    }

    private RrasVpnSpec? RrasVpn(string node, YNode body)
    {
        var what = $"vpn of node '{node}'";
        var v = ctx.Map(body, what, TopologyKeys.RrasVpn);
        if (v is null) return null;
        var ok = true;
        var destination = ctx.Address(v.Required("destination", "the Azure gateway's public address, as in Add-VpnS2SInterface -Destination"), "vpn destination");
        var interfaceName = v.Has("interface-name") ? ctx.Text(v["interface-name"], "interface-name") : destination?.ToString();
        if (v.Has("protocol")) ok &= ctx.Choice(v["protocol"], "vpn protocol", [("IKEv2", 2)]) is not null;
        if (v.Has("authentication-method")) ok &= ctx.Choice(v["authentication-method"], "authentication-method", [("PSKOnly", 0)]) is not null;
        var subnets = ImmutableArray.CreateBuilder<RrasSubnet>();
        var subnetsNode = v.Required("ipv4-subnets", "the Azure prefixes routed into the tunnel, e.g. [\"10.0.0.0/16:100\"]");
        foreach (var item in subnetsNode is YScalar ? [subnetsNode] : ctx.List(subnetsNode, "ipv4-subnets"))
        {
            if (ctx.Text(item, "ipv4-subnet") is not { } t) { ok = false; continue; }
            var colon = t.LastIndexOf(':');
            var prefixText = colon < 0 ? t : t[..colon];
            var metric = 1;
            if (colon >= 0 && (!int.TryParse(t[(colon + 1)..], out metric) || metric is < 1 or > 9999))
            {
                ctx.Error(item, $"ipv4-subnet '{t}' has a bad metric", "write prefix:metric with a metric from 1 to 9999, e.g. 10.0.10.0/24:100");
                ok = false;
                continue;
            }
            if (ctx.Prefix(item, prefixText, "ipv4-subnet") is { } p) subnets.Add(new RrasSubnet(p, metric, item.At));
            else ok = false;
        }
        var key = ctx.Text(v.Required("shared-key", "the connection's pre-shared key, the same as on the Azure connection"), "shared-key");
        var persistent = v.Has("persistent") ? ctx.Bool(v["persistent"], "persistent") : false;
        var idle = v.Has("idle-disconnect-seconds") ? ctx.Int(v["idle-disconnect-seconds"], "idle-disconnect-seconds", 0, 86_400) : 0;
        var tries = v.Has("number-of-tries") ? ctx.Int(v["number-of-tries"], "number-of-tries", 0, 1000) : 3;
        var retry = v.Has("retry-interval-seconds") ? ctx.Int(v["retry-interval-seconds"], "retry-interval-seconds", 1, 86_400) : 60;
        // Add-VpnS2SInterface -MMSALifeTimeSeconds; the validator compares it with Azure's fixed 28,800 s.
        var ikeLife = v.Has("ike-lifetime-seconds") ? ctx.Int(v["ike-lifetime-seconds"], "ike-lifetime-seconds", 300, 172_799) : (int)RrasVpnSpec.DefaultIkeLifetime.TotalSeconds;
        var keepalive = v.Has("nat-keepalive") ? Positive(ctx.Duration(v["nat-keepalive"], "nat-keepalive"), v["nat-keepalive"]!, "nat-keepalive") : RrasVpnSpec.DefaultNatKeepalive;
        var localTs = ctx.Prefixes(v["local-traffic-selectors"], "local traffic selector");
        var remoteTs = ctx.Prefixes(v["remote-traffic-selectors"], "remote traffic selector");
        var ike = DeviceDefaults.WindowsIke.ToImmutableArray();
        var esp = DeviceDefaults.WindowsEsp.ToImmutableArray();
        var source = PolicySource.DeviceDefaults;
        var childLife = RrasVpnSpec.DefaultChildLifetime;
        long childKb = RrasVpnSpec.DefaultChildLifetimeKilobytes;
        if (v.Has("custom-policy") && (v.Has("proposals") || v.Has("esp-proposals")))
        {
            ctx.Error(v.Node.KeyNode("custom-policy")!, "custom-policy and proposals/esp-proposals both given", "write the policy one way: Windows names in custom-policy, or strongSwan syntax in proposals");
            ok = false;
        }
        else if (ctx.Map(v["custom-policy"], $"custom-policy of node '{node}'", TopologyKeys.RrasCustomPolicy) is { } cp)
        {
            source = PolicySource.CustomPolicy;
            var names = new Dictionary<string, (string Text, YNode Node)>();
            foreach (var k in TopologyKeys.RrasCustomPolicy.Take(6))
                if (ctx.Text(cp.Required(k, $"Windows names: {string.Join(", ", PolicyNames.Allowed(PolicyVendor.Windows, FieldOf(k)))}"), k) is { } t)
                    names[k] = (t, cp[k]!);
            if (names.Count == 6)
            {
                var errors = new List<PolicyNameError>();
                var ikeText = PolicyNames.IkeProposal(PolicyVendor.Windows, names["encryption-method"].Text, names["integrity-check-method"].Text, names["dh-group"].Text, errors);
                var espText = PolicyNames.EspProposal(PolicyVendor.Windows, names["cipher-transform-constants"].Text, names["authentication-transform-constants"].Text, names["pfs-group"].Text, names["dh-group"].Text, errors);
                foreach (var e in errors) ctx.Error(names[KeyOf(PolicyVendor.Windows, e.Field)].Node, e.Message, e.Hint);
                if (ikeText is not null && espText is not null)
                {
                    ike = [ProposalText.Parse(ikeText, forIke: true)];
                    esp = [ProposalText.Parse(espText, forIke: false)];
                }
                else ok = false;
            }
            else ok = false;
            if (cp.Has("sa-lifetime-seconds")) childLife = TimeSpan.FromSeconds(ctx.Int(cp["sa-lifetime-seconds"], "sa-lifetime-seconds", 120, 172_799) ?? 0);
            if (cp.Has("sa-data-size-kb")) childKb = ctx.Int(cp["sa-data-size-kb"], "sa-data-size-kb", 1024, int.MaxValue) ?? 0;
            ok &= childLife > TimeSpan.Zero && childKb > 0;
        }
        else if (v.Has("proposals") || v.Has("esp-proposals"))
        {
            source = PolicySource.Proposals;
            if (v.Has("proposals")) ike = Proposals(v["proposals"]!, forIke: true, ref ok);
            if (v.Has("esp-proposals")) esp = Proposals(v["esp-proposals"]!, forIke: false, ref ok);
        }
        if (!ok || destination is null || interfaceName is null || key is null || persistent is null || idle is null || tries is null || retry is null || keepalive is null || ikeLife is null)
            return null;
        return new RrasVpnSpec(interfaceName, destination.Value, subnets.ToImmutable(), key, persistent.Value, idle.Value, tries.Value, retry.Value,
            keepalive.Value, [.. localTs], [.. remoteTs], source, ike, esp, TimeSpan.FromSeconds(ikeLife.Value), childLife, childKb, v.Node.At)
        {
            IkeLifetimeLocation = v["ike-lifetime-seconds"]?.At,
            LocalId = v.Has("local-id") ? ctx.Text(v["local-id"], "local-id") : null,
            RemoteId = v.Has("remote-id") ? ctx.Text(v["remote-id"], "remote-id") : null,
        };
    }

    private ImmutableArray<Proposal> Proposals(YNode node, bool forIke, ref bool ok)
    {
        var result = ImmutableArray.CreateBuilder<Proposal>();
        var key = forIke ? "proposals" : "esp-proposals";
        var items = node is YScalar ? [node] : ctx.List(node, key);
        if (items.Count == 0)
        {
            ctx.Error(node, $"{key} is empty", forIke ? "e.g. [aes256-sha256-modp2048]" : "e.g. [aes256gcm16]");
            ok = false;
        }
        foreach (var item in items)
        {
            if (ctx.Text(item, key) is not { } t) { ok = false; continue; }
            if (ProposalText.TryParse(t, forIke, out var p, out var error)) result.Add(p!);
            else
            {
                ctx.Error(item, $"{(forIke ? "IKE" : "ESP")} proposal '{t}' does not parse: {error}", forIke ? "write strongSwan syntax, e.g. aes256-sha256-modp2048" : "write strongSwan syntax, e.g. aes256gcm16 or aes256-sha256");
                ok = false;
            }
        }
        return result.ToImmutable();
    }

    private static PolicyField FieldOf(string key) => key switch
    {
        "encryption-method" or "ike-encryption" => PolicyField.IkeEncryption,
        "integrity-check-method" or "ike-integrity" => PolicyField.IkeIntegrity,
        "dh-group" => PolicyField.DhGroup,
        "cipher-transform-constants" or "ipsec-encryption" => PolicyField.IpsecEncryption,
        "authentication-transform-constants" or "ipsec-integrity" => PolicyField.IpsecIntegrity,
        _ => PolicyField.PfsGroup,
    };

    private static string KeyOf(PolicyVendor vendor, PolicyField field) => (vendor, field) switch
    {
        (PolicyVendor.Windows, PolicyField.IkeEncryption) => "encryption-method",
        (PolicyVendor.Windows, PolicyField.IkeIntegrity) => "integrity-check-method",
        (PolicyVendor.Windows, PolicyField.IpsecEncryption) => "cipher-transform-constants",
        (PolicyVendor.Windows, PolicyField.IpsecIntegrity) => "authentication-transform-constants",
        (PolicyVendor.Azure, PolicyField.IkeEncryption) => "ike-encryption",
        (PolicyVendor.Azure, PolicyField.IkeIntegrity) => "ike-integrity",
        (PolicyVendor.Azure, PolicyField.IpsecEncryption) => "ipsec-encryption",
        (PolicyVendor.Azure, PolicyField.IpsecIntegrity) => "ipsec-integrity",
        (_, PolicyField.DhGroup) => "dh-group",
        _ => "pfs-group",
    };

    private AzureVpnGatewaySpec? AzureGateway(string name, MapReader m, ImmutableArray<InterfaceSpec> interfaces, ImmutableArray<RouteSpec> routes, Ipv4Address? gw, SourceLocation at)
    {
        var ok = true;
        var publicNode = m.Required("public-address", "the gateway's public IP, e.g. 52.172.171.0");
        var publicAddress = ctx.Address(publicNode, "public-address");
        if (publicAddress is { } pa && interfaces.Length > 0 && !interfaces.Any(i => i.Address == pa))
        {
            ctx.Error(publicNode!, $"public-address {pa} is not the address of any interface of node '{name}'", $"give the internet-facing interface the address {pa}");
            ok = false;
        }
        var spacesNode = m.Required("vnet-address-spaces", "the VNet's prefixes, e.g. [10.0.0.0/16]");
        var spaces = ctx.Prefixes(spacesNode, "vnet address space");
        if (spacesNode is not null && spaces.Count == 0) ok = false;
        var subnetNode = m.Required("gateway-subnet", "the GatewaySubnet prefix, e.g. 10.0.255.0/27");
        var subnet = ctx.Prefix(subnetNode, "gateway-subnet");
        if (subnet is { } gs)
        {
            if (gs.Length > 29)
            {
                ctx.Error(subnetNode!, $"gateway-subnet {gs} is smaller than /29", "Azure needs a GatewaySubnet of /29 or larger (/27 recommended)");
                ok = false;
            }
            if (spaces.Count > 0 && !spaces.Any(s => s.Contains(gs)))
            {
                ctx.Error(subnetNode!, $"gateway-subnet {gs} is not inside the VNet's address spaces ({string.Join(", ", spaces)})", "pick a GatewaySubnet inside one of vnet-address-spaces");
                ok = false;
            }
            if (interfaces.Length > 0 && !interfaces.Any(i => gs.Contains(i.Address)))
            {
                ctx.Error(subnetNode!, $"no interface of node '{name}' has an address in gateway-subnet {gs}", $"give the gateway a VNet-side interface such as {new Ipv4Address(gs.Network.Value + 4)}/{gs.Length}");
                ok = false;
            }
        }
        var vpnType = m.Has("vpn-type") ? ctx.Choice(m["vpn-type"], "vpn-type", [("route-based", AzureVpnType.RouteBased), ("policy-based", AzureVpnType.PolicyBased)]) : AzureVpnType.RouteBased;
        if (vpnType == AzureVpnType.PolicyBased)
        {
            ctx.Error(m["vpn-type"]!, "a policy-based Azure gateway speaks IKEv1 only, and Nodes simulates IKEv2", "use vpn-type: route-based with use-policy-based-traffic-selectors: true on the connection");
            ok = false;
        }
        BgpSettingsSpec? bgp = null;
        if (m["bgp-settings"] is { } bn)
        {
            bgp = GatewayBgp(name, bn, subnet, interfaces);
            ok &= bgp is not null;
        }
        // Active-active: a second instance with its own public IP (IP configuration activeActive), route-based only.
        var activeActive = m.Has("active-active") ? ctx.Bool(m["active-active"], "active-active") : false;
        ok &= activeActive is not null;
        Ipv4Address? second = null;
        if (m.Has("second-public-address"))
        {
            second = ctx.Address(m["second-public-address"], "second-public-address");
            ok &= second is not null;
            if (activeActive != true)
            {
                ctx.Error(m["second-public-address"]!, $"node '{name}' has a second-public-address but is not active-active", "write active-active: true, or leave the second address out");
                ok = false;
            }
            else if (second is { } s2 && (s2 == publicAddress || !interfaces.Any(i => i.Address == s2)))
            {
                ctx.Error(m["second-public-address"]!, s2 == publicAddress ? $"second-public-address {s2} is the first instance's public-address" : $"second-public-address {s2} is not the address of any interface of node '{name}'",
                    s2 == publicAddress ? "each instance of an active-active gateway has its own public IP" : $"give the gateway a second internet-facing interface with the address {s2}");
                ok = false;
            }
        }
        else if (activeActive == true)
        {
            ctx.Error(m["active-active"]!, $"active-active node '{name}' has no second-public-address", "each instance of an active-active gateway has its own public IP: write second-public-address and give an interface that address");
            ok = false;
        }
        var connections = ImmutableArray.CreateBuilder<AzureConnectionSpec>();
        var seen = new Dictionary<string, YNode>();
        foreach (var item in ctx.List(m["connections"], $"connections of node '{name}'"))
        {
            var c = Connection(name, item, spaces);
            if (c is null) { ok = false; continue; }
            if (c.EnableBgp && (m["bgp-settings"] is null || c.LocalNetworkGateway.Bgp is null))
            {
                ctx.Error(item, $"connection '{c.Name}' has enable-bgp: true but {(m["bgp-settings"] is null ? $"node '{name}' has no bgp-settings" : "its local network gateway has no bgp-settings")}",
                    m["bgp-settings"] is null ? "give the gateway bgp-settings (asn: 65515 unless changed)" : "give the local network gateway bgp-settings: the on-premises ASN and BGP peer address");
                ok = false;
            }
            if (c.EnableBgp && bgp is not null && c.LocalNetworkGateway.Bgp is { } lb && lb.Asn == bgp.Asn)
            {
                ctx.Error(item, $"connection '{c.Name}': the on-premises ASN {lb.Asn} equals the gateway's", "Azure needs the on-premises ASN to differ from its own");
                ok = false;
            }
            if (c.GatewayCustomBgpAddress is { } cb && bgp is not null && !bgp.CustomAddresses.Contains(cb))
            {
                ctx.Error(item, $"gateway-custom-bgp-address {cb} of connection '{c.Name}' is not one of node '{name}''s custom-bgp-addresses", $"add it to bgp-settings.custom-bgp-addresses or use one of: {string.Join(", ", bgp.CustomAddresses)}");
                ok = false;
            }
            if (seen.TryGetValue(c.Name, out var first))
            {
                ctx.Error(item, $"connection name '{c.Name}' is used twice on node '{name}' (first at line {first.At.Line})", "give each connection its own name");
                ok = false;
                continue;
            }
            seen[c.Name] = item;
            connections.Add(c);
        }
        // RFC 7296 section 2.23: a side not behind a NAT follows the peer to the address and port of its latest
        // authenticated packet; "ignore" models a device that pins its peer to the endpoint learned at setup for
        // everything it sends, responses included (unlike RFC 7296 section 2.11).
        var follows = m.Has("nat-rebinding") ? ctx.Choice(m["nat-rebinding"], "nat-rebinding", [("follow", true), ("ignore", false)]) : true;
        if (!ok || publicAddress is null || subnet is null || vpnType is null || spaces.Count == 0 || follows is null) return null;
        return new AzureVpnGatewaySpec(name, interfaces, routes, gw, at, publicAddress.Value, [.. spaces], subnet.Value, vpnType.Value, connections.ToImmutable(), follows.Value)
        {
            MssClamp = ctx.Int(m["mss-clamp"], $"mss-clamp of node '{name}'", 536, 9000),
            Bgp = bgp,
            ActiveActive = activeActive ?? false,
            SecondPublicAddress = second,
        };
    }

    private AzureConnectionSpec? Connection(string node, YNode body, List<Ipv4Prefix> vnetSpaces)
    {
        var c = ctx.Map(body, $"connection of node '{node}'", TopologyKeys.AzureConnection);
        if (c is null) return null;
        var ok = true;
        var name = ctx.Text(c.Required("name", "the connection's name, e.g. home-rras"), "connection name");
        var what = name is null ? "connection" : $"connection '{name}'";
        var lng = LocalNetworkGateway(what, c.Required("local-network-gateway", "the on-premises side: gateway-address and address-spaces"), vnetSpaces);
        var keyNode = c.Required("shared-key", "the pre-shared key, the same as on the RRAS interface");
        var key = ctx.Text(keyNode, "shared-key");
        if (key is not null)
        {
            // Azure accepts printable ASCII except space, '-' and '~' (VPN Gateway FAQ), up to 128 characters.
            var bad = key.FirstOrDefault(ch => ch is < '!' or > '}' || ch == '-');
            if (key.Length is 0 or > 128 || bad != default)
            {
                ctx.Error(keyNode!, key.Length is 0 or > 128 ? $"shared-key of {what} must be 1 to 128 characters" : $"shared-key of {what} contains '{bad}', which Azure does not accept",
                    "use printable ASCII without spaces, '-' or '~'");
                ok = false;
            }
        }
        if (c.Has("connection-protocol"))
        {
            var p = ctx.Text(c["connection-protocol"], "connection-protocol");
            if (p is not null && !string.Equals(p, "IKEv2", StringComparison.OrdinalIgnoreCase))
            {
                ctx.Error(c["connection-protocol"]!, string.Equals(p, "IKEv1", StringComparison.OrdinalIgnoreCase) ? $"{what} uses IKEv1; Nodes simulates IKEv2 only" : $"connection-protocol '{p}' is not IKEv1 or IKEv2", "use connection-protocol: IKEv2 (Azure's default and the only protocol Azure's RRAS script configures)");
                ok = false;
            }
        }
        var mode = c.Has("connection-mode")
            ? ctx.Choice(c["connection-mode"], "connection-mode", [("Default", ConnectionMode.Default), ("InitiatorOnly", ConnectionMode.InitiatorOnly), ("ResponderOnly", ConnectionMode.ResponderOnly)])
            : ConnectionMode.Default;
        var dpd = c.Has("dpd-timeout-seconds") ? ctx.Int(c["dpd-timeout-seconds"], "dpd-timeout-seconds", 9, 3600) : AzureConnectionSpec.DefaultDpdTimeoutSeconds;
        var policyTs = c.Has("use-policy-based-traffic-selectors") ? ctx.Bool(c["use-policy-based-traffic-selectors"], "use-policy-based-traffic-selectors") : false;
        var tsps = ImmutableArray.CreateBuilder<TrafficSelectorPolicySpec>();
        if (c.Has("traffic-selector-policies") && policyTs == false)
        {
            ctx.Error(c.Node.KeyNode("traffic-selector-policies")!, $"traffic-selector-policies on {what} need use-policy-based-traffic-selectors: true", "set use-policy-based-traffic-selectors: true, or remove the policies");
            ok = false;
        }
        foreach (var item in ctx.List(c["traffic-selector-policies"], "traffic-selector-policies"))
        {
            var t = ctx.Map(item, "traffic selector policy", TopologyKeys.TrafficSelectorPolicy);
            if (t is null) { ok = false; continue; }
            var local = ctx.Prefixes(t.Required("local-address-ranges", "Azure-side prefixes, e.g. [10.0.10.0/24]"), "local address range");
            var remote = ctx.Prefixes(t.Required("remote-address-ranges", "on-premises prefixes, e.g. [192.168.29.0/24]"), "remote address range");
            if (local.Count == 0 || remote.Count == 0) { ok = false; continue; }
            tsps.Add(new TrafficSelectorPolicySpec([.. local], [.. remote], item.At));
        }
        var source = PolicySource.DeviceDefaults;
        var ike = DeviceDefaults.AzureIke.ToImmutableArray();
        var espI = DeviceDefaults.AzureEspInitiator.ToImmutableArray();
        var espR = DeviceDefaults.AzureEspResponder.ToImmutableArray();
        var childLife = DeviceDefaults.AzureChildLifetime;
        long childKb = AzureConnectionSpec.DefaultChildLifetimeKilobytes;
        if (ctx.Map(c["ipsec-policy"], $"ipsec-policy of {what}", TopologyKeys.AzureIpsecPolicy) is { } p2)
        {
            source = PolicySource.CustomPolicy;
            var names = new Dictionary<string, (string Text, YNode Node)>();
            // Azure requires every algorithm field of a custom policy (ipsec-ike-policy-howto).
            foreach (var k in TopologyKeys.AzureIpsecPolicy.Take(6))
                if (ctx.Text(p2.Required(k, $"Azure names: {string.Join(", ", PolicyNames.Allowed(PolicyVendor.Azure, FieldOf(k)))}"), k) is { } t)
                    names[k] = (t, p2[k]!);
            if (names.Count == 6)
            {
                var errors = new List<PolicyNameError>();
                var ikeText = PolicyNames.IkeProposal(PolicyVendor.Azure, names["ike-encryption"].Text, names["ike-integrity"].Text, names["dh-group"].Text, errors);
                var espText = PolicyNames.EspProposal(PolicyVendor.Azure, names["ipsec-encryption"].Text, names["ipsec-integrity"].Text, names["pfs-group"].Text, names["dh-group"].Text, errors);
                foreach (var e in errors) ctx.Error(names[KeyOf(PolicyVendor.Azure, e.Field)].Node, e.Message, e.Hint);
                if (ikeText is not null && espText is not null)
                {
                    ike = [ProposalText.Parse(ikeText, forIke: true)];
                    espI = espR = [ProposalText.Parse(espText, forIke: false)];
                }
                else ok = false;
            }
            else ok = false;
            if (p2.Has("sa-lifetime-seconds")) childLife = TimeSpan.FromSeconds(ctx.Int(p2["sa-lifetime-seconds"], "sa-lifetime-seconds", 300, 172_799) ?? 0);
            if (p2.Has("sa-data-size-kilobytes")) childKb = ctx.Int(p2["sa-data-size-kilobytes"], "sa-data-size-kilobytes", 1024, int.MaxValue) ?? 0;
            ok &= childLife > TimeSpan.Zero && childKb > 0;
        }
        var enableBgp = c.Has("enable-bgp") ? ctx.Bool(c["enable-bgp"], "enable-bgp") : false;
        Ipv4Address? customBgp = null;
        if (c.Has("gateway-custom-bgp-address"))
        {
            customBgp = ctx.Address(c["gateway-custom-bgp-address"], "gateway-custom-bgp-address");
            ok &= customBgp is not null;
        }
        if (enableBgp == true && policyTs == true)
        {
            ctx.Error(c["enable-bgp"]!, $"{what} has enable-bgp and use-policy-based-traffic-selectors", "BGP needs the route-based selectors (any to any) that carry the BGP session: set use-policy-based-traffic-selectors: false");
            ok = false;
        }
        if (!ok || name is null || lng is null || key is null || mode is null || dpd is null || policyTs is null || enableBgp is null) return null;
        return new AzureConnectionSpec(name, lng, key, mode.Value, dpd.Value, policyTs.Value, tsps.ToImmutable(), source, ike, espI, espR,
            DeviceDefaults.AzureIkeLifetime, childLife, childKb, body.At)
        {
            LocalId = c.Has("local-id") ? ctx.Text(c["local-id"], "local-id") : null,
            RemoteId = c.Has("remote-id") ? ctx.Text(c["remote-id"], "remote-id") : null,
            EnableBgp = enableBgp ?? false,
            GatewayCustomBgpAddress = customBgp,
        };
    }

    private LocalNetworkGatewaySpec? LocalNetworkGateway(string what, YNode? body, List<Ipv4Prefix> vnetSpaces)
    {
        var l = ctx.Map(body, $"local-network-gateway of {what}", TopologyKeys.LocalNetworkGateway);
        if (l is null) return null;
        var ok = true;
        var lngName = l.Has("name") ? ctx.Text(l["name"], "local network gateway name") : null;
        Ipv4Address? address = null;
        string? fqdn = null;
        if (l.Has("gateway-address") == l.Has("fqdn"))
        {
            ctx.Error(l.Node, l.Has("fqdn") ? $"local-network-gateway of {what} has both gateway-address and fqdn" : $"local-network-gateway of {what} has neither gateway-address nor fqdn",
                "give exactly one: the public address the on-premises device's packets come from (the NAT's outside address), or its FQDN");
            ok = false;
        }
        else if (l.Has("gateway-address"))
        {
            address = ctx.Address(l["gateway-address"], "gateway-address");
            ok &= address is not null;
        }
        else
        {
            fqdn = ctx.Text(l["fqdn"], "fqdn");
            ok &= fqdn is not null;
        }
        var spacesNode = l.Required("address-spaces", "the on-premises prefixes reached through this connection, e.g. [192.168.29.0/24]");
        var spaces = ctx.Prefixes(spacesNode, "address space");
        if (spacesNode is null || spaces.Count == 0) ok = false;
        foreach (var s in spaces)
        {
            var clash = vnetSpaces.FirstOrDefault(v => v.Contains(s) || s.Contains(v));
            if (clash != default || vnetSpaces.Contains(s))
            {
                ctx.Error(spacesNode!, $"address space {s} of {what} overlaps the VNet's {(vnetSpaces.Contains(s) ? s : clash)}", "on-premises and VNet prefixes must not overlap; Azure could not route between them");
                ok = false;
            }
        }
        BgpSettingsSpec? bgp = null;
        if (l["bgp-settings"] is { } bn)
        {
            bgp = LocalNetworkGatewayBgp(what, bn, address);
            ok &= bgp is not null;
        }
        if (!ok) return null;
        return new LocalNetworkGatewaySpec(lngName, address, fqdn, [.. spaces], l.Node.At) { Bgp = bgp };
    }

    /// <summary>tc-netem impairments from the keys of a link or of a link-impair fault's params.</summary>
    public ImpairmentSpec? Impairments(MapReader m, string what)
    {
        var ok = true;
        NetemTime? Time(string key)
        {
            if (!m.Has(key)) return null;
            var d = ctx.Duration(m[key], key);
            if (d is null) { ok = false; return null; }
            if (d.Value > TimeSpan.FromSeconds(60))
            {
                ctx.Error(m[key]!, $"{key} {((YScalar)m[key]!).Value} on {what} is longer than 60s", "netem delays are milliseconds to seconds; use a link-down fault for an outage");
                ok = false;
                return null;
            }
            return new NetemTime(d.Value, ((YScalar)m[key]!).Value);
        }
        NetemPercent? Percent(string key)
        {
            if (!m.Has(key)) return null;
            if (ctx.Text(m[key], key) is not { } t) { ok = false; return null; }
            if (!Units.TryPercent(t, out var p))
            {
                ctx.Error(m[key]!, $"{key} '{t}' on {what} is not a percentage", "write a number with '%', e.g. 0.1%");
                ok = false;
                return null;
            }
            if (p is < 0 or > 100)
            {
                ctx.Error(m[key]!, $"{key} {t} on {what} is out of range", "a percentage goes from 0% to 100%");
                ok = false;
                return null;
            }
            return new NetemPercent(p, t);
        }
        var delay = Time("delay");
        var jitter = Time("jitter");
        var loss = Percent("loss");
        var duplicate = Percent("duplicate");
        var reorder = Percent("reorder");
        var corrupt = Percent("corrupt");
        var correlation = Percent("correlation");
        NetemRate? rate = null;
        if (m.Has("rate") && ctx.Text(m["rate"], "rate") is { } rt)
        {
            if (!Units.TryRate(rt, out var bps) || bps <= 0)
            {
                ctx.Error(m["rate"]!, $"rate '{rt}' on {what} is not a positive rate", "write a number with tc's unit: bit, kbit, mbit, gbit (bits) or bps, kbps, mbps (bytes), e.g. 100mbit");
                ok = false;
            }
            else rate = new NetemRate(bps, rt);
        }
        else if (m.Has("rate")) ok = false;
        // tc-netem(8): jitter is a variation around a delay, and reordering needs a delay to reorder against.
        if (jitter is not null && delay is null)
        {
            ctx.Error(m.Node.KeyNode("jitter")!, $"jitter on {what} needs a delay", "add delay, e.g. 'delay: 20ms' (netem varies the delay by the jitter)");
            ok = false;
        }
        if (reorder is not null && delay is null)
        {
            ctx.Error(m.Node.KeyNode("reorder")!, $"reorder on {what} needs a delay", "add delay, e.g. 'delay: 10ms' (netem sends the reordered packets at once and delays the rest)");
            ok = false;
        }
        if (jitter is not null && delay is not null && jitter.Value > delay.Value)
        {
            ctx.Error(m["jitter"]!, $"jitter {jitter.Text} on {what} is larger than the delay {delay.Text}", "keep jitter at most the delay, or packets would need negative delays");
            ok = false;
        }
        if (!ok) return null;
        return new ImpairmentSpec(delay, jitter, loss, duplicate, reorder, corrupt, rate, correlation);
    }
}
