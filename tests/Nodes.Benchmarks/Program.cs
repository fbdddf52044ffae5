using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Nodes.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/Nodes.Benchmarks -- hub-scale 1000 [--proposal aes128-sha256-x25519] [--json]   (the scale run: time until 1,000 tunnels are up, memory per tunnel)
// dotnet run -c Release --project tests/Nodes.Benchmarks -- web-draw 5000 [STEPS]   (one load and ten hop steps of the web view's page in Chromium, for a hub of 5,000 branches)
// dotnet run -c Release --project tests/Nodes.Benchmarks -- telemetry-flood Traced 20   (ping floods for 20 s in one mode, to attach a profiler)
// Every class brings its own job ([QuickJob] or [BatchJob]); a --job on the command line adds one more.
// Parameter columns are widened so transform names such as "AES-CBC-256/HMAC-SHA2-256-128" print whole.
if (args is ["hub-scale", ..])
{
    return Nodes.Benchmarks.HubScale.Run(args);
}

if (args is ["telemetry-flood", ..])
{
    var bench = new Nodes.Benchmarks.TelemetryCostBenchmarks { Mode = args.Length > 1 ? Enum.Parse<Nodes.Benchmarks.TelemetryMode>(args[1], ignoreCase: true) : Nodes.Benchmarks.TelemetryMode.Traced };
    var seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20;
    bench.Setup();
    var gcs = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
    var paused = GC.GetTotalPauseDuration();
    var allocated = GC.GetTotalAllocatedBytes();
    var clock = System.Diagnostics.Stopwatch.StartNew();
    long journeys = 0;
    while (clock.Elapsed.TotalSeconds < seconds) journeys += bench.PingJourneys();
    var elapsed = clock.Elapsed;
    Console.WriteLine($"{bench.Mode}: {journeys} journeys in {elapsed.TotalSeconds:F1} s, {elapsed.TotalNanoseconds / journeys:F0} ns and {(GC.GetTotalAllocatedBytes() - allocated) / journeys:F0} B per journey; " +
        $"GCs gen0/1/2 {GC.CollectionCount(0) - gcs.Item1}/{GC.CollectionCount(1) - gcs.Item2}/{GC.CollectionCount(2) - gcs.Item3}, paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds / elapsed.TotalMilliseconds:P1} of the time");
    bench.Cleanup();
    return 0;
}

if (args is ["web-draw", var n, .. var rest])
{
    // One load and a few steps (ten unless told) of the web view's page for a hub of N branches, timed once: for N too large to repeat.
    var bench = new Nodes.Benchmarks.WebViewDrawBenchmarks { Branches = int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) };
    bench.Setup();
    var clock = System.Diagnostics.Stopwatch.StartNew();
    bench.FirstDraw().Wait();
    var load = clock.Elapsed;
    clock.Restart();
    var steps = rest.Length > 0 ? int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture) : 10;
    for (var i = 0; i < steps; i++) bench.StepOneHop().Wait();
    Console.WriteLine($"hub of {bench.Branches} branches: page drawn in {load.TotalSeconds:F2} s, one hop step painted in {clock.Elapsed.TotalMilliseconds / steps:F0} ms (mean of {steps})");
    bench.Cleanup();
    return 0;
}

var config = DefaultConfig.Instance.WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
