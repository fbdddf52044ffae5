using System.Text;

namespace Nodes.Config.Diagnostics;

/// <summary>A recommended action of a troubleshooting result.</summary>
public sealed record TroubleshootingRecommendedAction(string ActionText, string ActionUri, string ActionUriText);

/// <summary>One result (fault) of a VPN troubleshoot run.</summary>
/// <param name="Id">The fault type (vpn-troubleshoot-overview.md: "id - This value is the fault type").</param>
/// <param name="ReasonType">The fault type again, where the REST API's TroubleshootingDetails carries it.</param>
public sealed record TroubleshootingDetails(string Id, string ReasonType, string Summary, string Detail, IReadOnlyList<TroubleshootingRecommendedAction> RecommendedActions);

/// <summary>
/// The answer of Network Watcher's VPN troubleshoot for a connection (REST TroubleshootingResult: startTime, endTime,
/// code, results), with the log files it writes to the storage account (ConnectionStats.txt, IKEErrors.txt,
/// IKElogs.txt).
/// </summary>
public sealed record TroubleshootingResult(string StartTime, string EndTime, string Code, IReadOnlyList<TroubleshootingDetails> Results, TroubleshootingLogs Logs);

/// <summary>The text files of a troubleshoot run, named as Azure names them.</summary>
public sealed record TroubleshootingLogs(string ConnectionStats, string IkeErrors, IReadOnlyList<string> IkeLogs);

/// <summary>
/// Network Watcher's VPN troubleshoot verdict for a connection of the simulated gateway. The fault types and their
/// reasons are Azure's (articles/network-watcher/vpn-troubleshoot-overview.md, 2024-02-22): NoFault, Authentication
/// (pre-shared key mismatch), PeerReachability (the peer gateway isn't reachable), IkePolicyMismatch (the peer has IKE
/// policies Azure does not support), and for another failure the gateway table's ConnectionsNotConnected; the result's shape is the REST example NetworkWatcherTroubleshootGet.json
/// (code UnHealthy on any failure). The verdict comes from what the gateway saw since its IKE SA was last
/// established: the last failure it reported, or silence from the peer.
/// </summary>
public static class VpnTroubleshoot
{
    public const string NoFault = "NoFault";
    public const string Authentication = "Authentication";
    public const string PeerReachability = "PeerReachability";
    public const string IkePolicyMismatch = "IkePolicyMismatch";
    public const string ConnectionsNotConnected = "ConnectionsNotConnected";

    private const string TroubleshootUri = "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-troubleshoot-site-to-site-cannot-connect";
    private const string PolicyUri = "https://learn.microsoft.com/azure/vpn-gateway/ipsec-ike-policy-howto";
    private const string DevicesUri = "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-devices";

    /// <summary>
    /// Diagnoses <paramref name="t"/> from its status and the gateway's IKE activity (messages on the wire and its
    /// events for this connection). <paramref name="started"/> and <paramref name="ended"/> are the run's times.
    /// </summary>
    public static TroubleshootingResult Diagnose(GatewayTunnel t, IReadOnlyList<IkeActivity> activity, DateTimeOffset started, DateTimeOffset ended)
    {
        var mine = activity.Where(a => a is not IkeEventActivity e || e.Connection == t.Connection).OrderBy(a => a.At).ToList();
        var failure = LastFailure(t, mine);
        var details = Verdict(t, mine, failure);
        var logs = new TroubleshootingLogs(AzureConnectionViews.ConnectionStats(t), IkeErrors(failure), AzureIkeLog.Lines(mine));
        return new TroubleshootingResult(Iso(started), Iso(ended), details.Id == NoFault ? "Healthy" : "UnHealthy", [details], logs);
    }

    /// <summary>The failure that explains the current state: the last one after the last time the IKE SA was established.</summary>
    public static IkeFailureInfo? LastFailure(GatewayTunnel t, IReadOnlyList<IkeActivity> activity)
    {
        var events = activity.OfType<IkeEventActivity>().Where(e => e.Connection == t.Connection).ToList();
        if (events.Count > 0)
        {
            var since = events.FindLastIndex(e => GatewayEvents.IsEstablished(e.Text));
            return events.Skip(since + 1).Select(e => GatewayEvents.Failure(e.Text))
                .LastOrDefault(f => f is not null && f.Kind != IkeFailureKind.KeyExchangeGroup);
        }
        // Without the events (a lab that did not record them), the gateway's list of failures is all there is.
        return t.Failures.Select(IkeFailureInfo.Parse).LastOrDefault(f => f.Kind is not (IkeFailureKind.KeyExchangeGroup or IkeFailureKind.Other));
    }

    private static TroubleshootingDetails Verdict(GatewayTunnel t, IReadOnlyList<IkeActivity> activity, IkeFailureInfo? failure)
    {
        if (t.State == "Connected")
            return new(NoFault, NoFault, "No error is detected", $"The connection {t.Connection} is connected to {GatewayTunnel.AddressOf(t.RemoteEndpoint)}.", []);
        switch (failure?.Kind)
        {
            case IkeFailureKind.Authentication:
                return new(Authentication, Authentication, "Preshared key mismatch",
                    $"{failure.Text}. {(failure.ReportedByPeer ? "Peer" : "IKE")} failed with Windows error {WindowsIkeErrors.AuthFail}.",
                    [
                        new("Check that the shared key of the connection and of the on-premises device are the same", TroubleshootUri, "Check the shared key"),
                    ]);
            case IkeFailureKind.NoProposalChosen or IkeFailureKind.TrafficSelectors or IkeFailureKind.KeyExchangeGroup:
                return new(IkePolicyMismatch, IkePolicyMismatch, "The peer gateway has IKE policies that aren't supported by Azure",
                    $"{failure.Text}. Windows error {WindowsIkeErrors.PolicyMatch}.",
                    [
                        new("Configure the on-premises device with a policy Azure accepts, or set a custom IPsec/IKE policy on the connection", PolicyUri, "IPsec/IKE policy"),
                        new("Check the parameters Azure supports for VPN devices", DevicesUri, "VPN devices"),
                    ]);
        }
        var received = activity.OfType<IkeMessageActivity>().LastOrDefault(m => !m.Sent);
        // The gateway spoke last and heard nothing back (an unanswered request, or an answer the peer never followed up).
        var silent = failure?.Kind is IkeFailureKind.NoAnswer or IkeFailureKind.DeadPeer || received is null
            || activity.OfType<IkeMessageActivity>().LastOrDefault() is { Sent: true };
        if (silent)
        {
            var why = failure?.Kind is IkeFailureKind.DeadPeer or IkeFailureKind.NoAnswer
                ? $"{failure.Text}. Windows error {WindowsIkeErrors.For(failure.Kind)}."
                : received is null
                    ? $"No IKE message from {(t.PeerAddress.Length > 0 ? t.PeerAddress : "the peer")} reached the gateway."
                    : $"The peer has not answered since {AzureConnectionViews.UsTime(received.At)}.";
            return new(PeerReachability, PeerReachability, "The peer gateway isn't reachable", why,
                [
                    new("Check that the on-premises device is up, reachable from the internet on UDP 500 and 4500, and configured with the gateway's public address", TroubleshootUri, "Troubleshoot the connection"),
                ]);
        }
        // A failure Azure has no connection fault type for: the gateway table's warning that connections aren't connected.
        return failure is null
            ? new(NoFault, NoFault, "No error is detected", $"The connection {t.Connection} is {t.State}.", [])
            : new(ConnectionsNotConnected, ConnectionsNotConnected, "Connections aren't connected", failure.Text,
                [new("Check the on-premises device's log for the same negotiation", TroubleshootUri, "Troubleshoot the connection")]);
    }

    /// <summary>IKEErrors.txt: Azure's documented lines for the failure, or nothing.</summary>
    public static string IkeErrors(IkeFailureInfo? f)
    {
        if (f is null) return "";
        var sb = new StringBuilder();
        switch (f.Kind)
        {
            case IkeFailureKind.Authentication:
                sb.Append("Error: Authentication failed. Check shared key. Check crypto. Check lifetimes. \n");
                sb.Append("\t based on log : ").Append(f.ReportedByPeer ? "Peer" : "IKE").Append(" failed with Windows error ").Append(WindowsIkeErrors.AuthFail).Append('\n');
                break;
            case IkeFailureKind.InvalidSyntax:
                sb.Append("Error: On-prem device sent invalid payload. \n");
                sb.Append("\t based on log : IkeFindPayloadInPacket failed with Windows error ").Append(WindowsIkeErrors.InvalidPayload).Append('\n');
                break;
            case IkeFailureKind.NoProposalChosen when f.ReportedByPeer:
                sb.Append("Error: On-premises device rejected Quick Mode settings. Check values. \n");
                sb.Append("\t based on log : Peer sent NO_PROPOSAL_CHOSEN notify\n");
                break;
            default:
                if (WindowsIkeErrors.For(f.Kind) is { } e)
                    sb.Append("Error: ").Append(e.Message.TrimEnd('.')).Append(". \n\t based on log : IKE failed with Windows error ").Append(e).Append('\n');
                break;
        }
        return sb.ToString();
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
