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
    /// <summary>The traces of the run's pings when tracing was on: one trace per ping, request and reply.</summary>
    public TraceSummary? Traces { get; init; }
    public double DurationMs { get; init; }
    /// <summary>Every fault of the run (timeline and live) with what it did.</summary>
    public IReadOnlyList<FaultEffect>? Faults { get; init; }

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

/// <param name="FirstJourney">The trace id of the first answered ping (the one that dialed the tunnel).</param>
/// <param name="Journeys">The trace id of every answered ping, in answer order.</param>
/// <param name="DroppedSpans">Spans the export stage dropped because its exporters could not keep up.</param>
public sealed record TraceSummary(string? FirstJourney, IReadOnlyList<string> Journeys, long DroppedSpans = 0);

public sealed record CaptureSummary(string Directory, IReadOnlyList<string> Files, string Command);

/// <summary>UDP traffic of a run: datagrams sent, distinct ones received, and each flow.</summary>
public sealed record UdpTotals(int Sent, int Received, IReadOnlyList<UdpFlowSummary> Flows);

public sealed record UdpFlowSummary(string From, string To, int Sent, int Received, int Duplicates, int OutOfOrder);
