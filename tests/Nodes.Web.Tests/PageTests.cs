using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Nodes.TestKit;

namespace Nodes.Web.Tests;

/// <summary>The web view of the seed lab in a real headless Chromium: what a person sees and does on the page.</summary>
[Collection(WebLabCollection.Name)]
public sealed class PageTests(WebLab lab)
{
    private static readonly string[] Path = Chromium.PingPath;

    [SkippableFact]
    public async Task The_seed_labs_page_shows_all_seven_nodes_and_the_connected_tunnel()
    {
        var page = await lab.OpenAsync();
        var nodes = await page.Locator("#topology .node").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.node)");
        Assert.Equal(Path.Order(StringComparer.Ordinal), nodes.Order(StringComparer.Ordinal));
        Assert.Equal(["host", "RRAS", "NAT router", "router", "Azure VPN gateway", "router", "host"],
            await Task.WhenAll(Path.Select(n => page.Locator($"#topology .node[data-node='{n}'] .kind").TextContentAsync().ContinueWith(t => t.Result ?? ""))));
        var tunnel = page.Locator("#topology path.tunnel[data-tunnel='home-rras']");
        await Assertions.Expect(tunnel).ToHaveAttributeAsync("data-state", "Connected", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#tunnel-label")).ToContainTextAsync("NAT detected");
        // The links carry their subnets and are coloured by the links' own status.
        var lines = await page.Locator("#topology line.link").CountAsync();
        await Assertions.Expect(page.Locator("#topology line.link.up")).ToHaveCountAsync(lines);
        Assert.Contains("192.168.29.0/24", await page.Locator("#topology").TextContentAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = System.IO.Path.Combine(AppContext.BaseDirectory, "web-view.png") });
    }

    [SkippableFact]
    public async Task Stepping_forward_a_ping_moves_through_every_node_in_order()
    {
        var page = await lab.OpenAsync();
        await Chromium.AssertPingMovesThroughEveryNodeInOrderAsync(page);
    }

    [SkippableFact]
    public async Task Step_back_and_forward_move_between_hops()
    {
        var page = await lab.OpenAsync();
        var current = page.Locator("#current-hop");
        await page.Keyboard.PressAsync("Home");
        var first = await current.GetAttributeAsync("data-hop");
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        var third = await current.GetAttributeAsync("data-hop");
        await page.Keyboard.PressAsync("ArrowLeft");
        var second = await current.GetAttributeAsync("data-hop");
        Assert.Equal(new[] { "0", "2", "1" }, new[] { first ?? "", third ?? "", second ?? "" });
        await Assertions.Expect(page.Locator("#position")).ToContainTextAsync(new Regex(@"^hop 2 / \d+ · paused$"));
        // The button does what the key does, and the page shows the hop it stopped at.
        await page.ClickAsync("#back");
        Assert.Equal("0", await current.GetAttributeAsync("data-hop"));
        await Assertions.Expect(page.Locator("#tab-packet h3")).ToContainTextAsync("#0 client → rras");
    }

    [SkippableFact]
    public async Task Clicking_an_esp_packet_shows_its_spi_and_the_decrypted_inner_icmp()
    {
        var page = await lab.OpenAsync();
        var esp = lab.View.Recorder.Hops().First(h => h.Protocol == "ESP" && h.From == "isp-router" && h.To.Contains("internet"));
        var spi = Regex.Match(esp.Summary, "SPI 0x([0-9a-f]{8})").Groups[1].Value;
        await page.ClickAsync($"#hop-list tr[data-hop='{esp.Id}']");
        var layers = page.Locator("#layers");
        await Assertions.Expect(layers).ToContainTextAsync($"Encapsulating Security Payload, SPI: 0x{spi}");
        await Assertions.Expect(layers).ToContainTextAsync("ESP payload (decrypted)");
        await Assertions.Expect(layers).ToContainTextAsync("Internet Control Message Protocol, Echo (ping) request");
        await Assertions.Expect(layers).ToContainTextAsync("Internet Protocol Version 4, Src: 192.168.29.55, Dst: 10.0.10.4");
        await Assertions.Expect(layers).ToContainTextAsync("[verified]");
        // What the NAT router did to it: the source port mapping, old → new.
        await Assertions.Expect(page.Locator("#did")).ToContainTextAsync("source NAT 192.168.29.52:4500 → 203.0.113.10:4500");
        // The SPI field's bytes are highlighted in the frame's hex dump.
        await page.Locator("#layers .field[data-name='SPI']").First.ClickAsync();
        var highlighted = await page.Locator(".hex[data-block='0'] .b.hl").AllTextContentsAsync();
        Assert.Equal(spi, string.Concat(highlighted));
        // The inner packet's own bytes are the decrypted block.
        Assert.True(await page.Locator(".hex[data-block='1']").CountAsync() == 1, "no decrypted block in the hex view");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = System.IO.Path.Combine(AppContext.BaseDirectory, "web-view-esp.png") });
    }

    [SkippableFact]
    public async Task The_ike_exchanges_are_a_sequence_chart_between_the_gateways_with_the_sk_payload_decrypted()
    {
        var page = await lab.OpenAsync();
        await page.ClickAsync(".tabs button[data-tab='ike']");
        var chart = page.Locator("#ike-chart");
        await Assertions.Expect(chart).ToContainTextAsync("IKE_SA_INIT request MID 0 (UDP 500 → 500)");
        await Assertions.Expect(chart).ToContainTextAsync("IKE_AUTH request MID 1 (UDP 4500 → 4500)");
        await Assertions.Expect(chart).ToContainTextAsync("IDi AUTH");
        await Assertions.Expect(chart).ToContainTextAsync("[decrypted]");
        await Assertions.Expect(chart).ToContainTextAsync("chosen: Esp SPI 0x");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = System.IO.Path.Combine(AppContext.BaseDirectory, "web-view-ike.png") });
    }

    [SkippableFact]
    public async Task A_nat_rebind_injected_from_the_page_shows_the_new_mapping_and_the_gateway_follows()
    {
        var page = await lab.OpenAsync();
        var peer = page.Locator("#tunnel-peer");
        await Assertions.Expect(peer).ToHaveAttributeAsync("data-peer", new Regex(@"^203\.0\.113\.10:\d+$"));
        var before = await peer.GetAttributeAsync("data-peer");
        await page.ClickAsync(".tabs button[data-tab='faults']");
        await page.SelectOptionAsync("#fault-name", "nat-rebind");
        await page.SelectOptionAsync("#fault-target", "node:isp-router");
        await page.ClickAsync("#fault-inject");
        await Assertions.Expect(page.Locator("#fault-result")).ToContainTextAsync("isp-router: applied", new() { Timeout = 10_000 });
        // Marked on the timeline, listed with the events, and the Azure gateway follows the new port.
        await Assertions.Expect(page.Locator("#timeline .fault-mark").First).ToHaveAttributeAsync("data-fault", new Regex("^nat-rebind"), new() { Timeout = 10_000 });
        await Assertions.Expect(peer).Not.ToHaveAttributeAsync("data-peer", before!, new() { Timeout = 15_000 });
        var after = await peer.GetAttributeAsync("data-peer");
        Assert.Matches(@"^203\.0\.113\.10:\d+$", after);
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("nat-rebind");
        Assert.Contains(lab.View.Recorder.Hops(), h => h.From == "isp-router" && h.To.Contains("internet") && h.Summary.StartsWith(after + " → ", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_links_live_pcapng_stream_decodes_and_decrypts_in_tshark_with_the_served_keys()
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-web-capture-").FullName;
        using var http = new HttpClient { BaseAddress = new Uri(lab.View.Address) };
        foreach (var f in new[] { "esp_sa", "ikev2_decryption_table", "preferences" })
            await File.WriteAllTextAsync(System.IO.Path.Combine(dir, f), await http.GetStringAsync($"capture/{f}"));
        // The stream stays open while the lab runs: read what it has sent in two seconds, up to the last whole block.
        using var response = await http.GetAsync("capture/isp-router_wan--internet_home.pcapng", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("application/x-pcapng", response.Content.Headers.ContentType?.MediaType);
        var bytes = new MemoryStream();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[65536];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, stop.Token)) > 0) bytes.Write(buffer, 0, n);
            }
            catch (OperationCanceledException)
            {
                // Two seconds of a live stream.
            }
        }
        var file = System.IO.Path.Combine(dir, "wan.pcapng");
        await File.WriteAllBytesAsync(file, WholeBlocks(bytes.ToArray()));
        Assert.True(tshark.Count(file, dir, "isakmp.exchangetype == 34") >= 2, "no IKE_SA_INIT in the stream");
        Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 35 && isakmp.enc.decrypted"));
        Assert.True(tshark.Count(file, dir, "esp && icmp.type == 8") >= 2, "no ESP decrypted to an echo request");
        Assert.True(tshark.Count(file, dir, "esp && icmp.type == 0") >= 2, "no ESP decrypted to an echo reply");
    }

    [SkippableFact]
    public async Task Nodes_extcap_lists_every_link_and_captures_one_into_wiresharks_fifo()
    {
        var tshark = Tshark.Require();
        var links = await Extcap.LinksAsync(lab.View.Address, CancellationToken.None);
        var interfaces = Extcap.Interfaces(links, "1.0").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("extcap {version=1.0}", interfaces[0]);
        Assert.Equal(lab.View.Recorder.Lab.Links.Length, interfaces.Length - 1);
        Assert.Contains("interface {value=nodes-isp-router_wan--internet_home}{display=Nodes link isp-router:wan--internet:home}", interfaces);
        Assert.Equal("dlt {number=228}{name=IPV4}{display=Raw IPv4 (a Nodes link has no MAC layer)}\n", Extcap.Dlts());
        Assert.Contains($"{{default={lab.View.Address}}}", Extcap.Config(lab.View.Address));
        // Wireshark's fifo: a file the extcap opens and writes; the capture runs until it is stopped.
        var dir = Directory.CreateTempSubdirectory("nodes-extcap-").FullName;
        var fifo = System.IO.Path.Combine(dir, "fifo.pcapng");
        File.WriteAllBytes(fifo, []);
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            Assert.Null(await Extcap.CaptureAsync(lab.View.Address, "nodes-isp-router_wan--internet_home", fifo, stop.Token));
        Assert.Null(await Extcap.SaveKeysAsync(lab.View.Address, dir, CancellationToken.None));
        var file = System.IO.Path.Combine(dir, "whole.pcapng");
        File.WriteAllBytes(file, WholeBlocks(File.ReadAllBytes(fifo)));
        Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 35 && isakmp.enc.decrypted"));
        Assert.True(tshark.Count(file, dir, "esp && icmp.type == 8") >= 2, "no ESP decrypted to an echo request");
        // An interface the lab does not have is a sentence, not a crash.
        Assert.Contains("has no link 'nodes-nowhere'", await Extcap.CaptureAsync(lab.View.Address, "nodes-nowhere", fifo, CancellationToken.None));
    }

    /// <summary>The pcapng blocks that arrived whole (a live stream read for a while may end inside one).</summary>
    private static byte[] WholeBlocks(byte[] data)
    {
        var at = 0;
        while (at + 12 <= data.Length)
        {
            var length = (int)BitConverter.ToUInt32(data, at + 4);
            if (length < 12 || at + length > data.Length) break;
            at += length;
        }
        return data[..at];
    }
}
