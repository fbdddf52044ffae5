namespace Nodes.TestKit;

/// <summary>
/// tshark as the outside judge of what Nodes writes. Every call runs with its own Wireshark configuration
/// folder (the key files of the capture, or an empty folder), so the user's profile never changes a verdict,
/// and with IPv4, UDP and ICMP checksum validation switched on.
/// </summary>
public sealed class Tshark
{
    private readonly string _path;

    private Tshark(string path) => _path = path;

    /// <summary>tshark from PATH; skipped with the reason where it is missing, a failure when CI is set.</summary>
    public static Tshark Require() =>
        new(ExternalTool.Require("tshark", "apt-get install tshark"));

    private static readonly string[] ChecksumPrefs =
    [
        "-o", "ip.check_checksum:TRUE",
        "-o", "udp.check_checksum:TRUE",
    ];

    /// <summary>Runs tshark on <paramref name="capture"/> with the given configuration folder and extra arguments.</summary>
    public string Run(string capture, string? configDirectory, params string[] args)
    {
        var config = configDirectory ?? EmptyConfig();
        var all = new List<string> { "-n", "-r", capture };
        all.AddRange(ChecksumPrefs);
        all.AddRange(args);
        var result = ExternalTool.Run(_path, all, TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string> { ["WIRESHARK_CONFIG_DIR"] = config, ["HOME"] = config });
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"tshark exited {result.ExitCode}: {result.StdErr}");
        return result.StdOut;
    }

    /// <summary>One line per packet: the values of <paramref name="fields"/>, tab-separated, for packets matching <paramref name="filter"/>.</summary>
    public IReadOnlyList<string[]> Fields(string capture, string? configDirectory, string filter, params string[] fields)
    {
        var args = new List<string> { "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|" };
        if (!string.IsNullOrEmpty(filter)) { args.Add("-Y"); args.Add(filter); }
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        var output = Run(capture, configDirectory, [.. args]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
    }

    /// <summary>Number of packets matching the display filter.</summary>
    public int Count(string capture, string? configDirectory, string filter) =>
        Fields(capture, configDirectory, filter, "frame.number").Count;

    /// <summary>Full packet dissection (-V) of the packets matching <paramref name="filter"/>.</summary>
    public string Verbose(string capture, string? configDirectory, string filter) =>
        Run(capture, configDirectory, "-V", "-Y", filter);

    private static string EmptyConfig()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nodes-tshark-empty");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
