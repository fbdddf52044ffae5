using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Nodes.Telemetry;

/// <summary>
/// The standalone Aspire dashboard from the restored package Aspire.Dashboard.Sdk.linux-x64 (never downloaded at run
/// time), started on 127.0.0.1 with free ports for its UI, OTLP/gRPC and OTLP/HTTP, anonymous access, in-memory only.
/// Disposing stops the process this instance started.
/// </summary>
public sealed class AspireDashboard : IDisposable
{
    public const string PackageId = "aspire.dashboard.sdk.linux-x64";
    public const string PackageVersion = "13.6.5";

    private readonly Process _process;

    private AspireDashboard(Process process, Uri ui, Uri otlpGrpc, Uri otlpHttp)
    {
        _process = process;
        Ui = ui;
        OtlpGrpc = otlpGrpc;
        OtlpHttp = otlpHttp;
    }

    public Uri Ui { get; }
    public Uri OtlpGrpc { get; }
    public Uri OtlpHttp { get; }

    /// <summary>The dashboard page of one trace.</summary>
    public string TraceUrl(string traceId) => new Uri(Ui, $"traces/detail/{traceId}").ToString();

    /// <summary>The executable in the package cache, or null when the package was not restored here.</summary>
    public static string? FindExecutable()
    {
        var roots = new List<string?>
        {
            typeof(AspireDashboard).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value,
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        };
        foreach (var root in roots.Where(r => !string.IsNullOrWhiteSpace(r)))
        {
            var candidate = Path.Combine(root!, PackageId, PackageVersion, "tools", "Aspire.Dashboard");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Starts the dashboard and waits until its API answers.</summary>
    public static async Task<AspireDashboard> StartAsync(string executable, TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(executable);
            if ((mode & UnixFileMode.UserExecute) == 0) File.SetUnixFileMode(executable, mode | UnixFileMode.UserExecute);
        }
        var (ui, grpc, http) = (FreePort(), FreePort(), FreePort());
        var psi = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(executable)!,
        };
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ui}";
        psi.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{grpc}";
        psi.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{http}";
        psi.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        psi.Environment["DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        // The dashboard is this run's viewer: our own OTLP settings must not make it export its telemetry anywhere.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {executable}");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var dashboard = new AspireDashboard(process, new Uri($"http://127.0.0.1:{ui}/"), new Uri($"http://127.0.0.1:{grpc}"), new Uri($"http://127.0.0.1:{http}"));
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (process.HasExited)
            {
                string output;
                lock (log) output = log.ToString();
                dashboard.Dispose();
                throw new InvalidOperationException($"the Aspire dashboard exited with code {process.ExitCode}:\n{output}");
            }
            try
            {
                using var r = await client.GetAsync(new Uri(dashboard.Ui, "api/telemetry/traces"), cancel);
                if (r.IsSuccessStatusCode) return dashboard;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested) { }
            if (DateTime.UtcNow > until)
            {
                dashboard.Dispose();
                throw new TimeoutException($"the Aspire dashboard did not answer on {dashboard.Ui} in time");
            }
            await Task.Delay(250, cancel);
        }
    }

    /// <summary>What the dashboard holds, as OTLP JSON (<c>GET /api/telemetry/traces</c>).</summary>
    public async Task<string> TracesJsonAsync(CancellationToken cancel = default)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await client.GetStringAsync(new Uri(Ui, "api/telemetry/traces"), cancel);
    }

    /// <summary>Blocks until the dashboard process ends (or <paramref name="cancel"/> fires).</summary>
    public Task WaitForExitAsync(CancellationToken cancel) => _process.WaitForExitAsync(cancel);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
