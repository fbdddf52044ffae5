using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;

namespace Nodes.Net.Hosts;

/// <summary>Something a <see cref="HostStack"/> observed, for traces and tests.</summary>
public abstract record HostEvent(TimeSpan At);

/// <summary>An echo reply matched an outstanding ping.</summary>
public sealed record PingReplied(ushort Identifier, ushort Sequence, Ipv4Address From, TimeSpan RoundTrip, byte TimeToLive, int DataLength, TimeSpan At)
    : HostEvent(At);

/// <summary>No reply came within the ping timeout.</summary>
public sealed record PingTimedOut(ushort Identifier, ushort Sequence, TimeSpan At) : HostEvent(At);

/// <summary>
/// A ping failed: an ICMP error about it arrived from <see cref="ReportedBy"/>, or (with
/// <see cref="LocalReason"/> set) the host could not send it at all (no route, too big with DF).
/// <see cref="NextHopMtu"/> is the MTU a fragmentation needed carried (RFC 1191 §4).
/// </summary>
public sealed record PingFailed(
    ushort Identifier,
    ushort Sequence,
    Icmpv4Type Type,
    byte Code,
    Ipv4Address ReportedBy,
    ushort? NextHopMtu,
    DropReason LocalReason,
    TimeSpan At) : HostEvent(At);

/// <summary>A UDP datagram reached a listening port; <see cref="Datagram"/> is the whole IPv4 datagram (reassembled).</summary>
public sealed record UdpReceived(Ipv4Endpoint From, Ipv4Endpoint To, int PayloadLength, byte[] Datagram, TimeSpan At) : HostEvent(At);

/// <summary>An ICMP error about something other than a ping (a UDP flow, an application's datagram).</summary>
public sealed record IcmpErrorReceived(
    Icmpv4Type Type,
    byte Code,
    Ipv4Address ReportedBy,
    IpProtocol QuotedProtocol,
    Ipv4Address QuotedDestination,
    ushort? NextHopMtu,
    TimeSpan At) : HostEvent(At);

/// <summary>A datagram of a protocol the stack leaves to applications (TCP, ESP, ...), reassembled.</summary>
public sealed record DatagramDelivered(IpProtocol Protocol, byte[] Datagram, string Interface, TimeSpan At) : HostEvent(At);

/// <summary>What one call into the host produced: datagrams to send, events, and the drop reason when the input was discarded (a value: one per datagram).</summary>
public readonly record struct HostOutput(IReadOnlyList<Transmission> Transmissions, IReadOnlyList<HostEvent> Events, DropReason Drop)
{
    /// <summary>Nothing happened.</summary>
    public static HostOutput Empty { get; } = new([], [], DropReason.None);
}
