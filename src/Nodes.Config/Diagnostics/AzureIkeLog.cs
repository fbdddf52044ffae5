using System.Globalization;
using Nodes.Ike;
using Nodes.Wire.Ike;

namespace Nodes.Config.Diagnostics;

/// <summary>
/// A gateway's IKE activity as Azure's IKElogs.txt (Network Watcher VPN troubleshoot) and IKEDiagnosticLog write it:
/// <c>Remote 203.0.113.10:500: Local 52.172.171.0:500: [RECEIVED][SA_INIT] Received IKE SA_INIT message ...</c>.
/// Events start with [SEND] (a packet the gateway sent), [RECEIVED] (a packet from on-premises) or [LOCAL]; a failed
/// negotiation is closed with <c>IkeCleanupQMNegotiation called with error 13868 and flags a</c>.
/// Source: articles/network-watcher/vpn-troubleshoot-overview.md (IKElogs.txt example) and
/// articles/vpn-gateway/troubleshoot-vpn-with-azure-diagnostics.md (the [SEND]/[RECEIVED]/[LOCAL] tags and the KQL that
/// parses <c>"Remote " RemoteIP ":" * "500: Local " LocalIP ":" * "500: "</c>). The tag of CREATE_CHILD_SA and
/// INFORMATIONAL exchanges and the Main Mode form of the cleanup line are not in the published examples; they follow
/// the documented ones.
/// </summary>
public static class AzureIkeLog
{
    /// <summary>The log lines of <paramref name="activity"/>, in time order (entries of the same moment keep their order).</summary>
    public static IReadOnlyList<string> Lines(IEnumerable<IkeActivity> activity)
    {
        var lines = new List<string>();
        foreach (var a in activity.Select((a, i) => (a, i)).OrderBy(x => x.a.At).ThenBy(x => x.i).Select(x => x.a))
        {
            switch (a)
            {
                case IkeMessageActivity m:
                    lines.AddRange(MessageLines(m));
                    break;
                case IkeEventActivity e when GatewayEvents.Failure(e.Text) is { } f && Cleanup(f) is { } line:
                    lines.Add(line);
                    break;
            }
        }
        return lines;
    }

    /// <summary>The line of one IKE message, and one line per error notify it carries in cleartext.</summary>
    public static IEnumerable<string> MessageLines(IkeMessageActivity m)
    {
        var prefix = Prefix(m.Remote, m.Local);
        var (tag, name) = m.Exchange switch
        {
            (int)ExchangeType.IkeSaInit => ("SA_INIT", "IKE SA_INIT"),
            (int)ExchangeType.IkeAuth => ("SA_AUTH", "IKE AUTH"),
            (int)ExchangeType.CreateChildSa => ("CREATE_CHILD", "IKE CREATE_CHILD_SA"),
            (int)ExchangeType.Informational => ("INFORMATIONAL", "IKE INFORMATIONAL"),
            var x => ($"EXCHANGE_{x}", $"IKE exchange {x}"),
        };
        // Azure: "the first SA_INIT message is always the one where rCookie = 0"; the cookies are the IKE SPIs.
        var cookies = m.Exchange == (int)ExchangeType.IkeSaInit
            ? string.Create(CultureInfo.InvariantCulture, $" (iCookie 0x{m.InitiatorSpi:x16}, rCookie 0x{m.ResponderSpi:x16})")
            : "";
        yield return m.Sent
            ? $"{prefix}[SEND][{tag}] Sending {name} message{cookies}"
            : $"{prefix}[RECEIVED][{tag}] Received {name} message{cookies}";
        foreach (var n in m.Notifies)
            yield return m.Sent
                ? $"{prefix}[SEND][NOTIFY] Sending Notify Message - {NotifyText(n)}"
                : $"{prefix}[RECEIVED][NOTIFY] Received Notify Message - {NotifyText(n)}";
    }

    /// <summary><c>Remote 203.0.113.10:500: Local 52.172.171.0:500: </c></summary>
    public static string Prefix(string remote, string local) => $"Remote {remote}: Local {local}: ";

    /// <summary>Azure's words for a notify: "Policy Mismatch" for NO_PROPOSAL_CHOSEN (as IKElogs.txt shows), the RFC 7296 name otherwise.</summary>
    public static string NotifyText(int notify) => notify == (int)NotifyType.NoProposalChosen ? "Policy Mismatch" : NotifyNames.Of((NotifyType)notify);

    /// <summary>
    /// The cleanup line of a failed negotiation, with the Windows error: QM (quick mode, the Child SA) when the
    /// failure concerned the Child SA, MM (main mode, the IKE SA) otherwise; null for a failure with no Windows code.
    /// </summary>
    public static string? Cleanup(IkeFailureInfo f)
    {
        if (WindowsIkeErrors.For(f.Kind) is not { } error) return null;
        var quickMode = f.Kind == IkeFailureKind.TrafficSelectors || f.Text.Contains("(Child SA)", StringComparison.Ordinal);
        return $"IkeCleanup{(quickMode ? "QM" : "MM")}Negotiation called with error {error.Code} and flags a";
    }
}

/// <summary>
/// Reads the "ike" events of a simulated gateway (<c>CONNECTION: text</c>): which ones are failures, and which ones
/// mark the IKE SA established. The event texts are the gateway's (IkeFailure as <c>NOTIFY: reason</c>, a refused
/// IKE_SA_INIT, a request given up, the state changes).
/// </summary>
public static class GatewayEvents
{
    /// <summary>The connection an event names, and the rest of its text; null when it names none of <paramref name="connections"/>.</summary>
    public static (string Connection, string Text)? Split(string text, IEnumerable<string> connections)
    {
        if (connections is IReadOnlySet<string> set)
        {
            // A hub has a hundred thousand connections: look the text's prefix up instead of trying each name.
            for (var at = text.IndexOf(": ", StringComparison.Ordinal); at > 0; at = text.IndexOf(": ", at + 1, StringComparison.Ordinal))
                if (text.Length > at + 2 && set.Contains(text[..at])) return (text[..at], text[(at + 2)..]);
            return null;
        }
        foreach (var c in connections)
            if (text.Length > c.Length + 2 && text.StartsWith(c, StringComparison.Ordinal) && text.AsSpan(c.Length).StartsWith(": "))
                return (c, text[(c.Length + 2)..]);
        return null;
    }

    /// <summary>The failure an event (without its connection name) reports; null when it reports none.</summary>
    public static IkeFailureInfo? Failure(string text)
    {
        const string refused = "refused IKE_SA_INIT from ";
        const string givingUp = "giving up: ";
        if (text.StartsWith(refused, StringComparison.Ordinal))
        {
            // refused IKE_SA_INIT from 203.0.113.10:500: NO_PROPOSAL_CHOSEN: ...
            var rest = text[refused.Length..];
            var at = rest.IndexOf(": ", StringComparison.Ordinal);
            return at > 0 ? IkeFailureInfo.Parse(rest[(at + 2)..]) : null;
        }
        if (text.StartsWith(givingUp, StringComparison.Ordinal)) return IkeFailureInfo.Parse(text[givingUp.Length..]);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return null;
        var f = IkeFailureInfo.Parse(text);
        return f.Notify is not null && f.Kind != IkeFailureKind.Other ? f : null;
    }

    /// <summary>Whether an event (without its connection name) says the IKE SA became established.</summary>
    public static bool IsEstablished(string text) => text.Contains("→ Established (", StringComparison.Ordinal);
}
