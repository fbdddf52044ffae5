using System.Collections.Concurrent;
using System.Diagnostics;

namespace Nodes.Telemetry;

/// <summary>A span event; attribute values are string, long, double or bool, as OTLP carries them.</summary>
public sealed record SpanEventRecord(string Name, DateTimeOffset Time, IReadOnlyList<KeyValuePair<string, object>> Attributes);

/// <summary>A link to another span.</summary>
public sealed record SpanLinkRecord(string TraceId, string SpanId);

/// <summary>
/// One finished span as Nodes keeps it for the terminal ladder and the trace file: the service (node) it belongs to and
/// what OTLP would carry. Built from an <see cref="Activity"/> in process or read back from OTLP JSON.
/// </summary>
public sealed record SpanRecord(
    string Service,
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    ActivityKind Kind,
    DateTimeOffset Start,
    DateTimeOffset End,
    ActivityStatusCode Status,
    string? StatusDescription,
    IReadOnlyList<KeyValuePair<string, object>> Attributes,
    IReadOnlyList<SpanEventRecord> Events,
    IReadOnlyList<SpanLinkRecord> Links)
{
    public object? this[string key] => Attributes.FirstOrDefault(a => a.Key == key).Value;

    public string? Text(string key) => this[key] is { } v ? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    public static SpanRecord From(Activity a, string service) => new(
        service,
        a.TraceId.ToHexString(),
        a.SpanId.ToHexString(),
        a.ParentSpanId == default ? null : a.ParentSpanId.ToHexString(),
        a.DisplayName,
        a.Kind,
        new DateTimeOffset(a.StartTimeUtc, TimeSpan.Zero),
        new DateTimeOffset(a.StartTimeUtc + a.Duration, TimeSpan.Zero),
        a.Status,
        a.StatusDescription,
        a.TagObjects.Where(t => t.Value is not null).Select(t => new KeyValuePair<string, object>(t.Key, Normalize(t.Value!))).ToArray(),
        a.Events.Select(e => new SpanEventRecord(e.Name, e.Timestamp, e.Tags.Where(t => t.Value is not null).Select(t => new KeyValuePair<string, object>(t.Key, Normalize(t.Value!))).ToArray())).ToArray(),
        a.Links.Select(l => new SpanLinkRecord(l.Context.TraceId.ToHexString(), l.Context.SpanId.ToHexString())).ToArray());

    private static object Normalize(object v) => v switch
    {
        string or bool or long or double => v,
        int i => (long)i,
        uint u => (long)u,
        ushort s => (long)s,
        byte b => (long)b,
        ulong ul => (long)ul,
        float f => (double)f,
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>
/// Keeps finished spans in memory for the ladder and the trace file, up to a limit (a long flood would otherwise fill
/// memory): beyond it, spans are counted, not kept.
/// </summary>
public sealed class SpanCollector(int limit = 200_000)
{
    private readonly ConcurrentQueue<SpanRecord> _spans = new();
    private int _count;
    private long _skipped;

    public void Add(Activity a, string service)
    {
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Increment(ref _skipped);
            return;
        }
        _spans.Enqueue(SpanRecord.From(a, service));
    }

    public void Add(SpanRecord r)
    {
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Increment(ref _skipped);
            return;
        }
        _spans.Enqueue(r);
    }

    public IReadOnlyList<SpanRecord> Spans => _spans.ToArray();

    public long Skipped => Interlocked.Read(ref _skipped);
}
