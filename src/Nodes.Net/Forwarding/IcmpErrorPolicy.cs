using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;

namespace Nodes.Net.Forwarding;

/// <summary>
/// When an ICMP error may be sent about a datagram. RFC 1122 §3.2.2 (repeated by RFC 1812
/// §4.3.2.7): never about an ICMP error message, a datagram sent to a broadcast or multicast
/// address, a fragment other than the first, or a datagram whose source does not name a single host.
/// </summary>
public static class IcmpErrorPolicy
{
    /// <summary>
    /// True when an error about <paramref name="offending"/> is allowed. <paramref name="isLocalBroadcast"/>
    /// tells whether the destination is a directed broadcast of one of the node's subnets.
    /// </summary>
    public static bool MaySendErrorAbout(ReadOnlySpan<byte> offending, Func<Ipv4Address, bool>? isLocalBroadcast = null)
    {
        if (!Ipv4Header.TryParseQuoted(offending, out var header, out var data, out _)) return false;

        // RFC 1122 §3.2.2: "a datagram fragment other than the first fragment".
        if (header.FragmentOffset != 0) return false;

        // "a datagram destined to an IP broadcast or IP multicast address".
        if (AddressClass.IsLimitedBroadcast(header.Destination) || AddressClass.IsMulticast(header.Destination)) return false;
        if (isLocalBroadcast is not null && isLocalBroadcast(header.Destination)) return false;

        // "a datagram whose source address does not define a single host".
        if (header.Source == Ipv4Address.Any || AddressClass.IsMartianSource(header.Source)) return false;
        if (isLocalBroadcast is not null && isLocalBroadcast(header.Source)) return false;

        // "an ICMP error message"; a truncated ICMP header is treated as one (nothing proves otherwise).
        if (header.Protocol == IpProtocol.Icmp)
        {
            if (data.Length < 1) return false;
            var type = (Icmpv4Type)data[0];
            if (Icmpv4Header.IsErrorType(type)) return false;
        }

        return true;
    }
}
