using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nodes.Telemetry;

/// <summary>
/// Spans as OTLP JSON (the protobuf-JSON mapping of <c>ExportTraceServiceRequest</c>: <c>{"resourceSpans": [...]}</c>,
/// one resource per service, hex trace and span ids, times as decimal nanosecond strings). This is the trace file of
/// <c>nodes run --trace-file</c>; the reader also takes what the Aspire dashboard's <c>/api/telemetry/traces</c> returns
/// (the same object under <c>"data"</c>).
/// </summary>
public static class OtlpJson
{
    public static string Write(IEnumerable<SpanRecord> spans, IReadOnlyDictionary<string, string>? resourceAttributes = null)
    {
        var resourceSpans = new JsonArray();
        foreach (var service in spans.GroupBy(s => s.Service).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var attributes = new JsonArray { Kv("service.name", service.Key) };
            if (resourceAttributes is not null)
                foreach (var (k, v) in resourceAttributes) attributes.Add(Kv(k, v));
            var spanArray = new JsonArray();
            foreach (var s in service.OrderBy(s => s.Start))
            {
                var o = new JsonObject
                {
                    ["traceId"] = s.TraceId,
                    ["spanId"] = s.SpanId,
                };
                if (s.ParentSpanId is not null) o["parentSpanId"] = s.ParentSpanId;
                o["name"] = s.Name;
                o["kind"] = (int)s.Kind + 1;
                o["startTimeUnixNano"] = Nanos(s.Start);
                o["endTimeUnixNano"] = Nanos(s.End);
                o["attributes"] = Attributes(s.Attributes);
                if (s.Events.Count > 0)
                    o["events"] = new JsonArray(s.Events.Select(e => (JsonNode)new JsonObject
                    {
                        ["timeUnixNano"] = Nanos(e.Time),
                        ["name"] = e.Name,
                        ["attributes"] = Attributes(e.Attributes),
                    }).ToArray());
                if (s.Links.Count > 0)
                    o["links"] = new JsonArray(s.Links.Select(l => (JsonNode)new JsonObject { ["traceId"] = l.TraceId, ["spanId"] = l.SpanId }).ToArray());
                var status = new JsonObject { ["code"] = s.Status switch { ActivityStatusCode.Ok => 1, ActivityStatusCode.Error => 2, _ => 0 } };
                if (s.StatusDescription is not null) status["message"] = s.StatusDescription;
                o["status"] = status;
                spanArray.Add(o);
            }
            resourceSpans.Add(new JsonObject
            {
                ["resource"] = new JsonObject { ["attributes"] = attributes },
                ["scopeSpans"] = new JsonArray(new JsonObject
                {
                    ["scope"] = new JsonObject { ["name"] = NodesTelemetry.Name },
                    ["spans"] = spanArray,
                }),
            });
        }
        return new JsonObject { ["resourceSpans"] = resourceSpans }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static IReadOnlyList<SpanRecord> Read(string json)
    {
        var root = JsonNode.Parse(json) ?? throw new FormatException("empty trace file");
        var rs = root["resourceSpans"] ?? root["data"]?["resourceSpans"] ?? throw new FormatException("no resourceSpans: not an OTLP JSON trace file");
        var result = new List<SpanRecord>();
        foreach (var r in rs.AsArray())
        {
            var resource = ReadAttributes(r?["resource"]?["attributes"]);
            var service = resource.FirstOrDefault(a => a.Key == "service.name").Value as string ?? "unknown";
            foreach (var scope in r?["scopeSpans"]?.AsArray() ?? [])
            {
                foreach (var s in scope?["spans"]?.AsArray() ?? [])
                {
                    if (s is null) continue;
                    var parent = (string?)s["parentSpanId"];
                    var status = s["status"];
                    var code = status?["code"] is { } c ? ReadStatus(c) : ActivityStatusCode.Unset;
                    result.Add(new SpanRecord(
                        service,
                        Id((string?)s["traceId"]),
                        Id((string?)s["spanId"]),
                        string.IsNullOrEmpty(parent) ? null : Id(parent),
                        (string?)s["name"] ?? "",
                        s["kind"] is { } k ? ReadKind(k) : ActivityKind.Internal,
                        Time(s["startTimeUnixNano"]),
                        Time(s["endTimeUnixNano"]),
                        code,
                        (string?)status?["message"],
                        ReadAttributes(s["attributes"]),
                        (s["events"]?.AsArray() ?? []).Where(e => e is not null).Select(e => new SpanEventRecord((string?)e!["name"] ?? "", Time(e["timeUnixNano"]), ReadAttributes(e["attributes"]))).ToArray(),
                        (s["links"]?.AsArray() ?? []).Where(l => l is not null).Select(l => new SpanLinkRecord(Id((string?)l!["traceId"]), Id((string?)l["spanId"]))).ToArray()));
                }
            }
        }
        return result;
    }

    private static JsonObject Kv(string key, object value) => new() { ["key"] = key, ["value"] = Value(value) };

    private static JsonArray Attributes(IEnumerable<KeyValuePair<string, object>> attributes) =>
        new(attributes.Select(a => (JsonNode)Kv(a.Key, a.Value)).ToArray());

    private static JsonObject Value(object v) => v switch
    {
        bool b => new JsonObject { ["boolValue"] = b },
        long l => new JsonObject { ["intValue"] = l.ToString(CultureInfo.InvariantCulture) },
        int i => new JsonObject { ["intValue"] = i.ToString(CultureInfo.InvariantCulture) },
        double d => new JsonObject { ["doubleValue"] = d },
        _ => new JsonObject { ["stringValue"] = Convert.ToString(v, CultureInfo.InvariantCulture) },
    };

    private static List<KeyValuePair<string, object>> ReadAttributes(JsonNode? node)
    {
        var list = new List<KeyValuePair<string, object>>();
        foreach (var a in node?.AsArray() ?? [])
        {
            var key = (string?)a?["key"];
            var v = a?["value"];
            if (key is null || v is null) continue;
            object? value = null;
            if (v["stringValue"] is { } sv) value = (string?)sv;
            else if (v["intValue"] is { } iv) value = iv.GetValueKind() == JsonValueKind.String ? long.Parse((string)iv!, CultureInfo.InvariantCulture) : (long)iv;
            else if (v["doubleValue"] is { } dv) value = (double)dv;
            else if (v["boolValue"] is { } bv) value = (bool)bv;
            if (value is not null) list.Add(new(key, value));
        }
        return list;
    }

    private static string Nanos(DateTimeOffset t) =>
        ((t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100).ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(JsonNode? n)
    {
        if (n is null) return DateTimeOffset.UnixEpoch;
        var nanos = n.GetValueKind() == JsonValueKind.String ? long.Parse((string)n!, CultureInfo.InvariantCulture) : (long)n;
        return DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
    }

    // OTLP JSON says hex; some writers emit base64 (the protobuf default for bytes): accept both.
    private static string Id(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "";
        if ((id.Length == 32 || id.Length == 16) && id.All(Uri.IsHexDigit)) return id.ToLowerInvariant();
        try
        {
            return Convert.ToHexStringLower(Convert.FromBase64String(id));
        }
        catch (FormatException)
        {
            return id;
        }
    }

    private static ActivityKind ReadKind(JsonNode k)
    {
        if (k.GetValueKind() == JsonValueKind.Number) return (ActivityKind)Math.Max(0, (int)k - 1);
        return (string?)k switch
        {
            "SPAN_KIND_SERVER" => ActivityKind.Server,
            "SPAN_KIND_CLIENT" => ActivityKind.Client,
            "SPAN_KIND_PRODUCER" => ActivityKind.Producer,
            "SPAN_KIND_CONSUMER" => ActivityKind.Consumer,
            _ => ActivityKind.Internal,
        };
    }

    private static ActivityStatusCode ReadStatus(JsonNode c)
    {
        if (c.GetValueKind() == JsonValueKind.Number) return (int)c switch { 1 => ActivityStatusCode.Ok, 2 => ActivityStatusCode.Error, _ => ActivityStatusCode.Unset };
        return (string?)c switch { "STATUS_CODE_OK" => ActivityStatusCode.Ok, "STATUS_CODE_ERROR" => ActivityStatusCode.Error, _ => ActivityStatusCode.Unset };
    }
}
