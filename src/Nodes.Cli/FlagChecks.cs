using System.Globalization;
using Nodes.Topology.Model;

namespace Nodes.Cli;

/// <summary>
/// Checks of command-line values made before anything starts: each refusal is one sentence naming the flag, the
/// value and what to write instead (exit code 2), so that a run never fails halfway, or after it printed its
/// summary, on a value the command line could have refused.
/// </summary>
internal static class FlagChecks
{
    /// <summary><c>--count</c>: the file format's bounds, and every ping item of the scenario at most a day long with it.</summary>
    public static bool CountOk(int? count, ScenarioSpec scenario, TextWriter error)
    {
        if (count is not { } n) return true;
        if (n is < 1 or > TopologyLimits.MaxPingCount)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"--count {n}: pings per ping item must be from 1 to {TopologyLimits.MaxPingCount}, as count in a scenario; nothing was started."));
            return false;
        }
        foreach (var p in scenario.Traffic.OfType<PingSpec>())
        {
            if (TopologyLimits.PingLength(p.Start, p.Interval, n) <= TopologyLimits.MaxDuration) continue;
            var most = Math.Max(1, (long)((TopologyLimits.MaxDuration - p.Start) / p.Interval));
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"--count {n}: the ping from {p.From} ({p.Location}) sends one every {p.Interval.TotalSeconds} s and would last longer than a day, the longest a lab runs; give --count {most} or less; nothing was started."));
            return false;
        }
        return true;
    }

    /// <summary><c>--wait</c> of a command that asks a running lab: seconds, more than 0 and at most 600.</summary>
    public static bool WaitOk(double seconds, TextWriter error)
    {
        if (double.IsFinite(seconds) && seconds > 0 && seconds <= 600) return true;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--wait {seconds} is not a number of seconds from 0 to 600"));
        return false;
    }

    /// <summary><c>--cluster</c>: a member's address, akka.tcp://nodes@host:port (or akka.ssl.tcp).</summary>
    public static bool ClusterAddressOk(string address, TextWriter error)
    {
        try
        {
            Nodes.Host.ClusterSettings.ParseAddress(address);
            return true;
        }
        catch (FormatException e)
        {
            error.WriteLine(e.Message);
            return false;
        }
    }

    /// <summary>A TCP port flag: 0 (any free port) to 65535.</summary>
    public static bool PortOk(int port, string flag, TextWriter error)
    {
        if (port is >= 0 and <= 65535) return true;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{flag} {port}: a TCP port is from 0 to 65535 (0 picks a free one), e.g. {flag} 4053; nothing was started."));
        return false;
    }

    /// <summary>An output folder (<c>--capture</c>): created if missing, and a file can be written in it.</summary>
    public static bool OutputFolderOk(string? folder, string flag, TextWriter error)
    {
        if (folder is null) return true;
        try
        {
            var full = Path.GetFullPath(folder);
            if (File.Exists(full))
            {
                error.WriteLine($"{flag} {folder}: this is a file, and {flag} names a folder; give a folder path (it is created if missing); nothing was started.");
                return false;
            }
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".nodes-write-check-{Environment.ProcessId}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"{flag} {folder}: cannot write there ({e.Message}); give a folder you can write to; nothing was started.");
            return false;
        }
    }

    /// <summary>An output file (<c>--trace-file</c>): its folder exists and the file can be written, checked without leaving it behind.</summary>
    public static bool OutputFileOk(string? file, string flag, TextWriter error)
    {
        if (file is null) return true;
        try
        {
            var full = Path.GetFullPath(file);
            if (Directory.Exists(full))
            {
                error.WriteLine($"{flag} {file}: this is a folder; give a file path, e.g. {flag} {Path.Combine(file, "spans.json")}; nothing was started.");
                return false;
            }
            var existed = File.Exists(full);
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite, 1, existed ? FileOptions.None : FileOptions.DeleteOnClose))
            {
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"{flag} {file}: cannot write this file ({e.Message}); give a path in a folder you can write to; nothing was started.");
            return false;
        }
    }
}
