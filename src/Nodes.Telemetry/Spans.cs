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
        if (!ActivityContext.TryParse(traceparent, null, isRemote: true, out var parent)) return null;
        var a = NodesTelemetry.Source.StartActivity(name, kind, parent);
        if (a is null) return null;
        if (!a.IsAllDataRequested)
        {
            a.Dispose();
            return null;
        }
        a.SetTag(Attr.Node, node);
        return a;
    }

    /// <summary>A processing step inside <paramref name="parent"/> (NAT, ESP, fragmentation); null when the parent is.</summary>
    public static Activity? Child(Activity? parent, string node, string name)
    {
        if (parent is null) return null;
        var a = NodesTelemetry.Source.StartActivity(name, ActivityKind.Internal, parent.Context);
        a?.SetTag(Attr.Node, node);
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
            a.SetTag(Attr.Node, node);
            return a;
        }
        finally
        {
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
    /// Tags a span with what an IPv4 datagram says about itself: addresses, transport, ports, ICMP type, identifier and
    /// sequence. Header fields only, never the payload.
    /// </summary>
    public static void TagPacket(Activity? span, ReadOnlySpan<byte> datagram)
    {
        if (span is null || datagram.Length < 20 || datagram[0] >> 4 != 4) return;
        var ihl = (datagram[0] & 0x0f) * 4;
        if (ihl < 20 || datagram.Length < ihl) return;
        span.SetTag(Attr.NetworkType, "ipv4");
        span.SetTag(Attr.SourceAddress, Address(datagram[12..16]));
        span.SetTag(Attr.DestinationAddress, Address(datagram[16..20]));
        span.SetTag(Attr.IpTtl, (int)datagram[8]);
        var protocol = datagram[9];
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..8]) & 0x1fff;
        var payload = datagram[ihl..];
        switch (protocol)
        {
            case 17:
                span.SetTag(Attr.NetworkTransport, "udp");
                if (fragmentOffset == 0 && payload.Length >= 8)
                {
                    span.SetTag(Attr.SourcePort, (int)BinaryPrimitives.ReadUInt16BigEndian(payload));
                    span.SetTag(Attr.DestinationPort, (int)BinaryPrimitives.ReadUInt16BigEndian(payload[2..]));
                }
                break;
            case 1:
                span.SetTag(Attr.IpProtocol, "icmp");
                if (fragmentOffset == 0 && payload.Length >= 8)
                {
                    span.SetTag(Attr.IcmpType, (int)payload[0]);
                    if (payload[0] is 0 or 8)
                    {
                        span.SetTag(Attr.IcmpIdentifier, (int)BinaryPrimitives.ReadUInt16BigEndian(payload[4..]));
                        span.SetTag(Attr.IcmpSequence, (int)BinaryPrimitives.ReadUInt16BigEndian(payload[6..]));
                    }
                }
                break;
            case 50:
                span.SetTag(Attr.IpProtocol, "esp");
                break;
            default:
                span.SetTag(Attr.IpProtocol, protocol.ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string Address(ReadOnlySpan<byte> a) => string.Create(CultureInfo.InvariantCulture, $"{a[0]}.{a[1]}.{a[2]}.{a[3]}");
}
