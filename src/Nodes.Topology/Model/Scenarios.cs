using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Topology.Model;

/// <summary>
/// Something to run on the topology: traffic to send, faults to inject, what must be true at the end, and
/// nodes whose configuration differs for this scenario (e.g. the client's default gateway).
/// </summary>
public sealed record ScenarioSpec(
    string Name,
    string? Description,
    bool IsDefault,
    ImmutableArray<TrafficSpec> Traffic,
    ExpectationSpec Expect,
    ImmutableArray<FaultSpec> Faults,
    TimeSpan? Duration,
    double TimeScale,
    ImmutableArray<NodeSpec> NodeOverrides,
    SourceLocation Location);

/// <summary>Traffic a node originates, starting <see cref="Start"/> after the scenario begins.</summary>
public abstract record TrafficSpec(string From, Ipv4Address To, string ToText, TimeSpan Start, SourceLocation Location);

/// <summary>ICMP echo requests, like ping.exe or iputils ping.</summary>
/// <param name="Size">ICMP payload bytes (default by the sender's OS: 32 Windows, 56 Linux).</param>
/// <param name="DontFragment">Set the IPv4 DF bit (ping -f on Windows, -M do on Linux).</param>
public sealed record PingSpec(string From, Ipv4Address To, string ToText, TimeSpan Start, SourceLocation Location, int Count, TimeSpan Interval, int Size, bool DontFragment)
    : TrafficSpec(From, To, ToText, Start, Location);

/// <summary>A stream of UDP datagrams to one port.</summary>
public sealed record UdpSpec(string From, Ipv4Address To, string ToText, TimeSpan Start, SourceLocation Location, ushort Port, int Packets, int Size, double PacketsPerSecond)
    : TrafficSpec(From, To, ToText, Start, Location);

/// <summary>
/// A TCP flow to a host, which accepts it on <see cref="Port"/>: a bulk transfer of <see cref="Bytes"/> octets, or
/// (when <see cref="Requests"/> is above 0) that many exchanges of a request and a response. A flow still running
/// after <see cref="Limit"/> is aborted and counts as unfinished.
/// </summary>
public sealed record TcpSpec(string From, Ipv4Address To, string ToText, TimeSpan Start, SourceLocation Location, ushort Port, long Bytes, int Requests,
    int RequestSize, int ResponseSize, TimeSpan Limit)
    : TrafficSpec(From, To, ToText, Start, Location)
{
    /// <summary>True for a bulk transfer, false for request/response.</summary>
    public bool IsBulk => Requests == 0;
}

/// <summary>How a counted outcome is compared.</summary>
public enum CountComparison
{
    All,
    Equal,
    AtLeast,
    AtMost,
    MoreThan,
    LessThan,
}

/// <summary>"all", "none", "4", "&gt;= 3": a condition on how many of the sent probes were answered.</summary>
public sealed record CountExpectation(CountComparison Comparison, int Value, string Text, SourceLocation Location)
{
    public bool IsSatisfiedBy(int count, int sent) => Comparison switch
    {
        CountComparison.All => count == sent,
        CountComparison.Equal => count == Value,
        CountComparison.AtLeast => count >= Value,
        CountComparison.AtMost => count <= Value,
        CountComparison.MoreThan => count > Value,
        CountComparison.LessThan => count < Value,
        _ => false,
    };
}

/// <summary>Azure's connection status values.</summary>
public enum TunnelState
{
    Connected,
    Connecting,
    NotConnected,
}

/// <summary>The state a tunnel must be in at the end; a null name means every tunnel.</summary>
public sealed record TunnelExpectation(string? Name, TunnelState State, bool? NatDetected, SourceLocation Location);

/// <summary>
/// The state a gateway's BGP session must be in at the end (RFC 4271's state names), how many prefixes it must have
/// received, and which prefixes its speaker must (or must not) have chosen. A null peer means every session of the node.
/// </summary>
public sealed record BgpExpectation(string Node, string? Peer, string State, int? MinRoutesReceived, ImmutableArray<Ipv4Prefix> Learned, ImmutableArray<Ipv4Prefix> NotLearned, SourceLocation Location);

/// <summary>What must hold when the scenario ends.</summary>
/// <param name="MaxDrops">Upper bounds on dropped packets, by drop reason (see <see cref="DropReasons"/>).</param>
/// <param name="MinDrops">Lower bounds: drops that must have happened (a replayed packet must be dropped as a replay).</param>
/// <param name="Faults">What must hold for every fault the scenario injected.</param>
public sealed record ExpectationSpec(CountExpectation? PingsAnswered, CountExpectation? UdpDelivered, ImmutableArray<TunnelExpectation> Tunnels, ImmutableDictionary<string, int> MaxDrops, SourceLocation Location)
{
    public ImmutableDictionary<string, int> MinDrops { get; init; } = ImmutableDictionary<string, int>.Empty;

    public FaultExpectation? Faults { get; init; }

    /// <summary>How many of the scenario's TCP flows must complete (everything sent, acknowledged, answered and closed).</summary>
    public CountExpectation? TcpCompleted { get; init; }

    /// <summary>What the gateways' BGP sessions must show at the end.</summary>
    public ImmutableArray<BgpExpectation> Bgp { get; init; } = [];

    public static ExpectationSpec Empty(SourceLocation at) => new(null, null, [], ImmutableDictionary<string, int>.Empty, at);
}

/// <summary>
/// What every fault of a scenario must have done, measured from the moment it was applied until the next fault (or
/// the end): applied at all, the same IKE SA afterwards (SPIs), the peer's endpoint changed or not, pings lost, and
/// the time until pings were answered again.
/// </summary>
public sealed record FaultExpectation(bool? SameIkeSa, bool? PeerEndpointChanged, int? MaxPingsLost, int? MinPingsLost, TimeSpan? RecoveredWithin, bool? Recovers, SourceLocation Location);

/// <summary>The drop reasons max-drops may bound.</summary>
public static class DropReasons
{
    public static readonly ImmutableArray<string> All =
    [
        "total", "link-loss", "link-down", "link-mtu", "no-route", "ttl-exceeded", "no-nat-mapping", "fragmentation-needed",
        "esp-replay", "esp-tooold", "esp-integrity", "esp-unknown-spi", "ike-unknown-spi", "ike-repeated-request",
        "node-down", "demand-dial-queue-full", "spd-discard", "ike-no-connection", "ike-cookie-required", "ike-malformed", "tcp-checksum", "nat-fragment",
        "ike-unprotected", "ike-integrity", "ike-wrong-sa", "ike-message-id", "ike-unexpected-response", "ike-unexpected-exchange", "ike-unprotected-error", "ike-unusable-response", "ike-init-mismatch", "ike-delete-unknown-sa", "ike-init-responder-spi", "ike-invalid-ke", "ike-spi-collision",
        "no-tunnel", "bgp-no-peer", "bgp-outside-tunnel", "bgp-route-refused", "bgp-open-bad-peer-as", "bgp-cease-max-prefixes", "bgp-fsm-error", "bgp-cease-out-of-resources", "instance-down",
    ];
}

/// <summary>Fault families a scenario can inject.</summary>
public enum FaultKind
{
    NatRebind,
    NatExpire,
    LinkDown,
    LinkUp,
    LinkImpair,
    NodeCrash,
    NodeRestart,
    Partition,
    Heal,
    ClockSkew,
    ForceRekey,
    PskMismatch,
    ProposalMismatch,
    MtuBlackhole,
    ReplayAttack,
    SpoofedIkeSaInit,
    CleartextInject,
    HalfOpenFlood,
    IkeMitm,
    ForgedInitError,
    ForgedInformational,
    CraftedIke,
    DuplicateDelete,
    BgpWithdraw,
    BgpReset,
    GatewayInstanceMaintenance,
    GatewayInstanceFailure,
}

/// <summary>A fault at a point in scenario time, on a node and/or a link, with its parameters.</summary>
/// <param name="Parameters">The params mapping as written (scalar values only), checked against <see cref="FaultCatalog"/>.</param>
public sealed record FaultSpec(TimeSpan At, FaultKind Kind, string? Node, string? Link, ImmutableDictionary<string, string> Parameters, SourceLocation Location)
{
    /// <summary>The fault's name as topology files write it.</summary>
    public string Name => FaultCatalog.Of(Kind).Name;
}
