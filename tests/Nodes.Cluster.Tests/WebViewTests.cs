using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Nodes.Web.Tests;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// The web view of a lab spread over seven <c>nodes host</c> members, served by the driver
/// (<c>nodes run FILE --cluster ADDRESS --web 0</c>), in a real headless Chromium: the frames of every member's links
/// reach the one page, in time order.
/// </summary>
public sealed class WebViewTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_drivers_page_shows_all_seven_nodes_and_a_ping_moving_through_every_member_in_order()
    {
        await using var chromium = await Chromium.LaunchAsync();
        var ports = ClusterLab.FreePorts();
        using var lab = new ClusterLab(output, _ => "127.0.0.1", n => ports[n]);
        lab.StartAll();
        using var driver = new NodesProcess("driver", ["run", LabCommandLine.Topology, "--cluster", lab.SeedAddress, "--web", "0", "--count", "600"]);
        try
        {
            Assert.True(driver.WaitForOutput("Web view at ", TimeSpan.FromSeconds(60)), "the driver printed no web view address:\n" + driver.StdOut + driver.StdErr);
            var address = Regex.Match(driver.StdOut, @"Web view at (http://127\.0\.0\.1:\d+/)").Groups[1].Value;
            // The second ping answered: the tunnel is up and the first ping's hops are all recorded.
            Assert.True(WaitForCount(driver, "ping   reply from 10.0.10.4", 2, TimeSpan.FromSeconds(90)), "no two pings answered:\n" + driver.StdOut + driver.StdErr);
            var page = await chromium.OpenAsync(address);
            var nodes = await page.Locator("#topology .node").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.node)");
            Assert.Equal(Chromium.PingPath.Order(StringComparer.Ordinal), nodes.Order(StringComparer.Ordinal));
            // Status comes from the node actors in their members.
            await Assertions.Expect(page.Locator("#topology path.tunnel[data-tunnel='home-rras']")).ToHaveAttributeAsync("data-state", "Connected");
            await Chromium.AssertPingMovesThroughEveryNodeInOrderAsync(page);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "web-view-cluster.png") });
        }
        finally
        {
            driver.Kill();
            output.WriteLine("driver:\n" + driver.StdOut + driver.StdErr);
        }
    }

    private static bool WaitForCount(NodesProcess p, string text, int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (Regex.Matches(p.StdOut, Regex.Escape(text)).Count >= count) return true;
            if (p.Process.HasExited) return false;
            Thread.Sleep(200);
        }
        return false;
    }
}
