using System.Globalization;

namespace Nodes.Config.Diagnostics;

/// <summary>What went wrong in one failed IKE negotiation, in the terms Azure's diagnostics sort failures by.</summary>
public enum IkeFailureKind
{
    /// <summary>AUTHENTICATION_FAILED: the pre-shared keys differ (or the identity is not accepted).</summary>
    Authentication,
    /// <summary>NO_PROPOSAL_CHOSEN: no common IKE or ESP proposal.</summary>
    NoProposalChosen,
    /// <summary>TS_UNACCEPTABLE: the traffic selectors do not match.</summary>
    TrafficSelectors,
    /// <summary>INVALID_KE_PAYLOAD: the initiator guessed another DH group (normally followed by a retry with the right one).</summary>
    KeyExchangeGroup,
    /// <summary>INVALID_SYNTAX: a malformed or incomplete message.</summary>
    InvalidSyntax,
    /// <summary>A request went unanswered until the gateway gave up (IKE_SA_INIT, IKE_AUTH).</summary>
    NoAnswer,
    /// <summary>An established IKE SA's liveness check went unanswered.</summary>
    DeadPeer,
    /// <summary>The IKE SA was deleted (by the peer, or by a reset of the connection).</summary>
    Deleted,
    /// <summary>Any other failure.</summary>
    Other,
}

/// <summary>One failure of a tunnel: its kind, the IKEv2 notify name when it has one, and the gateway's own words.</summary>
public sealed record IkeFailureInfo(IkeFailureKind Kind, string? Notify, string Text, bool ReportedByPeer)
{
    /// <summary>
    /// Reads a failure as the simulated gateways word it: <c>NOTIFY_NAME: reason</c> for a refusal (RFC 7296 notify
    /// names), <c>no answer to IKE_SA_INIT ...</c>, <c>dead peer: ...</c>, or a deletion.
    /// </summary>
    public static IkeFailureInfo Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var head = colon > 0 ? text[..colon] : text;
        var byPeer = text.Contains("refused our", StringComparison.Ordinal) || text.Contains(" reports ", StringComparison.Ordinal)
            || text.Contains("reported by the peer", StringComparison.Ordinal) || text.Contains("the peer accepts none", StringComparison.Ordinal);
        var kind = head switch
        {
            "AUTHENTICATION_FAILED" => IkeFailureKind.Authentication,
            "NO_PROPOSAL_CHOSEN" => IkeFailureKind.NoProposalChosen,
            "TS_UNACCEPTABLE" => IkeFailureKind.TrafficSelectors,
            "INVALID_KE_PAYLOAD" => IkeFailureKind.KeyExchangeGroup,
            "INVALID_SYNTAX" => IkeFailureKind.InvalidSyntax,
            _ when text.StartsWith("dead peer", StringComparison.Ordinal) => IkeFailureKind.DeadPeer,
            _ when text.StartsWith("no answer to", StringComparison.Ordinal) => IkeFailureKind.NoAnswer,
            _ when text.Contains("deleted", StringComparison.Ordinal) => IkeFailureKind.Deleted,
            _ => IkeFailureKind.Other,
        };
        var notify = colon > 0 && head.Length > 0 && head.All(c => c is (>= 'A' and <= 'Z') or '_' or (>= '0' and <= '9')) ? head : null;
        return new IkeFailureInfo(kind, notify, text, byPeer);
    }
}

/// <summary>One Child SA (IPsec "quick mode" SA) of a tunnel, as the gateway reports it; bytes and packets counted by the SA.</summary>
public sealed record GatewayChildSa(uint InboundSpi, uint OutboundSpi, string Suite, ulong BytesIn, ulong BytesOut, ulong PacketsIn, ulong PacketsOut, string LocalTs, string RemoteTs);

/// <summary>
/// A tunnel of a simulated Azure VPN gateway at one moment: what the gateway reports (state, SPIs, endpoints, suite,
/// Child SAs, failures) and when its IKE SA was established. The input of every Azure view in this namespace; it
/// carries no key material.
/// </summary>
public sealed record GatewayTunnel
{
    /// <summary>The connection's name (the Azure connection resource).</summary>
    public required string Connection { get; init; }
    /// <summary>Azure's status values: Unknown, Connecting, Connected, NotConnected.</summary>
    public required string State { get; init; }
    /// <summary>The configured peer (the local network gateway's address).</summary>
    public string PeerAddress { get; init; } = "";
    /// <summary>The state of the current IKE SA (Nodes' IkeSaState names: Established, AuthSent, ...; None without one).</summary>
    public string IkeState { get; init; } = "None";
    public ulong InitiatorSpi { get; init; }
    public ulong ResponderSpi { get; init; }
    /// <summary>Whether this gateway started the current IKE SA.</summary>
    public bool IsInitiator { get; init; }
    /// <summary>The gateway's side of the IKE SA, address:port ("" without an IKE SA).</summary>
    public string LocalEndpoint { get; init; } = "";
    /// <summary>The peer's side of the IKE SA as the gateway sees it (after the NAT), address:port.</summary>
    public string RemoteEndpoint { get; init; } = "";
    /// <summary>The IKE SA's suite in Nodes' short form, e.g. AES256/SHA1/MODP1024.</summary>
    public string Suite { get; init; } = "";
    public IReadOnlyList<GatewayChildSa> ChildSas { get; init; } = [];
    /// <summary>Every failure of the tunnel so far, oldest first, in the gateway's words.</summary>
    public IReadOnlyList<string> Failures { get; init; } = [];
    /// <summary>When the current IKE SA was established; null when unknown or none is.</summary>
    public DateTimeOffset? EstablishedAt { get; init; }
    /// <summary>When the tunnel was last established, also when it is down now; null when never or not known.</summary>
    public DateTimeOffset? LastEstablishedAt { get; init; }
    /// <summary>The IKE SA lifetime; Azure's is fixed at 28,800 s.</summary>
    public int IkeLifetimeSeconds { get; init; } = 28_800;

    /// <summary>Whether an IKE SA is established (one still being negotiated is not shown by Azure's IKE SA view).</summary>
    public bool HasIkeSa => IkeState == "Established" && LocalEndpoint.Length > 0;

    public ulong BytesIn => ChildSas.Aggregate(0UL, (s, c) => s + c.BytesIn);
    public ulong BytesOut => ChildSas.Aggregate(0UL, (s, c) => s + c.BytesOut);

    /// <summary>The address of an "address:port" endpoint; the text itself when it has no port.</summary>
    public static string AddressOf(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 ? endpoint[..colon] : endpoint;
    }

    /// <summary>The port of an "address:port" endpoint; 0 without one.</summary>
    public static int PortOf(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
    }
}

/// <summary>An entry of a gateway's IKE activity: a message on the wire, or something the gateway reported.</summary>
public abstract record IkeActivity(DateTimeOffset At);

/// <summary>
/// An IKE message the gateway sent or received, from its cleartext header (RFC 7296 section 3.1) and, where the
/// message is not encrypted (IKE_SA_INIT), the notify types it carries.
/// </summary>
/// <param name="Exchange">The exchange type number: 34 IKE_SA_INIT, 35 IKE_AUTH, 36 CREATE_CHILD_SA, 37 INFORMATIONAL.</param>
/// <param name="Notifies">The error notify types (below 16384) carried in cleartext.</param>
public sealed record IkeMessageActivity(DateTimeOffset At, bool Sent, string Local, string Remote, int Exchange, bool Response, uint MessageId,
    ulong InitiatorSpi, ulong ResponderSpi, IReadOnlyList<int> Notifies) : IkeActivity(At);

/// <summary>What the gateway reported about a connection at a moment (its "ike" events), without the connection name.</summary>
public sealed record IkeEventActivity(DateTimeOffset At, string Connection, string Text) : IkeActivity(At);
