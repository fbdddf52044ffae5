using System.Diagnostics;
using System.Text;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Interop.Tests;

/// <summary>
/// A real strongSwan peer for one test, in network namespaces of this machine only: "left" holds the simulated
/// gateway's external address 198.51.100.1 (the nodes process runs there), "right" holds charon at 198.51.100.2 with
/// the inner address 10.0.10.1 on lo; with a NAT, a middle namespace masquerades left (172.16.0.2) behind 198.51.100.3.
/// charon runs with kernel-libipsec (userspace ESP over a TUN), its own /run and its own vici socket. Disposing stops
/// every process the lab started, by its id, and deletes the namespaces (veths and the TUN go with them).
/// </summary>
public sealed class InteropLab : IDisposable
{
    public const string LeftOuter = "198.51.100.1";
    public const string RightOuter = "198.51.100.2";
    public const string NatOuter = "198.51.100.3";
    public const string LeftBehindNat = "172.16.0.2";
    public const string NatInside = "172.16.0.1";
    public const string RightInner = "10.0.10.1";
    public const string LeftId = "left@sswan.test";
    public const string RightId = "right@sswan.test";
    public const string SharedKey = "oracle-test-psk-0123456789";
    public const string Charon = "/usr/lib/ipsec/charon";
    public const string LibIpsecPlugin = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so";

    private static int _serial;
    private readonly ITestOutputHelper _output;
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _processes = [];
    private Process? _charon;

    public string Left { get; }
    public string Right { get; }
    public string? Nat { get; }
    public string Directory { get; }
    public string CharonDirectory => Path.Combine(Directory, "right");
    public string CharonLogPath => Path.Combine(CharonDirectory, "charon.log");

    /// <summary>Skips (or fails under CI) unless ip, swanctl, charon with kernel-libipsec and root rights are here.</summary>
    public static void RequireEnvironment(bool nat = false)
    {
        ExternalTool.Require("ip", "apt-get install iproute2");
        ExternalTool.Require("swanctl", "apt-get install strongswan-swanctl");
        RequireFile(Charon, "apt-get install strongswan-charon");
        RequireFile(LibIpsecPlugin, "apt-get install libcharon-extra-plugins");
        if (nat) ExternalTool.Require("nft", "apt-get install nftables");
        if (Environment.UserName != "root") Unavailable("network namespaces need root (ip netns add)");
    }

    private static void RequireFile(string path, string hint)
    {
        if (!File.Exists(path)) Unavailable($"{path} is missing ({hint})");
    }

    private static void Unavailable(string reason)
    {
        if (ExternalTool.InCi) throw new InvalidOperationException($"CI is set and {reason}");
        throw new SkipException(reason);
    }

    public InteropLab(ITestOutputHelper output, string name, bool nat = false)
    {
        _output = output;
        var n = Interlocked.Increment(ref _serial);
        var tag = $"{Environment.ProcessId % 100000}{n}";
        Left = $"nit{tag}l";
        Right = $"nit{tag}r";
        Nat = nat ? $"nit{tag}n" : null;
        Directory = Path.Combine(Path.GetTempPath(), "nodes-interop", $"{name}-{tag}");
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        System.IO.Directory.CreateDirectory(CharonDirectory);
        _output.WriteLine($"lab {name}: namespaces {Left}, {Right}{(nat ? ", " + Nat : "")}; files in {Directory}");
        try
        {
            Build();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Build()
    {
        foreach (var ns in new[] { Left, Right, Nat }.OfType<string>())
        {
            Ip("netns", "add", ns);
            _namespaces.Add(ns);
            Ip("-n", ns, "link", "set", "lo", "up");
            Exec(ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.ip_forward=1");
        }
        if (Nat is null)
        {
            Veth(Left, "vsw-l", $"{LeftOuter}/24", Right, "vsw-r", $"{RightOuter}/24");
        }
        else
        {
            Veth(Left, "vsw-l", $"{LeftBehindNat}/24", Nat, "vsn-l", $"{NatInside}/24");
            Veth(Nat, "vsn-r", $"{NatOuter}/24", Right, "vsw-r", $"{RightOuter}/24");
            Ip("-n", Left, "route", "add", "default", "via", NatInside);
            var rules = Path.Combine(Directory, "nat.nft");
            File.WriteAllText(rules, """
                table ip nodes_interop {
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    oifname "vsn-r" masquerade
                  }
                }
                """);
            Exec(Nat, "nft", "-f", rules);
        }
        Ip("-n", Right, "addr", "add", $"{RightInner}/32", "dev", "lo");
    }

    private void Veth(string nsA, string a, string addrA, string nsB, string b, string addrB)
    {
        Ip("link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB);
        Ip("-n", nsA, "addr", "add", addrA, "dev", a);
        Ip("-n", nsB, "addr", "add", addrB, "dev", b);
        Ip("-n", nsA, "link", "set", a, "up");
        Ip("-n", nsB, "link", "set", b, "up");
    }

    private static void Ip(params string[] args) => Check("ip", args);

    /// <summary>Runs a command in a namespace and requires exit code 0.</summary>
    public ExternalTool.Result Exec(string ns, params string[] args) => Check("ip", ["netns", "exec", ns, .. args]);

    /// <summary>Runs a command in a namespace and returns whatever it gave.</summary>
    public static ExternalTool.Result TryExec(string ns, TimeSpan timeout, params string[] args) =>
        ExternalTool.Run("ip", ["netns", "exec", ns, .. args], timeout);

    private static ExternalTool.Result Check(string file, string[] args)
    {
        var r = ExternalTool.Run(file, args, TimeSpan.FromSeconds(30));
        if (r.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({r.ExitCode}): {r.StdErr}{r.StdOut}");
        return r;
    }

    // ---------------------------------------------------------------------------------------------------------
    // charon

    /// <summary>Writes strongswan.conf and swanctl.conf, starts charon in the right namespace and loads the connection.</summary>
    /// <param name="swanctlConf">swanctl.conf to load instead of the one <paramref name="config"/> writes (an exported one).</param>
    public void StartCharon(CharonConfig config, string? swanctlConf = null)
    {
        var dir = CharonDirectory;
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "run"));
        File.WriteAllText(Path.Combine(dir, "strongswan.conf"), config.StrongswanConf(dir));
        File.WriteAllText(Path.Combine(dir, "swanctl.conf"), swanctlConf ?? config.SwanctlConf());
        // charon's pid file is fixed at /run/charon.pid: each instance gets its own /run, a bind mount inside the
        // private mount namespace ip netns exec creates; it disappears with the process.
        var psi = new ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "netns", "exec", Right, "sh", "-c", $"mount --bind '{dir}/run' /run && STRONGSWAN_CONF='{dir}/strongswan.conf' exec {Charon}" })
            psi.ArgumentList.Add(a);
        _charon = Process.Start(psi) ?? throw new InvalidOperationException("charon did not start");
        _processes.Add(_charon);
        var stdout = new StringBuilder();
        _charon.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        _charon.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        _charon.BeginOutputReadLine();
        _charon.BeginErrorReadLine();
        var vici = Path.Combine(dir, "charon.vici");
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(vici) && DateTime.UtcNow < until && !_charon.HasExited) Thread.Sleep(50);
        if (!File.Exists(vici)) throw new InvalidOperationException($"charon opened no vici socket: {stdout}");
        var load = Swanctl("--load-all", "--file", Path.Combine(dir, "swanctl.conf"), "--noprompt");
        if (load.ExitCode != 0) throw new InvalidOperationException($"swanctl --load-all failed: {load.StdOut}{load.StdErr}");
    }

    /// <summary>swanctl against this lab's charon (the URI goes after the command).</summary>
    public ExternalTool.Result Swanctl(params string[] args) =>
        TryExec(Right, TimeSpan.FromSeconds(30), ["swanctl", args[0], "--uri", $"unix://{CharonDirectory}/charon.vici", .. args[1..]]);

    public string CharonLog() => File.Exists(CharonLogPath) ? File.ReadAllText(CharonLogPath) : "";

    public bool CharonRunning => _charon is { HasExited: false };

    /// <summary>Kills charon at once (SIGKILL): a dead peer, no DELETE sent.</summary>
    public void KillCharon()
    {
        if (_charon is { HasExited: false } c) c.Kill();
        _charon?.WaitForExit(5000);
    }

    // ---------------------------------------------------------------------------------------------------------
    // nodes

    /// <summary>Starts <c>nodes run FILE ARGS</c> in the left namespace, with the CLI built next to these tests.</summary>
    public NodesProcess StartNodes(string topologyYaml, params string[] args)
    {
        var file = Path.Combine(Directory, $"topology-{_processes.Count}.yaml");
        File.WriteAllText(file, topologyYaml);
        var dll = Path.Combine(AppContext.BaseDirectory, "nodes.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"the nodes command is not built next to the tests: {dll}");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : ExternalTool.Find("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH");
        var p = new NodesProcess(Left, dotnet, dll, file, args, _output);
        _processes.Add(p.Process);
        return p;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (p.HasExited) continue;
                if (p == _charon)
                {
                    ExternalTool.Run("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
                    if (p.WaitForExit(3000)) continue;
                }
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // the process was never started or already reaped
            }
        }
        foreach (var ns in _namespaces)
        {
            var r = ExternalTool.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(10));
            if (r.ExitCode != 0) _output.WriteLine($"could not delete namespace {ns}: {r.StdErr}");
        }
        _namespaces.Clear();
        if (File.Exists(CharonLogPath)) _output.WriteLine($"charon log: {CharonLogPath}");
    }
}
