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
    private IPlaywright? _playwright;

    public WebView View { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Why the browser tests cannot run here (Chromium missing), or null.</summary>
    public string? Missing { get; private set; }

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
        var chromium = ExternalTool.Find("chromium");
        if (chromium is null)
        {
            Missing = "chromium is not installed (apt-get install chromium)";
            return;
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // What works on a machine with no network beyond loopback (see the machine notes): no background traffic.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh page on the view, loaded and subscribed to the stream.</summary>
    public async Task<IPage> OpenAsync()
    {
        if (Missing is not null)
        {
            if (ExternalTool.InCi) throw new InvalidOperationException($"CI is set and {Missing}");
            throw new SkipException(Missing);
        }
        var page = await Browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        // A shared CI machine is slow at times: waits are generous, what is waited for is exact.
        page.SetDefaultTimeout(20_000);
        Assertions.SetDefaultExpectTimeout(20_000);
        await page.GotoAsync(View.Address);
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    public async Task DisposeAsync()
    {
        _hold.TrySetResult();
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
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
