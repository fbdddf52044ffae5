using System.Collections.Immutable;
using Nodes.Net.Tcp;
using Nodes.Wire.Bgp;
using Nodes.Wire.Ip;

namespace Nodes.Net.Bgp;

/// <summary>The states of a BGP peer's finite state machine (RFC 4271 section 8.2.2).</summary>
public enum BgpState : byte
{
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// <summary>One configured neighbour of a <see cref="BgpSpeaker"/>.</summary>
public sealed record BgpPeerOptions
{
    /// <summary>A name for logs and status (the tunnel or connection the session runs through).</summary>
    public required string Name { get; init; }

    /// <summary>This speaker's address for the session (the source of its TCP connection).</summary>
    public required Ipv4Address LocalAddress { get; init; }

    /// <summary>The neighbour's address.</summary>
    public required Ipv4Address PeerAddress { get; init; }

    /// <summary>The AS the neighbour must announce in its OPEN (otherwise: Bad Peer AS).</summary>
    public required uint PeerAsn { get; init; }

    /// <summary>Never opens the TCP connection, only accepts it (Azure on APIPA addresses; RRAS's OperationMode Server).</summary>
    public bool Passive { get; init; }

    /// <summary>The Hold Time this speaker offers in its OPEN (RFC 4271 section 10 suggests 90 s); 0 turns keepalives off.</summary>
    public TimeSpan HoldTime { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How long to wait before another TCP connection attempt after one failed (RFC 4271 section 10: 120 s).</summary>
    public TimeSpan ConnectRetry { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a session that ended stays Idle before the next attempt (RRAS's IdleHoldTimeSec).</summary>
    public TimeSpan IdleHold { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The most prefixes accepted from the neighbour; one more ends the session (Cease, RFC 4486). Null: no limit.</summary>
    public int? MaxPrefixes { get; init; }

    /// <summary>Networks this speaker originates that this neighbour is not told (its own site's prefixes, say).</summary>
    public ImmutableArray<Ipv4Prefix> Withheld { get; init; } = [];

    /// <summary>False for a peering that waits to be started by hand (RRAS's PeeringMode Manual): it neither connects nor accepts.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The MSS of the session's TCP connection (inside a tunnel, below the path MTU less ESP's overhead).</summary>
    public ushort MaximumSegmentSize { get; init; } = 1360;
}

/// <summary>What a speaker is and says: its AS, identifier, neighbours, the networks it originates and its policy.</summary>
public sealed record BgpSpeakerOptions
{
    public required uint Asn { get; init; }

    /// <summary>The BGP Identifier (router id) in its OPEN messages.</summary>
    public required Ipv4Address Identifier { get; init; }

    public required ImmutableArray<BgpPeerOptions> Peers { get; init; }

    /// <summary>The prefixes it originates (ORIGIN IGP): its own networks.</summary>
    public ImmutableArray<Ipv4Prefix> Networks { get; init; } = [];

    /// <summary>Why a prefix learned from a neighbour is not accepted, or null to accept it.</summary>
    public Func<Ipv4Prefix, BgpPeerOptions, string?>? Import { get; init; }

    /// <summary>Whether a route learned from one neighbour is advertised to <c>to</c>; null advertises every one (transit).</summary>
    public Func<BgpRoute, BgpPeerOptions, bool>? Export { get; init; }

    /// <summary>Turns a protocol time (hold, keepalive, retry) into the lab's time; identity unless the lab runs faster than real time.</summary>
    public Func<TimeSpan, TimeSpan> Scale { get; init; } = t => t;

    /// <summary>
    /// The prefixes a neighbour without its own <see cref="BgpPeerOptions.MaxPrefixes"/> may send before its session
    /// ends (Cease / Out of Resources): a bound on what one neighbour can make the speaker hold.
    /// </summary>
    public int PrefixLimit { get; init; } = 100_000;

    /// <summary>
    /// Octets of messages that may wait for a neighbour's TCP window; a neighbour that stops reading past this
    /// ends its session (Cease / Out of Resources) instead of making the speaker queue without bound.
    /// </summary>
    public int MaxQueuedBytes { get; init; } = 1 << 20;

    /// <summary>Seeds the TCP initial sequence numbers and ephemeral ports (a seeded run repeats).</summary>
    public ulong Seed { get; init; }
}

/// <summary>A route learned from a neighbour: the prefix, who sent it and with what path.</summary>
public sealed record BgpRoute(Ipv4Prefix Prefix, string Peer, Ipv4Address PeerAddress, uint PeerAsn, Ipv4Address PeerIdentifier, BgpPathAttributes Attributes, TimeSpan LearnedAt);

/// <summary>A neighbour's session as status shows it (Azure's Get-AzVirtualNetworkGatewayBgpPeerStatus columns and more).</summary>
public sealed record BgpPeerStatus(
    string Name,
    Ipv4Address LocalAddress,
    Ipv4Address Neighbor,
    uint Asn,
    BgpState State,
    TimeSpan? ConnectedDuration,
    long MessagesSent,
    long MessagesReceived,
    int RoutesReceived,
    int RoutesAdvertised,
    int Flaps,
    string? LastError,
    TimeSpan? NegotiatedHoldTime);

/// <summary>What a <see cref="BgpSpeaker"/> needs from its node: a way to send TCP segments, drop counters, log lines.</summary>
public interface IBgpPort
{
    /// <summary>A TCP segment (checksum still zero) from <paramref name="local"/> to <paramref name="remote"/>.</summary>
    void Send(Ipv4Endpoint local, Ipv4Endpoint remote, TcpSegment segment);

    /// <summary>A segment or message was refused; <paramref name="reason"/> is a stable name ("bgp-no-peer", "bgp-open-bad-peer-as", ...).</summary>
    void Dropped(string reason, string? detail);

    /// <summary>A line for the terminal and the summary.</summary>
    void Report(string text);

    /// <summary>A neighbour's routes changed (<see cref="BgpSpeaker.BestRoutes"/>, <see cref="BgpSpeaker.RoutesFrom"/>): the node installs them.</summary>
    void RoutesChanged();
}
