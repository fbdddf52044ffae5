using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nodes.Host;

/// <summary>The outcome of one lab run: what <c>nodes run --json</c> prints, camelCase.</summary>
public sealed record RunSummary
{
    public required bool Ok { get; init; }
    public required string Topology { get; init; }
    public required string Scenario { get; init; }
    public required ulong Seed { get; init; }
    public required PingTotals Pings { get; init; }
    public required IReadOnlyList<TunnelSummary> Tunnels { get; init; }
    public required DropSummary Drops { get; init; }
    public required IReadOnlyList<ExpectationResult> Expectations { get; init; }
    public IReadOnlyList<string> Failures { get; init; } = [];
    public CaptureSummary? Captures { get; init; }
    public UdpTotals? Udp { get; init; }
    /// <summary>TCP flows of the run: how many completed, their retransmissions and stalls, and each flow.</summary>
    public TcpTotals? Tcp { get; init; }
    /// <summary>The traces of the run's pings when tracing was on: one trace per ping, request and reply.</summary>
    public TraceSummary? Traces { get; init; }
    public double DurationMs { get; init; }
    /// <summary>Every fault of the run (timeline and live) with what it did.</summary>
    public IReadOnlyList<FaultEffect>? Faults { get; init; }
    /// <summary>Every BGP session of the lab's gateways as the run ended, with the routes each speaker chose and advertises.</summary>
    public IReadOnlyList<BgpSessionSummary>? Bgp { get; init; }
    public IReadOnlyList<BgpRouteSummary>? BgpRoutes { get; init; }
    /// <summary>Azure's diagnostics of every connection of the lab's Azure gateways, as the run ended.</summary>
    public IReadOnlyList<AzureConnectionDiagnostics>? Azure { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public sealed record PingTotals(int Sent, int Received, RttSummary RttMs);

public sealed record RttSummary(double Min, double Avg, double Max);

public sealed record TunnelSummary(string Node, string Name, string State, IkeSummary Ike, IReadOnlyList<ChildSaSummary> ChildSas, IReadOnlyList<string> Failures);

public sealed record IkeSummary(string State, string InitiatorSpi, string ResponderSpi, bool Initiator, bool NatDetected, string LocalEndpoint, string RemoteEndpoint, int Rekeys, int ChildRekeys, string Suite);

public sealed record ChildSaSummary(string InboundSpi, string OutboundSpi, string Suite, ulong PacketsIn, ulong PacketsOut, string LocalTs, string RemoteTs, bool Encapsulated);

public sealed record DropSummary(long Total, IReadOnlyDictionary<string, long> ByReason, IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> ByNode);

public sealed record ExpectationResult(string What, bool Met, string Detail);

/// <summary>
/// One BGP session: the gateway, the peer's name (the Azure connection or the Add-BgpPeer name), the addresses and the
/// neighbour's AS, the state in RFC 4271's words, how long it has been Established, messages, prefixes received and
/// advertised, how often it went down, the last NOTIFICATION or reason it ended, and the tunnel it runs through.
/// </summary>
public sealed record BgpSessionSummary(string Node, string Name, string LocalAddress, string Neighbor, uint Asn, string State, double ConnectedMs,
    ulong MessagesSent, ulong MessagesReceived, uint RoutesReceived, uint RoutesAdvertised, uint Flaps, string LastError, string Tunnel, double HoldTimeS);

/// <summary>A route a gateway's speaker chose ("learned") or sends a neighbour ("advertised").</summary>
public sealed record BgpRouteSummary(string Node, string Direction, string Network, string NextHop, string AsPath, string Origin, string SourcePeer, string LocalAddress);

/// <param name="FirstJourney">The trace id of the first answered ping (the one that dialed the tunnel).</param>
/// <param name="Journeys">The trace id of every answered ping, in answer order.</param>
/// <param name="DroppedSpans">Spans the export stage dropped because its exporters could not keep up.</param>
public sealed record TraceSummary(string? FirstJourney, IReadOnlyList<string> Journeys, long DroppedSpans = 0);

public sealed record CaptureSummary(string Directory, IReadOnlyList<string> Files, string Command);

/// <summary>UDP traffic of a run: datagrams sent, distinct ones received, and each flow.</summary>
public sealed record UdpTotals(int Sent, int Received, IReadOnlyList<UdpFlowSummary> Flows);

public sealed record UdpFlowSummary(string From, string To, int Sent, int Received, int Duplicates, int OutOfOrder);

/// <summary>TCP traffic of a run: flows, how many completed, retransmissions and stalls over all of them, and each flow.</summary>
public sealed record TcpTotals(int Flows, int Completed, long Retransmissions, int Stalls, IReadOnlyList<TcpFlowSummary> Each);

/// <summary>
/// One TCP flow as its client saw it: outcome (completed, timed-out, refused, reset, no-route, unfinished), octets
/// acknowledged, throughput in Mbit/s from the SYN to the last acknowledgment, the segment size used, retransmissions,
/// retransmission timeouts, fast retransmits, stalls (outstanding data unacknowledged for a second or more) and the
/// longest, the smoothed RTT and the RTO at the end, and for request/response the exchange times.
/// </summary>
public sealed record TcpFlowSummary(string From, string To, string Kind, string Outcome, long Bytes, long BytesAcknowledged, long BytesReceived, int Requests,
    int Exchanges, double DurationMs, double ThroughputMbps, int Mss, int PathMtu, long SegmentsSent, long Retransmissions, long Timeouts, long FastRetransmits,
    int Stalls, double LongestStallMs, double SrttMs, double RtoMs, double ExchangeAvgMs, double ExchangeMaxMs);
