using System.Globalization;
using System.Text;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Config.Export;

/// <summary>The device formats <c>nodes export</c> writes.</summary>
public enum ExportFormat
{
    /// <summary>RRAS PowerShell: Add-VpnS2SInterface for an rras node.</summary>
    Rras,
    /// <summary>strongSwan swanctl.conf for a device in an rras node's place.</summary>
    Swanctl,
    /// <summary>Azure PowerShell: the local network gateways, policies and connections of an azure-vpn-gateway node.</summary>
    AzurePowerShell,
    /// <summary>An ARM template with the same resources.</summary>
    AzureJson,
}

/// <summary>One exported file, and what the format cannot say (each with why).</summary>
public sealed record ExportResult(string FileName, string Text, IReadOnlyList<string> NotExported);

/// <summary>
/// <c>nodes export</c>: the configuration of one node of a tested lab, written for the real device. The RRAS script uses
/// the parameters <see cref="Importer"/> reads (so it imports back to the same lab); the Azure script assumes the
/// virtual network gateway exists and creates what a connection needs.
/// </summary>
public static class Exporter
{
    public static readonly (string Name, ExportFormat Format)[] Names =
        [("rras", ExportFormat.Rras), ("swanctl", ExportFormat.Swanctl), ("azure-powershell", ExportFormat.AzurePowerShell), ("azure-json", ExportFormat.AzureJson)];

    /// <summary>The file, or null with the reason (wrong node kind, unknown node) in <paramref name="error"/>.</summary>
    public static ExportResult? Export(TopologySpec lab, string nodeName, ExportFormat format, out string? error)
    {
        error = null;
        var node = lab.Nodes.FirstOrDefault(n => n.Name == nodeName);
        if (node is null)
        {
            error = $"--node {nodeName}: the lab has no such node (nodes: {string.Join(", ", lab.Nodes.Select(n => n.Name))})";
            return null;
        }
        switch (format, node)
        {
            case (ExportFormat.Rras, RrasSpec { Vpn: { } v } r): return Rras(lab, r, v);
            case (ExportFormat.Swanctl, RrasSpec { Vpn: { } v } r): return Swanctl(lab, r, v);
            case (ExportFormat.AzurePowerShell, AzureVpnGatewaySpec g) when g.Connections.Length > 0: return AzurePowerShell(lab, g);
            case (ExportFormat.AzureJson, AzureVpnGatewaySpec g) when g.Connections.Length > 0: return AzureJson(lab, g);
        }
        var fit = string.Join(", ", lab.Nodes.Where(n => n is RrasSpec { Vpn: not null } or AzureVpnGatewaySpec { Connections.Length: > 0 })
            .Select(n => $"{n.Name} ({(n is RrasSpec ? "rras, swanctl" : "azure-powershell, azure-json")})"));
        error = $"--as {Names.First(x => x.Format == format).Name} does not fit node '{nodeName}' ({node.Kind}); nodes and their formats: {fit}";
        return null;
    }

    private static string Ps(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Seconds(TimeSpan t) => ((long)t.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private static ExportResult Rras(TopologySpec lab, RrasSpec r, RrasVpnSpec v)
    {
        var missing = new List<string>();
        var sb = new StringBuilder();
        sb.Append("# RRAS site-to-site interface of node '").Append(r.Name).Append("' in lab '").Append(lab.Name).Append("', written by nodes export.\n");
        sb.Append("# Run as administrator on Windows Server with Routing and Remote Access installed (Install-RemoteAccess -VpnType VpnS2S).\n");
        sb.Append("Add-VpnS2SInterface -Name ").Append(Ps(v.InterfaceName)).Append(" -Destination ").Append(Ps(v.Destination.ToString()))
            .Append(" -Protocol IKEv2 -AuthenticationMethod PSKOnly -ResponderAuthenticationMethod PSKOnly `\n");
        sb.Append("    -SharedSecret ").Append(Ps(v.SharedKey)).Append(" -IPv4Subnet @(")
            .Append(string.Join(", ", v.Ipv4Subnets.Select(s => Ps($"{s.Prefix}:{s.Metric}")))).Append(") `\n");
        sb.Append(CultureInfo.InvariantCulture, $"    -NumberOfTries {v.NumberOfTries} -RetryIntervalSeconds {v.RetryIntervalSeconds} -IdleDisconnectSeconds {v.IdleDisconnectSeconds}");
        if (v.Persistent) sb.Append(" -Persistent");
        if (v.IkeLifetime != RrasVpnSpec.DefaultIkeLifetime) sb.Append(" -MMSALifeTimeSeconds ").Append(Seconds(v.IkeLifetime));
        if (v.PolicySource != PolicySource.DeviceDefaults)
        {
            var names = v.IkeProposals.Length == 1 && v.EspProposals.Length == 1 ? ProposalNames.Windows(v.IkeProposals[0], v.EspProposals[0]) : null;
            if (names is null) missing.Add($"the proposals {string.Join(", ", v.IkeProposals)} / {string.Join(", ", v.EspProposals)}: a Windows custom policy holds one IKE and one ESP combination in Windows' names");
            else
            {
                sb.Append(" `\n    -CustomPolicy -EncryptionMethod ").Append(names.IkeEncryption).Append(" -IntegrityCheckMethod ").Append(names.IkeIntegrity)
                    .Append(" -DHGroup ").Append(names.DhGroup).Append(" -CipherTransformConstants ").Append(names.IpsecEncryption)
                    .Append(" -AuthenticationTransformConstants ").Append(names.IpsecIntegrity).Append(" -PfsGroup ").Append(names.PfsGroup);
                sb.Append(" -SALifeTimeSeconds ").Append(Seconds(v.ChildLifetime)).Append(" -SADataSizeForRenegotiationKilobytes ").Append(v.ChildLifetimeKilobytes.ToString(CultureInfo.InvariantCulture));
            }
        }
        sb.Append('\n');
        if (!v.LocalTrafficSelectors.IsDefaultOrEmpty || !v.RemoteTrafficSelectors.IsDefaultOrEmpty)
            missing.Add($"traffic selectors {string.Join(", ", v.LocalTrafficSelectors)} <-> {string.Join(", ", v.RemoteTrafficSelectors)}: -LocalVpnTrafficSelector/-RemoteVpnTrafficSelector take CIM objects whose constructor the cmdlet help does not name");
        if (v.NatKeepalive != RrasVpnSpec.DefaultNatKeepalive) missing.Add($"nat-keepalive {v.NatKeepalive.TotalSeconds:0} s: Windows has no documented setting for it");
        if (v.LocalId is not null || v.RemoteId is not null) missing.Add("local-id/remote-id: with a pre-shared key Windows identifies itself by its address");
        if (r.Bgp is { } b)
        {
            // RRAS's BGP router, its peers and the networks it advertises (RemoteAccess module: Add-BgpRouter, Add-BgpPeer, Add-BgpCustomRoute).
            sb.Append(CultureInfo.InvariantCulture, $"Add-BgpRouter -BgpIdentifier {Ps(b.BgpIdentifier.ToString())} -LocalASN {b.LocalAsn}\n");
            foreach (var p in b.Peers)
            {
                sb.Append(CultureInfo.InvariantCulture, $"Add-BgpPeer -Name {Ps(p.Name)} -LocalIPAddress {Ps(p.LocalAddress.ToString())} -PeerIPAddress {Ps(p.PeerAddress.ToString())} -PeerASN {p.PeerAsn}");
                sb.Append(CultureInfo.InvariantCulture, $" -OperationMode {p.OperationMode} -PeeringMode {(p.ManualPeering ? "Manual" : "Automatic")} -HoldTimeSec {p.HoldTimeSeconds} -IdleHoldTimeSec {p.IdleHoldTimeSeconds}");
                if (p.MaxAllowedPrefix is { } max) sb.Append(CultureInfo.InvariantCulture, $" -MaxAllowedPrefix {max}");
                sb.Append('\n');
            }
            if (!b.CustomRoutes.IsDefaultOrEmpty) sb.Append("Add-BgpCustomRoute -Network @(").Append(string.Join(", ", b.CustomRoutes.Select(c => Ps(c.ToString())))).Append(")\n");
        }
        foreach (var m in missing) sb.Append("# not exported: ").Append(m).Append('\n');
        return new ExportResult($"{r.Name}.ps1", sb.ToString(), missing);
    }

    private static ExportResult Swanctl(TopologySpec lab, RrasSpec r, RrasVpnSpec v)
    {
        var missing = new List<string>();
        var wan = r.FindInterface(r.InternetInterface)!;
        var lan = r.FindInterface(r.LanInterface)!;
        var local = v.LocalTrafficSelectors.IsDefaultOrEmpty ? lan.Subnet.ToString() : string.Join(",", v.LocalTrafficSelectors);
        var remote = v.RemoteTrafficSelectors.IsDefaultOrEmpty ? string.Join(",", v.Ipv4Subnets.Select(s => s.Prefix)) : string.Join(",", v.RemoteTrafficSelectors);
        var name = Safe(v.InterfaceName);
        var sb = new StringBuilder();
        sb.Append("# strongSwan in the place of RRAS node '").Append(r.Name).Append("' of lab '").Append(lab.Name).Append("', written by nodes export.\n");
        sb.Append("# Load it with: swanctl --load-all --file swanctl.conf (charon running). RRAS proposes any-to-any traffic selectors and\n");
        sb.Append("# routes the VNet onto its interface; a policy-based strongSwan selects the LAN and the routed prefixes instead.\n");
        sb.Append("connections {\n");
        sb.Append("    ").Append(name).Append(" {\n");
        sb.Append("        version = 2\n");
        sb.Append("        local_addrs = ").Append(wan.Address).Append('\n');
        sb.Append("        remote_addrs = ").Append(v.Destination).Append('\n');
        sb.Append("        proposals = ").Append(string.Join(",", v.IkeProposals.Select(p => ProposalNames.StrongSwan(p, forIke: true)))).Append('\n');
        sb.Append("        rekey_time = ").Append(Seconds(v.IkeLifetime)).Append("s\n");
        sb.Append("        dpd_delay = 30s\n");
        // Neither RRAS nor Azure documents MOBIKE (RFC 4555) for site-to-site; a NAT change is followed by the peer instead.
        sb.Append("        mobike = no\n");
        sb.Append(CultureInfo.InvariantCulture, $"        keyingtries = {(v.NumberOfTries == 0 ? 0 : v.NumberOfTries)}\n");
        sb.Append("        local {\n            auth = psk\n            id = ").Append(v.LocalId ?? wan.Address.ToString()).Append("\n        }\n");
        sb.Append("        remote {\n            auth = psk\n            id = ").Append(v.RemoteId ?? v.Destination.ToString()).Append("\n        }\n");
        sb.Append("        children {\n");
        sb.Append("            net {\n");
        sb.Append("                local_ts = ").Append(local).Append('\n');
        sb.Append("                remote_ts = ").Append(remote).Append('\n');
        sb.Append("                esp_proposals = ").Append(string.Join(",", v.EspProposals.Select(p => ProposalNames.StrongSwan(p, forIke: false)))).Append('\n');
        sb.Append("                rekey_time = ").Append(Seconds(v.ChildLifetime)).Append("s\n");
        sb.Append("                rekey_bytes = ").Append((v.ChildLifetimeKilobytes * 1024).ToString(CultureInfo.InvariantCulture)).Append('\n');
        // RRAS dials on demand unless the interface is persistent.
        sb.Append("                start_action = ").Append(v.Persistent ? "start" : "trap").Append('\n');
        sb.Append("                dpd_action = restart\n");
        sb.Append("            }\n        }\n    }\n}\n");
        sb.Append("secrets {\n    ike-").Append(name).Append(" {\n        id-local = ").Append(v.LocalId ?? wan.Address.ToString())
            .Append("\n        id-remote = ").Append(v.RemoteId ?? v.Destination.ToString()).Append("\n        secret = \"")
            .Append(v.SharedKey.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"\n    }\n}\n");
        if (v.IdleDisconnectSeconds > 0) missing.Add($"idle-disconnect-seconds {v.IdleDisconnectSeconds}: strongSwan has no idle disconnect for a trap policy");
        if (r.Bgp is not null) missing.Add("bgp: strongSwan carries the tunnel only; run a BGP daemon (BIRD or FRR) beside it with the same router id, ASN and peer");
        foreach (var m in missing) sb.Append("# not exported: ").Append(m).Append('\n');
        return new ExportResult("swanctl.conf", sb.ToString(), missing);
    }

    private static string Safe(string name)
    {
        var s = new string(name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
        return char.IsLetter(s[0]) ? s : "s2s-" + s;
    }

    private static ExportResult AzurePowerShell(TopologySpec lab, AzureVpnGatewaySpec g)
    {
        var missing = new List<string>();
        var sb = new StringBuilder();
        sb.Append("# Azure side of node '").Append(g.Name).Append("' in lab '").Append(lab.Name).Append("', written by nodes export.\n");
        sb.Append("# The virtual network gateway must exist; set the resource group and region (REPLACE marks them, as in Azure's device scripts).\n");
        sb.Append("$ResourceGroupName = 'REPLACE-resource-group'\n$Location = 'REPLACE-region'\n");
        sb.Append("$Gateway = Get-AzVirtualNetworkGateway -Name ").Append(Ps(g.Name)).Append(" -ResourceGroupName $ResourceGroupName\n");
        if (g.Bgp is { } gb)
        {
            // BGP on the gateway: its ASN (Set-AzVirtualNetworkGateway -Asn); Azure assigns its BGP address in the GatewaySubnet.
            sb.Append(CultureInfo.InvariantCulture, $"Set-AzVirtualNetworkGateway -VirtualNetworkGateway $Gateway -Asn {gb.Asn}\n");
            if (gb.PeeringAddress is { } pa) sb.Append("# the lab's gateway speaks BGP from ").Append(pa.ToString()).Append(": Azure assigns that address; give the on-premises peer the one Azure shows (bgpSettings.bgpPeeringAddress)\n");
            if (!gb.CustomAddresses.IsDefaultOrEmpty) missing.Add($"custom APIPA BGP addresses {string.Join(", ", gb.CustomAddresses)}: they belong to the gateway's IP configurations (Set-AzVirtualNetworkGateway -IpConfigurationBgpPeeringAddresses)");
        }
        var i = 0;
        foreach (var c in g.Connections)
        {
            i++;
            var l = c.LocalNetworkGateway;
            sb.Append('\n');
            sb.Append("$Lng").Append(i).Append(" = New-AzLocalNetworkGateway -Name ").Append(Ps(l.Name ?? $"{c.Name}-site")).Append(" -ResourceGroupName $ResourceGroupName -Location $Location `\n    ");
            sb.Append(l.GatewayAddress is { } ga ? $"-GatewayIpAddress {Ps(ga.ToString())}" : $"-Fqdn {Ps(l.Fqdn!)}");
            sb.Append(" -AddressPrefix @(").Append(string.Join(", ", l.AddressSpaces.Select(p => Ps(p.ToString())))).Append(')');
            if (l.Bgp is { PeeringAddress: { } lba } lb) sb.Append(CultureInfo.InvariantCulture, $" -Asn {lb.Asn} -BgpPeeringAddress {Ps(lba.ToString())}");
            sb.Append('\n');
            var policy = "";
            if (c.PolicySource != PolicySource.DeviceDefaults)
            {
                var names = c.IkeProposals.Length == 1 && c.EspProposalsAsResponder.Length == 1 ? ProposalNames.Azure(c.IkeProposals[0], c.EspProposalsAsResponder[0]) : null;
                if (names is null) missing.Add($"connection {c.Name}: the proposals {string.Join(", ", c.IkeProposals)} are not one Azure IPsec/IKE policy");
                else
                {
                    sb.Append("$Policy").Append(i).Append(" = New-AzIpsecPolicy -IkeEncryption ").Append(names.IkeEncryption).Append(" -IkeIntegrity ").Append(names.IkeIntegrity)
                        .Append(" -DhGroup ").Append(names.DhGroup).Append(" `\n    -IpsecEncryption ").Append(names.IpsecEncryption).Append(" -IpsecIntegrity ").Append(names.IpsecIntegrity)
                        .Append(" -PfsGroup ").Append(names.PfsGroup).Append(" -SALifeTimeSeconds ").Append(Seconds(c.ChildLifetime))
                        .Append(" -SADataSizeKilobytes ").Append(c.ChildLifetimeKilobytes.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    policy = $" -IpsecPolicies $Policy{i}";
                }
            }
            var selectors = "";
            if (!c.TrafficSelectorPolicies.IsDefaultOrEmpty)
            {
                var t = c.TrafficSelectorPolicies[0];
                sb.Append("$Selectors").Append(i).Append(" = New-AzIpsecTrafficSelectorPolicy -LocalAddressRange @(").Append(string.Join(", ", t.LocalAddressRanges.Select(p => Ps(p.ToString()))))
                    .Append(") -RemoteAddressRange @(").Append(string.Join(", ", t.RemoteAddressRanges.Select(p => Ps(p.ToString())))).Append(")\n");
                selectors = $" -TrafficSelectorPolicy $Selectors{i}";
                if (c.TrafficSelectorPolicies.Length > 1) missing.Add($"connection {c.Name}: traffic selector policies after the first");
            }
            sb.Append("New-AzVirtualNetworkGatewayConnection -Name ").Append(Ps(c.Name)).Append(" -ResourceGroupName $ResourceGroupName -Location $Location `\n");
            sb.Append("    -VirtualNetworkGateway1 $Gateway -LocalNetworkGateway2 $Lng").Append(i).Append(" -ConnectionType IPsec -ConnectionProtocol IKEv2 `\n");
            sb.Append("    -SharedKey ").Append(Ps(c.SharedKey)).Append(" -ConnectionMode ").Append(c.Mode).Append(" -DpdTimeoutInSeconds ")
                .Append(c.DpdTimeoutSeconds.ToString(CultureInfo.InvariantCulture));
            if (c.UsePolicyBasedTrafficSelectors) sb.Append(" -UsePolicyBasedTrafficSelectors $true");
            if (c.EnableBgp) sb.Append(" -EnableBgp $true");
            sb.Append(policy).Append(selectors).Append('\n');
            if (c.GatewayCustomBgpAddress is { } cb) missing.Add($"connection {c.Name}: gateway-custom-bgp-address {cb}: -GatewayCustomBgpIpAddress takes objects of New-AzGatewayCustomBgpIpConfigurationObject, which name the gateway's IP configuration");
            if (c.LocalId is not null || c.RemoteId is not null) missing.Add($"connection {c.Name}: local-id/remote-id: Azure identifies itself by its public address");
        }
        foreach (var m in missing) sb.Append("# not exported: ").Append(m).Append('\n');
        return new ExportResult($"{g.Name}.ps1", sb.ToString(), missing);
    }

    private static ExportResult AzureJson(TopologySpec lab, AzureVpnGatewaySpec g)
    {
        var missing = new List<string>();
        var resources = new List<object>();
        foreach (var c in g.Connections)
        {
            var l = c.LocalNetworkGateway;
            var lngName = l.Name ?? $"{c.Name}-site";
            var lngProps = new Dictionary<string, object> { ["localNetworkAddressSpace"] = new { addressPrefixes = l.AddressSpaces.Select(p => p.ToString()).ToArray() } };
            if (l.GatewayAddress is { } ga) lngProps["gatewayIpAddress"] = ga.ToString();
            else lngProps["fqdn"] = l.Fqdn!;
            if (l.Bgp is { PeeringAddress: { } lba } lb) lngProps["bgpSettings"] = new { asn = lb.Asn, bgpPeeringAddress = lba.ToString() };
            resources.Add(new Dictionary<string, object>
            {
                ["type"] = "Microsoft.Network/localNetworkGateways", ["apiVersion"] = "2023-09-01", ["name"] = lngName, ["location"] = "[resourceGroup().location]", ["properties"] = lngProps,
            });
            var props = new Dictionary<string, object>
            {
                ["virtualNetworkGateway1"] = new { id = $"[resourceId('Microsoft.Network/virtualNetworkGateways', '{g.Name}')]" },
                ["localNetworkGateway2"] = new { id = $"[resourceId('Microsoft.Network/localNetworkGateways', '{lngName}')]" },
                ["connectionType"] = "IPsec", ["connectionProtocol"] = "IKEv2", ["sharedKey"] = c.SharedKey, ["connectionMode"] = c.Mode.ToString(),
                ["dpdTimeoutSeconds"] = c.DpdTimeoutSeconds, ["usePolicyBasedTrafficSelectors"] = c.UsePolicyBasedTrafficSelectors,
                ["enableBgp"] = c.EnableBgp,
            };
            if (c.PolicySource != PolicySource.DeviceDefaults)
            {
                var n = c.IkeProposals.Length == 1 && c.EspProposalsAsResponder.Length == 1 ? ProposalNames.Azure(c.IkeProposals[0], c.EspProposalsAsResponder[0]) : null;
                if (n is null) missing.Add($"connection {c.Name}: the proposals {string.Join(", ", c.IkeProposals)} are not one Azure IPsec/IKE policy");
                else
                    props["ipsecPolicies"] = new[]
                    {
                        new { saLifeTimeSeconds = (long)c.ChildLifetime.TotalSeconds, saDataSizeKilobytes = c.ChildLifetimeKilobytes, ipsecEncryption = n.IpsecEncryption,
                              ipsecIntegrity = n.IpsecIntegrity, ikeEncryption = n.IkeEncryption, ikeIntegrity = n.IkeIntegrity, dhGroup = n.DhGroup, pfsGroup = n.PfsGroup },
                    };
            }
            if (!c.TrafficSelectorPolicies.IsDefaultOrEmpty)
                props["trafficSelectorPolicies"] = c.TrafficSelectorPolicies.Select(t => new
                {
                    localAddressRanges = t.LocalAddressRanges.Select(p => p.ToString()).ToArray(),
                    remoteAddressRanges = t.RemoteAddressRanges.Select(p => p.ToString()).ToArray(),
                }).ToArray();
            resources.Add(new Dictionary<string, object>
            {
                ["type"] = "Microsoft.Network/connections", ["apiVersion"] = "2023-09-01", ["name"] = c.Name, ["location"] = "[resourceGroup().location]",
                ["dependsOn"] = new[] { $"[resourceId('Microsoft.Network/localNetworkGateways', '{lngName}')]" }, ["properties"] = props,
            });
        }
        var template = new Dictionary<string, object>
        {
            ["$schema"] = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            ["contentVersion"] = "1.0.0.0",
            ["metadata"] = new { description = $"Azure side of node '{g.Name}' in lab '{lab.Name}', written by nodes export; the virtual network gateway '{g.Name}' must exist in the resource group" },
            ["resources"] = resources,
        };
        var json = System.Text.Json.JsonSerializer.Serialize(template, new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        return new ExportResult($"{g.Name}.json", json + "\n", missing);
    }
}
