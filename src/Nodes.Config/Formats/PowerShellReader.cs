using Nodes.Topology;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config.Formats;

/// <summary>
/// Maps the cmdlets of a configuration script to lab objects: RRAS's Add-/Set-VpnS2SInterface (with the router.pbk
/// edits of Azure's RRAS script) and Azure's New-AzVirtualNetworkGatewayConnection, New-AzIpsecPolicy,
/// New-AzIpsecTrafficSelectorPolicy, New-AzLocalNetworkGateway, New-AzVirtualNetworkGateway and New-AzVirtualNetwork.
/// Parameter names and aliases are those of the cmdlets' help (Windows Server 2022 RemoteAccess module,
/// Azure/azure-powershell src/Network/Network/help). Every parameter and cmdlet that is not mapped gets a note.
/// </summary>
internal static class PowerShellReader
{
    private enum Rule { Scalar, List, Switch, Ignore }

    private sealed record Param(string[] Names, string? Key, Rule Rule, string? Why = null);

    private static Param S(string key, params string[] names) => new(names, key, Rule.Scalar);
    private static Param L(string key, params string[] names) => new(names, key, Rule.List);
    private static Param B(string key, params string[] names) => new(names, key, Rule.Switch);
    private static Param I(string why, params string[] names) => new(names, null, Rule.Ignore, why);

    private const string NotSimulated = "not simulated by the lab's RRAS node";
    private const string NoAzureAccount = "Azure account, subscription, resource group and region are not part of the lab";
    private const string Confirmation = "only changes how the cmdlet asks or prints";

    private static readonly Param[] Rras =
    [
        S(K.Protocol, "Protocol", "KeyModule"), S(K.AuthenticationMethod, "AuthenticationMethod"), S(K.SharedKey, "SharedSecret"),
        L(K.Ipv4Subnets, "IPv4Subnet", "IPv4TriggerSubnet"), S(K.NumberOfTries, "NumberOfTries"), S(K.RetryInterval, "RetryIntervalSeconds", "RetryIntervalSec"),
        S(K.IdleDisconnect, "IdleDisconnectSeconds", "IdleDurationSeconds"), B(K.Persistent, "Persistent"), B(K.CustomPolicy, "CustomPolicy"),
        S(K.EncryptionMethod, "EncryptionMethod"), S(K.IntegrityCheckMethod, "IntegrityCheckMethod"), S(K.DhGroup, "DHGroup"),
        S(K.CipherTransformConstants, "CipherTransformConstants"), S(K.AuthenticationTransformConstants, "AuthenticationTransformConstants"),
        S(K.PfsGroup, "PfsGroup"), S(K.SaLifetimeSeconds, "SALifeTimeSeconds", "SaLifeTimeSec", "LifeTimeSeconds", "QMSALifeTimeSeconds"),
        S(K.SaDataSizeKb, "SADataSizeForRenegotiationKilobytes", "SaRenegotiationDataSizeKB", "LifeTimeKiloBytes"),
        S(K.MmSaLifetimeSeconds, "MMSALifeTimeSeconds"),
        I(Confirmation, "Force", "PassThru", "WhatIf", "Confirm", "AsJob", "ThrottleLimit", "CimSession"),
        I("configuration payloads (internal addresses) are not part of the lab's site-to-site IKE_AUTH", "InitiateConfigPayload", "InternalIPv4", "InternalIPv6"),
        I(NotSimulated, "EncryptionType", "NetworkOutageTimeSeconds", "AutoConnectEnabled", "PromoteAlternate", "EnableQoS", "TxBandwidthKbps", "RxBandwidthKbps",
            "RoutingDomain", "PostConnectionIPv4Subnet", "PostConnectionIPv6Subnet", "IPv4TriggerFilter", "IPv4TriggerFilterAction", "IPv6Subnet",
            "IPv6TriggerFilter", "IPv6TriggerFilterAction", "RadiusAttributeClass", "AdminStatus", "UserName", "Password", "Certificate", "EapMethod",
            "LocalVpnTrafficSelector", "RemoteVpnTrafficSelector", "SourceIpAddress", "IPv4Address", "IPv6Address", "GreKey", "GreTunnel"),
    ];

    private static readonly Param[] Connection =
    [
        S(K.SharedKey, "SharedKey"), S(K.ConnectionProtocol, "ConnectionProtocol"), S(K.ConnectionMode, "ConnectionMode"),
        S(K.DpdTimeout, "DpdTimeoutInSeconds", "DpdTimeoutSeconds"), B(K.UsePolicyBasedTrafficSelectors, "UsePolicyBasedTrafficSelectors"),
        B(K.EnableBgp, "EnableBgp"),
        I(NoAzureAccount, "ResourceGroupName", "Location", "Tag", "AuthorizationKey"),
        I(Confirmation, "Force", "AsJob", "WhatIf", "Confirm", "DefaultProfile"),
        I("routing weight only matters with several paths (ExpressRoute); the lab has one tunnel", "RoutingWeight"),
        I("a custom APIPA address comes as an object of New-AzGatewayCustomBgpIpConfigurationObject, which the import does not read: write gateway-custom-bgp-address in the lab", "GatewayCustomBgpIpAddress"),
        I("not simulated by the lab's Azure gateway", "UseLocalAzureIpAddress", "IngressNatRule", "EgressNatRule", "ExpressRouteGatewayBypass",
            "EnablePrivateLinkFastPath", "PeerId", "VirtualNetworkGateway2", "AuthenticationType", "CertificateAuthentication"),
    ];

    private static readonly Param[] IpsecPolicy =
    [
        S(K.IkeEncryption, "IkeEncryption"), S(K.IkeIntegrity, "IkeIntegrity"), S(K.DhGroup, "DhGroup"), S(K.IpsecEncryption, "IpsecEncryption"),
        S(K.IpsecIntegrity, "IpsecIntegrity"), S(K.PfsGroup, "PfsGroup"), S(K.SaLifetimeSeconds, "SALifeTimeSeconds"), S(K.SaDataSizeKilobytes, "SADataSizeKilobytes"),
    ];

    private static readonly Param[] Lng =
    [
        S(K.GatewayAddress, "GatewayIpAddress"), S(K.Fqdn, "Fqdn"), L(K.AddressSpaces, "AddressPrefix"), S(K.Asn, "Asn"), S(K.BgpPeeringAddress, "BgpPeeringAddress"),
        I(NoAzureAccount, "ResourceGroupName", "Location", "Tag"), I(Confirmation, "Force", "AsJob", "DefaultProfile"),
        I("BGP peer weight is not simulated", "PeerWeight"),
    ];

    private static readonly Param[] Gateway =
    [
        S(K.VpnType, "VpnType"), S(K.Asn, "Asn"), B(K.EnableBgp, "EnableBgp"),
        I(NoAzureAccount, "ResourceGroupName", "Location", "Tag"), I(Confirmation, "Force", "AsJob", "DefaultProfile"),
        I("the SKU's capacity limits are not simulated", "GatewaySku", "VpnGatewayGeneration"),
        I("the lab's gateway has one address on the internet and one in the GatewaySubnet, drawn from the other files", "IpConfigurations"),
        I("not simulated by the lab's Azure gateway", "EnableActiveActiveFeature", "PeerWeight", "CustomRoute", "VpnClientAddressPool", "VpnClientProtocol",
            "EnablePrivateIpAddress", "GatewayDefaultSite", "NatRule", "EnableBgpRouteTranslationForNat", "DisableIPsecProtection"),
    ];

    private static readonly Param[] BgpRouter =
    [
        S(K.BgpIdentifier, "BgpIdentifier"), S(K.LocalAsn, "LocalASN"),
        I(Confirmation, "Force", "PassThru", "WhatIf", "Confirm", "AsJob", "ThrottleLimit", "CimSession"),
        I("not simulated by the lab's RRAS BGP router (one routing domain, no route reflection, no IPv6)", "RoutingDomain", "TransitRouting", "ClusterId",
            "CompareMEDAcrossASN", "DefaultGatewayRouting", "IPv6Routing", "LocalIPv6Address", "RouteReflector", "IPv4Routing"),
    ];

    private static readonly Param[] BgpPeer =
    [
        S(K.LocalIpAddress, "LocalIPAddress"), S(K.PeerIpAddress, "PeerIPAddress"), S(K.PeerAsn, "PeerASN"), S(K.LocalAsn, "LocalASN"),
        S(K.OperationMode, "OperationMode"), S(K.PeeringMode, "PeeringMode"), S(K.HoldTimeSec, "HoldTimeSec"), S(K.IdleHoldTimeSec, "IdleHoldTimeSec"),
        S(K.MaxAllowedPrefix, "MaxAllowedPrefix"),
        I(Confirmation, "Force", "PassThru", "WhatIf", "Confirm", "AsJob", "ThrottleLimit", "CimSession"),
        I("not simulated by the lab's RRAS BGP router", "Weight", "RouteReflectorClient", "RoutingDomain"),
    ];

    private static readonly Param[] Vnet =
    [
        L(K.VnetAddressSpaces, "AddressPrefix"),
        I(NoAzureAccount, "ResourceGroupName", "Location", "Tag"), I(Confirmation, "Force", "AsJob", "DefaultProfile"),
        I("DNS, DDoS protection and encryption of the VNet are not simulated", "DnsServer", "EnableDdosProtection", "DdosProtectionPlanId", "EnableEncryption", "EncryptionEnforcementPolicy", "FlowTimeout", "BgpCommunity", "EdgeZone", "IpamPoolPrefixAllocation", "PrivateEndpointVNetPolicy"),
    ];

    /// <summary>Cmdlets with nothing to map, and why.</summary>
    private static readonly Dictionary<string, string> NothingToMap = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Install-WindowsFeature"] = "installs a Windows role; the lab's rras node has Routing and Remote Access",
        ["Add-WindowsFeature"] = "installs a Windows role; the lab's rras node has Routing and Remote Access",
        ["Install-RemoteAccess"] = "installs RRAS as a site-to-site VPN server; the lab's rras node is one",
        ["Import-Module"] = "loads a PowerShell module",
        ["Restart-Service"] = "restarts a service; the lab starts its nodes fresh",
        ["Connect-VpnS2SInterface"] = "dials the interface; in the lab the default scenario's first ping dials it on demand",
        ["Write-Host"] = "prints text", ["Write-Output"] = "prints text", ["Start-Sleep"] = "waits",
        ["Connect-AzAccount"] = NoAzureAccount, ["Login-AzAccount"] = NoAzureAccount, ["Select-AzSubscription"] = NoAzureAccount,
        ["Set-AzContext"] = NoAzureAccount, ["New-AzResourceGroup"] = NoAzureAccount,
        ["New-AzPublicIpAddress"] = "Azure assigns the gateway's public address; the lab takes it from RRAS's -Destination (or uses its own)",
        ["New-AzVirtualNetworkGatewayIpConfig"] = "the lab's gateway has one address on the internet and one in the GatewaySubnet",
        ["Set-VpnServerIPsecConfiguration"] = "server-wide IPsec defaults for answering calls; the lab's RRAS takes its policy from the interface",
        ["Set-VpnServerConfiguration"] = "server-wide IPsec defaults for answering calls; the lab's RRAS takes its policy from the interface",
        ["Start-BgpPeer"] = "starts a peering of PeeringMode Manual; the lab starts Automatic ones at once",
        ["Invoke-WindowsApi"] = "calls a Windows API from the script's own helper function",
    };

    public static void Read(string text, string file, ImportedConfig config)
    {
        var tokens = PowerShellLexer.Tokenize(text, file, config.Notes);
        foreach (var cmd in new PowerShellInterpreter(tokens, config).Commands()) Apply(cmd, config);
    }

    private static void Apply(PsCommand cmd, ImportedConfig config)
    {
        var name = cmd.Name;
        switch (name.ToLowerInvariant())
        {
            case "add-vpns2sinterface" or "set-vpns2sinterface":
            {
                var nameArg = cmd.Find("Name");
                var o = config.Object(ConfigObjectKind.RrasInterface, Text(nameArg?.Value), nameArg?.Value.At ?? cmd.At);
                if (o is null) return;
                foreach (var a in cmd.Arguments)
                {
                    if (a.Name.Equals("Name", StringComparison.OrdinalIgnoreCase)) continue;
                    if (a.Name.ToLowerInvariant() is "destination" or "remotetunnelendpoint" or "remotetunnelhostname" or "remoteaddress")
                    {
                        var items = Items(a.Value, config, $"{name} -{a.Name}");
                        if (items.Count > 0) o.Set(K.Destination, items[0]);
                        foreach (var extra in items.Skip(1)) config.Note(extra.At, $"alternate destination {extra.Value}", "the lab's RRAS dials one destination");
                        continue;
                    }
                    if (a.Name.Equals("ResponderAuthenticationMethod", StringComparison.OrdinalIgnoreCase))
                    {
                        if (!string.Equals(Text(a.Value), "PSKOnly", StringComparison.OrdinalIgnoreCase))
                            config.Note(a.At, $"-ResponderAuthenticationMethod {Text(a.Value)}", "the lab's RRAS authenticates with the pre-shared key only (PSKOnly), as Azure does");
                        continue;
                    }
                    Map(cmd, a, Rras, o, config);
                }
                Positional(cmd, config);
                return;
            }
            case "new-azvirtualnetworkgatewayconnection" or "set-azvirtualnetworkgatewayconnection":
            {
                var connName = Text(cmd.Find("Name")?.Value) ?? ObjectName(cmd.Find("VirtualNetworkGatewayConnection")?.Value);
                var o = config.Object(ConfigObjectKind.Connection, connName, cmd.At);
                if (o is null) return;
                foreach (var a in cmd.Arguments)
                {
                    switch (a.Name.ToLowerInvariant())
                    {
                        case "name" or "virtualnetworkgatewayconnection" or "virtualnetworkgateway1" or "localnetworkgateway2":
                            if (a.Value is PsUnknown u) config.Note(a.At, $"-{a.Name} {u.Text}", "refers to an object no imported file creates or reads; import the file that has it");
                            continue;
                        case "connectiontype":
                            if (!string.Equals(Text(a.Value), "IPsec", StringComparison.OrdinalIgnoreCase))
                                config.Note(a.At, $"-ConnectionType {Text(a.Value)}", "the lab simulates site-to-site IPsec connections only");
                            continue;
                        case "ipsecpolicies":
                            foreach (var p in Objects(a.Value, config, "-IpsecPolicies"))
                                foreach (var pa in p.Command.Arguments) Map(p.Command, pa, IpsecPolicy, o, config);
                            continue;
                        case "trafficselectorpolicy" or "trafficselectorpolicies":
                            foreach (var p in Objects(a.Value, config, "-TrafficSelectorPolicy"))
                            {
                                if (p.Command.Find("LocalAddressRange") is { } la) o.SetList(K.TrafficSelectorLocal, Items(la.Value, config, "-LocalAddressRange"));
                                if (p.Command.Find("RemoteAddressRange") is { } ra) o.SetList(K.TrafficSelectorRemote, Items(ra.Value, config, "-RemoteAddressRange"));
                            }
                            continue;
                    }
                    Map(cmd, a, Connection, o, config);
                }
                Positional(cmd, config);
                return;
            }
            case "new-azipsecpolicy" or "new-azipsectrafficselectorpolicy" or "get-azvirtualnetworkgateway" or "get-azlocalnetworkgateway" or "get-azvirtualnetworkgatewayconnection" or "get-azvirtualnetwork":
                // Objects held in variables; they are read where a connection uses them.
                return;
            case "new-azlocalnetworkgateway" or "set-azlocalnetworkgateway":
                Resource(cmd, ConfigObjectKind.LocalNetworkGateway, Lng, config, "LocalNetworkGateway");
                return;
            case "set-azvirtualnetworkgateway":
                Resource(cmd, ConfigObjectKind.AzureGateway, Gateway, config, "VirtualNetworkGateway");
                return;
            case "new-azvirtualnetworkgateway":
                if (cmd.Find("GatewayType") is { } gt && !string.Equals(Text(gt.Value), "Vpn", StringComparison.OrdinalIgnoreCase))
                {
                    config.Note(gt.At, $"-GatewayType {Text(gt.Value)}", "the lab simulates VPN gateways only");
                    return;
                }
                Resource(cmd, ConfigObjectKind.AzureGateway, Gateway, config, null, "GatewayType");
                return;
            case "new-azvirtualnetwork":
            {
                Resource(cmd, ConfigObjectKind.AzureVnet, Vnet, config, null, "Subnet");
                if (cmd.Find("Subnet") is { } sn)
                    foreach (var s in Objects(sn.Value, config, "-Subnet")) Subnet(s.Command, config);
                return;
            }
            case "new-azvirtualnetworksubnetconfig" or "add-azvirtualnetworksubnetconfig":
                if (cmd.Name.StartsWith("Add", StringComparison.OrdinalIgnoreCase)) Subnet(cmd, config);
                return;
            case "set-privateprofilestring":
                RouterPbk(cmd, config);
                return;
            case "add-bgprouter" or "set-bgprouter":
            {
                var o = config.Object(ConfigObjectKind.RrasBgp, null, cmd.At);
                if (o is null) return;
                foreach (var a in cmd.Arguments) Map(cmd, a, BgpRouter, o, config);
                Positional(cmd, config);
                return;
            }
            case "add-bgppeer":
            {
                var o = config.Object(ConfigObjectKind.RrasBgp, null, cmd.At);
                if (o is null) return;
                var peerName = cmd.Find("Name") is { } n ? Scalar(n.Value, config, "Add-BgpPeer -Name") : null;
                if (o.Get(K.PeerName) is { } first && peerName is { } second && !string.Equals(first.Value, second.Value, StringComparison.OrdinalIgnoreCase))
                {
                    config.Note(cmd.At, $"Add-BgpPeer -Name {second.Value}", $"the lab's RRAS peers with the one Azure gateway of the lab; it keeps the peer '{first.Value}' from {first.At}");
                    return;
                }
                if (peerName is { } pn) o.Set(K.PeerName, pn);
                foreach (var a in cmd.Arguments)
                {
                    if (a.Name.Equals("Name", StringComparison.OrdinalIgnoreCase)) continue;
                    Map(cmd, a, BgpPeer, o, config);
                }
                Positional(cmd, config);
                return;
            }
            case "add-bgpcustomroute":
            {
                var o = config.Object(ConfigObjectKind.RrasBgp, null, cmd.At);
                if (o is null) return;
                foreach (var a in cmd.Arguments)
                {
                    if (a.Name.Equals("Network", StringComparison.OrdinalIgnoreCase)) o.SetList(K.CustomRoutes, [.. o.List(K.CustomRoutes), .. Items(a.Value, config, "Add-BgpCustomRoute -Network")]);
                    else if (a.Name.Equals("Interface", StringComparison.OrdinalIgnoreCase)) config.Note(a.At, "Add-BgpCustomRoute -Interface", "the lab's RRAS originates networks (-Network), not an interface's routes");
                    else config.Note(a.At, $"Add-BgpCustomRoute -{a.Name}", "not a parameter the import maps");
                }
                Positional(cmd, config);
                return;
            }
        }
        if (NothingToMap.TryGetValue(name, out var why)) config.Note(cmd.At, name, why);
        else if (name.StartsWith("Get-", StringComparison.OrdinalIgnoreCase)) config.Note(cmd.At, name, "reads state; nothing to configure");
        else config.Note(cmd.At, name, "a command the import does not know");
    }

    private static void Resource(PsCommand cmd, ConfigObjectKind kind, Param[] rules, ImportedConfig config, string? objectParam, params string[] handled)
    {
        var rname = Text(cmd.Find("Name")?.Value) ?? (objectParam is null ? null : ObjectName(cmd.Find(objectParam)?.Value));
        var o = config.Object(kind, rname, cmd.At);
        if (o is null) return;
        foreach (var a in cmd.Arguments)
        {
            if (a.Name.Equals("Name", StringComparison.OrdinalIgnoreCase) || (objectParam is not null && a.Name.Equals(objectParam, StringComparison.OrdinalIgnoreCase))) continue;
            if (handled.Contains(a.Name, StringComparer.OrdinalIgnoreCase)) continue;
            Map(cmd, a, rules, o, config);
        }
        Positional(cmd, config);
    }

    private static void Subnet(PsCommand cmd, ImportedConfig config)
    {
        var sname = Text(cmd.Find("Name")?.Value);
        if (!string.Equals(sname, "GatewaySubnet", StringComparison.OrdinalIgnoreCase))
        {
            config.Note(cmd.At, $"subnet '{sname}'", "the lab draws one workload subnet with a VM of its own inside the VNet");
            return;
        }
        var vnetName = ObjectName(cmd.Find("VirtualNetwork")?.Value);
        var o = config.Object(ConfigObjectKind.AzureVnet, vnetName, cmd.At);
        if (o is null || cmd.Find("AddressPrefix") is not { } ap) return;
        var items = Items(ap.Value, config, "-AddressPrefix");
        if (items.Count > 0) o.Set(K.GatewaySubnet, items[0]);
    }

    /// <summary>Azure's RRAS script edits router.pbk: Set-PrivateProfileString FILE SECTION KEY VALUE.</summary>
    private static void RouterPbk(PsCommand cmd, ImportedConfig config)
    {
        var p = cmd.Positional;
        if (p.Count != 4)
        {
            config.Note(cmd.At, "Set-PrivateProfileString", "expected a file, a section, a key and a value");
            return;
        }
        var section = Text(p[1]);
        var key = Text(p[2]);
        var value = p[3] is PsScalar v ? new ConfigValue(v.Text, v.At) : (ConfigValue?)null;
        var o = config.Object(ConfigObjectKind.RrasInterface, section, cmd.At);
        if (o is null || value is null) return;
        switch (key?.ToLowerInvariant())
        {
            case "idledisconnectseconds":
                o.Set(K.IdleDisconnect, value.Value);
                return;
            case "redialonlinkfailure":
                config.Note(cmd.At, $"router.pbk [{section}] RedialOnLinkFailure={value.Value.Value}", "the lab's RRAS dials again on the next packet to the VNet, which covers a failed link");
                return;
            default:
                config.Note(cmd.At, $"router.pbk [{section}] {key}", NotSimulated);
                return;
        }
    }

    private static void Map(PsCommand cmd, PsArgument a, Param[] rules, ConfigObject o, ImportedConfig config)
    {
        var rule = rules.FirstOrDefault(r => r.Names.Contains(a.Name, StringComparer.OrdinalIgnoreCase));
        if (rule is null)
        {
            config.Note(a.At, $"{cmd.Name} -{a.Name}", "not a parameter the import knows for this cmdlet");
            return;
        }
        switch (rule.Rule)
        {
            case Rule.Ignore:
                config.Note(a.At, $"{cmd.Name} -{a.Name}", rule.Why!);
                return;
            case Rule.List:
                o.SetList(rule.Key!, Items(a.Value, config, $"{cmd.Name} -{a.Name}"));
                return;
            case Rule.Switch:
            case Rule.Scalar:
                if (Scalar(a.Value, config, $"{cmd.Name} -{a.Name}") is { } v)
                    o.Set(rule.Key!, rule.Rule == Rule.Switch ? v with { Value = Bool(v.Value) } : v);
                return;
        }
    }

    private static string Bool(string text) => text.Equals("true", StringComparison.OrdinalIgnoreCase) || text == "1" ? "true" : text.Equals("false", StringComparison.OrdinalIgnoreCase) || text == "0" ? "false" : text;

    private static void Positional(PsCommand cmd, ImportedConfig config)
    {
        foreach (var p in cmd.Positional)
            config.Note(p.At, $"{cmd.Name} positional argument '{Text(p) ?? (p as PsUnknown)?.Text}'", "write it as a named parameter (-Name value) so the import knows what it is");
    }

    internal static string? Text(PsValue? v) => v switch
    {
        PsScalar s => s.Text,
        PsList { Items.Count: 1 } l => Text(l.Items[0]),
        _ => null,
    };

    private static string? ObjectName(PsValue? v) => v is PsObject o ? Text(o.Command.Find("Name")?.Value) : null;

    private static ConfigValue? Scalar(PsValue v, ImportedConfig config, string what)
    {
        switch (v)
        {
            case PsScalar s:
                return new ConfigValue(s.Text, s.At);
            case PsList { Items.Count: 1 } l:
                return Scalar(l.Items[0], config, what);
            case PsUnknown u:
                config.Note(u.At, $"{what} {u.Text}", "the value comes from a variable or an expression no imported file sets");
                return null;
            default:
                config.Note(v.At, what, "expected one value");
                return null;
        }
    }

    private static List<ConfigValue> Items(PsValue v, ImportedConfig config, string what)
    {
        var result = new List<ConfigValue>();
        foreach (var item in v is PsList l ? l.Items : [v])
        {
            if (item is PsList inner) result.AddRange(Items(inner, config, what));
            else if (Scalar(item, config, what) is { } s) result.Add(s);
        }
        return result;
    }

    private static List<PsObject> Objects(PsValue v, ImportedConfig config, string what)
    {
        var result = new List<PsObject>();
        foreach (var item in v is PsList l ? l.Items : [v])
        {
            if (item is PsObject o) result.Add(o);
            else config.Note(item.At, $"{what} {(item as PsUnknown)?.Text ?? Text(item)}", "expected an object made by a cmdlet earlier in the imported files");
        }
        return result;
    }
}
