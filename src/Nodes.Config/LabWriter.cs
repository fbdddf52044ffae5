using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Nodes.Topology;
using Nodes.Wire.Ip;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config;

/// <summary>A lab written from imported configuration: its YAML, and for each YAML line the source it came from.</summary>
public sealed record ImportedLab(string Yaml, IReadOnlyDictionary<int, SourceLocation> Origins, IReadOnlyList<ConfigNote> Notes);

/// <summary>
/// Writes a topology file around imported configuration: the seed lab's shape (client, RRAS behind the ISP
/// router's NAT, internet, Azure gateway, VNet router, VM), with the user's RRAS interface, Azure connection, local
/// network gateway and VNet in place of the seed's. Each imported value carries a comment with the file:line:column
/// it came from; where no file gives a value, the seed lab's is used and the comment says so. The addresses are
/// derived: the home LAN from the local network gateway's address space, the NAT's outside address from its gateway
/// address, the Azure gateway's public address from RRAS's destination, the VNet's subnets from its address space.
/// </summary>
public static partial class LabWriter
{
    private static readonly Ipv4Address SeedGateway = Ipv4Address.Parse("52.172.171.0");
    private static readonly Ipv4Address SeedNat = Ipv4Address.Parse("203.0.113.10");
    private static readonly Ipv4Prefix SeedLan = Ipv4Prefix.Parse("192.168.29.0/24");
    private static readonly Ipv4Prefix SeedVnet = Ipv4Prefix.Parse("10.0.0.0/16");
    private const string SeedKey = "Nodes4LabSharedKey";
    private const string Seed = "seed lab (topology/azure-s2s-rras.yaml)";

    [GeneratedRegex("^[A-Za-z0-9._/][A-Za-z0-9._/-]*$")]
    private static partial Regex Plain();

    /// <summary>Builds the lab; throws <see cref="ImportException"/> when the addresses leave no consistent lab.</summary>
    public static ImportedLab Write(ImportedConfig config, string labName)
    {
        var notes = new List<ConfigNote>(config.Notes);
        var r = config.Find(ConfigObjectKind.RrasInterface);
        var c = config.Find(ConfigObjectKind.Connection);
        var l = config.Find(ConfigObjectKind.LocalNetworkGateway);
        var g = config.Find(ConfigObjectKind.AzureGateway);
        var v = config.Find(ConfigObjectKind.AzureVnet);
        var b = config.Find(ConfigObjectKind.RrasBgp);
        var o = new YamlOut();
        // BGP: on when RRAS has a BGP router or Azure enables it on the connection or the gateway (every Azure gateway
        // has an ASN, 65515 by default, whether BGP is on or not: the ASN alone says nothing).
        var bgpOn = b is not null || Bool(c?.Get(K.EnableBgp)?.Value ?? "") == "true" || Bool(g?.Get(K.EnableBgp)?.Value ?? "") == "true";

        // The Azure gateway's public address: the gateway's own, else RRAS's destination, else the seed's.
        var destination = r?.Get(K.Destination);
        Ipv4Address? destAddress = destination is { } dv && Ipv4Address.TryParse(dv.Value, out var da) ? da : null;
        if (destination is { } dh && destAddress is null)
            notes.Add(new ConfigNote(dh.At, $"destination {dh.Value}", "the lab's RRAS dials an address; it dials the Azure gateway's address instead"));
        var gwValue = g?.Get(K.PublicAddress) is { } pv && Ipv4Address.TryParse(pv.Value, out var pa) ? (pa, (ConfigValue?)pv) : destAddress is { } d ? (d, destination) : (SeedGateway, null);
        var gwPublic = gwValue.Item1;
        var rrasDest = destAddress ?? gwPublic;

        // Address spaces.
        var vnetSpaces = Prefixes(v?.List(K.VnetAddressSpaces), notes);
        var vnetFrom = "the VNet";
        if (vnetSpaces.Count == 0 && r is not null)
        {
            vnetSpaces = Prefixes(r.List(K.Ipv4Subnets).Select(s => s with { Value = StripMetric(s.Value) }).ToList(), notes);
            vnetFrom = "RRAS's -IPv4Subnet";
            // With BGP RRAS may route only a host route to Azure's BGP address: the VNet is the /16 around it.
            if (bgpOn && vnetSpaces.Count > 0 && vnetSpaces.All(s => s.Prefix.Length == 32))
            {
                vnetSpaces = [(new Ipv4Prefix(vnetSpaces[0].Prefix.Network, 16), vnetSpaces[0].Value)];
                vnetFrom = "the /16 around Azure's BGP address in RRAS's -IPv4Subnet (the VNet's prefixes come by BGP)";
            }
        }
        if (vnetSpaces.Count == 0 && c is not null)
        {
            vnetSpaces = Prefixes(c.List(K.TrafficSelectorLocal), notes);
            vnetFrom = "the connection's local traffic selectors";
        }
        if (vnetSpaces.Count == 0)
        {
            vnetSpaces = [(SeedVnet, null)];
            vnetFrom = "the seed lab";
        }
        var onPrem = Prefixes(l?.List(K.AddressSpaces), notes);
        if (onPrem.Count == 0 && c is not null) onPrem = Prefixes(c.List(K.TrafficSelectorRemote), notes);
        var lanEntry = onPrem.FirstOrDefault(p => p.Prefix.Length <= 29);
        if (lanEntry.Value is null && bgpOn)
        {
            // With BGP the local network gateway may list only the BGP peer's /32: the LAN is then what RRAS
            // advertises (Add-BgpCustomRoute), or the /24 around the on-premises BGP address.
            var advertised = Prefixes(b?.List(K.CustomRoutes).ToList(), notes).FirstOrDefault(p => p.Prefix.Length <= 29);
            var bgpAddress = (l?.Get(K.BgpPeeringAddress) ?? b?.Get(K.LocalIpAddress) ?? b?.Get(K.BgpIdentifier)) is { } ba && Ipv4Address.TryParse(ba.Value, out var bap) ? (bap, (ConfigValue?)ba) : default;
            if (advertised.Value is not null) lanEntry = advertised;
            else if (bgpAddress.Item2 is { } bv) lanEntry = (new Ipv4Prefix(bgpAddress.bap, 24), bv);
        }
        var lan = lanEntry.Value is null && onPrem.Count == 0 ? SeedLan : lanEntry.Prefix;
        if (onPrem.Count > 0 && lanEntry.Value is null)
        {
            lan = SeedLan;
            notes.Add(new ConfigNote(onPrem[0].Value?.At ?? default, "the local network gateway's address space", $"no prefix of it is large enough for a home LAN (/29 or larger); the lab's home LAN is {SeedLan}"));
        }
        if (onPrem.Count == 0) onPrem = [(lan, null)];

        var natValue = l?.Get(K.GatewayAddress) is { } nv && Ipv4Address.TryParse(nv.Value, out var na) ? (na, (ConfigValue?)nv) : (SeedNat, null);
        if (l?.Get(K.Fqdn) is { } fq && l.Get(K.GatewayAddress) is null)
            notes.Add(new ConfigNote(fq.At, $"fqdn {fq.Value}", $"the lab has no DNS; the local network gateway uses the home NAT's address {SeedNat} instead"));
        var nat = natValue.Item1;
        if ((nat.Value >> 1) == (gwPublic.Value >> 1))
            throw new ImportException(natValue.Item2?.At ?? gwValue.Item2?.At ?? default, $"the on-premises public address {nat} and the Azure gateway's {gwPublic} are in one /31",
                "the lab gives each of them its own /31 link to the internet; check the two addresses");

        // The VNet's GatewaySubnet and a workload subnet with the VM.
        var (vnet0, vnet0At) = vnetSpaces[0];
        var gwSubnetValue = v?.Get(K.GatewaySubnet);
        Ipv4Prefix gwSubnet;
        if (gwSubnetValue is { } gsv && Ipv4Prefix.TryParse(gsv.Value, out var gsp)) gwSubnet = gsp;
        else
        {
            if (gwSubnetValue is { } bad) notes.Add(new ConfigNote(bad.At, $"GatewaySubnet {bad.Value}", "not an IPv4 prefix; the lab picks one"));
            gwSubnet = GatewaySubnetIn(vnet0) ?? throw new ImportException(vnet0At?.At ?? default, $"the VNet address space {vnet0} is too small for a GatewaySubnet and a workload subnet",
                "give the VNet a /28 or larger address space");
        }
        var workload = WorkloadIn(vnetSpaces.Select(s => s.Prefix), gwSubnet) ?? throw new ImportException(vnet0At?.At ?? default,
            $"the VNet address space {vnet0} leaves no room for a workload subnet beside the GatewaySubnet {gwSubnet}", "give the VNet a larger address space");
        var vm = Host(workload, 4);

        // Shared keys: each side's own; a side without one takes the other's.
        var rrasKey = r?.Get(K.SharedKey);
        var azureKey = c?.Get(K.SharedKey);
        if (r is not null && rrasKey is null)
            notes.Add(new ConfigNote(r.At, "RRAS's shared secret", azureKey is null ? "no imported file gives it; the lab uses its own on both sides" : "no RRAS file gives it (Get-VpnS2SInterface does not show it); the lab uses the Azure connection's"));
        if (c is not null && azureKey is null)
            notes.Add(new ConfigNote(c.At, "the connection's shared key", rrasKey is null ? "no imported file gives it; the lab uses its own on both sides" : "no Azure file gives it; the lab uses RRAS's"));

        var rrasAddr = lan.Length <= 25 ? Host(lan, 52) : Host(lan, 2);
        // RRAS speaks BGP from its LAN address: the one its BGP peer or router names, when the LAN holds it.
        foreach (var named in new[] { b?.Get(K.LocalIpAddress), b?.Get(K.BgpIdentifier), l?.Get(K.BgpPeeringAddress) })
            if (named is { } nv2 && Ipv4Address.TryParse(nv2.Value, out var na2) && lan.Contains(na2) && na2 != lan.Network && na2 != lan.Last)
            {
                rrasAddr = na2;
                break;
            }
        var clientAddr = lan.Length <= 25 ? Host(lan, 55) : Host(lan, 3);
        var routerAddr = Host(lan, 1);
        if (routerAddr == rrasAddr) routerAddr = Host(lan, 2);
        var connName = c?.Name ?? "home-rras";
        if (clientAddr == rrasAddr || clientAddr == routerAddr) clientAddr = Host(lan, lan.Length <= 25 ? 56u : 4u);

        // Azure's BGP side: its ASN and its BGP address in the GatewaySubnet (the gateway's own, else the one RRAS
        // peers with, else the subnet's last usable one, as Azure picks).
        var azureAsn = g?.Get(K.Asn) ?? b?.Get(K.PeerAsn);
        var azureBgpValue = new[] { g?.Get(K.BgpPeeringAddress), b?.Get(K.PeerIpAddress) }
            .FirstOrDefault(x => x is { } y && Ipv4Address.TryParse(y.Value, out var ya) && gwSubnet.Contains(ya) && ya != Host(gwSubnet, 4));
        var azureBgp = azureBgpValue is { } abv ? Ipv4Address.Parse(abv.Value) : new Ipv4Address(gwSubnet.Last.Value - 1);

        o.Line($"name: {Scalar(labName)}");
        o.Line("seed: 29");
        o.Line("");
        o.Line("topology:");
        o.Line("  defaults:");
        o.Line("    mtu: 1500");
        o.Line("    os: windows");
        o.Line("");
        o.Line("  nodes:");
        o.Line("    client:");
        o.Line("      kind: host");
        o.Line("      interfaces:");
        o.Line($"        eth0: {{ address: {clientAddr}/{lan.Length} }}", null, lanEntry.Value is { } lv ? $"in {lan}, the local network gateway's address space at {lv.At}" : Seed);
        o.Line($"      default-gateway: {routerAddr}");
        o.Line("");

        // RRAS.
        o.Line("    rras:");
        o.Line("      kind: rras");
        o.Line("      interfaces:");
        o.Line($"        lan: {{ address: {rrasAddr}/{lan.Length} }}");
        o.Line("      lan-interface: lan");
        o.Line("      internet-interface: lan");
        o.Line($"      default-gateway: {routerAddr}");
        o.Line("      vpn:");
        if (r?.Name is { } rn) o.Line($"        interface-name: {Scalar(rn)}", new ConfigValue(rn, r.At));
        else o.Line($"        interface-name: {Scalar(rrasDest.ToString())}", null, "Azure's RRAS script names the interface after the Azure gateway's address");
        o.Line($"        destination: {rrasDest}", destAddress is not null ? destination : null, destAddress is null ? (gwValue.Item2 is { } gvv ? $"the Azure gateway's address at {gvv.At}" : Seed) : null);
        o.Value("        ", "protocol", r?.Get(K.Protocol), "IKEv2");
        o.Value("        ", "authentication-method", r?.Get(K.AuthenticationMethod), "PSKOnly");
        var subnets = r?.List(K.Ipv4Subnets) ?? [];
        if (subnets.Count > 0)
        {
            o.Line("        ipv4-subnets:");
            foreach (var s in subnets) o.Line($"          - {Scalar(s.Value)}", s);
        }
        else
        {
            o.Line("        ipv4-subnets:", null, $"the VNet's address spaces ({vnetFrom}) with metric 100, as Azure's RRAS script routes them");
            foreach (var (p, at) in vnetSpaces) o.Line($"          - {Scalar($"{p}:100")}", at);
            if (bgpOn && !vnetSpaces.Any(s => s.Prefix.Contains(azureBgp)))
                o.Line($"          - {Scalar($"{azureBgp}/32:100")}", null, "a host route to Azure's BGP address through the tunnel, as Azure's BGP guide asks");
        }
        o.Line($"        shared-key: {Quote((rrasKey ?? azureKey)?.Value ?? SeedKey)}", rrasKey ?? azureKey, rrasKey is null && azureKey is null ? Seed : null);
        o.Value("        ", "persistent", r?.Get(K.Persistent), "false", Bool);
        o.Value("        ", "idle-disconnect-seconds", r?.Get(K.IdleDisconnect), "0");
        o.Value("        ", "number-of-tries", r?.Get(K.NumberOfTries), "3");
        o.Value("        ", "retry-interval-seconds", r?.Get(K.RetryInterval), "60");
        if (r?.Get(K.MmSaLifetimeSeconds) is { } mm) o.Line($"        ike-lifetime-seconds: {Scalar(mm.Value)}", mm);
        var rrasPolicy = new[] { K.EncryptionMethod, K.IntegrityCheckMethod, K.DhGroup, K.CipherTransformConstants, K.AuthenticationTransformConstants, K.PfsGroup };
        var custom = r is not null && (Bool(r.Get(K.CustomPolicy)?.Value ?? "") == "true" || rrasPolicy.Any(r.Has));
        if (custom)
        {
            o.Line("        custom-policy:", r!.Get(K.CustomPolicy));
            foreach (var k in rrasPolicy) if (r.Get(k) is { } pv2) o.Line($"          {k}: {Scalar(pv2.Value)}", pv2);
            if (r.Get(K.SaLifetimeSeconds) is { } sl) o.Line($"          sa-lifetime-seconds: {Scalar(sl.Value)}", sl);
            if (r.Get(K.SaDataSizeKb) is { } sd) o.Line($"          sa-data-size-kb: {Scalar(sd.Value)}", sd);
        }
        else if (c is not null && PolicyTranslation.Fields.Any(f => c.Has(f.Azure)))
        {
            // No RRAS policy imported: RRAS gets the Azure connection's policy in Windows' names, so the lab can come up.
            o.Line("        custom-policy:", null, "the Azure connection's IPsec/IKE policy in Windows' names");
            foreach (var (az, win) in PolicyTranslation.Fields)
                if (c.Get(az) is { } x) o.Derived($"          {win}: {Scalar(PolicyTranslation.ToWindows(az, x.Value))}", x);
            if (c.Get(K.SaLifetimeSeconds) is { } sl) o.Derived($"          sa-lifetime-seconds: {Scalar(sl.Value)}", sl);
            if (c.Get(K.SaDataSizeKilobytes) is { } sd) o.Derived($"          sa-data-size-kb: {Scalar(sd.Value)}", sd);
        }
        if (!custom && r is not null)
        {
            foreach (var (k, what) in new[] { (K.SaLifetimeSeconds, "SALifeTime"), (K.SaDataSizeKb, "SADataSizeForRenegotiation") })
                if (r.Get(k) is { } x)
                    notes.Add(new ConfigNote(x.At, $"{what} {x.Value}", "the lab reads Child SA lifetimes from a custom policy (-CustomPolicy); without one its RRAS uses 3,600 s and 33,553,408 KB"));
        }
        o.Line("        nat-keepalive: 20s", null, Seed);
        if (bgpOn) WriteRrasBgp(o, b, l, lan, rrasAddr, azureBgp, azureAsn, notes);
        o.Line("");

        // The home NAT and the internet.
        o.Line("    isp-router:");
        o.Line("      kind: nat-router");
        o.Line("      interfaces:");
        o.Line($"        lan: {{ address: {routerAddr}/{lan.Length} }}");
        o.Line($"        wan: {{ address: {nat}/31 }}", natValue.Item2, natValue.Item2 is null ? Seed : null);
        o.Line($"      default-gateway: {new Ipv4Address(nat.Value ^ 1)}");
        o.Line("      nat:");
        o.Line("        inside: [lan]");
        o.Line("        outside: wan");
        o.Line("        mapping: endpoint-independent");
        o.Line("        ports: preserve");
        o.Line("        port-range: 1024-65535");
        o.Line("        udp-timeout: 120s");
        o.Line("        icmp-timeout: 60s");
        o.Line("");
        o.Line("    internet:");
        o.Line("      kind: router");
        o.Line("      interfaces:");
        o.Line($"        home: {{ address: {new Ipv4Address(nat.Value ^ 1)}/31 }}");
        o.Line($"        azure: {{ address: {new Ipv4Address(gwPublic.Value ^ 1)}/31 }}");
        o.Line("");

        // Azure.
        o.Line("    azure-gw:");
        o.Line("      kind: azure-vpn-gateway");
        o.Line("      interfaces:");
        o.Line($"        internet: {{ address: {gwPublic}/31 }}", gwValue.Item2, gwValue.Item2 is null ? Seed : null);
        o.Line($"        gateway-subnet: {{ address: {Host(gwSubnet, 4)}/{gwSubnet.Length} }}");
        o.Line($"      default-gateway: {new Ipv4Address(gwPublic.Value ^ 1)}");
        o.Line($"      public-address: {gwPublic}", gwValue.Item2, gwValue.Item2 is null ? Seed : null);
        o.Line("      vnet-address-spaces:", null, vnetFrom == "the VNet" ? null : $"from {vnetFrom}");
        foreach (var (p, at) in vnetSpaces) o.Line($"        - {p}", at);
        o.Line($"      gateway-subnet: {gwSubnet}", gwSubnetValue, gwSubnetValue is null ? $"derived from {vnet0}" : null);
        o.Value("      ", "vpn-type", g?.Get(K.VpnType), "route-based", t => t.ToLowerInvariant() switch { "routebased" => "route-based", "policybased" => "policy-based", var x => x });
        if (bgpOn)
        {
            o.Line("      bgp-settings:", g?.Get(K.EnableBgp), g?.Get(K.EnableBgp) is null ? "BGP is on: RRAS has a BGP router or the connection enables it" : null);
            if (azureAsn is { } aa) o.Line($"        asn: {Scalar(aa.Value)}", aa);
            else o.Line("        asn: 65515", null, "Azure's default ASN");
            if (azureBgpValue is { } abv2) o.Line($"        bgp-peering-address: {azureBgp}", abv2);
            else o.Line($"        bgp-peering-address: {azureBgp}", null, $"the last usable address of the GatewaySubnet {gwSubnet}, as Azure picks one");
            if (g?.Get(K.BgpPeeringAddress) is { } gbp && gbp.Value != azureBgp.ToString())
                notes.Add(new ConfigNote(gbp.At, $"the gateway's BGP address {gbp.Value}", $"not an address of the lab's GatewaySubnet {gwSubnet} beside the gateway's own; the lab's Azure speaks BGP from {azureBgp}"));
        }
        o.Line("      connections:");
        o.Line($"        - name: {Scalar(connName)}", c is null ? null : new ConfigValue(connName, c.At), c is null ? Seed : null);
        o.Line("          local-network-gateway:");
        o.Line($"            name: {Scalar(l?.Name ?? "home")}", l is null ? null : new ConfigValue(l.Name ?? "", l.At), l?.Name is null ? Seed : null);
        o.Line($"            gateway-address: {nat}", natValue.Item2, natValue.Item2 is null ? Seed : null);
        o.Line("            address-spaces:", null, onPrem[0].Value is null ? "the home LAN" : null);
        foreach (var (p, at) in onPrem) o.Line($"              - {p}", at);
        if (bgpOn)
        {
            var lngAsn = l?.Get(K.Asn) ?? b?.Get(K.LocalAsn);
            var lngBgp = l?.Get(K.BgpPeeringAddress) ?? b?.Get(K.LocalIpAddress) ?? b?.Get(K.BgpIdentifier);
            var asnText = lngAsn?.Value ?? "65010";
            var addrText = lngBgp?.Value ?? rrasAddr.ToString();
            o.Line($"            bgp-settings: {{ asn: {Scalar(asnText)}, bgp-peering-address: {Scalar(addrText)} }}", lngAsn ?? lngBgp,
                lngAsn is null && lngBgp is null ? "the lab's RRAS BGP router (AS 65010 unless imported)" : null);
        }
        o.Line($"          shared-key: {Quote((azureKey ?? rrasKey)?.Value ?? SeedKey)}", azureKey ?? rrasKey, azureKey is null && rrasKey is null ? Seed : null);
        if (bgpOn) o.Line("          enable-bgp: true", c?.Get(K.EnableBgp), c?.Get(K.EnableBgp) is null ? "BGP is on: RRAS has a BGP router" : null);
        o.Value("          ", "connection-protocol", c?.Get(K.ConnectionProtocol), "IKEv2");
        o.Value("          ", "connection-mode", c?.Get(K.ConnectionMode), "Default");
        o.Value("          ", "dpd-timeout-seconds", c?.Get(K.DpdTimeout), "45");
        o.Value("          ", "use-policy-based-traffic-selectors", c?.Get(K.UsePolicyBasedTrafficSelectors), "false", Bool);
        if (c is not null && (c.List(K.TrafficSelectorLocal).Count > 0 || c.List(K.TrafficSelectorRemote).Count > 0))
        {
            o.Line("          traffic-selector-policies:");
            o.Line("            - local-address-ranges:");
            foreach (var x in c.List(K.TrafficSelectorLocal)) o.Line($"                - {Scalar(x.Value)}", x);
            o.Line("              remote-address-ranges:");
            foreach (var x in c.List(K.TrafficSelectorRemote)) o.Line($"                - {Scalar(x.Value)}", x);
        }
        var azurePolicy = new[] { K.IkeEncryption, K.IkeIntegrity, K.DhGroup, K.IpsecEncryption, K.IpsecIntegrity, K.PfsGroup, K.SaLifetimeSeconds, K.SaDataSizeKilobytes };
        if (c is not null && azurePolicy.Any(c.Has))
        {
            o.Line("          ipsec-policy:");
            foreach (var k in azurePolicy) if (c.Get(k) is { } x) o.Line($"            {k}: {Scalar(x.Value)}", x);
        }
        else if (custom && c is null)
        {
            // No Azure connection imported: Azure gets RRAS's custom policy in Azure's names.
            o.Line("          ipsec-policy:", null, "RRAS's custom policy in Azure's names");
            foreach (var (az, win) in PolicyTranslation.Fields)
                if (r!.Get(win) is { } x) o.Derived($"            {az}: {Scalar(PolicyTranslation.ToAzure(win, x.Value))}", x);
            if (r!.Get(K.SaLifetimeSeconds) is { } sl) o.Derived($"            sa-lifetime-seconds: {Scalar(sl.Value)}", sl);
            if (r.Get(K.SaDataSizeKb) is { } sd) o.Derived($"            sa-data-size-kilobytes: {Scalar(sd.Value)}", sd);
        }
        if (!bgpOn)
            foreach (var (obj, what) in new[] { (l, "local network gateway"), (g, "gateway") })
            {
                if (obj?.Get(K.BgpPeeringAddress) is { } bp) notes.Add(new ConfigNote(bp.At, $"BGP peering address {bp.Value}", "BGP is off (no connection enables it, no RRAS BGP router): the lab routes the address spaces"));
                if (obj == l && obj?.Get(K.Asn) is { } asn) notes.Add(new ConfigNote(asn.At, $"the {what}'s BGP ASN {asn.Value}", "BGP is off (no connection enables it): the ASN is still checked against the ones Azure reserves"));
            }
        o.Line("");
        o.Line("    vnet-router:");
        o.Line("      kind: router");
        o.Line("      interfaces:");
        o.Line($"        gateway-subnet: {{ address: {Host(gwSubnet, 1)}/{gwSubnet.Length} }}", null, "Azure reserves the first host address of a subnet as its gateway");
        o.Line($"        workload: {{ address: {Host(workload, 1)}/{workload.Length} }}");
        o.Line("      routes:");
        foreach (var (p, _) in onPrem) o.Line($"        - {{ to: {p}, via: {Host(gwSubnet, 4)} }}");
        if (bgpOn && !onPrem.Any(p => p.Prefix.Contains(lan)))
            o.Line($"        - {{ to: {lan}, via: {Host(gwSubnet, 4)} }}", null, "the home LAN, which the VNet learns by BGP");
        o.Line("");
        o.Line("    vm:");
        o.Line("      kind: host");
        o.Line("      os: linux");
        o.Line("      interfaces:");
        o.Line($"        eth0: {{ address: {vm}/{workload.Length} }}", null, $"a workload subnet of {workload.Length switch { _ => $"{vnet0}" }} beside the GatewaySubnet");
        o.Line($"      default-gateway: {Host(workload, 1)}");
        o.Line("");
        o.Line("  links:");
        o.Line("    - segment: home-lan");
        o.Line("      endpoints: [\"client:eth0\", \"rras:lan\", \"isp-router:lan\"]");
        o.Line("    - endpoints: [\"isp-router:wan\", \"internet:home\"]");
        o.Line("      delay: 8ms");
        o.Line("    - endpoints: [\"internet:azure\", \"azure-gw:internet\"]");
        o.Line("      delay: 20ms");
        o.Line("    - endpoints: [\"azure-gw:gateway-subnet\", \"vnet-router:gateway-subnet\"]");
        o.Line("    - endpoints: [\"vnet-router:workload\", \"vm:eth0\"]");
        o.Line("");
        o.Line("placement:");
        o.Line("  home: [client, rras, isp-router]");
        o.Line("  internet: [internet]");
        o.Line("  azure: [azure-gw, vnet-router, vm]");
        o.Line("");
        o.Line("scenarios:");
        o.Line("  imported:");
        o.Line("    description: >-");
        o.Line($"      The client's default gateway is RRAS. Its pings to the VM {vm} dial the imported RRAS interface through the home");
        o.Line("      NAT to the imported Azure connection, which must come up and carry every ping.");
        o.Line("    default: true");
        o.Line("    nodes:");
        o.Line($"      client: {{ default-gateway: {rrasAddr} }}");
        o.Line("    traffic:");
        // With BGP the VNet's route comes by BGP: the pings start once the session has had time to bring it.
        o.Line($"      - ping: {{ from: client, to: {vm}, count: 4, interval: 1s, df: false{(bgpOn ? ", start: 3s" : "")} }}");
        o.Line("    expect:");
        o.Line("      pings-answered: all");
        o.Line($"      tunnel: {{ name: {Scalar(connName)}, state: Connected, nat-detected: true }}");
        if (bgpOn) o.Line("      bgp: { node: azure-gw, state: Established, min-routes-received: 1 }");
        o.Line("    duration: 30s");
        // The header goes last, when every note is known.
        var h = new YamlOut();
        h.Comment($"Imported by nodes import from {string.Join(", ", config.Files.Select(f => $"{f.File} ({Describe(f.Format)})"))}.");
        h.Comment("Each imported value says where it was written; every other value is the seed lab's (topology/azure-s2s-rras.yaml) or");
        h.Comment("derived from imported ones, as its comment says.");
        h.Comment("");
        h.Comment($"  client {clientAddr} ─┐");
        h.Comment($"  rras   {rrasAddr} ─┼─ home-lan {lan}");
        h.Comment($"  isp-router {routerAddr} (NAT) ── wan {nat} ── internet ── {gwPublic} azure-gw");
        h.Comment($"  azure-gw ── GatewaySubnet {gwSubnet} ── vnet-router ── {workload} ── vm {vm}");
        if (notes.Count > 0)
        {
            h.Comment("");
            h.Comment("Not mapped (nodes import prints these too):");
            foreach (var n in notes) h.Comment($"  {n}");
        }
        h.Append(o);
        return new ImportedLab(h.Text, h.Origins, notes);
    }

    private static string Describe(ConfigFormat f) => f switch
    {
        ConfigFormat.PowerShell => "PowerShell",
        ConfigFormat.FormatList => "Get-VpnS2SInterface | Format-List output",
        ConfigFormat.AzureJson => "Azure resource JSON",
        ConfigFormat.ArmTemplate => "ARM template",
        _ => "Terraform",
    };

    private static string StripMetric(string s)
    {
        var colon = s.LastIndexOf(':');
        return colon < 0 ? s : s[..colon];
    }

    private static List<(Ipv4Prefix Prefix, ConfigValue? Value)> Prefixes(IReadOnlyList<ConfigValue>? values, List<ConfigNote> notes)
    {
        var result = new List<(Ipv4Prefix, ConfigValue?)>();
        foreach (var v in values ?? [])
        {
            if (Ipv4Prefix.TryParse(v.Value.Trim(), out var p) && v.Value.Contains('/')) result.Add((p, v));
            else notes.Add(new ConfigNote(v.At, $"address prefix {v.Value}", "not an IPv4 prefix (a.b.c.d/n); the lab routes IPv4 only"));
        }
        return result;
    }

    private static Ipv4Address Host(Ipv4Prefix p, uint n) => new(p.Network.Value + n);

    /// <summary>Like the seed's 10.0.255.0/27 in 10.0.0.0/16: a /27 at the start of the space's last /24, or its second half when smaller.</summary>
    private static Ipv4Prefix? GatewaySubnetIn(Ipv4Prefix space)
    {
        if (space.Length <= 24) return new Ipv4Prefix(new Ipv4Address(space.Last.Value - 255), 27);
        if (space.Length > 28) return null;
        var half = space.Length + 1;
        return new Ipv4Prefix(new Ipv4Address(space.Network.Value + (1u << (32 - half))), Math.Max(half, 27));
    }

    /// <summary>Like the seed's 10.0.10.0/24: a /24 (or the largest block up to /29) inside a VNet space, clear of the GatewaySubnet.</summary>
    private static Ipv4Prefix? WorkloadIn(IEnumerable<Ipv4Prefix> spaces, Ipv4Prefix gatewaySubnet)
    {
        foreach (var space in spaces)
            for (var len = Math.Max(24, space.Length + (space.Length >= 24 ? 1 : 0)); len <= 29; len++)
            {
                var size = 1u << (32 - len);
                var preferred = space.Length <= 20 ? space.Network.Value + 10 * 256u : space.Network.Value;
                foreach (var start in new[] { preferred }.Concat(Enumerable.Range(0, (int)Math.Min(4096, 1u << (len - space.Length))).Select(k => space.Network.Value + (uint)k * size)))
                {
                    var candidate = new Ipv4Prefix(new Ipv4Address(start), len);
                    if (space.Contains(candidate) && !candidate.Contains(gatewaySubnet) && !gatewaySubnet.Contains(candidate)) return candidate;
                }
            }
        return null;
    }

    private static string Bool(string text) => text.ToLowerInvariant() switch
    {
        "true" or "$true" or "1" => "true",
        "false" or "$false" or "0" => "false",
        _ => text,
    };

    /// <summary>A YAML scalar: plain when it is plainly text, otherwise double-quoted.</summary>
    internal static string Scalar(string s) => Plain().IsMatch(s) ? s : Quote(s);

    internal static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case < ' ' or '\u007f': sb.Append(string.Create(CultureInfo.InvariantCulture, $"\\x{(int)ch:x2}")); break;
                default: sb.Append(ch); break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>YAML text with a source comment per traced line.</summary>
    /// <summary>RRAS's bgp block: Add-BgpRouter's and Add-BgpPeer's values as imported, the rest derived from the Azure side.</summary>
    private static void WriteRrasBgp(YamlOut o, ConfigObject? b, ConfigObject? l, Ipv4Prefix lan, Ipv4Address rrasAddr, Ipv4Address azureBgp, ConfigValue? azureAsn, List<ConfigNote> notes)
    {
        o.Line("      bgp:", null, b is null ? "derived from the Azure side: RRAS as the local network gateway's BGP speaker" : null);
        if (b?.Get(K.BgpIdentifier) is { } id) o.Line($"        bgp-identifier: {Scalar(id.Value)}", id);
        else o.Line($"        bgp-identifier: {rrasAddr}", null, "RRAS's LAN address");
        if ((b?.Get(K.LocalAsn) ?? l?.Get(K.Asn)) is { } asn) o.Line($"        local-asn: {Scalar(asn.Value)}", asn);
        else o.Line("        local-asn: 65010", null, "a private ASN, as no file gives one");
        o.Line("        peers:");
        if (b?.Get(K.PeerName) is { } pn) o.Line($"          - name: {Scalar(pn.Value)}", pn);
        else o.Line("          - name: AzureS2SGw", null, "Microsoft's RRAS BGP example names the peer so");
        if (b?.Get(K.LocalIpAddress) is { } la) o.Line($"            local-ip-address: {Scalar(la.Value)}", la);
        else o.Line($"            local-ip-address: {rrasAddr}", null, "RRAS's LAN address");
        if (b?.Get(K.PeerIpAddress) is { } pa) o.Line($"            peer-ip-address: {Scalar(pa.Value)}", pa);
        else o.Line($"            peer-ip-address: {azureBgp}", null, "the Azure gateway's BGP address");
        if (b?.Get(K.PeerAsn) is { } pas) o.Line($"            peer-asn: {Scalar(pas.Value)}", pas);
        else if (azureAsn is { } aa) o.Line($"            peer-asn: {Scalar(aa.Value)}", aa);
        else o.Line("            peer-asn: 65515", null, "Azure's default ASN");
        foreach (var k in new[] { K.OperationMode, K.PeeringMode, K.HoldTimeSec, K.IdleHoldTimeSec, K.MaxAllowedPrefix })
            if (b?.Get(k) is { } x) o.Line($"            {k}: {Scalar(x.Value)}", x);
        var routes = b?.List(K.CustomRoutes) ?? [];
        if (routes.Count > 0)
        {
            o.Line("        custom-routes:");
            foreach (var r in routes) o.Line($"          - {Scalar(r.Value)}", r);
        }
        else
        {
            o.Line($"        custom-routes: [{lan}]", null, "RRAS advertises its LAN (Add-BgpCustomRoute -Network)");
            if (b is not null) notes.Add(new ConfigNote(b.At, "RRAS's BGP router", $"no Add-BgpCustomRoute: the lab's RRAS advertises its LAN {lan}, which Azure needs to reach the home site"));
        }
    }

    private sealed class YamlOut
    {
        private readonly StringBuilder sb = new();
        private readonly Dictionary<int, SourceLocation> origins = [];
        private int line = 1;

        public string Text => sb.ToString();

        public IReadOnlyDictionary<int, SourceLocation> Origins => origins;

        public void Append(YamlOut body)
        {
            foreach (var (n, at) in body.origins) origins[n + line - 1] = at;
            sb.Append(body.sb);
            line += body.line - 1;
        }

        public void Comment(string text)
        {
            sb.Append('#');
            if (text.Length > 0) sb.Append(' ').Append(text.Replace("\n", " "));
            sb.Append('\n');
            line++;
        }

        public void Line(string text, ConfigValue? from = null, string? derivation = null)
        {
            sb.Append(text);
            if (from is { } f)
            {
                sb.Append("   # ").Append(f.At.ToString());
                origins[line] = f.At;
            }
            else if (derivation is not null) sb.Append("   # ").Append(derivation);
            sb.Append('\n');
            line++;
        }

        /// <summary>A line computed from an imported value: traced to it, and marked as derived.</summary>
        public void Derived(string text, ConfigValue from)
        {
            sb.Append(text).Append("   # from ").Append(from.Value.Length > 0 && !IsSecretLike(text) ? $"{from.Value} at " : "").Append(from.At.ToString()).Append('\n');
            origins[line] = from.At;
            line++;
        }

        private static bool IsSecretLike(string text) => text.Contains("shared-key", StringComparison.Ordinal);

        public void Value(string indent, string key, ConfigValue? value, string fallback, Func<string, string>? normalize = null)
        {
            if (value is { } v) Line($"{indent}{key}: {Scalar(normalize is null ? v.Value : normalize(v.Value))}", v);
            else Line($"{indent}{key}: {fallback}", null, Seed);
        }
    }
}
