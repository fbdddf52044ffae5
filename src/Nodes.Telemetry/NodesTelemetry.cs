using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Nodes.Telemetry;

/// <summary>
/// The one <see cref="ActivitySource"/> and the one <see cref="Meter"/> of a Nodes process, both named "Nodes", and
/// the instruments every node records into. Nothing here costs more than a field read while nobody listens:
/// the span functions of <see cref="Spans"/> check <see cref="ActivitySource.HasListeners"/> first, instruments check their Enabled flag.
/// </summary>
public static class NodesTelemetry
{
    public const string Name = "Nodes";

    public static readonly ActivitySource Source = new(Name, "1.0");

    public static readonly Meter Meter = new(Name, "1.0");

    /// <summary>Frames a node received.</summary>
    public static readonly Counter<long> PacketsIn = Meter.CreateCounter<long>("nodes.packets.in", "{packet}", "Frames a node received");

    /// <summary>Frames a node sent.</summary>
    public static readonly Counter<long> PacketsOut = Meter.CreateCounter<long>("nodes.packets.out", "{packet}", "Frames a node sent");

    /// <summary>Packets a node or link dropped, by reason.</summary>
    public static readonly Counter<long> PacketsDropped = Meter.CreateCounter<long>("nodes.packets.dropped", "{packet}", "Packets dropped, by node and reason");

    /// <summary>ESP payload bytes through a Child SA, by SPI and direction.</summary>
    public static readonly Counter<long> SaBytes = Meter.CreateCounter<long>("nodes.ipsec.sa.bytes", "By", "Bytes sealed or opened per Child SA");

    /// <summary>IKE SAs by state (an up-down counter: a state change moves one SA from one state to the other).</summary>
    public static readonly UpDownCounter<long> IkeSas = Meter.CreateUpDownCounter<long>("nodes.ipsec.ike_sas", "{sa}", "IKE SAs by state");

    /// <summary>Child SAs installed.</summary>
    public static readonly UpDownCounter<long> ChildSas = Meter.CreateUpDownCounter<long>("nodes.ipsec.child_sas", "{sa}", "Child SAs installed");

    /// <summary>How long an IKE exchange took from request to response.</summary>
    public static readonly Histogram<double> IkeExchangeDuration = Meter.CreateHistogram<double>("nodes.ipsec.ike.exchange.duration", "s", "IKE exchange duration, request to response");

    /// <summary>IKE SA and Child SA rekeys.</summary>
    public static readonly Counter<long> Rekeys = Meter.CreateCounter<long>("nodes.ipsec.rekeys", "{rekey}", "IKE SA and Child SA rekeys");

    /// <summary>Dead peer detection: liveness checks sent, peers found alive, peers given up on.</summary>
    public static readonly Counter<long> DpdEvents = Meter.CreateCounter<long>("nodes.ipsec.dpd.events", "{event}", "Dead peer detection events");

    /// <summary>Live NAT mappings (an up-down counter over created and expired or removed mappings).</summary>
    public static readonly UpDownCounter<long> NatMappings = Meter.CreateUpDownCounter<long>("nodes.nat.mappings", "{mapping}", "Live NAT mappings");

    /// <summary>Tag for the node a measurement belongs to.</summary>
    public static KeyValuePair<string, object?> NodeTag(string node) => new(Attr.Node, node);
}
