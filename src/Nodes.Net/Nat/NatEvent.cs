using System.Globalization;
using Nodes.Wire.Ip;

namespace Nodes.Net.Nat;

/// <summary>What happened to a NAT mapping.</summary>
public enum NatEventKind : byte
{
    /// <summary>A new mapping was made by outbound traffic.</summary>
    Created,

    /// <summary>A mapping reached its idle timeout and was removed.</summary>
    Expired,

    /// <summary>After <see cref="NatTable.Rebind"/>, an inside endpoint got a new outside endpoint.</summary>
    Rebound,

    /// <summary>A mapping was removed by <see cref="NatTable.Flush"/> or forgotten by <see cref="NatTable.Rebind"/>.</summary>
    Removed,
}

/// <summary>
/// A mapping change, for traces and metrics: "NAT udp 192.168.29.52:4500 → 203.0.113.10:61002".
/// <see cref="PreviousOutside"/> is set for <see cref="NatEventKind.Rebound"/>.
/// </summary>
public sealed record NatEvent(
    NatEventKind Kind,
    IpProtocol Protocol,
    Ipv4Endpoint Inside,
    Ipv4Endpoint Outside,
    Ipv4Endpoint? PreviousOutside,
    TimeSpan At)
{
    /// <summary>Short protocol name for text.</summary>
    public static string ProtocolName(IpProtocol protocol) => protocol switch
    {
        IpProtocol.Udp => "udp",
        IpProtocol.Tcp => "tcp",
        IpProtocol.Icmp => "icmp",
        _ => ((byte)protocol).ToString(CultureInfo.InvariantCulture),
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        NatEventKind.Rebound => string.Create(CultureInfo.InvariantCulture, $"NAT {ProtocolName(Protocol)} {Inside} → {Outside} (rebound from {PreviousOutside})"),
        NatEventKind.Created => string.Create(CultureInfo.InvariantCulture, $"NAT {ProtocolName(Protocol)} {Inside} → {Outside}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"NAT {ProtocolName(Protocol)} {Inside} → {Outside} {Kind.ToString().ToLowerInvariant()}"),
    };
}

/// <summary>Result of a NAT translation: whether the datagram was rewritten, else why it was dropped.</summary>
public readonly record struct NatResult(bool Translated, DropReason Reason)
{
    internal static NatResult Ok => new(true, DropReason.None);

    internal static NatResult Dropped(DropReason reason) => new(false, reason);
}

/// <summary>A live mapping, as reported by <see cref="NatTable.Mappings"/>.</summary>
public sealed record NatMappingInfo(IpProtocol Protocol, Ipv4Endpoint Inside, Ipv4Endpoint Outside, TimeSpan LastActivity);
