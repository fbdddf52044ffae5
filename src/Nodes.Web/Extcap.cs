using System.Globalization;
using System.Net.Http.Json;
using System.Text;

namespace Nodes.Web;

/// <summary>
/// Wireshark's extcap interface for a running lab's web view (<c>nodes extcap</c>): every link of the lab is a capture
/// interface, whose packets are the link's live pcapng stream. Wireshark asks for the interfaces, their link-layer
/// type and their options, then starts a capture writing into a fifo it reads (extcap protocol, Wireshark's
/// doc/extcap.adoc: <c>--extcap-interfaces</c>, <c>--extcap-dlts</c>, <c>--extcap-config</c>, <c>--capture --fifo</c>).
/// </summary>
public static class Extcap
{
    /// <summary>Interface names start with this, so that Wireshark's list shows where they come from.</summary>
    public const string Prefix = "nodes-";

    /// <summary>The web view Wireshark's calls reach when no --url is given: $NODES_WEB_URL, else the default port on loopback.</summary>
    public static string DefaultUrl(int port) => Environment.GetEnvironmentVariable("NODES_WEB_URL") is { Length: > 0 } u ? u : $"http://127.0.0.1:{port}/";

    /// <summary>A link as the web view's /capture lists it.</summary>
    public sealed record Link([property: System.Text.Json.Serialization.JsonPropertyName("link")] string Name, string Url);

    /// <summary>The lab's links as the web view lists them; empty when no web view answers (Wireshark then shows none).</summary>
    public static async Task<IReadOnlyList<Link>> LinksAsync(string url, CancellationToken cancel)
    {
        using var http = Client(url, TimeSpan.FromSeconds(3));
        try
        {
            var links = await http.GetFromJsonAsync<Link?[]>("capture", cancel) ?? [];
            return links.Where(l => l is { Name.Length: > 0, Url.Length: > 0 }).Select(l => l!).ToArray();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return [];
        }
    }

    /// <summary>The answer to <c>--extcap-interfaces</c>: the extcap version line and one line per link.</summary>
    public static string Interfaces(IReadOnlyList<Link> links, string version)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"extcap {{version={version}}}{{display=Nodes lab links (nodes run FILE --web)}}\n");
        foreach (var l in links)
            sb.Append(CultureInfo.InvariantCulture, $"interface {{value={InterfaceName(l)}}}{{display=Nodes link {l.Name}}}\n");
        return sb.ToString();
    }

    public static string InterfaceName(Link l) => Prefix + WebView.SafeName(l.Name);

    /// <summary>The answer to <c>--extcap-dlts</c>: Nodes links carry raw IPv4 (LINKTYPE_IPV4, 228).</summary>
    public static string Dlts() => $"dlt {{number={Capture.PcapngWriter.LinkTypeIpv4}}}{{name=IPV4}}{{display=Raw IPv4 (a Nodes link has no MAC layer)}}\n";

    /// <summary>The answer to <c>--extcap-config</c>: the one option, the web view's address.</summary>
    public static string Config(string url) =>
        $"arg {{number=0}}{{call=--url}}{{display=Web view address}}{{type=string}}{{default={url}}}{{tooltip=The address nodes run FILE --web printed}}\n";

    /// <summary>
    /// Copies the link's live pcapng stream into <paramref name="fifo"/> until the stream ends (the run is over), Wireshark
    /// stops the capture (the fifo closes) or <paramref name="cancel"/> fires. Returns a sentence on failure, null when done.
    /// </summary>
    public static async Task<string?> CaptureAsync(string url, string iface, string fifo, CancellationToken cancel)
    {
        var links = await LinksAsync(url, cancel);
        var link = links.FirstOrDefault(l => InterfaceName(l) == iface);
        if (link is null)
            return links.Count == 0
                ? $"no Nodes web view answers at {url}: start one with nodes run FILE --web, or give its address with --url"
                : $"the lab at {url} has no link '{iface}' (interfaces: {string.Join(", ", links.Select(InterfaceName))})";
        using var http = Client(url, Timeout.InfiniteTimeSpan);
        try
        {
            using var response = await http.GetAsync(link.Url.TrimStart('/'), HttpCompletionOption.ResponseHeadersRead, cancel);
            if (!response.IsSuccessStatusCode) return $"{url}{link.Url.TrimStart('/')} answered {(int)response.StatusCode}";
            await using var source = await response.Content.ReadAsStreamAsync(cancel);
            await using var target = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false);
            var buffer = new byte[65536];
            int n;
            while ((n = await source.ReadAsync(buffer, cancel)) > 0)
            {
                target.Write(buffer, 0, n);
                target.Flush();
            }
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (IOException)
        {
            // Wireshark closed the fifo (the capture was stopped), or the lab ended the stream.
            return null;
        }
        catch (HttpRequestException e)
        {
            return $"the web view at {url} went away: {e.Message}";
        }
    }

    /// <summary>
    /// Writes the script Wireshark runs as the extcap (it must be an executable file in its extcap folder) and returns
    /// its path: it calls this <c>nodes</c> with the <c>extcap</c> verb.
    /// </summary>
    public static string Install(string folder, string command)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "nodes-extcap");
        File.WriteAllText(path, $"#!/bin/sh\n# Nodes lab links as Wireshark interfaces (written by nodes extcap --install).\nexec {command} extcap \"$@\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>Wireshark's personal extcap folder on Linux and macOS (Wireshark 4: ~/.local/lib/wireshark/extcap).</summary>
    public static string PersonalFolder() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "lib", "wireshark", "extcap");

    /// <summary>Fetches the web view's key files (esp_sa, ikev2_decryption_table, preferences) into <paramref name="folder"/>.</summary>
    public static async Task<string?> SaveKeysAsync(string url, string folder, CancellationToken cancel)
    {
        using var http = Client(url, TimeSpan.FromSeconds(5));
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var f in new[] { "esp_sa", "ikev2_decryption_table", "preferences" })
                await File.WriteAllTextAsync(Path.Combine(folder, f), await http.GetStringAsync($"capture/{f}", cancel), cancel);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"no Nodes web view answers at {url} ({e.Message}): start one with nodes run FILE --web, or give its address with --url";
        }
    }

    private static HttpClient Client(string url, TimeSpan timeout) => new() { BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/"), Timeout = timeout };
}
