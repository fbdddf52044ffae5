using Microsoft.Playwright;
using Nodes.TestKit;

namespace Nodes.Web.Tests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium) driven by Playwright, headless, for the web view's page tests; shared by the
/// tests of a lab in one process (this project) and of a lab across cluster members (Nodes.Cluster.Tests links this
/// file). Chromium missing: <see cref="OpenAsync"/> skips the test with the reason, or fails it when CI is set.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>The seed lab's nodes in the order a ping from the client to the VM passes them.</summary>
    public static readonly string[] PingPath = ["client", "rras", "isp-router", "internet", "azure-gw", "vnet-router", "vm"];

    private IPlaywright? _playwright;

    private Chromium()
    {
    }

    public IBrowser? Browser { get; private set; }

    /// <summary>Why the browser tests cannot run here (Chromium missing), or null.</summary>
    public string? Missing { get; private set; }

    public static async Task<Chromium> LaunchAsync()
    {
        var result = new Chromium();
        var chromium = ExternalTool.Find("chromium");
        if (chromium is null)
        {
            result.Missing = "chromium is not installed (apt-get install chromium)";
            return result;
        }
        result._playwright = await Playwright.CreateAsync();
        result.Browser = await result._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // What works on a machine with no network beyond loopback (see the machine notes): no background traffic.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return result;
    }

    /// <summary>A fresh page on the view at <paramref name="address"/>, loaded and subscribed to the stream.</summary>
    public async Task<IPage> OpenAsync(string address)
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
        await page.GotoAsync(address);
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    /// <summary>
    /// Steps through the first <paramref name="count"/> hops of the ping's protocols (the filter hides IKE and the
    /// NAT keepalives) with the arrow key, and asserts that the first ping moves through every node of
    /// <see cref="PingPath"/> in order, in ICMP up to RRAS and after the Azure gateway, in ESP between them.
    /// </summary>
    public static async Task AssertPingMovesThroughEveryNodeInOrderAsync(IPage page, int count = 30)
    {
        await page.Locator(".filter input[value='IKE']").UncheckAsync();
        await page.Locator(".filter input[value='UDP']").UncheckAsync();
        await page.Keyboard.PressAsync("Home");
        var hops = new List<(string From, string To, string Protocol)>();
        for (var i = 0; i < count; i++)
        {
            var h = await page.Locator("#current-hop").EvaluateAsync<string[]>("e => [e.dataset.from, e.dataset.to, e.dataset.protocol]");
            hops.Add((h[0], h[1], h[2]));
            await page.Keyboard.PressAsync("ArrowRight");
        }
        // One hop after another, each leaving the node the previous one reached: client → rras → ... → vm.
        var at = 0;
        var seen = new List<string>();
        for (var k = 0; k < PingPath.Length - 1; k++)
        {
            at = hops.FindIndex(at, h => h.From == PingPath[k] && h.To == PingPath[k + 1]);
            Assert.True(at >= 0, $"no hop {PingPath[k]} → {PingPath[k + 1]} after {string.Join(" → ", seen)} in {string.Join(", ", hops.Select(h => $"{h.From}→{h.To} {h.Protocol}"))}");
            seen.Add($"{PingPath[k]}→{PingPath[k + 1]} {hops[at].Protocol}");
        }
        Assert.Equal(["ICMP", "ESP", "ESP", "ESP", "ICMP", "ICMP"], seen.Select(s => s.Split(' ')[1]).ToArray());
        Assert.DoesNotContain(hops, h => h.Protocol is "IKE" or "UDP");
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
