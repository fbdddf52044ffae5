using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>One <c>nodes run</c> inside a namespace: its terminal lines (stderr with --json) and its JSON summary (stdout).</summary>
public sealed class NodesProcess
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly ITestOutputHelper _output;

    public Process Process { get; }

    public NodesProcess(string ns, string dotnet, string dll, string topology, IEnumerable<string> args, ITestOutputHelper output)
    {
        _output = output;
        var psi = new ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "netns", "exec", ns, dotnet, dll, "run", topology, "--json" }.Concat(args)) psi.ArgumentList.Add(a);
        Process = Process.Start(psi) ?? throw new InvalidOperationException("nodes did not start");
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public string Terminal { get { lock (_stderr) return _stderr.ToString(); } }

    public string Json { get { lock (_stdout) return _stdout.ToString(); } }

    /// <summary>Waits until a terminal line contains <paramref name="text"/>; false on timeout or exit.</summary>
    public bool WaitForLine(string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (Terminal.Contains(text, StringComparison.Ordinal)) return true;
            if (Process.HasExited) return Terminal.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Waits for the run to end and returns its exit code and summary.</summary>
    public (int ExitCode, JsonElement Summary) Finish(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"nodes did not finish within {timeout.TotalSeconds:0} s:\n{Terminal}");
        }
        Process.WaitForExit(); // drains the asynchronous readers
        _output.WriteLine(Terminal);
        _output.WriteLine(Json);
        var json = Json;
        var start = json.IndexOf('{', StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"nodes printed no summary (exit {Process.ExitCode}):\n{Terminal}");
        return (Process.ExitCode, JsonDocument.Parse(json[start..]).RootElement.Clone());
    }
}
