using System.Globalization;
using System.Text;

namespace Nodes.Telemetry;

/// <summary>
/// Draws one trace as a ladder (a message sequence chart): one column per node in the order the journey first reaches
/// them, one arrow per hop, and beside each arrow what the sending node did ("ESP encap SPI 0x1a2b3c4d seq 1",
/// "NAT 192.168.29.52:4500 → 203.0.113.10:4500"). Works the same from spans recorded in process and spans read from an
/// OTLP JSON file.
/// </summary>
public static class Ladder
{
    /// <summary>One stop of the journey: consecutive spans of the same node.</summary>
    public sealed record Visit(string Node, IReadOnlyList<SpanRecord> Spans)
    {
        public string What => Describe(Spans);
    }

    /// <summary>The trace of the first ping: the earliest root span named <see cref="SpanNames.EchoRequest"/>.</summary>
    public static string? FirstJourney(IEnumerable<SpanRecord> spans) =>
        spans.Where(s => s.ParentSpanId is null && s.Name == SpanNames.EchoRequest).OrderBy(s => s.Start).FirstOrDefault()?.TraceId;

    /// <summary>The spans of a trace in causal order: each parent before its children, siblings by start time.</summary>
    public static IReadOnlyList<SpanRecord> Ordered(IEnumerable<SpanRecord> spans, string traceId)
    {
        var mine = spans.Where(s => s.TraceId == traceId).ToList();
        var ids = mine.Select(s => s.SpanId).ToHashSet();
        var children = mine.Where(s => s.ParentSpanId is not null && ids.Contains(s.ParentSpanId)).ToLookup(s => s.ParentSpanId!);
        var result = new List<SpanRecord>();
        var stack = new Stack<SpanRecord>(mine.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).OrderByDescending(s => s.Start));
        while (stack.Count > 0)
        {
            var s = stack.Pop();
            result.Add(s);
            foreach (var c in children[s.SpanId].OrderByDescending(c => c.Start)) stack.Push(c);
        }
        return result;
    }

    public static IReadOnlyList<Visit> Visits(IEnumerable<SpanRecord> spans, string traceId)
    {
        var visits = new List<Visit>();
        List<SpanRecord>? current = null;
        foreach (var s in Ordered(spans, traceId))
        {
            if (current is null || current[0].Service != s.Service)
            {
                current = [s];
                visits.Add(new Visit(s.Service, current));
            }
            else current.Add(s);
        }
        return visits;
    }

    public static string Draw(IEnumerable<SpanRecord> spans, string traceId)
    {
        var visits = Visits(spans, traceId);
        var nodes = visits.Select(v => v.Node).Distinct().ToList();
        var width = Math.Max(12, nodes.Max(n => n.Length) + 2);
        var o = new StringBuilder();
        o.Append("Trace ").Append(traceId).AppendLine();
        var header = new StringBuilder();
        foreach (var n in nodes) header.Append(Center(n, width));
        o.AppendLine(header.ToString().TrimEnd());
        for (var i = 0; i < visits.Count; i++)
        {
            var from = nodes.IndexOf(visits[i].Node);
            var to = i + 1 < visits.Count ? nodes.IndexOf(visits[i + 1].Node) : -1;
            o.Append(Row(nodes.Count, width, from, to)).Append("  ").Append(visits[i].What).AppendLine();
        }
        return o.ToString();
    }

    private static string Center(string s, int width)
    {
        var left = (width - s.Length) / 2;
        return new string(' ', left) + s + new string(' ', width - s.Length - left);
    }

    private static string Row(int columns, int width, int from, int to)
    {
        var row = new char[columns * width];
        Array.Fill(row, ' ');
        int Col(int i) => i * width + width / 2;
        for (var c = 0; c < columns; c++) row[Col(c)] = '│';
        if (to < 0 || to == from)
        {
            row[Col(from)] = '●';
            return new string(row);
        }
        var (a, b) = from < to ? (Col(from), Col(to)) : (Col(to), Col(from));
        for (var x = a + 1; x < b; x++) row[x] = '─';
        if (from < to) row[b - 1] = '▶';
        else row[a + 1] = '◀';
        return new string(row);
    }

    /// <summary>What a node did in one visit, from its spans' names and attributes.</summary>
    public static string Describe(IReadOnlyList<SpanRecord> spans)
    {
        var parts = new List<string>();
        foreach (var s in spans)
        {
            var text = s.Name switch
            {
                SpanNames.EchoRequest => $"echo request {s.Text(Attr.SourceAddress)} → {s.Text(Attr.DestinationAddress)} seq {s.Text(Attr.IcmpSequence)}",
                SpanNames.EchoReply => $"echo reply {s.Text(Attr.DestinationAddress)} → {s.Text(Attr.SourceAddress)}",
                SpanNames.EchoReplyReceived => $"echo reply received from {s.Text(Attr.SourceAddress)}",
                SpanNames.Nat => $"NAT {s.Text(Attr.NatOriginal)} → {s.Text(Attr.NatTranslated)}",
                SpanNames.EspEncap => $"ESP encap SPI {s.Text(Attr.EspSpi)} seq {s.Text(Attr.EspSequence)}",
                SpanNames.EspDecap => $"ESP decap SPI {s.Text(Attr.EspSpi)} seq {s.Text(Attr.EspSequence)}, replay {s.Text(Attr.EspReplay)}",
                SpanNames.Fragmentation => $"fragmented into {s.Text(Attr.FragmentCount)} (MTU {s.Text(Attr.Mtu)})",
                SpanNames.Forward when spans.Count == 1 || spans.All(x => x.Name == SpanNames.Forward) =>
                    $"route {s.Text(Attr.DestinationAddress)} via {s.Text(Attr.NextHop)} ({s.Text(Attr.EgressInterface)})",
                _ => null,
            };
            if (text is not null) parts.Add(text);
            foreach (var e in s.Events)
            {
                if (e.Name == "drop") parts.Add("DROPPED: " + (e.Attributes.FirstOrDefault(a => a.Key == Attr.DropReason).Value ?? "?"));
                else if (e.Name == "demand-dial") parts.Add("held: the packet dials the tunnel");
            }
        }
        if (spans.FirstOrDefault(s => s.Name == SpanNames.EchoRequest) is { } root && root.Text(Attr.PingRttMs) is { } rtt)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"(round trip {rtt} ms)"));
        return parts.Count == 0 ? string.Join(", ", spans.Select(s => s.Name).Distinct()) : string.Join("; ", parts);
    }
}
