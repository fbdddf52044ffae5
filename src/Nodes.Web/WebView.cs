using System.Net;
using System.Reflection;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nodes.Capture;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Web;

/// <summary>
/// The lab's web view (<c>nodes run FILE --web [PORT]</c>): an HTTP server on 127.0.0.1 that serves the page (shipped
/// inside this assembly), the topology, one server-sent-event stream of hops, events and status, each frame decoded
/// and decrypted, the IKE exchanges, live faults, and each link as a live pcapng stream with the key files beside it.
/// </summary>
public sealed class WebView : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stop = new();
    private RunningLab? _running;
    private string _lastStatus = "";
    private object? _status;

    private WebView(WebApplication app, LabRecorder recorder, string address)
    {
        _app = app;
        Recorder = recorder;
        Address = address;
    }

    /// <summary>The page's address, http://127.0.0.1:PORT/.</summary>
    public string Address { get; }

    public LabRecorder Recorder { get; }

    /// <summary>Starts the server on 127.0.0.1:<paramref name="port"/> (0: a free port) for the lab of <paramref name="lab"/>.</summary>
    public static async Task<WebView> StartAsync(TopologySpec lab, int port, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var recorder = new LabRecorder(lab, DateTimeOffset.UtcNow);
        WebView? view = null;
        Map(app, recorder, () => view!);
        await app.StartAsync(cancel);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        view = new WebView(app, recorder, address.TrimEnd('/') + "/");
        return view;
    }

    /// <summary><paramref name="options"/> with the view's taps added (frames, keys, events, faults, the running lab).</summary>
    public RunOptions Observe(RunOptions options)
    {
        var (onEvent, onFault, onStarted) = Taps(options.OnEvent, options.OnFault, options.OnStarted);
        return options with { Tap = Recorder, OnEvent = onEvent, OnFault = onFault, OnStarted = onStarted };
    }

    /// <summary>
    /// <paramref name="options"/> with the view's taps added for a lab spread over cluster members: the members'
    /// capture feeds stream their links' frames and keys to this process; events, faults and status come as they do
    /// to the driver.
    /// </summary>
    public DriverOptions Observe(DriverOptions options)
    {
        var (onEvent, onFault, onStarted) = Taps(options.OnEvent, options.OnFault, options.OnStarted);
        return options with { Tap = Recorder, OnEvent = onEvent, OnFault = onFault, OnStarted = onStarted };
    }

    /// <summary>The run's own callbacks, each followed by the recorder's; the running lab starts the status poll.</summary>
    private (Action<NodeEvent>, Action<FaultApplied>, Action<RunningLab>) Taps(Action<NodeEvent>? onEvent, Action<FaultApplied>? onFault, Action<RunningLab>? onStarted) =>
    (
        e =>
        {
            onEvent?.Invoke(e);
            Recorder.Event(e);
        },
        f =>
        {
            onFault?.Invoke(f);
            Recorder.Fault(f);
        },
        lab =>
        {
            onStarted?.Invoke(lab);
            _running = lab;
            _ = PollStatusAsync(lab, _stop.Token);
        });

    /// <summary>Asks every node and link for its status twice a second and tells the pages when it changed.</summary>
    private async Task PollStatusAsync(RunningLab lab, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                var nodes = new Dictionary<string, object>(StringComparer.Ordinal);
                foreach (var (name, actor) in lab.Nodes)
                {
                    var s = await actor.Ask<NodeStatus>(new QueryStatus { Requester = "web" }, TimeSpan.FromSeconds(2), cancel);
                    nodes[name] = new
                    {
                        tunnels = s.Tunnels.Select(t => new
                        {
                            t.Name, t.State, t.IkeState, t.NatDetected, t.LocalEndpoint, t.RemoteEndpoint, t.Initiator, t.Suite,
                            ike = $"{t.InitiatorSpi:x16}/{t.ResponderSpi:x16}",
                            children = t.ChildSas.Select(c => new { inbound = $"0x{c.InboundSpi:x8}", outbound = $"0x{c.OutboundSpi:x8}", c.PacketsIn, c.PacketsOut }).ToArray(),
                            failures = t.Failures.ToArray(),
                        }).ToArray(),
                        drops = s.Drops.ToDictionary(d => d.Reason, d => d.Count),
                        s.FramesIn, s.FramesOut,
                    };
                }
                var links = new Dictionary<string, object>(StringComparer.Ordinal);
                foreach (var (name, actor) in lab.Links)
                {
                    var s = await actor.Ask<NodeStatus>(new QueryStatus { Requester = "web" }, TimeSpan.FromSeconds(2), cancel);
                    links[name] = new { state = s.LinkState, drops = s.Drops.ToDictionary(d => d.Reason, d => d.Count), s.FramesIn };
                }
                var status = new { type = "status", nodes, links };
                var text = JsonSerializer.Serialize(status, Json);
                if (text != _lastStatus)
                {
                    _lastStatus = text;
                    _status = status;
                    Recorder.Publish(status);
                }
            }
            catch (Exception e) when (e is AskTimeoutException or OperationCanceledException or ObjectDisposedException)
            {
                // The lab is stopping, or a node is busy restarting: the next round asks again.
            }
            try { await Task.Delay(TimeSpan.FromMilliseconds(500), cancel); }
            catch (OperationCanceledException) { return; }
        }
    }

    private static void Map(WebApplication app, LabRecorder recorder, Func<WebView> view)
    {
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/{file}", (string file) => Asset(file));
        app.MapGet("/api/topology", () => Results.Json(TopologyJson.Of(recorder.Lab), Json));
        app.MapGet("/api/faults", () => Results.Json(FaultCatalog.All.Select(f => new
        {
            f.Name, target = f.Target.ToString(), targetText = FaultCatalog.TargetText(f.Target), f.Summary,
            parameters = f.Parameters.Select(p => new { p.Name, type = p.Type.ToString(), p.Description, p.Default, choices = p.Choices.IsDefault ? [] : p.Choices.ToArray() }),
        }), Json));
        app.MapGet("/api/stream", async (HttpContext http) =>
        {
            http.Response.Headers.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            using var sub = recorder.Subscribe(view()._status);
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, view()._stop.Token).Token;
            try
            {
                await http.Response.WriteAsync(": nodes\n\n", cancel);
                await http.Response.Body.FlushAsync(cancel);
                while (await sub.Reader.WaitToReadAsync(cancel))
                {
                    while (sub.Reader.TryRead(out var item))
                    {
                        var (kind, data) = item switch
                        {
                            Hop h => ("hop", JsonSerializer.Serialize(h, Json)),
                            LabEvent e => ("event", JsonSerializer.Serialize(e, Json)),
                            LabRecorder.CaughtUp => ("ready", "{}"),
                            _ => ("status", JsonSerializer.Serialize(item, Json)),
                        };
                        await http.Response.WriteAsync($"event: {kind}\ndata: {data}\n\n", cancel);
                    }
                    await http.Response.Body.FlushAsync(cancel);
                }
            }
            catch (OperationCanceledException)
            {
                // The page went away, or the run ended.
            }
        });
        app.MapGet("/api/hop/{id:long}", (long id) =>
        {
            if (recorder.FindHop(id) is not { } hop) return Results.NotFound(new { error = $"no hop {id}" });
            return Results.Json(new { hop, decoded = FrameDecoder.Decode(hop.Bytes, recorder), did = Explainer.Explain(recorder, hop) }, Json);
        });
        app.MapGet("/api/ike", () => Results.Json(IkeChart.Of(recorder), Json));
        app.MapPost("/api/fault", async (HttpContext http) =>
        {
            FaultRequest? request;
            try { request = await http.Request.ReadFromJsonAsync<FaultRequest>(Json, http.RequestAborted); }
            catch (JsonException e) { return Results.BadRequest(new { error = $"the request is not a fault as JSON: {e.Message}" }); }
            if (request is null || string.IsNullOrWhiteSpace(request.Fault)) return Results.BadRequest(new { error = "name a fault" });
            var parameters = (request.Params ?? []).Where(p => !string.IsNullOrWhiteSpace(p.Value)).ToDictionary(p => p.Key, p => p.Value.Trim(), StringComparer.Ordinal);
            var problems = LiveFaults.Check(request.Fault, Blank(request.Node), Blank(request.Link), parameters);
            if (problems.Count > 0) return Results.BadRequest(new { error = string.Join("; ", problems.Select(p => $"{p.Problem} ({p.Hint})")) });
            if (view()._running is not { } lab) return Results.Json(new { error = "the lab is not running yet" }, Json, statusCode: 503);
            var answers = await lab.InjectAsync(request.Fault, Blank(request.Node), Blank(request.Link), parameters, TimeSpan.FromSeconds(5));
            if (answers.Count == 0) return Results.Json(new { error = "no node or link of the lab took the fault: check the node or link name" }, Json, statusCode: 404);
            return Results.Json(new { answers = answers.Select(a => new { a.Target, a.Ok, a.Detail }) }, Json);
        });
        app.MapGet("/capture/{file}", async (HttpContext http, string file) =>
        {
            if (file == "esp_sa") return Results.Text(recorder.EspSaFile(), "text/plain");
            if (file == "ikev2_decryption_table") return Results.Text(recorder.IkeFile(), "text/plain");
            if (file == "preferences") return Results.Text(WiresharkKeys.PreferencesFile, "text/plain");
            if (!file.EndsWith(".pcapng", StringComparison.Ordinal) || recorder.Lab.Links.All(l => SafeName(l.Name) != file[..^7]))
                return Results.NotFound(new { error = $"no link '{file}': links are {string.Join(", ", recorder.Lab.Links.Select(l => SafeName(l.Name) + ".pcapng"))}" });
            var link = recorder.Lab.Links.First(l => SafeName(l.Name) == file[..^7]).Name;
            await StreamCaptureAsync(http, recorder, link, view()._stop.Token);
            return Results.Empty;
        });
        app.MapGet("/capture", () => Results.Json(recorder.Lab.Links.Select(l => new { link = l.Name, url = $"/capture/{SafeName(l.Name)}.pcapng" }), Json));
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    public static string SafeName(string link) => string.Concat(link.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    /// <summary>
    /// Writes one link as a pcapng stream: the section and interface headers, every frame recorded so far, then each
    /// frame as the link carries it, until the client goes or the run ends (what <c>wireshark -k -i -</c> reads).
    /// </summary>
    internal static async Task StreamCaptureAsync(HttpContext http, LabRecorder recorder, string link, CancellationToken stop)
    {
        http.Response.ContentType = "application/x-pcapng";
        using var buffer = new MemoryStream();
        using var writer = new PcapngWriter(buffer, "Nodes web view", ownsStream: false);
        writer.AddInterface(link, $"Nodes link {link}");
        using var sub = recorder.SubscribeCapture(link);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stop).Token;
        try
        {
            await FlushAsync();
            while (await sub.Reader.WaitToReadAsync(cancel))
            {
                while (sub.Reader.TryRead(out var frame)) writer.WritePacket(0, frame.At, frame.Bytes);
                await FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // The reader went away, or the run ended.
        }

        async Task FlushAsync()
        {
            await http.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancel);
            await http.Response.Body.FlushAsync(cancel);
            buffer.SetLength(0);
        }
    }

    private static IResult Asset(string file)
    {
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + file);
        if (stream is null) return Results.NotFound();
        var type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Recorder.Complete();
        using (var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await _app.StopAsync(quick.Token);
        await _app.DisposeAsync();
        _stop.Dispose();
    }

    private sealed record FaultRequest(string Fault, string? Node, string? Link, Dictionary<string, string>? Params);
}
