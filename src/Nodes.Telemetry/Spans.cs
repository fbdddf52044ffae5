using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace Nodes.Telemetry;

/// <summary>
/// Spans for node actors. A frame's W3C traceparent is the parent of the span its receiver opens; the
/// receiver's span context goes into the frames it sends, so one packet's journey is one chain of spans across nodes.
/// <para>
/// Cost rules: with no listener on <see cref="NodesTelemetry.Source"/> nothing is parsed and nothing allocated; a
/// traceparent whose sampled flag is clear is passed on as it is, without parsing (Nodes continues a trace only where
/// its root was sampled, which is what the parent-based samplers decide anyway); only sampled hops pay for a span.
/// </para>
/// </summary>
public static class Spans
{
    /// <summary>Somebody listens to Nodes spans.</summary>
    public static bool Listening => NodesTelemetry.Source.HasListeners();

    /// <summary>True when <paramref name="traceparent"/> is a version-00 W3C traceparent with the sampled flag set (no parsing).</summary>
    public static bool IsSampled(string traceparent) =>
        traceparent.Length == 55 && traceparent[2] == '-' && (Hex(traceparent[54]) & 1) == 1;

    private static int Hex(char c) => c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : 0;

    /// <summary>
    /// Opens the span of one processing step, child of the frame's trace context, or returns null when nobody listens or
    /// the context is absent or unsampled. Dispose it before the handler returns.
    /// </summary>
    public static Activity? Continue(string node, string name, string traceparent, ActivityKind kind = ActivityKind.Internal)
    {
        if (!NodesTelemetry.Source.HasListeners() || !IsSampled(traceparent)) return null;
        if (!TryParseSampled(traceparent, out var parent)) return null;
        var a = NodesTelemetry.Source.StartActivity(name, kind, parent);
        if (a is null) return null;
        if (!a.IsAllDataRequested)
        {
            a.Dispose();
            return null;
        }
        a.AddTag(Attr.Node, node);
        return a;
    }

    // Trace ids of journeys under way, by their first three hex digits (random, so they spread). An ActivityTraceId is
    // one reference to its hex text, so a slot is written and read whole.
    private static readonly ActivityTraceId[] TraceIds = new ActivityTraceId[4096];

    /// <summary>
    /// The context in a version-00 W3C traceparent, read as <see cref="ActivityContext.TryParse(string, string, bool, out ActivityContext)"/>
    /// reads it (remote), but stricter (lowercase hex, '-' separators, non-zero ids). Every hop of a journey carries
    /// the same trace id, so the parsed id is kept in a small direct-mapped table and shared by the journey's spans
    /// instead of each hop allocating its own copy; only the parent span id is new per hop.
    /// </summary>
    public static bool TryParseSampled(string traceparent, out ActivityContext context)
    {
        context = default;
        var text = traceparent.AsSpan();
        if (text.Length != 55 || text[0] != '0' || text[1] != '0' || text[2] != '-' || text[35] != '-' || text[52] != '-') return false;
        var traceHex = text.Slice(3, 32);
        var spanHex = text.Slice(36, 16);
        if (!IsLowerHex(traceHex) || !IsLowerHex(spanHex) || !IsLowerHex(text.Slice(53, 2))) return false;
        if (!traceHex.ContainsAnyExcept('0') || !spanHex.ContainsAnyExcept('0')) return false;
        var slot = Hex(traceHex[0]) << 8 | Hex(traceHex[1]) << 4 | Hex(traceHex[2]);
        var traceId = TraceIds[slot];
        if (traceId == default || !traceId.ToHexString().AsSpan().SequenceEqual(traceHex))
        {
            traceId = ActivityTraceId.CreateFromString(traceHex);
            TraceIds[slot] = traceId;
        }
        var flags = (ActivityTraceFlags)(Hex(text[53]) << 4 | Hex(text[54]));
        context = new ActivityContext(traceId, ActivitySpanId.CreateFromString(spanHex), flags, traceState: null, isRemote: true);
        return true;
    }

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    private static bool IsLowerHex(ReadOnlySpan<char> text) => !text.ContainsAnyExcept(LowerHex);

    /// <summary>A processing step inside <paramref name="parent"/> (NAT, ESP, fragmentation); null when the parent is.</summary>
    public static Activity? Child(Activity? parent, string node, string name)
    {
        if (parent is null) return null;
        var a = NodesTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent.Context);
        a?.AddTag(Attr.Node, node);
        return a;
    }

    /// <summary>
    /// Opens a span that starts a new trace (a ping's echo request, an IKE negotiation) regardless of what is current on
    /// this thread, and leaves the thread's current activity as it was: such spans outlive the message that opened them.
    /// </summary>
    public static Activity? StartRoot(string node, string name, ActivityKind kind = ActivityKind.Internal, ActivityContext parent = default,
        IEnumerable<ActivityLink>? links = null, DateTimeOffset startTime = default)
    {
        if (!NodesTelemetry.Source.HasListeners()) return null;
        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            var a = NodesTelemetry.Source.StartActivity(name, kind, parent, tags: null, links: links, startTime: startTime);
            if (a is null) return null;
            if (a.IsAllDataRequested) a.AddTag(Attr.Node, node);
            return a;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>
    /// Like <see cref="StartRoot"/> for the root of a packet's journey, but returns null unless the sampler records it. With
    /// the lab's <paramref name="roots"/> the decision is taken before any span exists, so an unsampled journey costs one
    /// sampler call and no <see cref="Activity"/>; its frames carry no trace context (no hop would continue an unsampled
    /// one anyway).
    /// </summary>
    public static Activity? StartRecordedRoot(string node, string name, ActivityKind kind, RootSampler? roots = null)
    {
        if (!NodesTelemetry.Source.HasListeners()) return null;
        if (roots is not null && !roots.Decide(name, kind)) return null;
        // Created as a root whatever is current on this thread; Start makes it current, so that is restored after.
        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            var a = NodesTelemetry.Source.CreateActivity(name, kind, default(ActivityContext));
            if (a is null || !a.Recorded) return null;
            a.AddTag(Attr.Node, node);
            a.Start();
            return a;
        }
        finally
        {
            RootSampler.Clear();
            Activity.Current = previous;
        }
    }

    /// <summary>Ends a span opened by <see cref="StartRoot"/> without disturbing the thread's current activity.</summary>
    public static void StopDetached(Activity? a, DateTimeOffset? end = null)
    {
        if (a is null) return;
        var previous = Activity.Current;
        if (end is { } e) a.SetEndTime(e.UtcDateTime);
        a.Stop();
        Activity.Current = previous;
    }

    /// <summary>The traceparent to put into frames sent from within <paramref name="span"/>; <paramref name="incoming"/> when there is no span.</summary>
    public static string Context(Activity? span, string incoming) => span is null ? incoming : span.Id ?? incoming;

    /// <summary>The W3C traceparent of a span context (sampled flag as recorded).</summary>
    public static string Traceparent(ActivityContext c) =>
        c == default ? "" : $"00-{c.TraceId.ToHexString()}-{c.SpanId.ToHexString()}-{((c.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    /// <summary>The trace id in a traceparent, or null.</summary>
    public static string? TraceId(string traceparent) => traceparent.Length == 55 && traceparent[2] == '-' ? traceparent.Substring(3, 32) : null;

    /// <summary>Marks a span failed with <paramref name="reason"/> and records a "drop" event naming it.</summary>
    public static void Dropped(Activity? span, string reason, string? detail = null)
    {
        if (span is null) return;
        span.SetStatus(ActivityStatusCode.Error, reason);
        span.SetTag(Attr.ErrorType, reason);
        var tags = new ActivityTagsCollection { [Attr.DropReason] = reason };
        if (detail is not null) tags["nodes.drop.detail"] = detail;
        span.AddEvent(new ActivityEvent("drop", tags: tags));
    }

    /// <summary>Formats an SPI as engineers read it in logs and Wireshark: 0x1a2b3c4d.</summary>
    public static string Spi(uint spi) => "0x" + spi.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Formats an IKE SPI: 16 hex digits.</summary>
    public static string IkeSpi(ulong spi) => spi.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Tags an ESP span with the protected packet's addresses only: the hop span around it (encapsulation) or after it
    /// (decapsulation) carries the rest of that packet's header, and a span's attributes are its cost.
    /// </summary>
    public static void TagInnerAddresses(Activity? span, ReadOnlySpan<byte> datagram)
    {
        if (span is null || datagram.Length < 20 || datagram[0] >> 4 != 4) return;
        span.AddTag(Attr.SourceAddress, TagValues.Address(datagram[12..16]));
        span.AddTag(Attr.DestinationAddress, TagValues.Address(datagram[16..20]));
    }

    /// <summary>
    /// Tags a span with what an IPv4 datagram says about itself: addresses, transport, ports, ICMP type, identifier and
    /// sequence. Header fields only, never the payload. Call it once per span (it adds, it does not replace); the values
    /// come from <see cref="TagValues"/>, so a traced hop allocates no string or box for them.
    /// </summary>
    // "SYN,ACK" and the like, one string per combination of the six classic flags (RFC 9293 §3.1), made once.
    private static readonly string[] FlagTexts = [.. Enumerable.Range(0, 64).Select(f => string.Join(',',
        new[] { (0x02, "SYN"), (0x10, "ACK"), (0x08, "PSH"), (0x01, "FIN"), (0x04, "RST"), (0x20, "URG") }.Where(b => (f & b.Item1) != 0).Select(b => b.Item2)))];

    private static string TcpFlagText(byte flags) => FlagTexts[flags & 0x3f];

    // The BGP message types (RFC 4271 §4.1), by type code.
    private static readonly string[] BgpTypes = ["?", "OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE", "ROUTE-REFRESH"];

    /// <summary>
    /// Starts and ends the root span of a TCP segment a node sends of its own accord (a host's data or handshake, a
    /// gateway's BGP message) when the lab's sampler records it, and returns the trace context the segment carries
    /// hop by hop (empty when nothing is recorded). A segment with data to or from port 179 is named
    /// <see cref="SpanNames.BgpMessage"/> and says which BGP messages it carries, by their headers only.
    /// </summary>
    public static string OriginateTcp(string node, ReadOnlySpan<byte> datagram, RootSampler? roots)
    {
        if (!NodesTelemetry.Source.HasListeners() || datagram.Length < 40 || datagram[9] != 6) return "";
        var ihl = (datagram[0] & 0x0f) * 4;
        if (datagram.Length < ihl + 20) return "";
        var tcp = datagram[ihl..];
        var offset = (tcp[12] >> 4) * 4;
        var bgp = (BinaryPrimitives.ReadUInt16BigEndian(tcp) == 179 || BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]) == 179)
            && offset >= 20 && BinaryPrimitives.ReadUInt16BigEndian(datagram[2..4]) > ihl + offset;
        var span = StartRecordedRoot(node, bgp ? SpanNames.BgpMessage : SpanNames.TcpSegment, ActivityKind.Producer, roots);
        if (span is null) return "";
        span.AddTag(Attr.NetworkType, "ipv4");
        TagPacket(span, datagram);
        if (bgp && tcp.Length > offset)
        {
            var types = new List<string>();
            var messages = tcp[offset..];
            while (messages.Length >= 19)
            {
                var length = BinaryPrimitives.ReadUInt16BigEndian(messages[16..]);
                types.Add(messages[18] < BgpTypes.Length ? BgpTypes[messages[18]] : messages[18].ToString(CultureInfo.InvariantCulture));
                if (length < 19 || length > messages.Length) break;
                messages = messages[length..];
            }
            if (types.Count > 0) span.AddTag(Attr.BgpMessageTypes, string.Join(", ", types));
        }
        var context = span.Id ?? "";
        StopDetached(span);
        return context;
    }

    public static void TagPacket(Activity? span, ReadOnlySpan<byte> datagram)
    {
        if (span is null || datagram.Length < 20 || datagram[0] >> 4 != 4) return;
        var ihl = (datagram[0] & 0x0f) * 4;
        if (ihl < 20 || datagram.Length < ihl) return;
        span.AddTag(Attr.SourceAddress, TagValues.Address(datagram[12..16]));
        span.AddTag(Attr.DestinationAddress, TagValues.Address(datagram[16..20]));
        span.AddTag(Attr.IpTtl, TagValues.Int(datagram[8]));
        var protocol = datagram[9];
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..8]) & 0x1fff;
        var payload = datagram[ihl..];
        switch (protocol)
        {
            case 17:
                span.AddTag(Attr.NetworkTransport, "udp");
                if (fragmentOffset == 0 && payload.Length >= 8)
                {
                    span.AddTag(Attr.SourcePort, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload)));
                    span.AddTag(Attr.DestinationPort, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload[2..])));
                }
                break;
            case 1:
                span.AddTag(Attr.IpProtocol, "icmp");
                if (fragmentOffset == 0 && payload.Length >= 8)
                {
                    span.AddTag(Attr.IcmpType, TagValues.Int(payload[0]));
                    if (payload[0] is 0 or 8)
                    {
                        span.AddTag(Attr.IcmpIdentifier, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload[4..])));
                        span.AddTag(Attr.IcmpSequence, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload[6..])));
                    }
                }
                break;
            case 6:
                span.AddTag(Attr.NetworkTransport, "tcp");
                if (fragmentOffset == 0 && payload.Length >= 20)
                {
                    span.AddTag(Attr.SourcePort, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload)));
                    span.AddTag(Attr.DestinationPort, TagValues.Int(BinaryPrimitives.ReadUInt16BigEndian(payload[2..])));
                    span.AddTag(Attr.TcpFlags, TcpFlagText(payload[13]));
                    span.AddTag(Attr.TcpSequence, (long)BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
                    span.AddTag(Attr.TcpAcknowledgement, (long)BinaryPrimitives.ReadUInt32BigEndian(payload[8..]));
                    var offset = (payload[12] >> 4) * 4;
                    var total = Math.Min(payload.Length, BinaryPrimitives.ReadUInt16BigEndian(datagram[2..4]) - ihl);
                    if (offset >= 20 && total >= offset) span.AddTag(Attr.TcpLength, TagValues.Int(total - offset));
                }
                break;
            case 50:
                span.AddTag(Attr.IpProtocol, "esp");
                break;
            default:
                span.AddTag(Attr.IpProtocol, protocol.ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

}
