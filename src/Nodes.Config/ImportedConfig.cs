using Nodes.Topology;

namespace Nodes.Config;

/// <summary>One value read from a user's file, with where it was written.</summary>
public readonly record struct ConfigValue(string Value, SourceLocation At)
{
    public override string ToString() => $"{Value} ({At})";
}

/// <summary>Something in a user's file the import did not turn into lab configuration, and why.</summary>
public sealed record ConfigNote(SourceLocation At, string What, string Why)
{
    public override string ToString() => $"{At}: not mapped: {What}: {Why}";
}

/// <summary>The kinds of object an import fills; each holds the values under Nodes' own (topology) names.</summary>
public enum ConfigObjectKind
{
    /// <summary>RRAS's demand-dial interface (Add-VpnS2SInterface).</summary>
    RrasInterface,
    /// <summary>The Azure virtual network gateway.</summary>
    AzureGateway,
    /// <summary>The Azure virtual network (its address spaces and GatewaySubnet).</summary>
    AzureVnet,
    /// <summary>The Azure local network gateway (the on-premises side as Azure knows it).</summary>
    LocalNetworkGateway,
    /// <summary>The Azure site-to-site connection, with its IPsec/IKE policy.</summary>
    Connection,
    /// <summary>RRAS's BGP router (Add-BgpRouter), its peer (Add-BgpPeer) and the routes it originates (Add-BgpCustomRoute).</summary>
    RrasBgp,
}

/// <summary>
/// One device object assembled from a user's files: scalar values and lists by key, each traced to its source.
/// A later assignment replaces an earlier one, as a Set- cmdlet run after an Add- or New- one does.
/// </summary>
public sealed class ConfigObject(ConfigObjectKind kind, string? name, SourceLocation at)
{
    private readonly Dictionary<string, ConfigValue> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ConfigValue>> lists = new(StringComparer.Ordinal);

    public ConfigObjectKind Kind { get; } = kind;

    /// <summary>The object's name in the user's configuration (interface, resource or connection name), when it has one.</summary>
    public string? Name { get; internal set; } = name;

    /// <summary>Where the object was first declared.</summary>
    public SourceLocation At { get; } = at;

    public void Set(string key, ConfigValue value) => values[key] = value;

    public void SetList(string key, IEnumerable<ConfigValue> items) => lists[key] = [.. items];

    public ConfigValue? Get(string key) => values.TryGetValue(key, out var v) ? v : null;

    public IReadOnlyList<ConfigValue> List(string key) => lists.TryGetValue(key, out var l) ? l : [];

    public bool Has(string key) => values.ContainsKey(key) || lists.ContainsKey(key);

    public IEnumerable<string> Keys => values.Keys.Concat(lists.Keys);
}

/// <summary>
/// Everything imported from a set of files: at most one object of each kind (a lab is one RRAS site and one Azure
/// connection), the files and the formats they were read as, and every note about what was not mapped.
/// </summary>
public sealed class ImportedConfig
{
    private readonly Dictionary<ConfigObjectKind, ConfigObject> objects = [];

    public List<ConfigNote> Notes { get; } = [];

    public List<(string File, ConfigFormat Format)> Files { get; } = [];

    /// <summary>The object of <paramref name="kind"/>, if any file declared one.</summary>
    public ConfigObject? Find(ConfigObjectKind kind) => objects.GetValueOrDefault(kind);

    /// <summary>
    /// The object of <paramref name="kind"/> named <paramref name="name"/>, created when there is none yet; null (with
    /// a note) when another one of that kind is already imported, since a lab holds one of each.
    /// </summary>
    public ConfigObject? Object(ConfigObjectKind kind, string? name, SourceLocation at)
    {
        if (objects.TryGetValue(kind, out var o))
        {
            if (name is null || o.Name is null || string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                o.Name ??= name;
                return o;
            }
            Notes.Add(new ConfigNote(at, $"{Describe(kind)} '{name}'", $"the lab imports one {Describe(kind)} and already has '{o.Name}' from {o.At}; import this one in a lab of its own"));
            return null;
        }
        return objects[kind] = new ConfigObject(kind, name, at);
    }

    public void Note(SourceLocation at, string what, string why) => Notes.Add(new ConfigNote(at, what, why));

    public static string Describe(ConfigObjectKind kind) => kind switch
    {
        ConfigObjectKind.RrasInterface => "RRAS site-to-site interface",
        ConfigObjectKind.AzureGateway => "Azure virtual network gateway",
        ConfigObjectKind.AzureVnet => "Azure virtual network",
        ConfigObjectKind.LocalNetworkGateway => "Azure local network gateway",
        ConfigObjectKind.RrasBgp => "RRAS BGP router",
        _ => "Azure connection",
    };
}

/// <summary>The keys objects hold, named as the topology file names them.</summary>
public static class ConfigKeys
{
    // RRAS interface
    public const string Destination = "destination";
    public const string Ipv4Subnets = "ipv4-subnets";
    public const string SharedKey = "shared-key";
    public const string Protocol = "protocol";
    public const string AuthenticationMethod = "authentication-method";
    public const string NumberOfTries = "number-of-tries";
    public const string RetryInterval = "retry-interval-seconds";
    public const string IdleDisconnect = "idle-disconnect-seconds";
    public const string Persistent = "persistent";
    public const string CustomPolicy = "custom-policy";
    public const string EncryptionMethod = "encryption-method";
    public const string IntegrityCheckMethod = "integrity-check-method";
    public const string DhGroup = "dh-group";
    public const string CipherTransformConstants = "cipher-transform-constants";
    public const string AuthenticationTransformConstants = "authentication-transform-constants";
    public const string PfsGroup = "pfs-group";
    public const string SaLifetimeSeconds = "sa-lifetime-seconds";
    public const string SaDataSizeKb = "sa-data-size-kb";
    public const string MmSaLifetimeSeconds = "mm-sa-lifetime-seconds";

    // Azure gateway and VNet
    public const string PublicAddress = "public-address";
    public const string VpnType = "vpn-type";
    public const string Asn = "bgp-asn";
    public const string EnableBgp = "enable-bgp";
    public const string VnetAddressSpaces = "vnet-address-spaces";
    public const string GatewaySubnet = "gateway-subnet";

    // Local network gateway
    public const string GatewayAddress = "gateway-address";
    public const string Fqdn = "fqdn";
    public const string AddressSpaces = "address-spaces";
    public const string BgpPeeringAddress = "bgp-peering-address";

    // RRAS BGP router and peer
    public const string BgpIdentifier = "bgp-identifier";
    public const string LocalAsn = "local-asn";
    public const string CustomRoutes = "custom-routes";
    public const string PeerName = "peer-name";
    public const string LocalIpAddress = "local-ip-address";
    public const string PeerIpAddress = "peer-ip-address";
    public const string PeerAsn = "peer-asn";
    public const string OperationMode = "operation-mode";
    public const string PeeringMode = "peering-mode";
    public const string HoldTimeSec = "hold-time-sec";
    public const string IdleHoldTimeSec = "idle-hold-time-sec";
    public const string MaxAllowedPrefix = "max-allowed-prefix";

    // Connection
    public const string ConnectionProtocol = "connection-protocol";
    public const string ConnectionMode = "connection-mode";
    public const string DpdTimeout = "dpd-timeout-seconds";
    public const string UsePolicyBasedTrafficSelectors = "use-policy-based-traffic-selectors";
    public const string IkeEncryption = "ike-encryption";
    public const string IkeIntegrity = "ike-integrity";
    public const string IpsecEncryption = "ipsec-encryption";
    public const string IpsecIntegrity = "ipsec-integrity";
    public const string SaDataSizeKilobytes = "sa-data-size-kilobytes";
    public const string TrafficSelectorLocal = "traffic-selector-local";
    public const string TrafficSelectorRemote = "traffic-selector-remote";
}

/// <summary>A file that cannot be imported at all (it does not parse): one message with the place and the fix.</summary>
public sealed class ImportException(SourceLocation at, string message, string hint) : Exception(message)
{
    public SourceLocation At { get; } = at;

    public string Hint { get; } = hint;

    public override string ToString() => $"{At}: error: {Message} (hint: {Hint})";
}
