using System.Text.RegularExpressions;
using Nodes.Topology;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config.Formats;

/// <summary>
/// Reads Azure network resources as JSON: what <c>az network vpn-connection show</c> (and the other <c>show</c>
/// commands) print, a REST GET body, or the resources of an ARM template (what <c>bicep build</c> writes). Property names
/// are those of the Microsoft.Network REST API (VirtualNetworkGatewayConnectionPropertiesFormat, LocalNetworkGateway,
/// VirtualNetworkGateway, VirtualNetwork). In a template, <c>[parameters('x')]</c> and <c>[variables('x')]</c> take the
/// parameter's default value or the variable, traced to where that is written; other expressions are noted.
/// </summary>
internal static partial class AzureJsonReader
{
    [GeneratedRegex(@"^\[\s*(?<fn>parameters|variables)\(\s*'(?<name>[^']+)'\s*\)\s*\]$")]
    private static partial Regex Reference();

    private static readonly HashSet<string> Structural = new(StringComparer.OrdinalIgnoreCase)
    {
        "id", "etag", "type", "apiVersion", "dependsOn", "name", "properties", "comments", "condition",
    };

    private static readonly HashSet<string> Metadata = new(StringComparer.OrdinalIgnoreCase) { "location", "resourceGroup", "tags", "subscriptionId", "extendedLocation" };

    private static readonly HashSet<string> Status = new(StringComparer.OrdinalIgnoreCase)
    {
        "provisioningState", "resourceGuid", "connectionStatus", "ingressBytesTransferred", "egressBytesTransferred", "tunnelConnectionStatus",
        "ingressPacketsDroppedByLimit", "egressPacketsDroppedByLimit",
    };

    private sealed class Scope(JObject? parameters, JObject? variables)
    {
        public JObject? Parameters { get; } = parameters;
        public JObject? Variables { get; } = variables;
    }

    public static void Read(string text, string file, ImportedConfig config, bool template)
    {
        JValue root;
        try
        {
            root = JsonReader.Parse(text, file);
        }
        catch (JsonSyntaxException e)
        {
            throw new ImportException(e.At, $"the JSON does not parse: {e.Message}", "fix the JSON at that place (az ... show -o json prints valid JSON)");
        }
        if (template)
        {
            var t = root as JObject ?? throw new ImportException(root.At, "an ARM template is a JSON object", "give the whole template file");
            var scope = new Scope(t["parameters"] as JObject, t["variables"] as JObject);
            if (t["resources"] is JArray resources)
                foreach (var r in resources.Items) Resource(r, scope, config, null);
            else if (t["resources"] is JObject symbolic)
                foreach (var (_, _, r) in symbolic.Members) Resource(r, scope, config, null);
            else config.Note(t.At, "the template", "it has no resources");
            return;
        }
        var none = new Scope(null, null);
        if (root is JArray list)
            foreach (var r in list.Items) Resource(r, none, config, null);
        else if (root is JObject o && o["value"] is JArray page)
            foreach (var r in page.Items) Resource(r, none, config, null);
        else Resource(root, none, config, null);
    }

    private static void Resource(JValue value, Scope scope, ImportedConfig config, string? parentType)
    {
        if (value is not JObject r)
        {
            config.Note(value.At, "a value that is not a resource object", "expected { \"type\": \"Microsoft.Network/...\", ... }");
            return;
        }
        var type = Text(r["type"], scope, config) ?? "";
        if (parentType is not null && !type.Contains('/')) type = $"{parentType}/{type}";
        var name = Text(r["name"], scope, config);
        var props = r["properties"] as JObject ?? r;
        switch (type.ToLowerInvariant())
        {
            case "microsoft.network/connections":
                Connection(r, props, name, scope, config);
                break;
            case "microsoft.network/localnetworkgateways":
                Lng(r, props, name, scope, config);
                break;
            case "microsoft.network/virtualnetworkgateways":
                Gateway(r, props, name, scope, config);
                break;
            case "microsoft.network/virtualnetworks":
                Vnet(r, props, name, scope, config);
                break;
            case "microsoft.network/virtualnetworks/subnets":
                Subnet(r.At, name?.Split('/').Last(), props, scope, config, name?.Contains('/') == true ? name.Split('/')[0] : null);
                break;
            case "microsoft.network/publicipaddresses":
                if (Value(props["ipAddress"], scope, config) is { } ip)
                    config.Object(ConfigObjectKind.AzureGateway, null, r.At)?.Set(K.PublicAddress, ip);
                else config.Note(r.At, $"public IP address '{name}'", "Azure assigns its address; the lab takes the gateway's address from RRAS's destination (or uses its own)");
                break;
            default:
                config.Note(r.At, $"resource '{name}' of type {(type.Length == 0 ? "(none)" : type)}", "the lab imports Azure VPN connections, local network gateways, virtual network gateways, virtual networks and public IPs");
                return;
        }
        if (r["resources"] is JArray children)
            foreach (var c in children.Items) Resource(c, scope, config, type);
    }

    private static void Connection(JObject r, JObject p, string? name, Scope scope, ImportedConfig config)
    {
        var o = config.Object(ConfigObjectKind.Connection, name, r.At);
        if (o is null) return;
        Members(r, p, scope, config, (key, v) =>
        {
            switch (key.ToLowerInvariant())
            {
                case "sharedkey": Set(o, K.SharedKey, v, scope, config); return true;
                case "connectionprotocol": Set(o, K.ConnectionProtocol, v, scope, config); return true;
                case "connectionmode": Set(o, K.ConnectionMode, v, scope, config); return true;
                case "dpdtimeoutseconds": Set(o, K.DpdTimeout, v, scope, config); return true;
                case "usepolicybasedtrafficselectors": Set(o, K.UsePolicyBasedTrafficSelectors, v, scope, config); return true;
                case "enablebgp": Set(o, K.EnableBgp, v, scope, config); return true;
                case "virtualnetworkgateway1" or "localnetworkgateway2": return true;
                case "connectiontype":
                    if (!string.Equals(Text(v, scope, config), "IPsec", StringComparison.OrdinalIgnoreCase))
                        config.Note(v.At, $"connectionType {Text(v, scope, config)}", "the lab simulates site-to-site IPsec connections only");
                    return true;
                case "ipsecpolicies":
                    if (v is not JArray pa || pa.Items.Count == 0) return true;
                    if (pa.Items[0] is JObject policy)
                        Members(policy, policy, scope, config, (pk, pv) =>
                        {
                            var target = pk.ToLowerInvariant() switch
                            {
                                "salifetimeseconds" => K.SaLifetimeSeconds, "sadatasizekilobytes" => K.SaDataSizeKilobytes, "ipsecencryption" => K.IpsecEncryption,
                                "ipsecintegrity" => K.IpsecIntegrity, "ikeencryption" => K.IkeEncryption, "ikeintegrity" => K.IkeIntegrity, "dhgroup" => K.DhGroup,
                                "pfsgroup" => K.PfsGroup, _ => null,
                            };
                            if (target is null) return false;
                            Set(o, target, pv, scope, config);
                            return true;
                        });
                    foreach (var extra in pa.Items.Skip(1)) config.Note(extra.At, "a second IPsec policy", "Azure allows one IPsec/IKE policy per connection");
                    return true;
                case "trafficselectorpolicies":
                    if (v is not JArray ta || ta.Items.Count == 0) return true;
                    if (ta.Items[0] is JObject ts)
                    {
                        if (ts["localAddressRanges"] is { } lr) o.SetList(K.TrafficSelectorLocal, Values(lr, scope, config));
                        if (ts["remoteAddressRanges"] is { } rr) o.SetList(K.TrafficSelectorRemote, Values(rr, scope, config));
                    }
                    foreach (var extra in ta.Items.Skip(1)) config.Note(extra.At, "a further traffic selector policy", "the lab proposes one set of traffic selector pairs");
                    return true;
                case "routingweight":
                    config.Note(v.At, "routingWeight", "routing weight only matters with several paths (ExpressRoute); the lab has one tunnel");
                    return true;
            }
            return false;
        });
    }

    private static void Lng(JObject r, JObject p, string? name, Scope scope, ImportedConfig config)
    {
        var o = config.Object(ConfigObjectKind.LocalNetworkGateway, name, r.At);
        if (o is null) return;
        Members(r, p, scope, config, (key, v) =>
        {
            switch (key.ToLowerInvariant())
            {
                case "gatewayipaddress": Set(o, K.GatewayAddress, v, scope, config); return true;
                case "fqdn": Set(o, K.Fqdn, v, scope, config); return true;
                case "localnetworkaddressspace":
                    if (v is JObject s && s["addressPrefixes"] is { } ap) o.SetList(K.AddressSpaces, Values(ap, scope, config));
                    return true;
                case "bgpsettings":
                    if (v is JObject b)
                    {
                        if (b["asn"] is { } asn) Set(o, K.Asn, asn, scope, config);
                        if (b["bgpPeeringAddress"] is { } bp) Set(o, K.BgpPeeringAddress, bp, scope, config);
                    }
                    return true;
            }
            return false;
        });
    }

    private static void Gateway(JObject r, JObject p, string? name, Scope scope, ImportedConfig config)
    {
        var o = config.Object(ConfigObjectKind.AzureGateway, name, r.At);
        if (o is null) return;
        Members(r, p, scope, config, (key, v) =>
        {
            switch (key.ToLowerInvariant())
            {
                case "vpntype": Set(o, K.VpnType, v, scope, config); return true;
                case "enablebgp": Set(o, K.EnableBgp, v, scope, config); return true;
                case "gatewaytype":
                    if (!string.Equals(Text(v, scope, config), "Vpn", StringComparison.OrdinalIgnoreCase))
                        config.Note(v.At, $"gatewayType {Text(v, scope, config)}", "the lab simulates VPN gateways only");
                    return true;
                case "bgpsettings":
                    if (v is JObject b)
                    {
                        if (b["asn"] is { } asn) Set(o, K.Asn, asn, scope, config);
                        if (b["bgpPeeringAddress"] is { } bp) Set(o, K.BgpPeeringAddress, bp, scope, config);
                    }
                    return true;
                case "sku" or "vpngatewaygeneration":
                    config.Note(v.At, key, "the SKU's capacity limits are not simulated");
                    return true;
                case "ipconfigurations":
                    config.Note(v.At, key, "the lab's gateway has one address on the internet and one in the GatewaySubnet, drawn from the other files");
                    return true;
                case "activeactive" when Text(v, scope, config) is "false" or "False":
                    return true;
            }
            return false;
        });
    }

    private static void Vnet(JObject r, JObject p, string? name, Scope scope, ImportedConfig config)
    {
        var o = config.Object(ConfigObjectKind.AzureVnet, name, r.At);
        if (o is null) return;
        Members(r, p, scope, config, (key, v) =>
        {
            switch (key.ToLowerInvariant())
            {
                case "addressspace":
                    if (v is JObject s && s["addressPrefixes"] is { } ap) o.SetList(K.VnetAddressSpaces, Values(ap, scope, config));
                    return true;
                case "subnets":
                    if (v is JArray subnets)
                        foreach (var sn in subnets.Items.OfType<JObject>())
                            Subnet(sn.At, Text(sn["name"], scope, config), sn["properties"] as JObject ?? sn, scope, config, name);
                    return true;
            }
            return false;
        });
    }

    private static void Subnet(SourceLocation at, string? name, JObject p, Scope scope, ImportedConfig config, string? vnet)
    {
        if (!string.Equals(name, "GatewaySubnet", StringComparison.OrdinalIgnoreCase))
        {
            config.Note(at, $"subnet '{name}'", "the lab draws one workload subnet with a VM of its own inside the VNet");
            return;
        }
        var o = config.Object(ConfigObjectKind.AzureVnet, vnet, at);
        if (o is null) return;
        if (p["addressPrefix"] is { } ap) Set(o, K.GatewaySubnet, ap, scope, config);
        else if (p["addressPrefixes"] is JArray { Items.Count: > 0 } aps) Set(o, K.GatewaySubnet, aps.Items[0], scope, config);
    }

    /// <summary>Walks a resource's members and its properties, noting every one <paramref name="map"/> does not take.</summary>
    private static void Members(JObject resource, JObject props, Scope scope, ImportedConfig config, Func<string, JValue, bool> map)
    {
        var seen = new HashSet<JObject>(ReferenceEqualityComparer.Instance);
        foreach (var obj in new[] { props, resource })
        {
            if (!seen.Add(obj)) continue;
            foreach (var (key, keyAt, v) in obj.Members)
            {
                if (Structural.Contains(key) || v is JNull) continue;
                if (obj == resource && props != resource && key == "resources") continue;
                if (map(key, v)) continue;
                if (v is JArray { Items.Count: 0 } || (v is JLiteral { Text: "false" } && key.StartsWith("enable", StringComparison.OrdinalIgnoreCase))) continue;
                if (Metadata.Contains(key)) config.Note(keyAt, key, "Azure account, subscription, resource group and region are not part of the lab");
                else if (Status.Contains(key)) config.Note(keyAt, key, "state of the running resource, not configuration");
                else config.Note(keyAt, key, "not simulated by the lab");
            }
        }
    }

    private static void Set(ConfigObject o, string key, JValue v, Scope scope, ImportedConfig config)
    {
        if (Value(v, scope, config) is { } cv) o.Set(key, cv);
    }

    private static string? Text(JValue? v, Scope scope, ImportedConfig config) => v is null ? null : Value(v, scope, config)?.Value;

    private static ConfigValue? Value(JValue? v, Scope scope, ImportedConfig config)
    {
        switch (v)
        {
            case JString s:
            {
                var m = Reference().Match(s.Value);
                if (!m.Success)
                {
                    if (s.Value.StartsWith('[') && !s.Value.StartsWith("[[", StringComparison.Ordinal))
                    {
                        config.Note(s.At, $"expression {s.Value}", "only [parameters('...')] and [variables('...')] are evaluated");
                        return null;
                    }
                    return new ConfigValue(s.Value, s.At);
                }
                var name = m.Groups["name"].Value;
                if (m.Groups["fn"].Value == "parameters")
                {
                    var p = scope.Parameters?[name] as JObject;
                    if (p?["defaultValue"] is { } dv) return Value(dv, scope, config);
                    config.Note(s.At, $"parameters('{name}')", p is null ? "the template declares no such parameter" : "the parameter has no defaultValue; give one, or import the deployed resource with az ... show");
                    return null;
                }
                if (scope.Variables?[name] is { } vv) return Value(vv, scope, config);
                config.Note(s.At, $"variables('{name}')", "the template declares no such variable");
                return null;
            }
            case JLiteral l:
                return new ConfigValue(l.Text, l.At);
            case null or JNull:
                return null;
            default:
                config.Note(v.At, "a value", "expected text or a number");
                return null;
        }
    }

    private static List<ConfigValue> Values(JValue v, Scope scope, ImportedConfig config)
    {
        if (v is JString s && Reference().Match(s.Value) is { Success: true } m)
        {
            var source = m.Groups["fn"].Value == "parameters" ? (scope.Parameters?[m.Groups["name"].Value] as JObject)?["defaultValue"] : scope.Variables?[m.Groups["name"].Value];
            if (source is JArray) return Values(source, scope, config);
        }
        if (v is not JArray a) return Value(v, scope, config) is { } one ? [one] : [];
        return [.. a.Items.Select(x => Value(x, scope, config)).OfType<ConfigValue>()];
    }
}

