using System.Text.RegularExpressions;

namespace Nodes.Interop.Tests;

/// <summary>The topologies the interop tests run: the shipped RRAS lab with changed values, and an Azure gateway lab.</summary>
public static partial class Topologies
{
    /// <summary>topology/interop-strongswan.yaml as shipped (copied next to the tests).</summary>
    public static string Shipped => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "topology", "interop-strongswan.yaml"));

    /// <summary>The shipped RRAS lab with another shared key, other proposals, a keepalive interval or behind a NAT.</summary>
    public static string Rras(string? sharedKey = null, string? ike = null, string? esp = null, string? natKeepalive = null, bool behindNat = false)
    {
        var y = Shipped;
        if (sharedKey is not null) y = Replace(y, SharedKeyLine(), $"shared-key: \"{sharedKey}\"");
        if (ike is not null) y = Replace(y, IkeLine(), $"proposals: {ike}");
        if (esp is not null) y = Replace(y, EspLine(), $"esp-proposals: {esp}");
        if (natKeepalive is not null) y = Replace(y, KeepaliveLine(), $"nat-keepalive: {natKeepalive}");
        if (behindNat)
        {
            y = Replace(y, InternetLine(), $"internet: {{ address: {InteropLab.LeftBehindNat}/24, external: {{ address: {InteropLab.LeftBehindNat} }} }}");
            y = Replace(y, InternetInterfaceLine(), $"internet-interface: internet\n      default-gateway: {InteropLab.NatInside}");
        }
        return y;
    }

    private static string Replace(string yaml, Regex line, string replacement)
    {
        if (!line.IsMatch(yaml)) throw new InvalidOperationException($"the shipped topology has no line matching {line}");
        return line.Replace(yaml, replacement, 1);
    }

    [GeneratedRegex(@"shared-key: ""[^""]*""")]
    private static partial Regex SharedKeyLine();

    [GeneratedRegex(@"(?<![-\w])proposals: \S+")]
    private static partial Regex IkeLine();

    [GeneratedRegex(@"esp-proposals: \S+")]
    private static partial Regex EspLine();

    [GeneratedRegex(@"nat-keepalive: \S+")]
    private static partial Regex KeepaliveLine();

    [GeneratedRegex(@"internet: \{ address: 198\.51\.100\.1/24, external: \{ address: 198\.51\.100\.1 \} \}")]
    private static partial Regex InternetLine();

    [GeneratedRegex(@"internet-interface: internet")]
    private static partial Regex InternetInterfaceLine();

    /// <summary>The Azure shared key: Azure refuses '-' in keys, so the Azure lab and its charon use this one.</summary>
    public const string AzureSharedKey = "OracleTestPsk0123456789";

    /// <summary>
    /// The simulated Azure VPN gateway at 198.51.100.1 with Azure's default proposals and a VNet 192.168.29.0/24 holding
    /// a VM at 192.168.29.4; its connection's local network gateway is charon (198.51.100.2, 10.0.10.0/24).
    /// </summary>
    public static string Azure(string connectionMode, int pingStartSeconds, int pings) => $$"""
        name: interop-strongswan-azure
        seed: 11
        topology:
          nodes:
            azure-gw:
              kind: azure-vpn-gateway
              interfaces:
                internet: { address: {{InteropLab.LeftOuter}}/24, external: { address: {{InteropLab.LeftOuter}} } }
                gateway-subnet: { address: 192.168.29.228/27 }
              public-address: {{InteropLab.LeftOuter}}
              vnet-address-spaces: [192.168.29.0/24]
              gateway-subnet: 192.168.29.224/27
              vpn-type: route-based
              connections:
                - name: sswan-right
                  local-network-gateway:
                    name: sswan-right
                    gateway-address: {{InteropLab.RightOuter}}
                    address-spaces: [10.0.10.0/24]
                  shared-key: "{{AzureSharedKey}}"
                  local-id: {{InteropLab.LeftId}}
                  remote-id: {{InteropLab.RightId}}
                  connection-protocol: IKEv2
                  connection-mode: {{connectionMode}}
            vnet-router:
              kind: router
              interfaces:
                gateway-subnet: { address: 192.168.29.225/27 }
                workload: { address: 192.168.29.1/25 }
              routes:
                - { to: 10.0.10.0/24, via: 192.168.29.228 }
            vm:
              kind: host
              os: linux
              interfaces:
                eth0: { address: 192.168.29.4/25 }
              default-gateway: 192.168.29.1
          links:
            - endpoints: ["azure-gw:gateway-subnet", "vnet-router:gateway-subnet"]
            - endpoints: ["vnet-router:workload", "vm:eth0"]
        scenarios:
          vm-pings-real-side:
            traffic:
              - ping: { from: vm, to: {{InteropLab.RightInner}}, count: {{pings}}, interval: 500ms, df: false, start: {{pingStartSeconds}}s }
            expect:
              pings-answered: all
              tunnel: { name: sswan-right, state: Connected }
            duration: 30s
        """;
}
