using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Nodes.Config.Diagnostics;

/// <summary>
/// A connection of the simulated Azure gateway as Azure's own tools print it: <c>az network vpn-connection show</c>,
/// <c>Get-AzVirtualNetworkGatewayConnectionIkeSa</c> and the ConnectionStats.txt of Network Watcher's VPN troubleshoot.
/// The shared key is never part of any of them.
/// </summary>
public static class AzureConnectionViews
{
    /// <summary>The instance of an active-standby gateway, as Azure names it in TunnelDiagnosticLog and metric dimensions.</summary>
    public const string Instance = "GatewayTenantWorker_IN_0";

    /// <summary>
    /// <c>az network vpn-connection show</c>: the connection resource with its properties flattened, as the CLI prints
    /// it. Field names and values follow the REST model (VirtualNetworkGatewayConnectionGet.json in
    /// Azure/azure-rest-api-specs: connectionStatus Unknown|Connecting|Connected|NotConnected, ingressBytesTransferred,
    /// egressBytesTransferred; TunnelConnectionHealth: tunnel, connectionStatus, ingressBytesTransferred,
    /// egressBytesTransferred, lastConnectionEstablishedUtcTime). Ingress is what the gateway received from
    /// on-premises through the tunnel's current Child SAs, egress what it sent. The tunnel is named by the peer's
    /// address (the docs show no value for it).
    /// </summary>
    public static JsonObject ConnectionShow(GatewayTunnel t)
    {
        var tunnel = new JsonObject
        {
            ["connectionStatus"] = t.State,
            ["egressBytesTransferred"] = t.BytesOut,
            ["ingressBytesTransferred"] = t.BytesIn,
            ["lastConnectionEstablishedUtcTime"] = (t.EstablishedAt ?? t.LastEstablishedAt) is { } at ? UsTime(at) : "",
            ["tunnel"] = t.PeerAddress.Length > 0 ? t.PeerAddress : GatewayTunnel.AddressOf(t.RemoteEndpoint),
        };
        return new JsonObject
        {
            ["connectionMode"] = "Default",
            ["connectionProtocol"] = "IKEv2",
            ["connectionStatus"] = t.State,
            ["connectionType"] = "IPsec",
            ["egressBytesTransferred"] = t.BytesOut,
            ["ingressBytesTransferred"] = t.BytesIn,
            ["name"] = t.Connection,
            ["provisioningState"] = "Succeeded",
            ["tunnelConnectionStatus"] = new JsonArray(tunnel),
            ["type"] = "Microsoft.Network/connections",
        };
    }

    /// <summary>
    /// <c>Get-AzVirtualNetworkGatewayConnectionIkeSa</c>: the current IKE SA, or null when the connection has none
    /// (the cmdlet prints nothing then). The SPIs are printed as decimal "cookies"; the UDP encapsulation ports are
    /// 4500 on a side that floated to NAT traversal and 0 otherwise; encryption, integrity and DH group in Azure's
    /// policy names. <paramref name="now"/> gives elapsedTimeInseconds.
    /// </summary>
    public static IkeSaView? IkeSa(GatewayTunnel t, DateTimeOffset now)
    {
        if (!t.HasIkeSa) return null;
        var (enc, integ, group) = AzureSuiteNames.Ike(t.Suite);
        var localPort = GatewayTunnel.PortOf(t.LocalEndpoint);
        var remotePort = GatewayTunnel.PortOf(t.RemoteEndpoint);
        var encapsulated = localPort == 4500; // RFC 3948: after NAT detection IKE and ESP use UDP 4500
        var elapsed = t.EstablishedAt is { } at && now > at ? (long)(now - at).TotalSeconds : 0;
        return new IkeSaView(
            GatewayTunnel.AddressOf(t.LocalEndpoint),
            GatewayTunnel.AddressOf(t.RemoteEndpoint),
            t.InitiatorSpi,
            t.ResponderSpi,
            encapsulated ? localPort : 0,
            encapsulated ? remotePort : 0,
            enc, integ, group,
            t.IkeLifetimeSeconds,
            t.IsInitiator,
            elapsed,
            t.ChildSas.Select(c => new QuickModeSaView($"0x{c.InboundSpi:x8}", $"0x{c.OutboundSpi:x8}", c.Suite, c.BytesIn, c.BytesOut, c.LocalTs, c.RemoteTs)).ToList());
    }

    /// <summary>ConnectionStats.txt of a VPN troubleshoot run (vpn-troubleshoot-overview.md).</summary>
    public static string ConnectionStats(GatewayTunnel t)
    {
        var sb = new StringBuilder();
        sb.Append("Connectivity State : ").Append(t.State).Append('\n');
        sb.Append("Remote Tunnel Endpoint :").Append(t.HasIkeSa ? " " + GatewayTunnel.AddressOf(t.RemoteEndpoint) : "").Append('\n');
        sb.Append("Ingress Bytes (since last connected) : ").Append(t.BytesIn.ToString(CultureInfo.InvariantCulture)).Append(" B\n");
        sb.Append("Egress Bytes (Since last connected) : ").Append(t.BytesOut.ToString(CultureInfo.InvariantCulture)).Append(" B\n");
        sb.Append("Connected Since : ").Append(t.State == "Connected" && t.EstablishedAt is { } at ? UsTime(at) : "").Append('\n');
        return sb.ToString();
    }

    /// <summary>The time as Azure's diagnostics print it: 2/1/2017 8:22:06 PM (UTC).</summary>
    public static string UsTime(DateTimeOffset at) => at.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture);
}

/// <summary>One quick mode SA (Child SA) of an IKE SA view; Azure's documentation shows no entry, so these are Nodes' fields.</summary>
public sealed record QuickModeSaView(string InboundSpi, string OutboundSpi, string Suite, ulong BytesIn, ulong BytesOut, string LocalTrafficSelector, string RemoteTrafficSelector);

/// <summary>
/// The output of <c>Get-AzVirtualNetworkGatewayConnectionIkeSa</c>, field for field
/// (https://learn.microsoft.com/powershell/module/az.network/get-azvirtualnetworkgatewayconnectionikesa, example 1).
/// </summary>
public sealed record IkeSaView(
    string LocalEndpoint,
    string RemoteEndpoint,
    ulong InitiatorCookie,
    ulong ResponderCookie,
    int LocalUdpEncapsulationPort,
    int RemoteUdpEncapsulationPort,
    string Encryption,
    string Integrity,
    string DhGroup,
    int LifeTimeSeconds,
    bool IsSaInitiator,
    long ElapsedTimeInseconds,
    IReadOnlyList<QuickModeSaView> QuickModeSa)
{
    /// <summary>As PowerShell's Format-List prints the object: names padded to the longest, " : ", the value.</summary>
    public string ToFormatList()
    {
        var qm = QuickModeSa.Count == 0 ? "{}" : "{" + string.Join(", ", QuickModeSa.Select(q => $"{q.InboundSpi}/{q.OutboundSpi} {q.Suite}")) + "}";
        (string Name, string Value)[] rows =
        [
            ("localEndpoint", LocalEndpoint),
            ("remoteEndpoint", RemoteEndpoint),
            ("initiatorCookie", InitiatorCookie.ToString(CultureInfo.InvariantCulture)),
            ("responderCookie", ResponderCookie.ToString(CultureInfo.InvariantCulture)),
            ("localUdpEncapsulationPort", LocalUdpEncapsulationPort.ToString(CultureInfo.InvariantCulture)),
            ("remoteUdpEncapsulationPort", RemoteUdpEncapsulationPort.ToString(CultureInfo.InvariantCulture)),
            ("encryption", Encryption),
            ("integrity", Integrity),
            ("dhGroup", DhGroup),
            ("lifeTimeSeconds", LifeTimeSeconds.ToString(CultureInfo.InvariantCulture)),
            ("isSaInitiator", IsSaInitiator ? "True" : "False"),
            ("elapsedTimeInseconds", ElapsedTimeInseconds.ToString(CultureInfo.InvariantCulture)),
            ("quickModeSa", qm),
        ];
        var width = rows.Max(r => r.Name.Length);
        return string.Concat(rows.Select(r => $"{r.Name.PadRight(width)} : {r.Value}\n"));
    }
}

/// <summary>Nodes' short suite names (AES256/SHA1/MODP1024) in Azure's IPsec/IKE policy names (AES256, SHA1, DHGroup2).</summary>
public static class AzureSuiteNames
{
    /// <summary>Encryption, integrity and DH group of an IKE suite; a part Nodes has no Azure name for stays as Nodes writes it.</summary>
    public static (string Encryption, string Integrity, string DhGroup) Ike(string suite)
    {
        var parts = suite.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var enc = parts.Length > 0 ? Encryption(parts[0]) : "";
        var group = parts.Length > 1 ? Group(parts[^1]) : "None";
        // AEAD suites carry no integrity transform: the PRF names the hash (AES-GCM with PRFSHA384 is SHA384 to Azure).
        var integ = parts.Skip(1).Take(Math.Max(0, parts.Length - 2)).Select(p => p.StartsWith("PRF", StringComparison.Ordinal) ? p[3..] : p).FirstOrDefault() ?? "";
        return (enc, integ, group);
    }

    public static string Encryption(string nodes) => nodes switch
    {
        "3DES" => "DES3",
        "NULL" => "None",
        _ => nodes,
    };

    /// <summary>The DH group in Azure's names (Diffie-Hellman table of ipsec-ike-policy-howto: group 2 = DHGroup2, 14 = DHGroup14, 24 = DHGroup24).</summary>
    public static string Group(string nodes) => nodes switch
    {
        "MODP768" => "DHGroup1",
        "MODP1024" => "DHGroup2",
        "MODP2048" => "DHGroup14",
        "MODP2048S256" => "DHGroup24",
        "ECP256" => "ECP256",
        "ECP384" => "ECP384",
        _ => nodes,
    };
}
