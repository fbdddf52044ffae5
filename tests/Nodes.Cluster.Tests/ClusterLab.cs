using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>The command lines of a multi-process lab, shared by the process tests and the deployment checks.</summary>
public static class LabCommandLine
{
    public const string Topology = "topology/azure-s2s-rras.yaml";

    /// <summary>The seed topology's nodes, one member each.</summary>
    public static readonly string[] Nodes = ["client", "rras", "isp-router", "internet", "azure-gw", "vnet-router", "vm"];

    /// <summary>The first two nodes' members are the seed nodes (one seed may be down while the other admits members).</summary>
    public static readonly string[] SeedMembers = ["internet", "azure-gw"];

    public static string Address(string host, int port, bool tls = false) => $"{(tls ? "akka.ssl.tcp" : "akka.tcp")}://nodes@{host}:{port}";

    /// <summary><c>nodes host</c> for one node, with everything the deployment files must say too.</summary>
    public static List<string> Host(string topology, string node, string hostname, string? publicHostname, int port, IEnumerable<string> seeds, double timeScale)
    {
        var args = new List<string> { "host", topology, "--node", node, "--hostname", hostname };
        if (publicHostname is not null) args.AddRange(["--public-hostname", publicHostname]);
        args.AddRange(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed-nodes", string.Join(",", seeds),
            "--time-scale", timeScale.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet"]);
        return args;
    }
}

/// <summary>One <c>nodes</c> process (a member or a driver), optionally inside a network namespace.</summary>
public sealed class NodesProcess : IDisposable
{
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    public NodesProcess(string name, IReadOnlyList<string> args, string? netns = null, IReadOnlyDictionary<string, string>? environment = null)
        : this(name, args, StartInfo(args, netns, environment))
    {
    }

    private NodesProcess(string name, IReadOnlyList<string> args, ProcessStartInfo psi)
    {
        Name = name;
        Args = args;
        Process = Process.Start(psi) ?? throw new InvalidOperationException($"{name} did not start");
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>
    /// nodes started by another program: <paramref name="launcher"/> (e.g. <c>podman run ... IMAGE</c>, whose entry point
    /// is nodes) followed by the nodes arguments.
    /// </summary>
    public static NodesProcess Through(string name, IReadOnlyList<string> launcher, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(launcher[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in launcher.Skip(1).Concat(args)) psi.ArgumentList.Add(a);
        return new NodesProcess(name, args, psi);
    }

    private static ProcessStartInfo StartInfo(IReadOnlyList<string> args, string? netns, IReadOnlyDictionary<string, string>? environment)
    {
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : ExternalTool.Find("dotnet") ?? "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "nodes.dll");
        var psi = new ProcessStartInfo(netns is null ? dotnet : "ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, dotnet }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_TieredPGO"] = "0";
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }

    public string Name { get; }
    public IReadOnlyList<string> Args { get; }
    public Process Process { get; }
    public string StdOut { get { lock (_out) return _out.ToString(); } }
    public string StdErr { get { lock (_err) return _err.ToString(); } }

    public bool WaitForOutput(string text, TimeSpan timeout) => WaitFor(() => StdOut, text, timeout);

    public bool WaitForStdErr(string text, TimeSpan timeout) => WaitFor(() => StdErr, text, timeout);

    private bool WaitFor(Func<string> output, string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (output().Contains(text, StringComparison.Ordinal)) return true;
            if (Process.HasExited) return false;
            Thread.Sleep(50);
        }
        return false;
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"{Name} did not finish within {timeout.TotalSeconds:0} s\n{StdOut}\n{StdErr}");
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Kill()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }
}

/// <summary>
/// The seed lab with every node in its own <c>nodes host</c> process. On loopback each member has its own port; in
/// network namespaces each has its own namespace and address on a bridge, as on separate machines.
/// </summary>
public sealed class ClusterLab : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly Func<string, string?> _netnsOf;

    public ClusterLab(ITestOutputHelper output, Func<string, string> hostOf, Func<string, int> portOf, Func<string, string?>? netnsOf = null, double timeScale = 1,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        _output = output;
        _environment = environment;
        HostOf = hostOf;
        PortOf = portOf;
        _netnsOf = netnsOf ?? (_ => null);
        TimeScale = timeScale;
    }

    private readonly IReadOnlyDictionary<string, string>? _environment;

    public Func<string, string> HostOf { get; }
    public Func<string, int> PortOf { get; }
    public double TimeScale { get; }
    public Dictionary<string, NodesProcess> Members { get; } = [];

    public IReadOnlyList<string> Seeds => LabCommandLine.SeedMembers.Select(s => LabCommandLine.Address(HostOf(s), PortOf(s))).ToList();

    public string SeedAddress => Seeds[0];

    /// <summary>Free TCP ports on loopback, one per node.</summary>
    public static Dictionary<string, int> FreePorts()
    {
        var listeners = LabCommandLine.Nodes.Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = LabCommandLine.Nodes.Zip(listeners, (n, l) => (n, ((IPEndPoint)l.LocalEndpoint).Port)).ToDictionary(x => x.n, x => x.Port);
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    /// <summary>This lab's members keep the record of their runs here, apart from other labs that may reuse a port.</summary>
    public string StateDirectory { get; } = Directory.CreateTempSubdirectory("nodes-clusterlab-").FullName;

    public IReadOnlyList<string> HostArgs(string node) =>
        [.. LabCommandLine.Host(LabCommandLine.Topology, node, HostOf(node), null, PortOf(node), Seeds, TimeScale), "--state-dir", StateDirectory];

    public NodesProcess Start(string node)
    {
        var p = new NodesProcess(node, HostArgs(node), _netnsOf(node), _environment);
        Members[node] = p;
        return p;
    }

    public void StartAll()
    {
        foreach (var n in LabCommandLine.Nodes) Start(n);
        foreach (var (n, p) in Members)
            Assert.True(p.WaitForOutput("member ", TimeSpan.FromSeconds(60)), $"member {n} did not start:\n{p.StdOut}\n{p.StdErr}");
    }

    /// <summary><c>nodes run FILE --cluster ADDRESS --json</c> as a process; returns its exit code and JSON summary.</summary>
    public (int ExitCode, System.Text.Json.JsonElement Summary, NodesProcess Driver) Drive(string? netns = null, params string[] extra)
    {
        var driver = new NodesProcess("driver", ["run", LabCommandLine.Topology, "--cluster", SeedAddress, "--json", .. extra], netns);
        var code = driver.WaitForExit(TimeSpan.FromSeconds(180));
        _output.WriteLine("driver stderr:\n" + driver.StdErr);
        var json = driver.StdOut;
        _output.WriteLine("driver stdout:\n" + json);
        var start = json.IndexOf('{');
        Assert.True(start >= 0, $"the driver printed no JSON summary (exit {code}):\n{driver.StdErr}");
        return (code, System.Text.Json.JsonDocument.Parse(json[start..]).RootElement.Clone(), driver);
    }

    public void Dispose()
    {
        foreach (var (n, p) in Members)
        {
            p.Kill();
            _output.WriteLine($"--- member {n} (exit {(p.Process.HasExited ? p.Process.ExitCode : -1)})\n{p.StdOut}{p.StdErr}");
            p.Dispose();
        }
        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a member still writing its record as it died: the folder is in the temporary folder anyway
        }
    }
}
