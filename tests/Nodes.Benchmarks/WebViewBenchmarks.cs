using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Microsoft.Playwright;
using Nodes.Actors.Lab;
using Nodes.Capture;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology;
using Nodes.Topology.Model;
using Nodes.TestKit;
using Nodes.Web;
using Nodes.Wire.Ip;

namespace Nodes.Benchmarks;

/// <summary>
/// What the web view costs the lab: ping journeys through the seed lab in one process, as <c>nodes run</c> builds it
/// (a capture sink feeding the Azure gateway's IKE activity recorder), against the same lab with the view recording
/// every frame, and with the view recording and one page reading its server-sent-event stream over HTTP (every hop
/// as JSON) while the view asks every node and link for its status twice a second. A fresh view per iteration, so
/// that the recorder never reaches its cap (past it, hops are only counted).
/// </summary>
[QuickJob(iterationCount: 10)]
[MemoryDiagnoser]
public class WebViewCostBenchmarks
{
    // About 14 hops each: 70,000 hops an iteration, well below the recorder's cap.
    private const int InFlight = 5_000;

    private readonly SwitchTap _tap = new();
    private ActorSystem _system = null!;
    private TopologySpec _topology = null!;
    private LabActors _lab = null!;
    private IActorRef _client = null!;
    private WebView? _view;
    private HttpClient? _page;
    private CancellationTokenSource? _stop;
    private Task<long>? _reading;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("web-cost", LabRunner.AkkaConfig(serializeAll: false));
        _topology = JourneyBenchmarks.SeedLab();
        var events = _system.ActorOf(Props.Create(() => new EventSink()), "events");
        var capture = new CaptureSink(null, new IkeActivityRecorder(_topology, _tap));
        _lab = LabBuilder.Build(_system, _topology, new LabContext(_system.Scheduler.Now, 1, 1, events, capture));
        _client = _lab.Nodes["client"];
        var warm = _client.Ask<PingSummary>(new StartPing { Host = "client", Destination = "10.0.10.4", Count = 1, IntervalMs = 1000, Size = 32, SummaryOnly = true }, TimeSpan.FromSeconds(30)).Result;
        if (warm.Received != 1) throw new InvalidOperationException("the seed lab did not answer its first ping");
    }

    // An iteration setup for every method, so that all three run one flood per iteration and share one job (and the
    // Ratio column).
    [IterationSetup(Target = nameof(NoView))]
    public void NoRecording() => _tap.Inner = null;

    [IterationSetup(Target = nameof(Recording))]
    public void StartRecording() => StartView(page: false);

    [IterationSetup(Target = nameof(RecordingWithPage))]
    public void StartRecordingWithPage() => StartView(page: true);

    private void StartView(bool page)
    {
        _view = WebView.StartAsync(_topology, 0).Result;
        _tap.Inner = _view.Recorder;
        if (!page) return;
        _view.Observe(new RunOptions()).OnStarted!(new RunningLab(_system, _topology, _lab.Nodes, _lab.Links, _system.Scheduler.Now));
        _stop = new CancellationTokenSource();
        _page = new HttpClient { BaseAddress = new Uri(_view.Address) };
        var response = _page.GetAsync("api/stream", HttpCompletionOption.ResponseHeadersRead).Result;
        _reading = ReadAsync(response, _stop.Token);
    }

    /// <summary>Reads the stream as a page does, to its end: the bytes read.</summary>
    private static async Task<long> ReadAsync(HttpResponseMessage response, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(stop);
            int n;
            while ((n = await body.ReadAsync(buffer, stop)) > 0) total += n;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // The view stopped at the end of the iteration.
        }
        return total;
    }

    [IterationCleanup(Targets = [nameof(Recording), nameof(RecordingWithPage)])]
    public void StopView()
    {
        _tap.Inner = null;
        _stop?.Cancel();
        _view?.DisposeAsync().AsTask().Wait();
        if (_reading is not null && _reading.Result == 0) throw new InvalidOperationException("the page read nothing from the stream");
        _page?.Dispose();
        _stop?.Dispose();
        (_view, _page, _stop, _reading) = (null, null, null, null);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "ping journeys, no web view, 5000 in flight")]
    public uint NoView() => JourneyBenchmarks.Flood(_client, InFlight);

    [Benchmark(OperationsPerInvoke = InFlight, Description = "ping journeys, web view recording, 5000 in flight")]
    public uint Recording() => JourneyBenchmarks.Flood(_client, InFlight);

    [Benchmark(OperationsPerInvoke = InFlight, Description = "ping journeys, web view recording, a page reading its stream, 5000 in flight")]
    public uint RecordingWithPage() => JourneyBenchmarks.Flood(_client, InFlight);

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    /// <summary>A tap whose target the benchmark sets per iteration; none: frames go nowhere, as without the view.</summary>
    private sealed class SwitchTap : ICaptureTap
    {
        private volatile ICaptureTap? _inner;

        public ICaptureTap? Inner { set => _inner = value; }

        public void Frame(string link, string fromNode, string fromInterface, Ipv4Address nextHop, DateTimeOffset at, ReadOnlySpan<byte> packet) =>
            _inner?.Frame(link, fromNode, fromInterface, nextHop, at, packet);

        public void Keys(EspSaKeyEntry esp) => _inner?.Keys(esp);

        public void Keys(IkeSaKeyEntry ike) => _inner?.Keys(ike);
    }
}

/// <summary>
/// How large a lab the page draws at an interactive rate, in Debian's headless Chromium: a generated hub with N
/// branch sites (a client, a NATed RRAS and its NAT router each) served by the web view with 100 hops recorded.
/// <see cref="FirstDraw"/> loads the page until the topology is drawn, the stream has caught up and a frame has
/// been painted; <see cref="StepOneHop"/> is one arrow key press until the frame that shows the next hop is painted.
/// </summary>
[QuickJob]
public class WebViewDrawBenchmarks
{
    private WebView _view = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IPage _page = null!;
    private int _steps;

    [Params(100, 1_000, 5_000)]
    public int Branches { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var chromium = ExternalTool.Find("chromium") ?? throw new InvalidOperationException("chromium is not installed (apt-get install chromium): the page is measured in it");
        var topology = HubTopology.Generate(Branches);
        topology.TrySelectScenario(null, out var scenario, out _);
        var lab = topology.ForScenario(scenario!);
        _view = WebView.StartAsync(lab, 0).Result;
        // Hops over the first links, so that there is something to step through (the bytes are an ICMP echo request).
        byte[] echo = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 168, 1, 2, 10, 0, 10, 4, 8, 0, 0xf7, 0xfe, 0, 1, 0, 1];
        var links = lab.Links.Take(10).ToList();
        for (var i = 0; i < 100; i++)
        {
            var end = links[i % links.Count].Endpoints[0];
            _view.Recorder.Frame(links[i % links.Count].Name, end.Node, end.Interface, default, DateTimeOffset.UtcNow, echo);
        }
        _playwright = Playwright.CreateAsync().Result;
        _browser = _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        }).Result;
        _page = _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } }).Result;
        _page.SetDefaultTimeout(900_000);
        LoadAsync().Wait();
        _page.Keyboard.PressAsync("Home").Wait();
    }

    private async Task LoadAsync()
    {
        await _page.GotoAsync(_view.Address);
        await _page.WaitForSelectorAsync("body[data-ready=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await PaintedAsync();
        var drawn = await _page.Locator("#topology .node").CountAsync();
        if (drawn != _view.Recorder.Lab.Nodes.Length) throw new InvalidOperationException($"the page drew {drawn} of {_view.Recorder.Lab.Nodes.Length} nodes");
    }

    // Two animation frames: the first runs before the paint of the change, the second after it.
    private Task PaintedAsync() => _page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");

    [Benchmark(Description = "load the page until drawn")]
    public Task FirstDraw() => LoadAsync();

    [Benchmark(Description = "step one hop (arrow key) until painted")]
    public async Task StepOneHop()
    {
        // Forth through the hundred hops and back again, so that every press moves the packet.
        await _page.Keyboard.PressAsync(_steps++ / 99 % 2 == 0 ? "ArrowRight" : "ArrowLeft");
        await PaintedAsync();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _browser.DisposeAsync().AsTask().Wait();
        _playwright.Dispose();
        _view.DisposeAsync().AsTask().Wait();
    }
}
