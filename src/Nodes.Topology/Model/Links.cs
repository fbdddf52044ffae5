using System.Collections.Immutable;

namespace Nodes.Topology.Model;

/// <summary>"node:interface" at one end of a link.</summary>
public sealed record EndpointSpec(string Node, string Interface, SourceLocation Location)
{
    public override string ToString() => $"{Node}:{Interface}";
}

/// <summary>
/// A link: two interfaces, or a shared segment (a switch) joining several. Impairments apply to frames crossing
/// the link in either direction.
/// </summary>
/// <param name="Name">The segment name, or "a:if--b:if" for a point-to-point link.</param>
public sealed record LinkSpec(string Name, string? Segment, ImmutableArray<EndpointSpec> Endpoints, int? Mtu, ImpairmentSpec Impairments, SourceLocation Location);

/// <summary>A duration as tc-netem writes it ("20ms"), kept with its text.</summary>
public sealed record NetemTime(TimeSpan Value, string Text)
{
    public override string ToString() => Text;
}

/// <summary>A percentage as tc-netem writes it ("0.1%"), 0 to 100.</summary>
public sealed record NetemPercent(double Percent, string Text)
{
    /// <summary>The percentage as a probability 0..1.</summary>
    public double Probability => Percent / 100.0;

    public override string ToString() => Text;
}

/// <summary>A rate as tc writes it ("100mbit", "10kbps" = kilobytes), in bits per second.</summary>
public sealed record NetemRate(long BitsPerSecond, string Text)
{
    public override string ToString() => Text;
}

/// <summary>tc-netem impairments with netem's names: delay, jitter, loss, duplicate, reorder, corrupt, rate, correlation.</summary>
public sealed record ImpairmentSpec(
    NetemTime? Delay,
    NetemTime? Jitter,
    NetemPercent? Loss,
    NetemPercent? Duplicate,
    NetemPercent? Reorder,
    NetemPercent? Corrupt,
    NetemRate? Rate,
    NetemPercent? Correlation)
{
    public static ImpairmentSpec None { get; } = new(null, null, null, null, null, null, null, null);

    public bool IsEmpty => this == None;
}
