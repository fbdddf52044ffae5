using System.Collections.Immutable;
using System.Globalization;
using Nodes.Topology.Loading;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>What a fault acts on.</summary>
public enum FaultTarget
{
    /// <summary>A node of kind nat-router.</summary>
    NatRouter,

    /// <summary>A link (segment name, link name or one end "node:interface").</summary>
    Link,

    /// <summary>Any node.</summary>
    Node,

    /// <summary>A VPN gateway: rras or azure-vpn-gateway.</summary>
    Gateway,

    /// <summary>A link, or a node (meaning every link of the node).</summary>
    LinkOrNode,
}

/// <summary>How a fault parameter's value is written.</summary>
public enum FaultParameterType
{
    Duration,
    SignedDuration,
    Percent,
    Number,
    Count,
    Address,
    Text,
    Choice,
    Rate,
    Prefix,

    /// <summary>Text that is never shown: in summaries, JSON and live answers it reads "[redacted]".</summary>
    Secret,
}

/// <summary>One parameter of a fault, as the params mapping and <c>nodes fault --param</c> write it.</summary>
public sealed record FaultParameter(string Name, FaultParameterType Type, string Description, string? Default = null, ImmutableArray<string> Choices = default)
{
    /// <summary>What a secret's value reads as wherever it is shown.</summary>
    public const string Redacted = "[redacted]";

    /// <summary>A shared key or the like: its value is checked and used, never printed.</summary>
    public bool Secret => Type == FaultParameterType.Secret;

    /// <summary>The value as it may be shown: itself, or <see cref="Redacted"/> for a secret.</summary>
    public string Shown(string value) => Secret ? Redacted : value;

    /// <summary>Null when <paramref name="value"/> is acceptable, else what is wrong with it and how to write it.</summary>
    public (string Problem, string Hint)? Check(string value) => Type switch
    {
        FaultParameterType.Duration when !Units.TryDuration(value, out var d) || d < TimeSpan.Zero => ($"'{value}' is not a duration", "write e.g. 500ms, 10s, 2m or 1h"),
        FaultParameterType.Duration when Units.TryDuration(value, out var d) && d > TopologyLimits.MaxDuration => ($"'{value}' is longer than a day, the longest a lab runs", $"write at most {TopologyLimits.MaxDurationText}"),
        FaultParameterType.SignedDuration when !FaultValues.TrySignedDuration(value, out _) => ($"'{value}' is not a duration", "write e.g. 90s, -30m or +2h"),
        FaultParameterType.SignedDuration when FaultValues.TrySignedDuration(value, out var sd) && sd.Duration() > TopologyLimits.MaxDuration => ($"'{value}' is more than a day", $"write from -{TopologyLimits.MaxDurationText} to +{TopologyLimits.MaxDurationText}"),
        FaultParameterType.Percent when !Units.TryPercent(value, out var p) || p < 0 || p > 100 => ($"'{value}' is not a percentage from 0 to 100", "write e.g. 30%"),
        FaultParameterType.Number when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n) || n <= 0 => ($"'{value}' is not a positive number", "write e.g. 1.5"),
        FaultParameterType.Count when !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c) || c < 1 || c > 100_000 => ($"'{value}' is not a whole number from 1 to 100000", "write e.g. 20"),
        FaultParameterType.Address when !Ipv4Address.TryParse(value, out _) => ($"'{value}' is not an IPv4 address", "write e.g. 203.0.113.12"),
        FaultParameterType.Choice when !Choices.Contains(value) => ($"'{value}' is not one of {string.Join(", ", Choices)}", $"write one of {string.Join(", ", Choices)}"),
        FaultParameterType.Rate when !Units.TryRate(value, out _) => ($"'{value}' is not a rate", "write e.g. 1mbit or 100kbit"),
        FaultParameterType.Prefix when !Ipv4Prefix.TryParseExact(value, out _) => ($"'{value}' is not an IPv4 prefix with its host bits clear", "write e.g. 192.168.29.0/24"),
        FaultParameterType.Text or FaultParameterType.Secret when string.IsNullOrWhiteSpace(value) => ("the value is empty", "write a value"),
        _ => null,
    };
}

/// <summary>A fault family: its name, what it acts on, its parameters and what it does.</summary>
public sealed record FaultInfo(FaultKind Kind, string Name, FaultTarget Target, string Summary, ImmutableArray<FaultParameter> Parameters);

/// <summary>
/// Every fault Nodes can inject, in <see cref="FaultKind"/> order: the one list that topology files, the live
/// <c>nodes fault</c> command and <c>nodes fault list</c> all read, so a fault means the same everywhere.
/// </summary>
public static class FaultCatalog
{
    private static readonly FaultParameter For = new("for", FaultParameterType.Duration, "undo the fault after this long (measures recovery)");

    private static readonly ImmutableArray<FaultParameter> Netem =
    [
        new("delay", FaultParameterType.Duration, "added one-way delay (netem delay)"),
        new("jitter", FaultParameterType.Duration, "delay variation (netem delay's second value)"),
        new("loss", FaultParameterType.Percent, "frames lost (netem loss)"),
        new("correlation", FaultParameterType.Percent, "how much each loss depends on the previous one (netem loss's second value)"),
        new("duplicate", FaultParameterType.Percent, "frames sent twice (netem duplicate)"),
        new("reorder", FaultParameterType.Percent, "frames sent at once, ahead of delayed ones (netem reorder; needs delay)"),
        new("corrupt", FaultParameterType.Percent, "frames with one bit flipped (netem corrupt)"),
        new("rate", FaultParameterType.Rate, "bandwidth limit (netem rate)"),
        For,
    ];

    public static ImmutableArray<FaultInfo> All { get; } =
    [
        new(FaultKind.NatRebind, "nat-rebind", FaultTarget.NatRouter,
            "The NAT forgets its mappings (a reboot, a conntrack flush, a CGNAT re-assignment): every flow gets a new external port, or a new external address",
            [new("address", FaultParameterType.Address, "move to this outside address as well (default: keep the address, change the ports)")]),
        new(FaultKind.NatExpire, "nat-expire", FaultTarget.NatRouter,
            "The NAT's idle timeouts shrink to these values from now on: a mapping with nothing, not even a keepalive, crossing it for that long expires",
            [new("udp-timeout", FaultParameterType.Duration, "UDP idle timeout", "10s"), new("icmp-timeout", FaultParameterType.Duration, "ICMP idle timeout (default: unchanged)"), For]),
        new(FaultKind.LinkDown, "link-down", FaultTarget.Link, "The link goes down: every frame on it is lost", [For]),
        new(FaultKind.LinkUp, "link-up", FaultTarget.Link, "The link comes back up", []),
        new(FaultKind.LinkImpair, "link-impair", FaultTarget.Link, "The link's impairments become these (tc-netem names); the ones not given are off", Netem),
        new(FaultKind.NodeCrash, "node-crash", FaultTarget.Node, "The node stops: it drops every frame and loses every state (SAs, mappings, pings) until it restarts", [For]),
        new(FaultKind.NodeRestart, "node-restart", FaultTarget.Node, "The node restarts now with its configuration and no state (a crashed node comes back)", []),
        new(FaultKind.Partition, "partition", FaultTarget.LinkOrNode, "The link, or every link of the node, stops carrying frames", [For]),
        new(FaultKind.Heal, "heal", FaultTarget.LinkOrNode, "The partition ends", []),
        new(FaultKind.ClockSkew, "clock-skew", FaultTarget.Gateway,
            "The gateway's clock jumps and/or runs fast or slow: its lifetimes, DPD and keepalives fire early or late",
            [new("offset", FaultParameterType.SignedDuration, "jump the clock by this much (protocol time, like lifetimes)", "0s"), new("rate", FaultParameterType.Number, "clock speed from now on (1 = true time)", "1")]),
        new(FaultKind.ForceRekey, "force-rekey", FaultTarget.Gateway, "The gateway rekeys now (CREATE_CHILD_SA), before any lifetime says so",
            [new("sa", FaultParameterType.Choice, "what to rekey", "child", ["child", "ike"])]),
        new(FaultKind.PskMismatch, "psk-mismatch", FaultTarget.Gateway,
            "The gateway's shared key changes and the connection resets (DELETE), as changing the key in the portal does: every new IKE_AUTH fails",
            [new("shared-key", FaultParameterType.Secret, "the new key (default: one the peer does not have)"), For]),
        new(FaultKind.ProposalMismatch, "proposal-mismatch", FaultTarget.Gateway,
            "The gateway's proposals change and the connection resets: the next IKE_SA_INIT or Child SA finds no common proposal",
            [new("ike", FaultParameterType.Text, "IKE proposal(s), strongSwan syntax, comma-separated", "aes128gcm16-prfsha384-ecp384"), new("esp", FaultParameterType.Text, "ESP proposal(s), strongSwan syntax (default: unchanged)"), For]),
        new(FaultKind.MtuBlackhole, "mtu-blackhole", FaultTarget.Link,
            "The link's path MTU drops and the ICMP fragmentation-needed that would say so is filtered: larger frames vanish without a trace",
            [new("mtu", FaultParameterType.Count, "the largest frame that still passes", "1400"), For]),
        new(FaultKind.ReplayAttack, "replay-attack", FaultTarget.Link,
            "An adversary on the link records the next ESP and IKE frames and sends them again later, exactly as seen",
            [new("frames", FaultParameterType.Count, "how many ESP/IKE frames to record", "10"), new("after", FaultParameterType.Duration, "how long after the last recorded frame to replay", "1s"),
             new("times", FaultParameterType.Count, "how often to replay each recorded frame", "1")]),
        new(FaultKind.SpoofedIkeSaInit, "spoofed-ike-sa-init", FaultTarget.Gateway,
            "An attacker on the internet sends the gateway IKE_SA_INIT requests with a forged source, the peer's own address by default: a half-open SA it can never authenticate must not replace the tunnel's",
            [new("from", FaultParameterType.Address, "the source address to claim (default: the first tunnel's peer)"), new("count", FaultParameterType.Count, "how many requests", "1")]),
        new(FaultKind.CleartextInject, "cleartext-inject", FaultTarget.Gateway,
            "An attacker sends the gateway ICMP echo requests in clear on its internet interface, with whatever addresses it likes: toward the protected networks, or claiming to come from them",
            [new("source", FaultParameterType.Address, "the source address written in the packets", "198.51.100.66"), new("destination", FaultParameterType.Address, "the destination address (required)"),
             new("count", FaultParameterType.Count, "how many packets", "3")]),
        new(FaultKind.HalfOpenFlood, "half-open-flood", FaultTarget.Gateway,
            "An attacker floods the gateway with IKE_SA_INIT requests from a forged source (the peer's address by default), each with a fresh SPI and nonce: past its half-open limit the gateway answers with cookies (RFC 7296 section 2.6)",
            [new("count", FaultParameterType.Count, "how many requests in all", "300"), new("rate", FaultParameterType.Count, "requests per second", "200"),
             new("from", FaultParameterType.Address, "the source address to claim (default: the first tunnel's peer)")]),
        new(FaultKind.IkeMitm, "ike-mitm", FaultTarget.Link,
            "A man in the middle without the shared key on the link answers the next IKE_SA_INIT it sees itself (its own key exchange and nonce, ahead of the real responder), then the IKE_AUTH that follows with an AUTH made from a guessed key: the initiator must never be established nor install a Child SA",
            [new("count", FaultParameterType.Count, "how many IKE_SA_INIT exchanges to hijack", "1")]),
        new(FaultKind.ForgedInitError, "forged-init-error", FaultTarget.Link,
            "An attacker on the link answers the next IKE_SA_INIT it sees with an unprotected error notify, ahead of the real responder: the initiator records it and waits for a usable answer (RFC 7296 section 2.21.1)",
            [new("notify", FaultParameterType.Choice, "the error to forge", "no-proposal-chosen", ["no-proposal-chosen", "invalid-syntax"]),
             new("count", FaultParameterType.Count, "how many IKE_SA_INIT requests to answer", "1")]),
        new(FaultKind.ForgedInformational, "forged-informational", FaultTarget.Gateway,
            "An attacker sends the gateway unprotected INFORMATIONAL messages with the SPIs of its established IKE SAs, claiming to come from the peer: INVALID_IKE_SPI, AUTHENTICATION_FAILED, a DELETE in clear. None may change anything (RFC 7296 section 2.21.4)",
            [new("kind", FaultParameterType.Choice, "which message", "all", ["all", "invalid-ike-spi", "authentication-failed", "delete"])]),
        new(FaultKind.CraftedIke, "crafted-ike", FaultTarget.Gateway,
            "An attacker sends the gateway IKE_SA_INIT messages of known IKEv2 bug classes from a forged source: a payload length that lies, key exchange data longer than its group, a notify whose protocol ID contradicts its SPI size, a request naming an SPI pair in use",
            [new("kind", FaultParameterType.Choice, "which message", "all", ["all", "payload-length", "ke-length", "notify-spi", "responder-spi"]),
             new("from", FaultParameterType.Address, "the source address to claim (default: the first tunnel's peer)")]),
        new(FaultKind.DuplicateDelete, "duplicate-delete", FaultTarget.Gateway,
            "The gateway misbehaves as an authenticated peer: it rekeys its Child SA and deletes the old one twice, the second DELETE for an SA both sides have removed (CVE-2023-38712 class)",
            []),
        new(FaultKind.BgpWithdraw, "bgp-withdraw", FaultTarget.Gateway,
            "The gateway's BGP speaker stops advertising a network it originates, as Remove-BgpCustomRoute does: its neighbours withdraw the route and stop sending traffic for it into the tunnel",
            [new("prefix", FaultParameterType.Prefix, "the network withdrawn (default: every network it originates)"),
             new("peer", FaultParameterType.Text, "the one neighbour that hears the withdrawal, by name (an Azure connection's tunnel such as CONN or CONN-IN_1, an Add-BgpPeer name; default: every neighbour)"), For]),
        new(FaultKind.BgpReset, "bgp-reset", FaultTarget.Gateway,
            "The gateway ends its BGP sessions with NOTIFICATION Cease / Administrative Reset (RFC 4486): what was learned over them is withdrawn until they are Established again",
            []),
        new(FaultKind.GatewayInstanceMaintenance, "gateway-instance-maintenance", FaultTarget.Gateway,
            "Planned maintenance of one instance of an active-active Azure gateway: it ends its BGP sessions (Cease) and stops sending into its tunnels, lets the traffic already on its way drain, then deletes its IKE SAs, stays away for a while, and comes back with no SAs",
            [new("instance", FaultParameterType.Choice, "which instance (GatewayTenantWorker_IN_0 or _IN_1)", "0", ["0", "1"]), new("for", FaultParameterType.Duration, "how long the maintenance lasts, the drain included", "20s"),
             new("drain", FaultParameterType.Duration, "how long the instance still carries what arrives after its BGP sessions end (0s: it deletes its SAs at once)", "2s")]),
        new(FaultKind.GatewayInstanceFailure, "gateway-instance-failure", FaultTarget.Gateway,
            "An unplanned failure of one instance of an active-active Azure gateway: it goes silent at once, without a word to its peers, who notice by DPD and BGP hold timers; it comes back later with no SAs",
            [new("instance", FaultParameterType.Choice, "which instance (GatewayTenantWorker_IN_0 or _IN_1)", "0", ["0", "1"]), new("for", FaultParameterType.Duration, "how long the instance stays away", "40s")]),
    ];

    public static FaultInfo Of(FaultKind kind) => All[(int)kind];

    public static FaultInfo? Find(string name) => All.FirstOrDefault(f => f.Name == name);

    public static IEnumerable<string> Names => All.Select(f => f.Name);

    public static string TargetText(FaultTarget t) => t switch
    {
        FaultTarget.NatRouter => "a nat-router node",
        FaultTarget.Link => "a link",
        FaultTarget.Node => "a node",
        FaultTarget.Gateway => "a VPN gateway node (rras or azure-vpn-gateway)",
        _ => "a link, or a node (all its links)",
    };
}

/// <summary>Reads fault parameter values (the text written in a topology file or on the command line).</summary>
public static class FaultValues
{
    public static bool TryDuration(string text, out TimeSpan value) => Units.TryDuration(text, out value);

    public static bool TryPercent(string text, out double percent) => Units.TryPercent(text, out percent);

    /// <summary>A duration with an optional sign: "-30m", "+2h", "90s".</summary>
    public static bool TrySignedDuration(string text, out TimeSpan value)
    {
        var t = text.Trim();
        var negative = t.StartsWith('-');
        if (negative || t.StartsWith('+')) t = t[1..];
        if (!Units.TryDuration(t, out value)) return false;
        if (negative) value = -value;
        return true;
    }

    /// <summary>The parameter's value, or its catalog default when not given.</summary>
    public static string? Get(IReadOnlyDictionary<string, string> parameters, FaultKind kind, string name) =>
        parameters.TryGetValue(name, out var v) ? v : FaultCatalog.Of(kind).Parameters.FirstOrDefault(p => p.Name == name)?.Default;

    /// <summary>
    /// The parameters as they may be shown (summaries, JSON, live answers): secrets read "[redacted]". A name the
    /// fault does not know is shown as given, since it was refused before it could mean anything.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Redact(FaultKind kind, IReadOnlyDictionary<string, string> parameters)
    {
        var info = FaultCatalog.Of(kind);
        if (!parameters.Keys.Any(k => info.Parameters.Any(p => p.Secret && p.Name == k))) return parameters;
        return parameters.ToDictionary(kv => kv.Key, kv => info.Parameters.FirstOrDefault(p => p.Name == kv.Key) is { } p ? p.Shown(kv.Value) : kv.Value, StringComparer.Ordinal);
    }

    /// <summary>As <see cref="Redact(FaultKind, IReadOnlyDictionary{string, string})"/> for a fault named as the catalog names it; an unknown name shows nothing it was given.</summary>
    public static IReadOnlyDictionary<string, string> Redact(string fault, IReadOnlyDictionary<string, string> parameters) =>
        FaultCatalog.Find(fault) is { } info ? Redact(info.Kind, parameters) : parameters.ToDictionary(kv => kv.Key, _ => FaultParameter.Redacted, StringComparer.Ordinal);

    /// <summary>Every problem with <paramref name="parameters"/> for a fault of <paramref name="kind"/>, with a hint each.</summary>
    public static IEnumerable<(string Name, string Problem, string Hint)> Check(FaultKind kind, IReadOnlyDictionary<string, string> parameters)
    {
        var info = FaultCatalog.Of(kind);
        foreach (var (name, value) in parameters)
        {
            var p = info.Parameters.FirstOrDefault(x => x.Name == name);
            if (p is null)
            {
                var near = Suggest.Closest(name, info.Parameters.Select(x => x.Name));
                yield return (name, $"fault '{info.Name}' has no parameter '{name}'",
                    near is not null ? $"did you mean '{near}'?" : info.Parameters.IsEmpty ? "it takes no parameters" : $"its parameters: {string.Join(", ", info.Parameters.Select(x => x.Name))}");
                continue;
            }
            if (p.Check(value) is { } bad) yield return (name, $"{info.Name} {name}: {bad.Problem}", bad.Hint);
        }
    }
}
