using System.Collections.Immutable;
using System.Globalization;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Loading;

// BGP as Azure and RRAS write it: bgp-settings on the gateway and on a local network gateway, enable-bgp on a
// connection, and RRAS's bgp block with Add-BgpRouter's and Add-BgpPeer's parameters.
internal sealed partial class NodeParser
{
    private uint? Asn(YNode? node, string what)
    {
        if (ctx.Text(node, what) is not { } t) return null;
        if (!uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var asn) || asn == 0)
        {
            ctx.Error(node!, $"{what} '{t}' is not an AS number", "write a number from 1 to 4294967295, e.g. 65010 (64512 to 65534 are for private use)");
            return null;
        }
        return asn;
    }

    /// <summary>The gateway's bgp-settings: ASN (Azure's 65515 by default), BGP peer address in the GatewaySubnet, custom APIPA addresses.</summary>
    private BgpSettingsSpec? GatewayBgp(string node, YNode body, Ipv4Prefix? gatewaySubnet, ImmutableArray<InterfaceSpec> interfaces)
    {
        var b = ctx.Map(body, $"bgp-settings of node '{node}'", TopologyKeys.AzureBgpSettings);
        if (b is null) return null;
        var ok = true;
        var asn = b.Has("asn") ? Asn(b["asn"], "asn") : BgpSettingsSpec.AzureDefaultAsn;
        ok &= asn is not null;
        Ipv4Address? secondPeering = null;
        if (b.Has("second-bgp-peering-address"))
        {
            secondPeering = ctx.Address(b["second-bgp-peering-address"], "second-bgp-peering-address");
            ok &= secondPeering is not null;
            if (secondPeering is { } sp && gatewaySubnet is { } sgs && !sgs.Contains(sp))
            {
                ctx.Error(b["second-bgp-peering-address"]!, $"second-bgp-peering-address {sp} of node '{node}' is not in its gateway-subnet {sgs}", "an active-active gateway's second BGP address is in the GatewaySubnet too");
                ok = false;
            }
        }
        Ipv4Address? peering = null;
        if (b.Has("bgp-peering-address"))
        {
            peering = ctx.Address(b["bgp-peering-address"], "bgp-peering-address");
            ok &= peering is not null;
            if (peering is { } pa && gatewaySubnet is { } gs && !gs.Contains(pa))
            {
                ctx.Error(b["bgp-peering-address"]!, $"bgp-peering-address {pa} of node '{node}' is not in its gateway-subnet {gs}", $"Azure takes its BGP peer address from the GatewaySubnet, e.g. {new Ipv4Address(gs.Last.Value - 1)}");
                ok = false;
            }
        }
        var custom = ImmutableArray.CreateBuilder<Ipv4Address>();
        foreach (var item in ctx.List(b["custom-bgp-addresses"], "custom-bgp-addresses"))
        {
            if (ctx.Address(item, "custom BGP address") is not { } a) { ok = false; continue; }
            if (!AzureBgpRules.IsAzureApipa(a))
            {
                ctx.Error(item, $"custom BGP address {a} of node '{node}' is outside Azure's APIPA range", "Azure accepts custom BGP addresses from 169.254.21.0 to 169.254.22.255 only");
                ok = false;
                continue;
            }
            if (custom.Contains(a))
            {
                ctx.Error(item, $"custom BGP address {a} is listed twice", "each custom APIPA address must differ");
                ok = false;
                continue;
            }
            custom.Add(a);
        }
        return ok ? new BgpSettingsSpec(asn!.Value, peering, custom.ToImmutable(), body.At) { SecondPeeringAddress = secondPeering } : null;
    }

    /// <summary>A local network gateway's bgp-settings: the on-premises speaker's ASN and BGP peer address.</summary>
    private BgpSettingsSpec? LocalNetworkGatewayBgp(string what, YNode body, Ipv4Address? gatewayAddress)
    {
        var b = ctx.Map(body, $"bgp-settings of the local network gateway of {what}", TopologyKeys.LocalNetworkGatewayBgpSettings);
        if (b is null) return null;
        var ok = true;
        var asn = Asn(b.Required("asn", "the on-premises BGP speaker's ASN, e.g. 65010"), "asn");
        if (asn is { } n && AzureBgpRules.IsReservedOnPremisesAsn(n))
        {
            ctx.Error(b["asn"]!, $"Azure refuses ASN {n} for an on-premises BGP speaker: it is reserved by Azure or by IANA ({AzureBgpRules.ReservedAsnText})",
                "give the on-premises BGP speaker another private ASN, e.g. 65010");
            ok = false;
        }
        var address = ctx.Address(b.Required("bgp-peering-address", "the on-premises speaker's BGP address, e.g. 192.168.29.52"), "bgp-peering-address");
        if (address is { } a && a == gatewayAddress)
        {
            ctx.Error(b["bgp-peering-address"]!, $"bgp-peering-address {a} of {what} is the device's public address", "Azure needs the BGP peer address to differ from the on-premises device's public IP: use its LAN or loopback address");
            ok = false;
        }
        if (asn is null || address is null || !ok) return null;
        return new BgpSettingsSpec(asn.Value, address, [], body.At);
    }

    /// <summary>RRAS's bgp block: Add-BgpRouter's identifier and ASN, its Add-BgpPeer entries and Add-BgpCustomRoute networks.</summary>
    private RrasBgpSpec? RrasBgp(string node, YNode body, ImmutableArray<InterfaceSpec> interfaces, ImmutableArray<RrasVpnSpec> vpns)
    {
        var b = ctx.Map(body, $"bgp of node '{node}'", TopologyKeys.RrasBgp);
        if (b is null) return null;
        var ok = true;
        var id = ctx.Address(b.Required("bgp-identifier", "Add-BgpRouter -BgpIdentifier, usually the server's LAN address"), "bgp-identifier");
        var asn = Asn(b.Required("local-asn", "Add-BgpRouter -LocalASN, e.g. 65010"), "local-asn");
        ok &= id is not null && asn is not null;
        var peers = ImmutableArray.CreateBuilder<RrasBgpPeerSpec>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var peersNode = b.Required("peers", "one entry per Add-BgpPeer, e.g. the Azure gateway's BGP address");
        foreach (var item in ctx.List(peersNode, $"peers of node '{node}'"))
        {
            var p = ctx.Map(item, $"BGP peer of node '{node}'", TopologyKeys.RrasBgpPeer);
            if (p is null) { ok = false; continue; }
            var name = ctx.Text(p.Required("name", "Add-BgpPeer -Name, e.g. AzureS2SGw"), "peer name");
            var local = ctx.Address(p.Required("local-ip-address", "Add-BgpPeer -LocalIPAddress: one of the server's own addresses"), "local-ip-address");
            var remote = ctx.Address(p.Required("peer-ip-address", "Add-BgpPeer -PeerIPAddress: the Azure gateway's BGP peer address"), "peer-ip-address");
            var peerAsn = Asn(p.Required("peer-asn", "Add-BgpPeer -PeerASN: 65515 for Azure unless changed"), "peer-asn");
            var mode = p.Has("operation-mode") ? ctx.Choice(p["operation-mode"], "operation-mode", [("Mixed", BgpOperationMode.Mixed), ("Server", BgpOperationMode.Server)]) : BgpOperationMode.Mixed;
            var peering = p.Has("peering-mode") ? ctx.Choice(p["peering-mode"], "peering-mode", [("Automatic", false), ("Manual", true)]) : false;
            var hold = p.Has("hold-time-sec") ? ctx.Int(p["hold-time-sec"], "hold-time-sec", 3, 65535) : 90;
            var idle = p.Has("idle-hold-time-sec") ? ctx.Int(p["idle-hold-time-sec"], "idle-hold-time-sec", 1, 65535) : 5;
            int? max = p.Has("max-allowed-prefix") ? ctx.Int(p["max-allowed-prefix"], "max-allowed-prefix", 1, 1_000_000) : null;
            if (name is null || local is null || remote is null || peerAsn is null || mode is null || peering is null || hold is null || idle is null || (p.Has("max-allowed-prefix") && max is null))
            {
                ok = false;
                continue;
            }
            if (!names.Add(name))
            {
                ctx.Error(item, $"BGP peer name '{name}' is used twice on node '{node}'", "give each Add-BgpPeer its own -Name");
                ok = false;
                continue;
            }
            if (!interfaces.Any(i => i.Address == local))
            {
                ctx.Error(p["local-ip-address"]!, $"local-ip-address {local} of BGP peer '{name}' is not an address of node '{node}'",
                    $"RRAS speaks BGP from one of its own addresses: {string.Join(", ", interfaces.Select(i => i.Address))}");
                ok = false;
            }
            if (peerAsn == asn)
            {
                ctx.Error(p["peer-asn"]!, $"peer-asn {peerAsn} of BGP peer '{name}' equals the router's local-asn", "a BGP session over the tunnel is external (eBGP): Azure's ASN must differ from RRAS's");
                ok = false;
            }
            if (vpns.Length > 0 && !vpns.Any(v => v.Ipv4Subnets.Any(s => s.Prefix.Contains(remote.Value))))
            {
                ctx.Error(p["peer-ip-address"]!, $"peer-ip-address {remote} of BGP peer '{name}' is not routed into the VPN interface {string.Join(" or ", vpns.Select(v => v.InterfaceName))}",
                    $"add a host route to the Azure BGP peer through the tunnel, as Azure's BGP guide asks: ipv4-subnets: [\"{remote}/32:100\", ...]");
                ok = false;
            }
            peers.Add(new RrasBgpPeerSpec(name, local.Value, remote.Value, peerAsn.Value, mode.Value, peering.Value, hold.Value, idle.Value, max, item.At));
        }
        if (peersNode is not null && peers.Count == 0 && ok)
        {
            ctx.Error(peersNode, $"bgp of node '{node}' has no peers", "add one Add-BgpPeer entry: name, local-ip-address, peer-ip-address, peer-asn");
            ok = false;
        }
        var routes = ctx.Prefixes(b["custom-routes"], "custom route");
        if (b.Has("custom-routes") && routes.Count == 0 && b["custom-routes"] is YSeq { Items.Count: > 0 }) ok = false;
        if (!ok || id is null || asn is null) return null;
        return new RrasBgpSpec(id.Value, asn.Value, peers.ToImmutable(), [.. routes], body.At);
    }
}
