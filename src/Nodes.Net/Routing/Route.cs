using System.Globalization;
using Nodes.Wire.Ip;

namespace Nodes.Net.Routing;

/// <summary>
/// One entry of a <see cref="RoutingTable"/>: destinations in <see cref="Prefix"/> leave through
/// <see cref="Interface"/>, either to the gateway <see cref="NextHop"/> or, when it is null, straight
/// to the destination on the attached link. Lower <see cref="Metric"/> wins among routes for the same prefix.
/// </summary>
public readonly record struct Route(Ipv4Prefix Prefix, Ipv4Address? NextHop, string Interface, int Metric = 0)
{
    /// <summary>True for a connected (on-link) route.</summary>
    public bool IsOnLink => NextHop is null;

    /// <summary>The address the link layer delivers to for <paramref name="destination"/>.</summary>
    public Ipv4Address NextHopFor(Ipv4Address destination) => NextHop ?? destination;

    /// <summary>"10.0.10.0/24 via 192.168.29.52 dev lan metric 0" or "192.168.29.0/24 dev lan metric 0".</summary>
    public override string ToString() => NextHop is { } gateway
        ? string.Create(CultureInfo.InvariantCulture, $"{Prefix} via {gateway} dev {Interface} metric {Metric}")
        : string.Create(CultureInfo.InvariantCulture, $"{Prefix} dev {Interface} metric {Metric}");
}
