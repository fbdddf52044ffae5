using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Nodes.Wire.Ike;

/// <summary>
/// TSi / TSr payload body (RFC 7296 section 3.13).
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Number of TSs |                 RESERVED                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       &lt;Traffic Selectors&gt;                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public sealed record TrafficSelectorPayload(IkePayloadType PayloadType, EquatableList<TrafficSelector> Selectors) : IkePayload
{
    /// <summary>Byte offsets within the body.</summary>
    public static class Field
    {
        public const int Count = 0;
        public const int Selectors = 4;
    }

    public override IkePayloadType Type => PayloadType;

    public override int BodyLength => Field.Selectors + Selectors.Sum(s => s.EncodedLength);

    public static bool TryParse(IkePayloadType payloadType, ReadOnlySpan<byte> body, out TrafficSelectorPayload? payload, out WireError error)
    {
        payload = null;
        if (payloadType is not (IkePayloadType.TrafficSelectorInitiator or IkePayloadType.TrafficSelectorResponder))
        {
            error = WireError.BadValue;
            return false;
        }
        if (body.Length < Field.Selectors)
        {
            error = WireError.Truncated;
            return false;
        }
        var count = body[Field.Count];
        var selectors = new List<TrafficSelector>(count);
        var rest = body[Field.Selectors..];
        for (var i = 0; i < count; i++)
        {
            if (!TrafficSelector.TryParse(rest, out var selector, out var used, out error)) return false;
            selectors.Add(selector!);
            rest = rest[used..];
        }
        // RFC 7296 section 3.13: Number of TSs counts exactly the selectors in the payload.
        if (!rest.IsEmpty)
        {
            error = WireError.BadTrafficSelector;
            return false;
        }
        payload = new TrafficSelectorPayload(payloadType, selectors);
        error = WireError.None;
        return true;
    }

    public override int EncodeBody(Span<byte> destination)
    {
        if (Selectors.Count > byte.MaxValue) throw new InvalidOperationException("Number of TSs is an 8-bit field");
        destination[Field.Count] = (byte)Selectors.Count;
        destination[1..Field.Selectors].Clear();
        var offset = Field.Selectors;
        foreach (var selector in Selectors) offset += selector.Encode(destination[offset..]);
        return offset;
    }
}

/// <summary>
/// One traffic selector (RFC 7296 section 3.13.1): an address range, a port range and an IP protocol (0 = any).
/// <code>
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   TS Type     |IP Protocol ID*|       Selector Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Start Port*         |           End Port*           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Starting Address*                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Ending Address*                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Selector Length is 16 for TS_IPV4_ADDR_RANGE and 40 for TS_IPV6_ADDR_RANGE.
/// </summary>
public sealed record TrafficSelector(TrafficSelectorType SelectorType, byte IpProtocol, ushort StartPort, ushort EndPort, IPAddress StartAddress, IPAddress EndAddress)
{
    public const int Ipv4Length = 16;
    public const int Ipv6Length = 40;

    /// <summary>Byte offsets within a selector.</summary>
    public static class Field
    {
        public const int Type = 0;
        public const int IpProtocol = 1;
        public const int Length = 2;
        public const int StartPort = 4;
        public const int EndPort = 6;
        public const int StartAddress = 8;
    }

    public int EncodedLength => SelectorType == TrafficSelectorType.Ipv6AddressRange ? Ipv6Length : Ipv4Length;

    /// <summary>All IPv4 traffic: 0.0.0.0-255.255.255.255, any protocol, ports 0-65535.</summary>
    public static TrafficSelector AnyIpv4() =>
        new(TrafficSelectorType.Ipv4AddressRange, 0, 0, ushort.MaxValue, IPAddress.Any, IPAddress.Broadcast);

    /// <summary>The IPv4 or IPv6 prefix <paramref name="network"/>/<paramref name="prefixLength"/>, any protocol and port.</summary>
    public static TrafficSelector Prefix(IPAddress network, int prefixLength, byte ipProtocol = 0)
    {
        var bytes = network.GetAddressBytes();
        if (prefixLength < 0 || prefixLength > bytes.Length * 8) throw new ArgumentOutOfRangeException(nameof(prefixLength));
        var start = (byte[])bytes.Clone();
        var end = (byte[])bytes.Clone();
        for (var bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            var mask = (byte)(0x80 >> (bit % 8));
            start[bit / 8] &= (byte)~mask;
            end[bit / 8] |= mask;
        }
        var type = network.AddressFamily == AddressFamily.InterNetworkV6 ? TrafficSelectorType.Ipv6AddressRange : TrafficSelectorType.Ipv4AddressRange;
        return new TrafficSelector(type, ipProtocol, 0, ushort.MaxValue, new IPAddress(start), new IPAddress(end));
    }

    public static bool TryParse(ReadOnlySpan<byte> source, out TrafficSelector? selector, out int consumed, out WireError error)
    {
        selector = null;
        consumed = 0;
        if (source.Length < Field.StartAddress)
        {
            error = WireError.Truncated;
            return false;
        }
        var type = (TrafficSelectorType)source[Field.Type];
        var length = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]);
        // RFC 7296 section 3.13.1: TS_IPV4_ADDR_RANGE selectors are 16 octets, TS_IPV6_ADDR_RANGE ones 40.
        var expected = type switch
        {
            TrafficSelectorType.Ipv4AddressRange => Ipv4Length,
            TrafficSelectorType.Ipv6AddressRange => Ipv6Length,
            _ => -1,
        };
        if (length != expected)
        {
            error = WireError.BadTrafficSelector;
            return false;
        }
        if (source.Length < length)
        {
            error = WireError.Truncated;
            return false;
        }
        var addressLength = (length - Field.StartAddress) / 2;
        selector = new TrafficSelector(
            type,
            source[Field.IpProtocol],
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.StartPort..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.EndPort..]),
            new IPAddress(source.Slice(Field.StartAddress, addressLength)),
            new IPAddress(source.Slice(Field.StartAddress + addressLength, addressLength)));
        consumed = length;
        error = WireError.None;
        return true;
    }

    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        var addressLength = (length - Field.StartAddress) / 2;
        destination[Field.Type] = (byte)SelectorType;
        destination[Field.IpProtocol] = IpProtocol;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], (ushort)length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.StartPort..], StartPort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.EndPort..], EndPort);
        if (!StartAddress.TryWriteBytes(destination.Slice(Field.StartAddress, addressLength), out var a) || a != addressLength ||
            !EndAddress.TryWriteBytes(destination.Slice(Field.StartAddress + addressLength, addressLength), out var b) || b != addressLength)
            throw new InvalidOperationException($"{SelectorType} selector needs {addressLength}-byte addresses");
        return length;
    }
}
