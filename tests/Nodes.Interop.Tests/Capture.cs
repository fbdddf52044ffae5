using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nodes.TestKit;

namespace Nodes.Interop.Tests;

/// <summary>tshark writing what crosses one interface of a namespace (UDP 500/4500 unless another filter is given) into a pcapng file.</summary>
public sealed class Capture : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public Capture(string ns, string iface, string file, string tshark, string filter = "udp port 500 or udp port 4500")
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", ns, tshark, "-q", "-i", iface, "-f", filter, "-w", file }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("tshark did not start");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < until && !_process.HasExited)
        {
            lock (_stderr) if (_stderr.ToString().Contains("Capturing on", StringComparison.Ordinal)) return;
            Thread.Sleep(50);
        }
        lock (_stderr) throw new InvalidOperationException($"tshark did not start capturing: {_stderr}");
    }

    /// <summary>Stops the capture (SIGINT, so tshark finishes the file).</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        // The capture process hands packets to the file in batches: give the last ones time to get there.
        Thread.Sleep(1500);
        ExternalTool.Run("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
