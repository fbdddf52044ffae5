using System.CommandLine;
using System.Globalization;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Telemetry;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Cli;

/// <summary>The <c>nodes</c> commands.</summary>
internal static class Commands
{
    /// <summary>The port <c>nodes run --listen</c> takes without a value, and <c>nodes fault</c> reaches by default.</summary>
    public const int ListenPort = 4053;

    public static Command Validate()
    {
        var file = new Argument<FileInfo>("file") { Description = "A topology file (YAML)" };
        var command = new Command("validate", "Check a topology file and report every problem with file:line:column and a hint") { file };
        command.SetAction(parse =>
        {
            var result = TopologyLoader.Load(parse.GetValue(file)!.FullName);
            var err = parse.InvocationConfiguration.Error;
            foreach (var d in result.Diagnostics) err.WriteLine(d.ToString());
            if (result.Topology is null)
            {
                err.WriteLine($"{result.Diagnostics.Length} problem(s); nothing was started.");
                return 1;
            }
            var t = result.Topology;
            parse.InvocationConfiguration.Output.WriteLine($"{t.Name}: {t.Nodes.Length} nodes, {t.Links.Length} links, scenarios: {string.Join(", ", t.Scenarios.Select(s => s.Name))}. OK");
            return 0;
        });
        return command;
    }

    /// <summary>The bounds of a scenario's time-scale in a topology file, which the command line keeps too.</summary>
    private const double MinTimeScale = 0.001, MaxTimeScale = 1000;

    /// <summary>--time-scale of run and host.</summary>
    internal static Option<double?> TimeScaleOption() => new("--time-scale")
    {
        Description = $"Shrink protocol timers (lifetimes, DPD, keepalives, NAT timeouts) by this factor ({MinTimeScale} to {MaxTimeScale}, as in a scenario)",
    };

    /// <summary>True when --time-scale is absent or within a scenario's bounds; otherwise says why on <paramref name="error"/>.</summary>
    internal static bool TimeScaleOk(double? value, TextWriter error)
    {
        if (value is null or (>= MinTimeScale and <= MaxTimeScale)) return true;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"--time-scale {value}: must be between {MinTimeScale} and {MaxTimeScale}, as a scenario's time-scale (1000 already turns an 8-hour IKE SA lifetime into under 29 s); nothing was started."));
        return false;
    }

    public static Command Run()
    {
        var file = new Argument<FileInfo>("file") { Description = "A topology file (YAML), e.g. topology/azure-s2s-rras.yaml" };
        var scenario = new Option<string?>("--scenario") { Description = "The scenario to run (default: the one marked default, else the first)" };
        var count = new Option<int?>("--count") { Description = "Pings per ping generator, instead of the scenario's count" };
        var json = new Option<bool>("--json") { Description = "Print the run summary as one JSON object on stdout" };
        var capture = new Option<string?>("--capture") { Description = "Write a pcapng per link and Wireshark key files into this folder" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for every random choice (link loss, SPIs, nonces); the same seed repeats a run" };
        var timeScale = TimeScaleOption();
        var cluster = new Option<string?>("--cluster") { Description = "Drive a lab already running as nodes host members, joining through this member (akka.tcp://nodes@HOST:PORT)" };
        var dashboard = new Option<bool>("--dashboard") { Description = "Start the Aspire dashboard (from the restored package) on 127.0.0.1, send the run's traces and metrics to it, print the first journey's address and keep it up until Ctrl+C" };
        var traceConsole = new Option<bool>("--trace-console") { Description = "Print every span and metric on the console (as OTEL_TRACES_EXPORTER=console)" };
        var traceFile = new Option<string?>("--trace-file") { Description = "Write the run's spans as OTLP JSON into this file (read it with nodes trace FILE)" };
        var noLadder = new Option<bool>("--no-ladder") { Description = "Do not draw the first journey as a ladder (and do not record spans for it)" };
        var disconnect = new Option<bool>("--disconnect") { Description = "At the end, switch the gateways off: they delete their IKE SAs (a real peer sees the DELETE)" };
        var listen = new Option<string?>("--listen")
        {
            Description = $"Make this run reachable for live faults (nodes fault ... --cluster ADDRESS) on this TCP port (default {ListenPort}; 0 picks a free one); the address is printed",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var hostname = new Option<string?>("--hostname") { Description = "Address --listen binds to (default 127.0.0.1; another address only with TLS options)" };
        var duration = new Option<string?>("--duration") { Description = "Let the run last at least this long, e.g. 60s or 5m (time for live faults)" };
        var web = new Option<string?>("--web")
        {
            Description = $"Serve the lab's web view on 127.0.0.1 at this TCP port (default {WebPort}; 0 picks a free one): the topology, packets hop by hop, every frame decoded and decrypted, live faults and captures (with --cluster, of every member); the run stays up until Ctrl+C (or --duration)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("run", "Run a lab in this process and report what happened")
        {
            file, scenario, count, json, capture, seed, timeScale, cluster, dashboard, traceConsole, traceFile, noLadder, disconnect, listen, hostname, duration, web,
        };
        var tls = ClusterCommands.TlsOptionSet.Create();
        tls.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var err = parse.InvocationConfiguration.Error;
            if (!TimeScaleOk(parse.GetValue(timeScale), err)) return 2;
            var path = parse.GetValue(file)!.FullName;
            var loaded = TopologyLoader.Load(path);
            if (loaded.Topology is null)
            {
                foreach (var d in loaded.Diagnostics) err.WriteLine(d.ToString());
                err.WriteLine($"{loaded.Diagnostics.Length} problem(s) in {path}; nothing was started.");
                return 2;
            }
            var topology = loaded.Topology;
            if (!topology.TrySelectScenario(parse.GetValue(scenario), out var chosen, out var error))
            {
                err.WriteLine(error);
                return 2;
            }
            // Output paths are checked now: a trace file that cannot be written would otherwise lose every span after the run.
            if (!FlagChecks.CountOk(parse.GetValue(count), chosen!, err) || !FlagChecks.OutputFolderOk(parse.GetValue(capture), "--capture", err)
                || !FlagChecks.OutputFileOk(parse.GetValue(traceFile), "--trace-file", err)) return 2;
            var asJson = parse.GetValue(json);
            RunOptions options;
            TimeSpan? least = null;
            if (parse.GetValue(duration) is { } dtext)
            {
                if (!FaultValues.TryDuration(dtext, out var dv) || dv <= TimeSpan.Zero || dv > TimeSpan.FromDays(1))
                {
                    Console.Error.WriteLine($"--duration '{dtext}' is not a duration up to a day: write e.g. 60s, 5m or 1h");
                    return 2;
                }
                least = dv;
            }
            var listening = parse.GetResult(listen) is { } lr;
            int? webPort = null;
            if (parse.GetResult(web) is not null)
            {
                var wtext = parse.GetValue(web);
                if (wtext is not null && (!int.TryParse(wtext, NumberStyles.None, CultureInfo.InvariantCulture, out var wp) || wp > 65535))
                {
                    Console.Error.WriteLine($"--web '{wtext}' is not a TCP port (0 to 65535); write the file before --web, or give a port: nodes run FILE --web {WebPort}");
                    return 2;
                }
                webPort = wtext is null ? WebPort : int.Parse(wtext, CultureInfo.InvariantCulture);
            }
            if (parse.GetValue(cluster) is { } at)
            {
                if (listening)
                {
                    Console.Error.WriteLine("--listen is for a lab in this process; a lab of nodes host members already takes faults through its members (nodes fault ... --cluster ADDRESS)");
                    return 2;
                }
                Nodes.Web.WebView? remoteView = null;
                if (webPort is { } rport && (remoteView = await StartWebViewAsync(topology.ForScenario(chosen!), rport, asJson ? Console.Error : Console.Out, cancel)) is null) return 2;
                await using var remoteScope = remoteView;
                return await ClusterCommands.DriveAsync(topology, chosen!, File.ReadAllText(path), at, parse.GetValue(count), asJson, tls.Read(parse), Print, cancel, least, remoteView);
            }
            ListenOptions? open = null;
            if (listening)
            {
                var ptext = parse.GetValue(listen);
                if (ptext is not null && (!int.TryParse(ptext, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535))
                {
                    Console.Error.WriteLine($"--listen '{ptext}' is not a TCP port (0 to 65535); write the file before --listen, or give a port: nodes run FILE --listen 4053");
                    return 2;
                }
                var tlsOptions = tls.Read(parse);
                var bind = parse.GetValue(hostname) ?? "127.0.0.1";
                if (tlsOptions is null && !new ClusterSettings { Hostname = bind }.BindsLoopbackOnly)
                {
                    Console.Error.WriteLine($"--hostname {bind}: without TLS the lab listens on loopback only, since anyone who reaches it could inject faults; give --tls-certificate (or --tls-thumbprint) to listen on {bind}");
                    return 2;
                }
                open = new ListenOptions
                {
                    Hostname = bind,
                    Port = ptext is null ? ListenPort : int.Parse(ptext, CultureInfo.InvariantCulture),
                    Tls = tlsOptions,
                    OnListening = address => (asJson ? Console.Error : Console.Out).WriteLine(
                        $"Listening at {address}{(tlsOptions is null ? " (loopback only, no TLS)" : " (TLS)")}: inject a fault with nodes fault NAME --node NODE --cluster {address}"),
                };
            }
            else if (parse.GetValue(hostname) is not null)
            {
                Console.Error.WriteLine("--hostname goes with --listen");
                return 2;
            }
            var progress = asJson ? Console.Error : Console.Out;
            var started = DateTimeOffset.UtcNow;
            progress.WriteLine($"Running {topology.Name}, scenario {chosen!.Name}{(chosen.Description is { } desc ? $": {desc}" : "")}");
            // Telemetry: the OTEL_* variables, the console on request, the dashboard, and spans kept for the ladder and the file.
            var telemetry = TelemetrySettings.FromEnvironment();
            if (parse.GetValue(traceConsole)) telemetry = telemetry with { Console = true };
            var file2 = parse.GetValue(traceFile) is { } tf ? Path.GetFullPath(tf) : null;
            var ladder = !asJson && !parse.GetValue(noLadder);
            var collector = ladder || file2 is not null ? new SpanCollector() : null;
            telemetry = telemetry with { Collector = collector };
            AspireDashboard? started2 = null;
            if (parse.GetValue(dashboard))
            {
                try
                {
                    started2 = await StartDashboard(progress, cancel);
                }
                catch (InvalidOperationException e)
                {
                    err.WriteLine($"--dashboard: {e.Message}; nothing was started.");
                    return 2;
                }
            }
            using var viewer = started2;
            if (viewer is not null) telemetry = telemetry with { Otlp = true, OtlpEndpoint = viewer.OtlpGrpc, OtlpProtocol = OpenTelemetry.Exporter.OtlpExportProtocol.Grpc };
            options = new RunOptions
            {
                Count = parse.GetValue(count),
                Seed = parse.GetValue(seed),
                TimeScale = parse.GetValue(timeScale),
                DisconnectAtEnd = parse.GetValue(disconnect),
                CaptureDirectory = parse.GetValue(capture) is { } c ? Path.GetFullPath(c) : null,
                OnEvent = e => progress.WriteLine(Line(e, started)),
                Telemetry = telemetry.TracingOn || telemetry.Otlp ? telemetry : null,
                Listen = open,
                MinDuration = least,
            };
            Nodes.Web.WebView? view = null;
            if (webPort is { } wport && (view = await StartWebViewAsync(topology.ForScenario(chosen), wport, progress, cancel)) is null) return 2;
            await using var viewScope = view;
            var runCancel = cancel;
            if (view is not null)
            {
                // The page keeps the lab up: until Ctrl+C, or for --duration. Ctrl+C then ends the run with its summary.
                runCancel = CancellationToken.None;
                options = view.Observe(least is null ? options with { HoldOpen = Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { }, TaskScheduler.Default) } : options);
                progress.WriteLine(least is null ? "The lab stays up until Ctrl+C." : $"The lab stays up for {least.Value.TotalSeconds:0.###} s.");
            }
            RunSummary summary;
            try
            {
                summary = await LabRunner.RunAsync(topology, chosen, options, runCancel);
            }
            catch (Exception e) when (open is not null && e is InvalidOperationException or FileNotFoundException or System.Security.Cryptography.CryptographicException)
            {
                // Only the listening part can fail this way: the port taken, or the TLS certificate.
                Console.Error.WriteLine($"the lab could not listen at {open.Hostname}:{open.Port}: {e.Message}");
                return 2;
            }
            if (asJson) Console.Out.WriteLine(summary.ToJson());
            else Print(summary, Console.Out);
            var first = summary.Traces?.FirstJourney;
            if (collector is not null && file2 is not null)
            {
                try
                {
                    File.WriteAllText(file2, OtlpJson.Write(collector.Spans, new Dictionary<string, string> { [Attr.Lab] = topology.Name }));
                    progress.WriteLine($"Spans written to {file2} (OTLP JSON; nodes trace {file2} draws the first journey)");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Checked before the run, so the disk filled up or the folder went away meanwhile; the summary above stands.
                    err.WriteLine($"--trace-file {file2}: the spans could not be written ({e.Message})");
                    return 2;
                }
            }
            if (ladder && collector is not null && first is not null)
            {
                Console.Out.WriteLine();
                Console.Out.WriteLine("First journey:");
                Console.Out.Write(Ladder.Draw(collector.Spans, first));
            }
            if (viewer is not null)
            {
                progress.WriteLine(first is not null ? $"First journey in the dashboard: {viewer.TraceUrl(first)}" : $"Dashboard: {viewer.Ui}");
                progress.WriteLine("The dashboard stays up until Ctrl+C.");
                try
                {
                    await viewer.WaitForExitAsync(cancel);
                }
                catch (OperationCanceledException)
                {
                }
            }
            return summary.Ok ? 0 : 1;
        });
        return command;
    }

    /// <summary>Starts the web view and prints its address; null (with the reason on stderr) when the port cannot be bound.</summary>
    private static async Task<Nodes.Web.WebView?> StartWebViewAsync(TopologySpec lab, int port, TextWriter progress, CancellationToken cancel)
    {
        Nodes.Web.WebView view;
        try
        {
            view = await Nodes.Web.WebView.StartAsync(lab, port, cancel);
        }
        catch (IOException e)
        {
            // Kestrel says "address already in use" with an IOException.
            Console.Error.WriteLine($"--web {port}: 127.0.0.1:{port} cannot be bound ({e.Message}); give another port (--web 0 picks a free one); nothing was started.");
            return null;
        }
        progress.WriteLine($"Web view at {view.Address}");
        return view;
    }

    /// <summary>The port <c>nodes run --web</c> takes without a value.</summary>
    public const int WebPort = 5380;

    private static async Task<AspireDashboard> StartDashboard(TextWriter progress, CancellationToken cancel)
    {
        var exe = AspireDashboard.FindExecutable() ?? throw new InvalidOperationException(
            $"the Aspire dashboard package ({AspireDashboard.PackageId} {AspireDashboard.PackageVersion}) is not in the package cache: run dotnet restore");
        var d = await AspireDashboard.StartAsync(exe, cancel: cancel);
        progress.WriteLine($"Aspire dashboard at {d.Ui} (OTLP/gRPC {d.OtlpGrpc})");
        return d;
    }

    /// <summary><c>nodes trace FILE</c>: draws a journey from a trace file written by <c>nodes run --trace-file</c>.</summary>
    public static Command Trace()
    {
        var file = new Argument<FileInfo>("file") { Description = "OTLP JSON spans, as nodes run --trace-file writes them (the Aspire dashboard's /api/telemetry/traces answer works too)" };
        var traceId = new Option<string?>("--trace-id") { Description = "The trace to draw (default: the first journey, the earliest ping)" };
        var command = new Command("trace", "Draw a ping's journey from an exported trace as a ladder: one column per node, one arrow per hop") { file, traceId };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!.FullName;
            IReadOnlyList<SpanRecord> spans;
            try
            {
                spans = OtlpJson.Read(File.ReadAllText(path));
            }
            catch (Exception e) when (e is IOException or FormatException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"{path}: {e.Message}");
                return 2;
            }
            var id = parse.GetValue(traceId) ?? Ladder.FirstJourney(spans);
            if (id is null || spans.All(s => s.TraceId != id))
            {
                Console.Error.WriteLine($"{path}: {(id is null ? "no ping journey (no root span named \"" + SpanNames.EchoRequest + "\")" : $"no trace {id}")} among {spans.Count} spans");
                return 1;
            }
            Console.Out.Write(Ladder.Draw(spans, id));
            return 0;
        });
        return command;
    }

    private static string Line(NodeEvent e, DateTimeOffset started)
    {
        var t = DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs) - started;
        return string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, t.TotalSeconds),8:0.000}s  {e.Node,-12} {e.Kind,-6} {e.Text}");
    }

    private static void Print(RunSummary s, TextWriter o)
    {
        o.WriteLine();
        o.WriteLine($"Pings: {s.Pings.Sent} sent, {s.Pings.Received} received; RTT min/avg/max {s.Pings.RttMs.Min:0.###}/{s.Pings.RttMs.Avg:0.###}/{s.Pings.RttMs.Max:0.###} ms");
        foreach (var f in s.Tcp?.Each ?? [])
            o.WriteLine($"TCP {f.From} → {f.To} {f.Kind}: {f.Outcome}; " + (f.Kind == "bulk" ? $"{f.BytesAcknowledged} of {f.Bytes} bytes" : $"{f.Exchanges} of {f.Requests} exchanges, avg {f.ExchangeAvgMs:0.#} ms")
                + $" in {f.DurationMs / 1000:0.###} s, {f.ThroughputMbps:0.###} Mbit/s; MSS {f.Mss}, {f.Retransmissions} retransmissions, {f.Timeouts} timeouts, {f.Stalls} stalls"
                + (f.Stalls > 0 ? $" (longest {f.LongestStallMs / 1000:0.###} s)" : ""));
        foreach (var t in s.Tunnels)
        {
            o.WriteLine($"Tunnel {t.Node}/{t.Name}: {t.State}; IKE {t.Ike.State} {t.Ike.Suite} SPIs {t.Ike.InitiatorSpi}/{t.Ike.ResponderSpi} {t.Ike.LocalEndpoint} ↔ {t.Ike.RemoteEndpoint}{(t.Ike.NatDetected ? ", NAT detected (UDP 4500)" : "")}");
            foreach (var c in t.ChildSas)
                o.WriteLine($"  Child SA in {c.InboundSpi} out {c.OutboundSpi} {c.Suite} {c.LocalTs} === {c.RemoteTs}: {c.PacketsIn} packets in, {c.PacketsOut} out");
            foreach (var f in t.Failures) o.WriteLine($"  failure: {f}");
        }
        foreach (var b in s.Bgp ?? [])
        {
            o.WriteLine($"BGP {b.Node}/{b.Name}: {b.LocalAddress} ↔ {b.Neighbor} AS {b.Asn} {b.State}{(b.State == "Established" ? $" for {b.ConnectedMs / 1000:0.#} s, hold {b.HoldTimeS:0} s" : "")}; "
                + $"{b.RoutesReceived} prefix(es) received, {b.RoutesAdvertised} advertised; {b.MessagesReceived} messages in, {b.MessagesSent} out{(b.Flaps > 0 ? $"; down {b.Flaps} time(s)" : "")}"
                + (b.Tunnel.Length > 0 ? $"; through {b.Tunnel}" : "") + (b.LastError.Length > 0 ? $"; last: {b.LastError}" : ""));
            foreach (var r in (s.BgpRoutes ?? []).Where(r => r.Node == b.Node && r.Direction == "learned" && r.SourcePeer == b.Neighbor))
                o.WriteLine($"  learned {r.Network} next hop {r.NextHop} AS path {r.AsPath} ({r.Origin})");
        }
        foreach (var a in s.Azure ?? [])
            o.WriteLine($"Azure {a.Node}/{a.Connection}: {a.ConnectionShow["connectionStatus"]}; VPN troubleshoot {a.Troubleshoot.Code}: "
                + string.Join("; ", a.Troubleshoot.Results.Select(r => $"{r.Id} ({r.Summary})")) + " (all of Azure's diagnostics: --json, key azure)");
        if (s.Drops.Total > 0)
            o.WriteLine("Drops: " + string.Join(", ", s.Drops.ByNode.Select(n => $"{n.Key}: " + string.Join(" ", n.Value.Select(r => $"{r.Key}={r.Value}")))));
        foreach (var f in s.Faults ?? [])
        {
            o.WriteLine($"Fault {f.Fault} at {f.AtMs / 1000:0.###}s on {string.Join(", ", f.Targets)} ({f.Origin}){(f.Applied ? "" : " REFUSED")}: {f.Detail}");
            var recovery = f.TimeToRecoverMs is { } ms ? $"answered again {ms / 1000:0.###} s after the fault" : f.PingsSent == 0 ? "no ping sent after it" : "not answered again";
            o.WriteLine($"  pings after it: {f.PingsSent} sent, {f.PingsLost} lost; {recovery}");
            foreach (var t in f.Tunnels)
                o.WriteLine($"  {t.Node}/{t.Tunnel}: {t.Before?.State ?? "none"} → {t.After?.State ?? "none"}; IKE SPIs {t.Before?.IkeSpis ?? "none"} → {(t.SameIkeSa ? "same" : t.After?.IkeSpis ?? "none")}; "
                    + $"Child SAs {string.Join(",", t.Before?.ChildSpis ?? [])} → {(t.SameChildSas ? "same" : string.Join(",", t.After?.ChildSpis ?? []))}; peer {t.Before?.PeerEndpoint ?? "none"} → {t.After?.PeerEndpoint ?? "none"}"
                    + (t.Outages > 0 || t.TunnelDownMs > 0 ? $"; down {t.TunnelDownMs / 1000:0.###} s ({t.Outages} outage(s))" : ""));
            if (f.Drops.Count > 0) o.WriteLine("  drops after it: " + string.Join(" ", f.Drops.Select(d => $"{d.Key}={d.Value}")));
        }
        foreach (var e in s.Expectations) o.WriteLine($"{(e.Met ? "PASS" : "FAIL")}  {e.What} ({e.Detail})");
        if (s.Captures is { } c2)
        {
            o.WriteLine($"Captures in {c2.Directory}: {string.Join(", ", c2.Files.Select(Path.GetFileName))}");
            o.WriteLine($"Open decrypted: {c2.Command}   (or copy esp_sa and ikev2_decryption_table into a Wireshark profile)");
        }
        if (s.Traces is { FirstJourney: { } first } traces) o.WriteLine($"Traces: {traces.Journeys.Count} journeys; the first is trace {first}");
        if (s.Traces is { DroppedSpans: > 0 and var dropped }) o.WriteLine($"Traces: {dropped} spans dropped, the exporters could not keep up (sample fewer journeys: OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1)");
        o.WriteLine(s.Ok ? "OK: the scenario's expectations hold." : "FAILED: see above.");
    }
}
