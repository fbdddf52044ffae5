using System.Buffers.Binary;
using System.Collections.Immutable;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Bgp;

/// <summary>
/// BGP-4 messages to and from bytes (RFC 4271 section 4, capabilities RFC 5492, 4-octet AS numbers RFC 6793,
/// route refresh RFC 2918). Parsing checks what section 6 asks and returns the <see cref="BgpError"/> the
/// NOTIFICATION must carry; it never throws on input. IPv4 unicast only: routes travel in the classic NLRI fields.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Marker (16 octets of ones)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </remarks>
public static class BgpCodec
{
    public const int MarkerLength = 16;
    public const int HeaderLength = 19;
    /// <summary>The largest message without the extended message capability (RFC 4271 section 4.1).</summary>
    public const int MaxMessageLength = 4096;
    public const int OpenMinLength = 29;
    public const int UpdateMinLength = 23;
    public const int NotificationMinLength = 21;

    /// <summary>Path attribute flag bits (section 4.3).</summary>
    public const byte FlagOptional = 0x80, FlagTransitive = 0x40, FlagPartial = 0x20, FlagExtendedLength = 0x10;

    /// <summary>Path attribute type codes (IANA "BGP Path Attributes").</summary>
    public const byte Origin = 1, AsPath = 2, NextHop = 3, MultiExitDisc = 4, LocalPref = 5, AtomicAggregate = 6, Aggregator = 7,
        Communities = 8, MpReachNlri = 14, MpUnreachNlri = 15, As4Path = 17, As4Aggregator = 18;

    // ---------------------------------------------------------------------------------------------------------
    // Framing

    /// <summary>
    /// Finds the first message in a TCP byte stream. True with its <paramref name="length"/> when a whole message is
    /// there; false with <paramref name="error"/> None when more bytes are needed, or with the error when the header
    /// is bad (section 6.1: marker not all ones, length outside 19..4096, unknown type, or a length its type cannot have).
    /// </summary>
    public static bool TryFrame(ReadOnlySpan<byte> stream, out int length, out BgpError error)
    {
        length = 0;
        error = BgpError.None;
        if (stream.Length < HeaderLength) return false;
        if (stream[..MarkerLength].IndexOfAnyExcept((byte)0xFF) >= 0)
        {
            error = BgpError.Header(BgpError.ConnectionNotSynchronized);
            return false;
        }
        var declared = BinaryPrimitives.ReadUInt16BigEndian(stream[MarkerLength..]);
        var type = stream[MarkerLength + 2];
        var lengthOk = type switch
        {
            (byte)BgpMessageType.Open => declared >= OpenMinLength,
            (byte)BgpMessageType.Update => declared >= UpdateMinLength,
            (byte)BgpMessageType.Notification => declared >= NotificationMinLength,
            (byte)BgpMessageType.Keepalive => declared == HeaderLength,
            (byte)BgpMessageType.RouteRefresh => declared == HeaderLength + 4,
            _ => declared >= HeaderLength,
        };
        if (declared < HeaderLength || declared > MaxMessageLength || !lengthOk)
        {
            error = BgpError.Header(BgpError.BadMessageLength, stream.Slice(MarkerLength, 2).ToArray());
            return false;
        }
        if (type is 0 or > (byte)BgpMessageType.RouteRefresh)
        {
            error = BgpError.Header(BgpError.BadMessageType, [type]);
            return false;
        }
        if (stream.Length < declared) return false;
        length = declared;
        return true;
    }

    /// <summary>
    /// Parses one whole message (as <see cref="TryFrame"/> found it). <paramref name="fourOctetAs"/> says whether both
    /// speakers announced 4-octet AS support, which decides the width of AS numbers in AS_PATH (RFC 6793 section 4).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, bool fourOctetAs, out BgpMessage? parsed, out BgpError error)
    {
        parsed = null;
        if (!TryFrame(message, out var length, out error))
        {
            if (error.IsNone) error = BgpError.Header(BgpError.BadMessageLength, message.Length >= MarkerLength + 2 ? message.Slice(MarkerLength, 2).ToArray() : null);
            return false;
        }
        var body = message[HeaderLength..length];
        switch ((BgpMessageType)message[MarkerLength + 2])
        {
            case BgpMessageType.Keepalive:
                parsed = BgpKeepalive.Instance;
                return true;
            case BgpMessageType.Notification:
                parsed = new BgpNotification(new BgpError((BgpErrorCode)body[0], body[1], body.Length > 2 ? body[2..].ToArray() : null));
                return true;
            case BgpMessageType.RouteRefresh:
                parsed = new BgpRouteRefresh(BinaryPrimitives.ReadUInt16BigEndian(body), body[3]);
                return true;
            case BgpMessageType.Open:
                return TryParseOpen(body, out parsed, out error);
            default:
                return TryParseUpdate(body, fourOctetAs, out parsed, out error);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // OPEN

    private static bool TryParseOpen(ReadOnlySpan<byte> body, out BgpMessage? parsed, out BgpError error)
    {
        parsed = null;
        error = BgpError.None;
        if (body[0] != BgpOpen.Version)
        {
            error = BgpError.Open(BgpError.UnsupportedVersionNumber, [0, BgpOpen.Version]);
            return false;
        }
        var myAs = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        var hold = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        var identifier = Ipv4Address.Read(body[5..]);
        var optLength = body[9];
        var opt = body[10..];
        if (optLength != opt.Length)
        {
            error = BgpError.Header(BgpError.BadMessageLength, LengthField(HeaderLength + body.Length));
            return false;
        }
        if (hold is 1 or 2)
        {
            error = BgpError.Open(BgpError.UnacceptableHoldTime);
            return false;
        }
        // RFC 6286 section 2.2: any non-zero 4-octet value.
        if (identifier.Value == 0)
        {
            error = BgpError.Open(BgpError.BadBgpIdentifier);
            return false;
        }
        var capabilities = ImmutableArray.CreateBuilder<BgpCapability>();
        while (!opt.IsEmpty)
        {
            if (opt.Length < 2 || opt[1] > opt.Length - 2)
            {
                error = BgpError.Open(0);
                return false;
            }
            var type = opt[0];
            var value = opt.Slice(2, opt[1]);
            opt = opt[(2 + opt[1])..];
            // Type 2 is Capabilities (RFC 5492); the old Authentication parameter (1) and the extended length form
            // (RFC 9072, 255) are not spoken here.
            if (type != 2)
            {
                error = BgpError.Open(BgpError.UnsupportedOptionalParameter);
                return false;
            }
            while (!value.IsEmpty)
            {
                if (value.Length < 2 || value[1] > value.Length - 2)
                {
                    error = BgpError.Open(0);
                    return false;
                }
                var cap = new BgpCapability(value[0], [.. value.Slice(2, value[1])]);
                value = value[(2 + value[1])..];
                if (cap.Code == BgpCapability.FourOctetAs && cap.Value.Length != 4)
                {
                    error = BgpError.Open(0);
                    return false;
                }
                capabilities.Add(cap);
            }
        }
        parsed = new BgpOpen(myAs, hold, identifier, capabilities.ToImmutable());
        return true;
    }

    /// <summary>Writes an OPEN with its capabilities in one Capabilities optional parameter.</summary>
    public static byte[] Write(BgpOpen open)
    {
        var capLength = 0;
        foreach (var c in open.Capabilities) capLength += 2 + c.Value.Length;
        if (capLength > 253) throw new ArgumentException("the capabilities do not fit one optional parameter", nameof(open));
        var optLength = capLength == 0 ? 0 : 2 + capLength;
        var m = Start(BgpMessageType.Open, OpenMinLength + optLength);
        var b = m.AsSpan(HeaderLength);
        b[0] = BgpOpen.Version;
        BinaryPrimitives.WriteUInt16BigEndian(b[1..], open.MyAs);
        BinaryPrimitives.WriteUInt16BigEndian(b[3..], open.HoldTimeSeconds);
        open.Identifier.Write(b[5..]);
        b[9] = (byte)optLength;
        if (optLength > 0)
        {
            b[10] = 2;
            b[11] = (byte)capLength;
            var at = 12;
            foreach (var c in open.Capabilities)
            {
                b[at] = c.Code;
                b[at + 1] = (byte)c.Value.Length;
                c.Value.AsSpan().CopyTo(b[(at + 2)..]);
                at += 2 + c.Value.Length;
            }
        }
        return m;
    }

    // ---------------------------------------------------------------------------------------------------------
    // UPDATE

    private static bool TryParseUpdate(ReadOnlySpan<byte> body, bool fourOctetAs, out BgpMessage? parsed, out BgpError error)
    {
        parsed = null;
        var withdrawnLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (withdrawnLength > body.Length - 4)
        {
            error = BgpError.Update(BgpError.MalformedAttributeList);
            return false;
        }
        var withdrawnBytes = body.Slice(2, withdrawnLength);
        var attributesLength = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + withdrawnLength)..]);
        if (attributesLength > body.Length - 4 - withdrawnLength)
        {
            error = BgpError.Update(BgpError.MalformedAttributeList);
            return false;
        }
        var attributeBytes = body.Slice(4 + withdrawnLength, attributesLength);
        var nlriBytes = body[(4 + withdrawnLength + attributesLength)..];
        if (!TryPrefixes(withdrawnBytes, out var withdrawn) || !TryPrefixes(nlriBytes, out var nlri))
        {
            error = BgpError.Update(BgpError.InvalidNetworkField);
            return false;
        }
        BgpPathAttributes? attributes = null;
        if (!attributeBytes.IsEmpty || !nlri.IsEmpty)
        {
            if (!TryAttributes(attributeBytes, fourOctetAs, nlri.IsEmpty, out attributes, out error)) return false;
        }
        error = BgpError.None;
        parsed = new BgpUpdate(withdrawn, attributes, nlri);
        return true;
    }

    /// <summary>Prefixes as (length, the octets of the prefix that length needs), section 4.3; false on a length over 32 or a run past the end.</summary>
    private static bool TryPrefixes(ReadOnlySpan<byte> bytes, out ImmutableArray<Ipv4Prefix> prefixes)
    {
        prefixes = [];
        if (bytes.IsEmpty) return true;
        var list = ImmutableArray.CreateBuilder<Ipv4Prefix>();
        while (!bytes.IsEmpty)
        {
            var length = bytes[0];
            var octets = (length + 7) / 8;
            if (length > 32 || octets > bytes.Length - 1) return false;
            uint value = 0;
            for (var i = 0; i < 4; i++) value = value << 8 | (i < octets ? bytes[1 + i] : 0u);
            var network = new Ipv4Address(value);
            // Trailing bits beyond the length are irrelevant (section 4.3) but a sender must not set them; take the prefix.
            list.Add(new Ipv4Prefix(network, length));
            bytes = bytes[(1 + octets)..];
        }
        prefixes = list.ToImmutable();
        return true;
    }

    private static bool TryAttributes(ReadOnlySpan<byte> bytes, bool fourOctetAs, bool withdrawOnly, out BgpPathAttributes? attributes, out BgpError error)
    {
        attributes = null;
        BgpOrigin? origin = null;
        ImmutableArray<BgpAsPathSegment>? asPath = null;
        ImmutableArray<BgpAsPathSegment>? as4Path = null;
        Ipv4Address? nextHop = null;
        uint? med = null, localPref = null;
        var atomic = false;
        var other = ImmutableArray.CreateBuilder<BgpRawAttribute>();
        Span<bool> seen = stackalloc bool[256];
        while (!bytes.IsEmpty)
        {
            if (bytes.Length < 3)
            {
                error = BgpError.Update(BgpError.MalformedAttributeList);
                return false;
            }
            var flags = bytes[0];
            var type = bytes[1];
            var extended = (flags & FlagExtendedLength) != 0;
            var header = extended ? 4 : 3;
            if (bytes.Length < header)
            {
                error = BgpError.Update(BgpError.MalformedAttributeList);
                return false;
            }
            var length = extended ? BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]) : bytes[2];
            if (length > bytes.Length - header)
            {
                error = BgpError.Update(BgpError.AttributeLengthError, bytes.ToArray());
                return false;
            }
            var whole = bytes[..(header + length)];
            var value = whole[header..];
            bytes = bytes[(header + length)..];
            if (seen[type])
            {
                error = BgpError.Update(BgpError.MalformedAttributeList);
                return false;
            }
            seen[type] = true;
            var wellKnown = type is Origin or AsPath or NextHop or LocalPref or AtomicAggregate;
            var optionalTransitive = type is Aggregator or Communities or As4Path or As4Aggregator;
            var optionalNonTransitive = type is MultiExitDisc or MpReachNlri or MpUnreachNlri;
            var known = wellKnown || optionalTransitive || optionalNonTransitive;
            var optional = (flags & FlagOptional) != 0;
            var transitive = (flags & FlagTransitive) != 0;
            if (!known && !optional)
            {
                error = BgpError.Update(BgpError.UnrecognizedWellKnownAttribute, whole.ToArray());
                return false;
            }
            // Section 6.3: the flags must agree with what the type is; Partial may be set only on optional transitive.
            var flagsOk = !known
                || (wellKnown && !optional && transitive && (flags & FlagPartial) == 0)
                || (optionalTransitive && optional && transitive)
                || (optionalNonTransitive && optional && !transitive && (flags & FlagPartial) == 0);
            if (!flagsOk)
            {
                error = BgpError.Update(BgpError.AttributeFlagsError, whole.ToArray());
                return false;
            }
            switch (type)
            {
                case Origin:
                    if (length != 1) return Fail(BgpError.AttributeLengthError, whole, out error);
                    if (value[0] > 2) return Fail(BgpError.InvalidOriginAttribute, whole, out error);
                    origin = (BgpOrigin)value[0];
                    break;
                case AsPath:
                    if (!TryAsPath(value, fourOctetAs ? 4 : 2, out var path)) return Fail(BgpError.MalformedAsPath, [], out error);
                    asPath = path;
                    break;
                case As4Path:
                    // RFC 6793 section 4.2.3 / RFC 7606 section 7.1: a malformed AS4_PATH is discarded, not an error.
                    if (!fourOctetAs && TryAsPath(value, 4, out var path4)) as4Path = path4;
                    other.Add(new BgpRawAttribute(flags, type, [.. value]));
                    break;
                case NextHop:
                    if (length != 4) return Fail(BgpError.AttributeLengthError, whole, out error);
                    nextHop = Ipv4Address.Read(value);
                    break;
                case MultiExitDisc:
                    if (length != 4) return Fail(BgpError.AttributeLengthError, whole, out error);
                    med = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case LocalPref:
                    if (length != 4) return Fail(BgpError.AttributeLengthError, whole, out error);
                    localPref = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case AtomicAggregate:
                    if (length != 0) return Fail(BgpError.AttributeLengthError, whole, out error);
                    atomic = true;
                    break;
                case Aggregator:
                    if (length != (fourOctetAs ? 8 : 6)) return Fail(BgpError.AttributeLengthError, whole, out error);
                    other.Add(new BgpRawAttribute(flags, type, [.. value]));
                    break;
                case Communities:
                    if (length % 4 != 0) return Fail(BgpError.OptionalAttributeError, whole, out error);
                    other.Add(new BgpRawAttribute(flags, type, [.. value]));
                    break;
                default:
                    other.Add(new BgpRawAttribute(flags, type, [.. value]));
                    break;
            }
        }
        // Section 6.3: with NLRI, ORIGIN, AS_PATH and NEXT_HOP must be there.
        if (!withdrawOnly)
        {
            byte missing = origin is null ? Origin : asPath is null ? AsPath : nextHop is null ? NextHop : (byte)0;
            if (missing != 0)
            {
                error = BgpError.Update(BgpError.MissingWellKnownAttribute, [missing]);
                return false;
            }
            var hop = nextHop!.Value.Value;
            // Section 6.3: a NEXT_HOP that is not a valid unicast address (0.0.0.0, 127/8, multicast, broadcast).
            if (hop == 0 || hop >> 24 == 127 || hop >> 28 == 0xE || hop == uint.MaxValue)
            {
                error = BgpError.Update(BgpError.InvalidNextHopAttribute, [NextHop]);
                return false;
            }
        }
        var finalPath = asPath ?? [];
        if (as4Path is { } p4) finalPath = MergeAs4Path(finalPath, p4);
        attributes = new BgpPathAttributes
        {
            Origin = origin ?? BgpOrigin.Incomplete,
            AsPath = finalPath,
            NextHop = nextHop ?? default,
            MultiExitDisc = med,
            LocalPref = localPref,
            AtomicAggregate = atomic,
            Other = other.ToImmutable(),
        };
        error = BgpError.None;
        return true;
    }

    private static bool Fail(byte subcode, ReadOnlySpan<byte> attribute, out BgpError error)
    {
        error = BgpError.Update(subcode, attribute.IsEmpty ? null : attribute.ToArray());
        return false;
    }

    private static bool TryAsPath(ReadOnlySpan<byte> value, int width, out ImmutableArray<BgpAsPathSegment> path)
    {
        path = [];
        var segments = ImmutableArray.CreateBuilder<BgpAsPathSegment>();
        while (!value.IsEmpty)
        {
            if (value.Length < 2) return false;
            var type = value[0];
            var count = value[1];
            // RFC 7606 section 7.2: a segment of no AS numbers, or of an unknown type, is malformed.
            if (type is 0 or > 4 || count == 0 || count * width > value.Length - 2) return false;
            var asns = ImmutableArray.CreateBuilder<uint>(count);
            for (var i = 0; i < count; i++)
                asns.Add(width == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value[(2 + i * 4)..]) : BinaryPrimitives.ReadUInt16BigEndian(value[(2 + i * 2)..]));
            segments.Add(new BgpAsPathSegment((BgpAsPathSegmentType)type, asns.MoveToImmutable()));
            value = value[(2 + count * width)..];
        }
        path = segments.ToImmutable();
        return true;
    }

    /// <summary>
    /// RFC 6793 section 4.2.3: the AS path of a 2-octet session is AS_PATH with its last ASes replaced by AS4_PATH,
    /// when AS4_PATH is not longer than AS_PATH (otherwise AS4_PATH is ignored).
    /// </summary>
    private static ImmutableArray<BgpAsPathSegment> MergeAs4Path(ImmutableArray<BgpAsPathSegment> asPath, ImmutableArray<BgpAsPathSegment> as4Path)
    {
        static int Count(ImmutableArray<BgpAsPathSegment> p) => p.Sum(s => s.Type == BgpAsPathSegmentType.AsSequence ? s.Asns.Length : s.Type == BgpAsPathSegmentType.AsSet ? 1 : 0);
        var keep = Count(asPath) - Count(as4Path);
        if (keep < 0) return asPath;
        var merged = ImmutableArray.CreateBuilder<BgpAsPathSegment>();
        foreach (var s in asPath)
        {
            if (keep <= 0) break;
            if (s.Type == BgpAsPathSegmentType.AsSequence && s.Asns.Length > keep)
            {
                merged.Add(s with { Asns = s.Asns[..keep] });
                keep = 0;
                break;
            }
            merged.Add(s);
            keep -= s.Type == BgpAsPathSegmentType.AsSequence ? s.Asns.Length : s.Type == BgpAsPathSegmentType.AsSet ? 1 : 0;
        }
        merged.AddRange(as4Path);
        return merged.ToImmutable();
    }

    /// <summary>
    /// Writes UPDATE messages for <paramref name="withdrawn"/> and for <paramref name="nlri"/> reachable with
    /// <paramref name="attributes"/>, as many as it takes to keep each within 4,096 octets. AS numbers are 4 octets
    /// when <paramref name="fourOctetAs"/>; on a 2-octet session a larger one is written as AS_TRANS and the real path
    /// goes in AS4_PATH (RFC 6793 section 4.2.2). Attributes in <see cref="BgpPathAttributes.Other"/> that are
    /// optional and transitive go along with the Partial bit set (section 5, we did not interpret them); the others stay.
    /// </summary>
    public static List<byte[]> WriteUpdates(IReadOnlyList<Ipv4Prefix> withdrawn, BgpPathAttributes? attributes, IReadOnlyList<Ipv4Prefix> nlri, bool fourOctetAs)
    {
        var messages = new List<byte[]>();
        var room = MaxMessageLength - UpdateMinLength;
        // Withdrawals first, alone (they need no attributes).
        var w = 0;
        while (w < withdrawn.Count)
        {
            var batch = Take(withdrawn, ref w, room);
            messages.Add(Update(batch, [], []));
        }
        if (nlri.Count > 0)
        {
            ArgumentNullException.ThrowIfNull(attributes);
            var encoded = EncodeAttributes(attributes, fourOctetAs);
            var n = 0;
            while (n < nlri.Count)
            {
                var batch = Take(nlri, ref n, room - encoded.Length);
                messages.Add(Update([], encoded, batch));
            }
        }
        return messages;
    }

    /// <summary>The End-of-RIB marker for IPv4 unicast: an UPDATE with no withdrawn routes, attributes or NLRI (RFC 4724 section 2).</summary>
    public static byte[] EndOfRib() => Update([], [], []);

    private static List<Ipv4Prefix> Take(IReadOnlyList<Ipv4Prefix> prefixes, ref int from, int room)
    {
        var batch = new List<Ipv4Prefix>();
        var used = 0;
        while (from < prefixes.Count)
        {
            var size = 1 + (prefixes[from].Length + 7) / 8;
            if (used + size > room) break;
            used += size;
            batch.Add(prefixes[from++]);
        }
        return batch;
    }

    private static byte[] Update(List<Ipv4Prefix> withdrawn, byte[] attributes, List<Ipv4Prefix> nlri)
    {
        var wLength = withdrawn.Sum(p => 1 + (p.Length + 7) / 8);
        var nLength = nlri.Sum(p => 1 + (p.Length + 7) / 8);
        var m = Start(BgpMessageType.Update, UpdateMinLength + wLength + attributes.Length + nLength);
        var b = m.AsSpan(HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)wLength);
        var at = 2 + WritePrefixes(b[2..], withdrawn);
        BinaryPrimitives.WriteUInt16BigEndian(b[at..], (ushort)attributes.Length);
        attributes.CopyTo(b[(at + 2)..]);
        WritePrefixes(b[(at + 2 + attributes.Length)..], nlri);
        return m;
    }

    private static int WritePrefixes(Span<byte> b, List<Ipv4Prefix> prefixes)
    {
        var at = 0;
        Span<byte> address = stackalloc byte[4];
        foreach (var p in prefixes)
        {
            var octets = (p.Length + 7) / 8;
            b[at] = (byte)p.Length;
            p.Network.Write(address);
            address[..octets].CopyTo(b[(at + 1)..]);
            at += 1 + octets;
        }
        return at;
    }

    private static byte[] EncodeAttributes(BgpPathAttributes a, bool fourOctetAs)
    {
        var list = new List<byte>(64);
        void Add(byte flags, byte type, ReadOnlySpan<byte> value)
        {
            if (value.Length > 255) flags |= FlagExtendedLength;
            list.Add(flags);
            list.Add(type);
            if ((flags & FlagExtendedLength) != 0)
            {
                list.Add((byte)(value.Length >> 8));
                list.Add((byte)value.Length);
            }
            else list.Add((byte)value.Length);
            foreach (var v in value) list.Add(v);
        }
        Span<byte> four = stackalloc byte[4];
        Add(FlagTransitive, Origin, [(byte)a.Origin]);
        var needsAs4 = !fourOctetAs && a.AsPath.Any(s => s.Asns.Any(n => n > ushort.MaxValue));
        Add(FlagTransitive, AsPath, AsPathBytes(a.AsPath, fourOctetAs ? 4 : 2));
        a.NextHop.Write(four);
        Add(FlagTransitive, NextHop, four);
        if (a.MultiExitDisc is { } med)
        {
            BinaryPrimitives.WriteUInt32BigEndian(four, med);
            Add(FlagOptional, MultiExitDisc, four);
        }
        if (a.LocalPref is { } lp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(four, lp);
            Add(FlagTransitive, LocalPref, four);
        }
        if (a.AtomicAggregate) Add(FlagTransitive, AtomicAggregate, []);
        foreach (var o in a.Other)
        {
            if (o.TypeCode is As4Path) continue; // rebuilt below from the path itself
            if ((o.Flags & FlagOptional) != 0 && (o.Flags & FlagTransitive) != 0)
                Add((byte)((o.Flags | FlagPartial) & ~FlagExtendedLength), o.TypeCode, o.Value.AsSpan());
        }
        if (needsAs4) Add(FlagOptional | FlagTransitive, As4Path, AsPathBytes(a.AsPath, 4));
        return [.. list];
    }

    private static byte[] AsPathBytes(ImmutableArray<BgpAsPathSegment> path, int width)
    {
        var bytes = new List<byte>();
        foreach (var s in path)
        {
            for (var i = 0; i < s.Asns.Length; i += 255)
            {
                var count = Math.Min(255, s.Asns.Length - i);
                bytes.Add((byte)s.Type);
                bytes.Add((byte)count);
                for (var j = i; j < i + count; j++)
                {
                    var asn = s.Asns[j];
                    if (width == 4)
                    {
                        bytes.Add((byte)(asn >> 24));
                        bytes.Add((byte)(asn >> 16));
                    }
                    var two = width == 2 && asn > ushort.MaxValue ? BgpOpen.AsTrans : asn;
                    bytes.Add((byte)(two >> 8));
                    bytes.Add((byte)two);
                }
            }
        }
        return [.. bytes];
    }

    // ---------------------------------------------------------------------------------------------------------
    // KEEPALIVE, NOTIFICATION, ROUTE-REFRESH

    public static byte[] Keepalive() => Start(BgpMessageType.Keepalive, HeaderLength);

    public static byte[] Write(BgpNotification n)
    {
        var data = n.Error.Data ?? [];
        var length = Math.Min(MaxMessageLength, NotificationMinLength + data.Length);
        var m = Start(BgpMessageType.Notification, length);
        m[HeaderLength] = (byte)n.Error.Code;
        m[HeaderLength + 1] = n.Error.Subcode;
        data.AsSpan(0, length - NotificationMinLength).CopyTo(m.AsSpan(NotificationMinLength));
        return m;
    }

    public static byte[] Write(BgpRouteRefresh r)
    {
        var m = Start(BgpMessageType.RouteRefresh, HeaderLength + 4);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(HeaderLength), r.Afi);
        m[HeaderLength + 3] = r.Safi;
        return m;
    }

    private static byte[] Start(BgpMessageType type, int length)
    {
        var m = new byte[length];
        m.AsSpan(0, MarkerLength).Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(MarkerLength), (ushort)length);
        m[MarkerLength + 2] = (byte)type;
        return m;
    }

    private static byte[] LengthField(int length) => [(byte)(length >> 8), (byte)length];
}
