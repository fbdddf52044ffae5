using Microsoft.Playwright;
using Nodes.Host;
using Nodes.TestKit;
using Nodes.Topology.Loading;

namespace Nodes.Web.Tests;

/// <summary>
/// The seed lab running in this process with its web view, as <c>nodes run topology/azure-s2s-rras.yaml --web</c>
/// runs it, held open until the tests are done; and Debian's Chromium driven by Playwright. Chromium missing: every
/// page test skips (fails under CI); the lab runs all the same, for the tests of its streams.
/// </summary>
public sealed class WebLab : IAsyncLifetime
{
    private readonly TaskCompletionSource _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task<RunSummary>? _run;

    public WebView View { get; private set; } = null!;

    public Chromium Chromium { get; private set; } = null!;

    public static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    public async Task InitializeAsync()
    {
        var topology = TopologyLoader.Load(Path.Combine(Repo(), "topology", "azure-s2s-rras.yaml")).Topology!;
        topology.TrySelectScenario(null, out var scenario, out _);
        View = await WebView.StartAsync(topology.ForScenario(scenario!), 0);
        // Pings every second for longer than the tests take (the run is cancelled at the end), so that a fault injected
        // from the page has traffic to act on.
        var options = View.Observe(new RunOptions { Count = 600, HoldOpen = _hold.Task });
        _run = Task.Run(() => LabRunner.RunAsync(topology, scenario!, options, _stop.Token));
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!View.Recorder.Hops().Any(h => h.To.Contains("client") && h.Summary.Contains("echo reply", StringComparison.Ordinal) && h.Summary.EndsWith("seq 2", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("the seed lab's second ping was not answered within 60 s");
            if (_run.IsFaulted) await _run;
            await Task.Delay(200);
        }
        Chromium = await Chromium.LaunchAsync();
    }

    /// <summary>A fresh page on the view, loaded and subscribed to the stream.</summary>
    public Task<IPage> OpenAsync() => Chromium.OpenAsync(View.Address);

    public async Task DisposeAsync()
    {
        _hold.TrySetResult();
        if (Chromium is not null) await Chromium.DisposeAsync();
        await _stop.CancelAsync();
        if (_run is not null)
        {
            try { await _run.WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (OperationCanceledException) { }
        }
        _stop.Dispose();
        if (View is not null) await View.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class WebLabCollection : ICollectionFixture<WebLab>
{
    public const string Name = "web lab";
}
