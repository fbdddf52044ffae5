using Nodes.Ike.Proposals;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Validation;

/// <summary>
/// Settings that Azure refuses or that break against Azure as documented, checked between an RRAS interface and the
/// Azure connection it dials (the connection of the gateway at its destination). Each message gives Azure's rule as
/// its documentation states it and where that is.
/// </summary>
internal static class AzureAcceptance
{
    public static IEnumerable<TopologyDiagnostic> Check(TopologySpec spec)
    {
        var gateways = spec.Nodes.OfType<AzureVpnGatewaySpec>().ToList();
        var indexes = new Dictionary<AzureVpnGatewaySpec, ConnectionIndex>(ReferenceEqualityComparer.Instance);
        foreach (var rras in spec.Nodes.OfType<RrasSpec>())
        {
            foreach (var v in rras.Vpns)
            {
                var gw = gateways.FirstOrDefault(g => g.PublicAddress == v.Destination || g.SecondPublicAddress == v.Destination);
                if (gw is null) continue;
                var lan = rras.FindInterface(rras.LanInterface)?.Address;
                AzureConnectionSpec? conn;
                if (gw.Connections.Length == 1) conn = gw.Connections[0];
                else
                {
                    if (!indexes.TryGetValue(gw, out var index)) indexes[gw] = index = new ConnectionIndex(gw);
                    conn = lan is { } a ? index.FirstContaining(a) : null;
                }
                foreach (var d in IkeLifetime(v, gw)) yield return d;
                if (conn is not null)
                    foreach (var d in Selectors(v, gw, conn)) yield return d;
            }
        }
    }

    /// <summary>
    /// The first connection of a gateway (in the file's order) whose local network gateway's address spaces hold an
    /// address: one lookup per prefix length instead of a walk through every connection (a hub has thousands).
    /// </summary>
    private sealed class ConnectionIndex
    {
        private readonly Dictionary<(uint Network, int Length), int> _first = [];
        private readonly AzureVpnGatewaySpec _gw;

        public ConnectionIndex(AzureVpnGatewaySpec gw)
        {
            _gw = gw;
            for (var i = 0; i < gw.Connections.Length; i++)
                foreach (var p in gw.Connections[i].LocalNetworkGateway.AddressSpaces)
                    _first.TryAdd((p.Network.Value, p.Length), i);
        }

        public AzureConnectionSpec? FirstContaining(Ipv4Address a)
        {
            var best = int.MaxValue;
            for (var length = 0; length <= 32; length++)
            {
                if (_first.TryGetValue((a.Value & Ipv4Prefix.MaskFor(length), length), out var i) && i < best) best = i;
            }
            return best == int.MaxValue ? null : _gw.Connections[best];
        }
    }

    /// <summary>
    /// "About VPN devices and IPsec/IKE parameters": the IKE (main mode) SA lifetime of an Azure gateway is 28,800 s,
    /// and it stays fixed with a custom policy ("IPsec/IKE policy FAQ"). Device scripts Azure generated have used
    /// 86,400 s, which users traced to periodic drops (MicrosoftDocs/azure-docs#73889).
    /// </summary>
    private static IEnumerable<TopologyDiagnostic> IkeLifetime(RrasVpnSpec v, AzureVpnGatewaySpec gw)
    {
        if (v.IkeLifetime == DeviceDefaults.AzureIkeLifetime) yield break;
        yield return TopologyDiagnostic.At(v.IkeLifetimeLocation ?? v.Location,
            $"the IKE SA lifetime {v.IkeLifetime.TotalSeconds:0} s of RRAS interface '{v.InterfaceName}' is not the 28,800 s Azure gateway '{gw.Name}' uses: Azure's IKE SA lifetime is 28,800 seconds and cannot be changed, even with a custom IPsec/IKE policy",
            "set ike-lifetime-seconds: 28800 (Add-VpnS2SInterface -MMSALifeTimeSeconds 28800); device scripts with 86,400 s are a known cause of periodic drops (MicrosoftDocs/azure-docs#73889)");
    }

    /// <summary>
    /// "Configure custom IPsec/IKE connection policies": with UsePolicyBasedTrafficSelectors the on-premises device must
    /// define the traffic selectors with every combination of the on-premises prefixes (the local network gateway's
    /// address spaces) and the Azure VNet prefixes, or the pairs of the connection's trafficSelectorPolicies.
    /// </summary>
    private static IEnumerable<TopologyDiagnostic> Selectors(RrasVpnSpec v, AzureVpnGatewaySpec gw, AzureConnectionSpec c)
    {
        if (!c.UsePolicyBasedTrafficSelectors || (v.LocalTrafficSelectors.IsDefaultOrEmpty && v.RemoteTrafficSelectors.IsDefaultOrEmpty)) yield break;
        var onPrem = c.TrafficSelectorPolicies.IsDefaultOrEmpty ? c.LocalNetworkGateway.AddressSpaces.ToList() : c.TrafficSelectorPolicies.SelectMany(p => p.RemoteAddressRanges).ToList();
        var azure = c.TrafficSelectorPolicies.IsDefaultOrEmpty ? gw.VnetAddressSpaces.ToList() : c.TrafficSelectorPolicies.SelectMany(p => p.LocalAddressRanges).ToList();
        var local = v.LocalTrafficSelectors.IsDefaultOrEmpty ? [default(Ipv4Prefix)] : v.LocalTrafficSelectors.ToList();
        var remote = v.RemoteTrafficSelectors.IsDefaultOrEmpty ? [default(Ipv4Prefix)] : v.RemoteTrafficSelectors.ToList();
        if (SameSet(local, onPrem) && SameSet(remote, azure)) yield break;
        yield return TopologyDiagnostic.At(v.Location,
            $"RRAS interface '{v.InterfaceName}' selects {List(local)} <-> {List(remote)}, but connection '{c.Name}' uses policy-based traffic selectors {List(onPrem)} <-> {List(azure)}: "
            + "with UsePolicyBasedTrafficSelectors the on-premises device must define the traffic selectors with all combinations of the on-premises network prefixes and the Azure virtual network prefixes",
            $"set local-traffic-selectors: [{string.Join(", ", onPrem)}] and remote-traffic-selectors: [{string.Join(", ", azure)}], or change the connection's address spaces");
    }

    private static bool SameSet(List<Ipv4Prefix> a, List<Ipv4Prefix> b) => a.ToHashSet().SetEquals(b);

    private static string List(List<Ipv4Prefix> p) => string.Join(", ", p.Select(x => x.Length == 0 ? "any" : x.ToString()));
}
