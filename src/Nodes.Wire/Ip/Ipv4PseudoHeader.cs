namespace Nodes.Wire.Ip;

/// <summary>
/// The Internet checksum of a transport message (UDP, TCP) with the IPv4 pseudo-header summed first:
/// source address, destination address, a zero octet, the protocol and the message length (RFC 768;
/// RFC 9293 §3.1). Shared by the UDP and TCP codecs, which differ only in where their checksum field sits.
/// </summary>
public static class Ipv4PseudoHeader
{
    /// <summary>The checksum of <paramref name="message"/>, whatever the two octets at <paramref name="checksumOffset"/> hold.</summary>
    public static ushort Compute(ReadOnlySpan<byte> message, Ipv4Address source, Ipv4Address destination, IpProtocol protocol, int checksumOffset)
    {
        var sum = Sum(source, destination, protocol, message.Length);
        sum.Add(message[..checksumOffset]);
        sum.Add(message[(checksumOffset + 2)..]);
        return sum.Finish();
    }

    /// <summary>True when <paramref name="message"/>, checksum field included, sums to 0xFFFF with the pseudo-header.</summary>
    public static bool Verify(ReadOnlySpan<byte> message, Ipv4Address source, Ipv4Address destination, IpProtocol protocol)
    {
        var sum = Sum(source, destination, protocol, message.Length);
        sum.Add(message);
        return sum.Sum == 0xFFFF;
    }

    private static InternetChecksum Sum(Ipv4Address source, Ipv4Address destination, IpProtocol protocol, int length)
    {
        var sum = new InternetChecksum();
        sum.AddUInt32(source.Value);
        sum.AddUInt32(destination.Value);
        sum.AddUInt16((ushort)protocol);
        sum.AddUInt16((ushort)length);
        return sum;
    }
}
