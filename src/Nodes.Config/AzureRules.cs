using System.Globalization;
using Nodes.Topology.Model;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config;

/// <summary>
/// What Azure refuses in imported values the lab itself has no place for (BGP settings). The rules for values the
/// lab holds (shared key characters, lifetimes, proposals, gateway type) are the topology validator's.
/// </summary>
public static class AzureRules
{
    /// <summary>ASNs Azure reserves and refuses for an on-premises BGP speaker (<see cref="AzureBgpRules.IsReservedOnPremisesAsn"/>).</summary>
    public static bool IsReservedAsn(long asn) => asn is >= 1 and <= uint.MaxValue && AzureBgpRules.IsReservedOnPremisesAsn((uint)asn);

    /// <summary>Azure's default ASN for its VPN gateways, assigned whether BGP is on or not.</summary>
    public const long AzureDefaultAsn = 65515;

    public static IEnumerable<ImportDiagnostic> CheckImported(ImportedConfig config)
    {
        var lng = config.Find(ConfigObjectKind.LocalNetworkGateway);
        var gw = config.Find(ConfigObjectKind.AzureGateway);
        var rras = config.Find(ConfigObjectKind.RrasBgp)?.Get(K.LocalAsn);
        if (lng?.Get(K.Asn) is { } lngAsn && rras is { } routerAsn && lngAsn.Value != routerAsn.Value)
            yield return new ImportDiagnostic(lngAsn.At, $"the local network gateway's ASN {lngAsn.Value} is not the ASN {routerAsn.Value} of the RRAS BGP router (Add-BgpRouter -LocalASN at {routerAsn.At})",
                "the local network gateway stands for the on-premises BGP speaker: give it the router's ASN");
        if ((lng?.Get(K.Asn) ?? rras) is not { } asnValue) yield break;
        if (!long.TryParse(asnValue.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var asn) || asn is < 1 or > uint.MaxValue)
        {
            yield return new ImportDiagnostic(asnValue.At, $"BGP ASN '{asnValue.Value}' is not an AS number", "write a number from 1 to 4294967295");
            yield break;
        }
        if (IsReservedAsn(asn))
            yield return new ImportDiagnostic(asnValue.At,
                $"Azure refuses ASN {asn} for an on-premises BGP speaker: it is reserved by Azure or by IANA ({AzureBgpRules.ReservedAsnText})",
                "give the on-premises BGP speaker another private ASN, e.g. 65010");
        var gwAsn = gw?.Get(K.Asn) is { } g && long.TryParse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ga) ? ga : AzureDefaultAsn;
        if (asn == gwAsn && !IsReservedAsn(asn))
            yield return new ImportDiagnostic(asnValue.At, $"the on-premises ASN {asn} is the Azure gateway's own", "the on-premises ASN must differ from the Azure gateway's (65515 unless set)");
    }
}
