using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Bgp;

/// <summary>The message types of BGP-4 (RFC 4271 section 4.1; ROUTE-REFRESH from RFC 2918).</summary>
public enum BgpMessageType : byte
{
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// <summary>The ORIGIN attribute's values (RFC 4271 section 4.3).</summary>
public enum BgpOrigin : byte
{
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// <summary>AS_PATH segment types (RFC 4271 section 4.3; the confederation ones from RFC 5065).</summary>
public enum BgpAsPathSegmentType : byte
{
    AsSet = 1,
    AsSequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// <summary>One segment of an AS_PATH: its type and its AS numbers (always held as 4 octets, RFC 6793).</summary>
public sealed record BgpAsPathSegment(BgpAsPathSegmentType Type, ImmutableArray<uint> Asns)
{
    public override string ToString() => Type switch
    {
        BgpAsPathSegmentType.AsSet or BgpAsPathSegmentType.ConfedSet => "{" + string.Join(",", Asns) + "}",
        _ => string.Join(" ", Asns),
    };
}

/// <summary>A capability of an OPEN message (RFC 5492): its code and value.</summary>
public sealed record BgpCapability(byte Code, ImmutableArray<byte> Value)
{
    public const byte Multiprotocol = 1;
    public const byte RouteRefresh = 2;
    public const byte FourOctetAs = 65;

    /// <summary>Multiprotocol Extensions for IPv4 unicast (RFC 4760 section 8: AFI 1, reserved, SAFI 1).</summary>
    public static BgpCapability Ipv4Unicast { get; } = new(Multiprotocol, [0, 1, 0, 1]);

    /// <summary>Route refresh (RFC 2918), no value.</summary>
    public static BgpCapability RouteRefreshCapability { get; } = new(RouteRefresh, []);

    /// <summary>Support for 4-octet AS numbers, carrying the speaker's own (RFC 6793 section 3).</summary>
    public static BgpCapability FourOctet(uint asn) => new(FourOctetAs, [(byte)(asn >> 24), (byte)(asn >> 16), (byte)(asn >> 8), (byte)asn]);
}

/// <summary>A BGP message as parsed or to be written.</summary>
public abstract record BgpMessage
{
    public abstract BgpMessageType Type { get; }
}

/// <summary>
/// OPEN (RFC 4271 section 4.2). <see cref="MyAs"/> is the 2-octet field; <see cref="Asn"/> the speaker's real AS,
/// from the 4-octet AS capability when it is there (RFC 6793 section 4.1).
/// </summary>
public sealed record BgpOpen(ushort MyAs, ushort HoldTimeSeconds, Ipv4Address Identifier, ImmutableArray<BgpCapability> Capabilities) : BgpMessage
{
    public const byte Version = 4;

    /// <summary>AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793 section 9).</summary>
    public const ushort AsTrans = 23456;

    public override BgpMessageType Type => BgpMessageType.Open;

    /// <summary>The capability of <paramref name="code"/>, or null.</summary>
    public BgpCapability? Capability(byte code)
    {
        foreach (var c in Capabilities) if (c.Code == code) return c;
        return null;
    }

    /// <summary>True when the speaker announced 4-octet AS support.</summary>
    public bool FourOctetAs => Capability(BgpCapability.FourOctetAs) is { Value.Length: 4 };

    /// <summary>The speaker's AS: the 4-octet capability's value when it sent one, its My Autonomous System field otherwise.</summary>
    public uint Asn => Capability(BgpCapability.FourOctetAs) is { Value: { Length: 4 } v } ? (uint)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]) : MyAs;

    /// <summary>An OPEN for <paramref name="asn"/> with IPv4 unicast, route refresh and 4-octet AS support.</summary>
    public static BgpOpen For(uint asn, ushort holdTimeSeconds, Ipv4Address identifier) =>
        new(asn > ushort.MaxValue ? AsTrans : (ushort)asn, holdTimeSeconds, identifier,
            [BgpCapability.Ipv4Unicast, BgpCapability.RouteRefreshCapability, BgpCapability.FourOctet(asn)]);
}

/// <summary>A path attribute the codec does not interpret, kept as it came (flags, type, value).</summary>
public sealed record BgpRawAttribute(byte Flags, byte TypeCode, ImmutableArray<byte> Value);

/// <summary>The path attributes of an UPDATE (RFC 4271 section 5) that Nodes interprets, and the others as they came.</summary>
public sealed record BgpPathAttributes
{
    public required BgpOrigin Origin { get; init; }
    public required ImmutableArray<BgpAsPathSegment> AsPath { get; init; }
    public required Ipv4Address NextHop { get; init; }
    public uint? MultiExitDisc { get; init; }
    public uint? LocalPref { get; init; }
    public bool AtomicAggregate { get; init; }
    /// <summary>Optional attributes not interpreted here (AGGREGATOR, COMMUNITIES, ...), in the order they came.</summary>
    public ImmutableArray<BgpRawAttribute> Other { get; init; } = [];

    /// <summary>The number of ASes on the path for route selection (an AS_SET counts as one, RFC 4271 section 9.1.2.2).</summary>
    public int AsPathLength
    {
        get
        {
            var n = 0;
            foreach (var s in AsPath)
                n += s.Type switch { BgpAsPathSegmentType.AsSequence => s.Asns.Length, BgpAsPathSegmentType.AsSet => 1, _ => 0 };
            return n;
        }
    }

    /// <summary>The AS path as routers print it, e.g. "65010 65020 {65030,65031}".</summary>
    public string AsPathText => string.Join(" ", AsPath);

    /// <summary>The first AS of the path (the neighbour's), or null for an empty path.</summary>
    public uint? FirstAs => AsPath.Length > 0 && AsPath[0].Asns.Length > 0 && AsPath[0].Type == BgpAsPathSegmentType.AsSequence ? AsPath[0].Asns[0] : null;

    /// <summary>True when <paramref name="asn"/> is anywhere on the path (a loop, RFC 4271 section 9.1.2).</summary>
    public bool ContainsAs(uint asn)
    {
        foreach (var s in AsPath) if (s.Asns.Contains(asn)) return true;
        return false;
    }
}

/// <summary>UPDATE (RFC 4271 section 4.3): withdrawn prefixes, and prefixes reachable with the path attributes.</summary>
public sealed record BgpUpdate(ImmutableArray<Ipv4Prefix> Withdrawn, BgpPathAttributes? Attributes, ImmutableArray<Ipv4Prefix> Nlri) : BgpMessage
{
    public override BgpMessageType Type => BgpMessageType.Update;

    /// <summary>An UPDATE with nothing in it: the End-of-RIB marker for IPv4 unicast (RFC 4724 section 2).</summary>
    public bool IsEndOfRib => Withdrawn.IsEmpty && Nlri.IsEmpty && Attributes is null;
}

/// <summary>NOTIFICATION (RFC 4271 section 4.5).</summary>
public sealed record BgpNotification(BgpError Error) : BgpMessage
{
    public override BgpMessageType Type => BgpMessageType.Notification;
}

/// <summary>KEEPALIVE (RFC 4271 section 4.4): the header alone.</summary>
public sealed record BgpKeepalive : BgpMessage
{
    public static BgpKeepalive Instance { get; } = new();
    public override BgpMessageType Type => BgpMessageType.Keepalive;
}

/// <summary>ROUTE-REFRESH (RFC 2918 section 3): AFI, reserved, SAFI.</summary>
public sealed record BgpRouteRefresh(ushort Afi, byte Safi) : BgpMessage
{
    public override BgpMessageType Type => BgpMessageType.RouteRefresh;
}
