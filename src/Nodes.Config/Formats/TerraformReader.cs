using System.Text;
using Nodes.Topology;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config.Formats;

internal abstract record HclExpr(SourceLocation At);

internal sealed record HclText(string Value, SourceLocation At) : HclExpr(At);

internal sealed record HclList(List<HclExpr> Items, SourceLocation At) : HclExpr(At);

/// <summary>A reference (var.x, azurerm_x.y.id), a function call or an interpolation: kept as written.</summary>
internal sealed record HclRaw(string Text, SourceLocation At) : HclExpr(At);

internal sealed record HclAttribute(string Name, HclExpr Value, SourceLocation At);

internal sealed record HclBlock(string Type, List<string> Labels, List<HclAttribute> Attributes, List<HclBlock> Blocks, SourceLocation At)
{
    public HclAttribute? Find(string name) => Attributes.LastOrDefault(a => a.Name == name);
}

/// <summary>
/// Reads Terraform's HCL (blocks, attributes, strings, numbers, lists, references) and maps the azurerm resources of
/// an Azure site-to-site VPN: azurerm_virtual_network_gateway_connection (with ipsec_policy and
/// traffic_selector_policy blocks), azurerm_local_network_gateway, azurerm_virtual_network_gateway,
/// azurerm_virtual_network and azurerm_subnet (names from hashicorp/terraform-provider-azurerm website/docs/r/).
/// <c>var.x</c> takes the variable's default and <c>local.x</c> the local value.
/// </summary>
internal sealed class TerraformReader
{
    private readonly string text;
    private readonly string file;
    private int i, line = 1, lineStart;

    private TerraformReader(string text, string file)
    {
        this.text = text;
        this.file = file;
    }

    private SourceLocation Here => new(file, line, i - lineStart + 1);

    public static void Read(string text, string file, ImportedConfig config)
    {
        var body = new TerraformReader(text, file).Body(topLevel: true);
        var vars = new Dictionary<string, HclExpr>(StringComparer.Ordinal);
        foreach (var b in body.Blocks)
        {
            if (b.Type == "variable" && b.Labels.Count == 1 && b.Find("default") is { } d) vars["var." + b.Labels[0]] = d.Value;
            if (b.Type == "locals") foreach (var a in b.Attributes) vars["local." + a.Name] = a.Value;
        }
        var map = new Mapper(config, vars);
        foreach (var b in body.Blocks) map.TopBlock(b);
        foreach (var a in body.Attributes) config.Note(a.At, a.Name, "an attribute outside any block");
    }

    private HclBlock Body(bool topLevel)
    {
        var at = Here;
        var attributes = new List<HclAttribute>();
        var blocks = new List<HclBlock>();
        while (true)
        {
            Skip(newlines: true);
            if (i >= text.Length)
            {
                if (!topLevel) throw new ImportException(at, "a block is never closed with '}'", "close every block");
                break;
            }
            if (text[i] == '}')
            {
                if (topLevel) throw new ImportException(Here, "'}' without a block to close", "remove it, or open the block it closes");
                i++;
                break;
            }
            var nameAt = Here;
            var name = Identifier() ?? throw new ImportException(Here, $"unexpected '{text[i]}'", "write 'name = value' or 'type \"label\" { ... }'");
            Skip(newlines: false);
            if (i < text.Length && text[i] == '=')
            {
                i++;
                Skip(newlines: false);
                attributes.Add(new HclAttribute(name, Expression(), nameAt));
                continue;
            }
            var labels = new List<string>();
            while (i < text.Length && text[i] != '{')
            {
                if (text[i] == '"') labels.Add(((HclText)StringLiteral()).Value);
                else if (Identifier() is { } l) labels.Add(l);
                else throw new ImportException(Here, $"expected '=' or a block after '{name}'", "write 'name = value' or 'type \"label\" { ... }'");
                Skip(newlines: false);
            }
            if (i >= text.Length) throw new ImportException(nameAt, $"block '{name}' has no body", "add '{ ... }'");
            i++;
            var inner = Body(topLevel: false);
            blocks.Add(inner with { Type = name, Labels = labels, At = nameAt });
        }
        return new HclBlock("", [], attributes, blocks, at);
    }

    private void Skip(bool newlines)
    {
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                if (!newlines) return;
                i++;
                line++;
                lineStart = i;
            }
            else if (c is ' ' or '\t' or '\r' or '\uFEFF') i++;
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/')) { while (i < text.Length && text[i] != '\n') i++; }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                var stop = end < 0 ? text.Length : end + 2;
                for (; i < stop; i++)
                    if (text[i] == '\n') { line++; lineStart = i + 1; }
            }
            else return;
        }
    }

    private string? Identifier()
    {
        var start = i;
        while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '-')) i++;
        return i > start ? text[start..i] : null;
    }

    private HclExpr Expression()
    {
        var at = Here;
        if (i >= text.Length) throw new ImportException(at, "the file ends where a value was expected", "give the attribute a value");
        switch (text[i])
        {
            case '"':
                return StringLiteral();
            case '[':
            {
                i++;
                var items = new List<HclExpr>();
                while (true)
                {
                    Skip(newlines: true);
                    if (i >= text.Length) throw new ImportException(at, "a list is never closed with ']'", "close the list");
                    if (text[i] == ']') { i++; break; }
                    items.Add(Expression());
                    Skip(newlines: true);
                    if (i < text.Length && text[i] == ',') i++;
                }
                return new HclList(items, at);
            }
            default:
            {
                // A number, a bool, a reference or a call: up to the end of the line or a closing bracket at depth 0.
                var start = i;
                var depth = 0;
                while (i < text.Length && text[i] != '\n')
                {
                    var c = text[i];
                    if (c is '(' or '[' or '{') depth++;
                    else if (c is ')' or ']' or '}')
                    {
                        if (depth == 0) break;
                        depth--;
                    }
                    else if (c == ',' && depth == 0) break;
                    else if (c == '#') break;
                    i++;
                }
                var raw = text[start..i].Trim();
                if (raw.Length == 0) throw new ImportException(at, "expected a value", "write a string, a number, a list or a reference");
                return double.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, out _) || raw is "true" or "false" ? new HclText(raw, at) : new HclRaw(raw, at);
            }
        }
    }

    private HclExpr StringLiteral()
    {
        var at = Here;
        i++;
        var sb = new StringBuilder();
        var interpolated = false;
        while (i < text.Length && text[i] != '"')
        {
            var c = text[i++];
            if (c == '\n') throw new ImportException(at, "a string runs past the end of the line", "close the string with '\"'");
            if (c == '\\' && i < text.Length)
            {
                var e = text[i++];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', _ => e });
                continue;
            }
            if (c == '$' && i < text.Length && text[i] == '{') interpolated = true;
            sb.Append(c);
        }
        if (i >= text.Length) throw new ImportException(at, "a string is never closed", "close the string with '\"'");
        i++;
        return interpolated ? new HclRaw("\"" + sb + "\"", at) : new HclText(sb.ToString(), at);
    }

    private sealed class Mapper(ImportedConfig config, Dictionary<string, HclExpr> vars)
    {
        private const string NoAzureAccount = "Azure account, subscription, resource group and region are not part of the lab";

        public void TopBlock(HclBlock b)
        {
            switch (b.Type)
            {
                case "variable" or "locals" or "output" or "terraform" or "provider" or "data" or "module" or "moved" or "import":
                    if (b.Type is "data" or "module") config.Note(b.At, $"{b.Type} {string.Join(".", b.Labels)}", "reads or includes other configuration; import the resources themselves");
                    return;
                case "resource" when b.Labels.Count == 2:
                    Resource(b, b.Labels[0], b.Labels[1]);
                    return;
                default:
                    config.Note(b.At, $"block {b.Type}", "not a Terraform block the import knows");
                    return;
            }
        }

        private void Resource(HclBlock b, string type, string label)
        {
            var name = Text(b.Find("name")?.Value) ?? label;
            switch (type)
            {
                case "azurerm_virtual_network_gateway_connection":
                {
                    var o = config.Object(ConfigObjectKind.Connection, name, b.At);
                    if (o is null) return;
                    Attributes(b, o, new()
                    {
                        ["shared_key"] = K.SharedKey, ["connection_protocol"] = K.ConnectionProtocol, ["connection_mode"] = K.ConnectionMode,
                        ["dpd_timeout_seconds"] = K.DpdTimeout, ["use_policy_based_traffic_selectors"] = K.UsePolicyBasedTrafficSelectors, ["enable_bgp"] = K.EnableBgp,
                    }, ["virtual_network_gateway_id", "local_network_gateway_id"], a =>
                    {
                        if (a.Name == "type")
                        {
                            if (!string.Equals(Text(a.Value), "IPsec", StringComparison.OrdinalIgnoreCase)) config.Note(a.At, $"type = {Text(a.Value)}", "the lab simulates site-to-site IPsec connections only");
                            return true;
                        }
                        if (a.Name == "routing_weight") { config.Note(a.At, a.Name, "routing weight only matters with several paths (ExpressRoute); the lab has one tunnel"); return true; }
                        return false;
                    });
                    var policies = 0;
                    var selectors = 0;
                    foreach (var inner in b.Blocks)
                    {
                        if (inner.Type == "ipsec_policy" && policies++ == 0)
                            Attributes(inner, o, new()
                            {
                                ["dh_group"] = K.DhGroup, ["ike_encryption"] = K.IkeEncryption, ["ike_integrity"] = K.IkeIntegrity, ["ipsec_encryption"] = K.IpsecEncryption,
                                ["ipsec_integrity"] = K.IpsecIntegrity, ["pfs_group"] = K.PfsGroup, ["sa_datasize"] = K.SaDataSizeKilobytes, ["sa_lifetime"] = K.SaLifetimeSeconds,
                            }, [], _ => false);
                        else if (inner.Type == "traffic_selector_policy" && selectors++ == 0)
                        {
                            foreach (var a in inner.Attributes)
                            {
                                if (a.Name == "local_address_cidrs") o.SetList(K.TrafficSelectorLocal, Items(a.Value));
                                else if (a.Name == "remote_address_cidrs") o.SetList(K.TrafficSelectorRemote, Items(a.Value));
                                else config.Note(a.At, a.Name, "not an attribute of traffic_selector_policy the import knows");
                            }
                        }
                        else config.Note(inner.At, $"block {inner.Type}", inner.Type is "ipsec_policy" or "traffic_selector_policy" ? "the lab takes the first one" : "not simulated by the lab");
                    }
                    return;
                }
                case "azurerm_local_network_gateway":
                {
                    var o = config.Object(ConfigObjectKind.LocalNetworkGateway, name, b.At);
                    if (o is null) return;
                    Attributes(b, o, new() { ["gateway_address"] = K.GatewayAddress, ["gateway_fqdn"] = K.Fqdn }, [], a =>
                    {
                        if (a.Name != "address_space") return false;
                        o.SetList(K.AddressSpaces, Items(a.Value));
                        return true;
                    });
                    foreach (var inner in b.Blocks)
                    {
                        if (inner.Type == "bgp_settings") Attributes(inner, o, new() { ["asn"] = K.Asn, ["bgp_peering_address"] = K.BgpPeeringAddress }, [], _ => false);
                        else config.Note(inner.At, $"block {inner.Type}", "not simulated by the lab");
                    }
                    return;
                }
                case "azurerm_virtual_network_gateway":
                {
                    var o = config.Object(ConfigObjectKind.AzureGateway, name, b.At);
                    if (o is null) return;
                    Attributes(b, o, new() { ["vpn_type"] = K.VpnType, ["enable_bgp"] = K.EnableBgp }, [], a =>
                    {
                        switch (a.Name)
                        {
                            case "type":
                                if (!string.Equals(Text(a.Value), "Vpn", StringComparison.OrdinalIgnoreCase)) config.Note(a.At, $"type = {Text(a.Value)}", "the lab simulates VPN gateways only");
                                return true;
                            case "sku" or "generation":
                                config.Note(a.At, a.Name, "the SKU's capacity limits are not simulated");
                                return true;
                            case "active_active" when Text(a.Value) == "false":
                                return true;
                        }
                        return false;
                    });
                    foreach (var inner in b.Blocks)
                    {
                        if (inner.Type == "bgp_settings") Attributes(inner, o, new() { ["asn"] = K.Asn }, [], _ => false);
                        else if (inner.Type == "ip_configuration") config.Note(inner.At, "block ip_configuration", "the lab's gateway has one address on the internet and one in the GatewaySubnet, drawn from the other files");
                        else config.Note(inner.At, $"block {inner.Type}", "not simulated by the lab");
                    }
                    return;
                }
                case "azurerm_virtual_network":
                {
                    var o = config.Object(ConfigObjectKind.AzureVnet, name, b.At);
                    if (o is null) return;
                    Attributes(b, o, [], [], a =>
                    {
                        if (a.Name != "address_space") return false;
                        o.SetList(K.VnetAddressSpaces, Items(a.Value));
                        return true;
                    });
                    foreach (var inner in b.Blocks)
                    {
                        if (inner.Type == "subnet" && Text(inner.Find("name")?.Value) == "GatewaySubnet" && (inner.Find("address_prefixes") ?? inner.Find("address_prefix")) is { } ap && Items(ap.Value) is [var first, ..])
                            o.Set(K.GatewaySubnet, first);
                        else config.Note(inner.At, $"block {inner.Type} {Text(inner.Find("name")?.Value)}", "the lab draws one workload subnet with a VM of its own inside the VNet");
                    }
                    return;
                }
                case "azurerm_subnet":
                {
                    if (name != "GatewaySubnet")
                    {
                        config.Note(b.At, $"subnet '{name}'", "the lab draws one workload subnet with a VM of its own inside the VNet");
                        return;
                    }
                    var o = config.Object(ConfigObjectKind.AzureVnet, null, b.At);
                    if (o is null) return;
                    Attributes(b, o, [], ["virtual_network_name"], a =>
                    {
                        if (a.Name is not ("address_prefixes" or "address_prefix")) return false;
                        if (Items(a.Value) is [var first, ..]) o.Set(K.GatewaySubnet, first);
                        return true;
                    });
                    return;
                }
                case "azurerm_public_ip":
                    config.Note(b.At, $"azurerm_public_ip.{label}", "Azure assigns its address; the lab takes the gateway's address from RRAS's destination (or uses its own)");
                    return;
                case "azurerm_resource_group":
                    config.Note(b.At, $"azurerm_resource_group.{label}", NoAzureAccount);
                    return;
                default:
                    config.Note(b.At, $"resource {type}.{label}", "the lab imports azurerm VPN connections, local network gateways, virtual network gateways, virtual networks and subnets");
                    return;
            }
        }

        private void Attributes(HclBlock b, ConfigObject o, Dictionary<string, string> scalars, string[] references, Func<HclAttribute, bool> other)
        {
            foreach (var a in b.Attributes)
            {
                if (a.Name == "name" || references.Contains(a.Name)) continue;
                if (scalars.TryGetValue(a.Name, out var key) && key.Length > 0)
                {
                    if (Scalar(a.Value) is { } v) o.Set(key, v);
                    continue;
                }
                if (other(a)) continue;
                if (a.Name is "resource_group_name" or "location" or "tags") config.Note(a.At, a.Name, NoAzureAccount);
                else config.Note(a.At, a.Name, "not simulated by the lab");
            }
        }

        private HclExpr Resolve(HclExpr e, int depth = 0) =>
            e is HclRaw r && depth < 8 && vars.TryGetValue(r.Text, out var v) ? Resolve(v, depth + 1) : e;

        private string? Text(HclExpr? e) => e is null ? null : Resolve(e) is HclText t ? t.Value : null;

        private ConfigValue? Scalar(HclExpr e)
        {
            var r = Resolve(e);
            if (r is HclText t) return new ConfigValue(t.Value, t.At);
            config.Note(e.At, (e as HclRaw)?.Text ?? "a list", r is HclRaw ? "a reference or expression no imported file sets" : "expected one value");
            return null;
        }

        private List<ConfigValue> Items(HclExpr e)
        {
            var r = Resolve(e);
            if (r is not HclList l) return Scalar(e) is { } one ? [one] : [];
            var result = new List<ConfigValue>();
            foreach (var item in l.Items)
                if (Scalar(item) is { } v) result.Add(v);
            return result;
        }
    }
}
