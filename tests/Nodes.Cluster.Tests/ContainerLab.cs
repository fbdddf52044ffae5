using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nodes.Telemetry;
using Nodes.TestKit;
using YamlDotNet.RepresentationModel;

namespace Nodes.Cluster.Tests;

/// <summary>
/// The seed lab in containers, from deploy/compose.yaml, on rootful podman with the image deploy/podman/setup.sh builds.
/// The compose file is read and written out again with what a lab on a shared machine needs on top: an internal
/// network made here (nothing reaches outside), protocol timers ten times faster (so that a dead peer is found in
/// seconds), TLS between the members with a certificate made here and mounted into every container, and the OTLP
/// endpoint of an Aspire dashboard (from the restored package, mounted into a container of the same image) in place of
/// Jaeger, whose image no registry serves here. Everything else (image, hostnames, restart policy, start order, the
/// members' command lines) is the file's own. Started once for the tests of a class; disposing removes the containers
/// and the network and puts back what the engine changed on the host (forwarding, firewall tables).
/// </summary>
public sealed class ContainerLab : IDisposable
{
    public const string Image = "nodes:latest";
    public const int TimeScale = 10;
    private const string CertificateInContainer = "/tls/member.pfx";

    private readonly object _gate = new();
    private readonly StringBuilder _log = new();
    private Exception? _failed;
    private bool _up;
    private string? _dir;
    private string? _ipForward;
    private HashSet<string>? _nftTables;
    private string? _password;

    public string Project { get; } = $"nodesct{Environment.ProcessId % 100000}";
    public string Network => $"{Project}-net";
    public string ComposeFile => Path.Combine(_dir!, "compose.yaml");
    public string TlsDirectory => Path.Combine(_dir!, "tls");
    public string Podman { get; private set; } = "podman";
    public string PodmanCompose { get; private set; } = "podman-compose";

    /// <summary>How long from <c>up</c> until every member said it had started, and until the dashboard answered.</summary>
    public TimeSpan MembersStartedAfter { get; private set; }

    public static string SeedAddress => LabCommandLine.Address(LabCommandLine.SeedMembers[0], 4053, tls: true);

    /// <summary>The container podman-compose 1.0.3 names for a service.</summary>
    public string Container(string service) => $"{Project}_{service}_1";

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Starts the lab the first time a test asks; skips (outside CI) or fails (in CI) when no engine is here.</summary>
    public void Up()
    {
        Podman = ExternalTool.Require("podman", "Debian package podman; sudo deploy/podman/setup.sh installs it and builds the image");
        PodmanCompose = ExternalTool.Require("podman-compose", "Debian package podman-compose; sudo deploy/podman/setup.sh installs it");
        if (Environment.UserName != "root") Unavailable("the container tests use rootful podman: run them as root");
        if (Run(Podman, ["image", "exists", Image]).ExitCode != 0) Unavailable($"the image {Image} is not built: sudo deploy/podman/setup.sh");
        var dashboard = ExternalTool.RequireFound(AspireDashboard.FindExecutable(),
            $"the Aspire dashboard package {AspireDashboard.PackageId} {AspireDashboard.PackageVersion} is not in the package cache (dotnet restore src/Nodes.Telemetry)");
        lock (_gate)
        {
            if (_failed is not null) throw new InvalidOperationException("the container lab did not start", _failed);
            if (_up) return;
            try
            {
                Start(dashboard);
                _up = true;
            }
            catch (Exception e)
            {
                _failed = e;
                throw;
            }
        }
    }

    private static void Unavailable(string reason)
    {
        if (ExternalTool.InCi) throw new InvalidOperationException($"CI is set and {reason}");
        throw new SkipException(reason);
    }

    private void Start(string dashboardExecutable)
    {
        _ipForward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        _nftTables = NftTables();
        _dir = Directory.CreateTempSubdirectory("nodes-containers-").FullName;
        Mode(_dir, "755");

        // One self-signed certificate for every member: a self-signed certificate accepts itself as the peer's.
        Directory.CreateDirectory(TlsDirectory);
        _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=nodes-lab", key, HashAlgorithmName.SHA256);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
            File.WriteAllBytes(Path.Combine(TlsDirectory, "member.pfx"), cert.Export(X509ContentType.Pfx, _password));
        }
        // The members run as UID 1654: the mounted files must be readable by others.
        Mode(TlsDirectory, "755");
        Mode(Path.Combine(TlsDirectory, "member.pfx"), "644");

        // The dashboard's files, readable and executable by the container's user.
        var dashboardDir = Path.Combine(_dir, "dashboard");
        Copy(Path.GetDirectoryName(dashboardExecutable)!, dashboardDir);

        File.WriteAllText(ComposeFile, LabComposeFile(Path.Combine(AppContext.BaseDirectory, "deploy", "compose.yaml"), dashboardDir));
        Check(Run(Podman, ["network", "create", "--internal", Network]), "podman network create --internal");

        var started = Stopwatch.StartNew();
        Check(Run(PodmanCompose, ["-p", Project, "-f", ComposeFile, "up", "-d", .. LabCommandLine.Nodes, "dashboard"], TimeSpan.FromSeconds(180)), "podman-compose up");
        foreach (var node in LabCommandLine.Nodes)
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (!Run(Podman, ["logs", Container(node)]).StdOut.Contains($"member {node} of ", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > until) throw new TimeoutException($"member {node} did not start:\n{Logs(node)}");
                Thread.Sleep(250);
            }
        }
        MembersStartedAfter = started.Elapsed;
        WaitForDashboard(TimeSpan.FromSeconds(60));
        Note($"members up after {MembersStartedAfter.TotalSeconds:0.0} s, dashboard at {DashboardUi}");
    }

    private static void Mode(string path, string octal)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        Mode(to, "755");
        foreach (var file in Directory.GetFiles(from))
        {
            var target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target);
            Mode(target, "755");
        }
        foreach (var dir in Directory.GetDirectories(from)) Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary>
    /// deploy/compose.yaml with the lab's additions, written as JSON (which every compose implementation reads as YAML):
    /// one file, since podman-compose 1.0.3 appends list values of a second -f file instead of replacing them.
    /// </summary>
    public string LabComposeFile(string composePath, string dashboardDir)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(composePath)) stream.Load(reader);
        var services = (YamlMappingNode)Get((YamlMappingNode)stream.Documents.Single().RootNode, "services")!;
        var tlsVolume = $"{TlsDirectory}:/tls:ro";
        var otlp = "http://dashboard:18889";
        var outServices = new JsonObject();
        foreach (var node in LabCommandLine.Nodes)
        {
            var service = Resolve((YamlMappingNode)services.Children[new YamlScalarNode(node)]);
            var command = service["command"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            var at = command.IndexOf("--time-scale");
            if (at < 0) throw new InvalidOperationException($"compose service {node} has no --time-scale");
            command[at + 1] = TimeScale.ToString(CultureInfo.InvariantCulture);
            at = command.IndexOf("--seed-nodes");
            command[at + 1] = command[at + 1].Replace("akka.tcp://", "akka.ssl.tcp://", StringComparison.Ordinal);
            command.AddRange(["--tls-certificate", CertificateInContainer]);
            service["command"] = new JsonArray(command.Select(c => (JsonNode?)c).ToArray());
            var env = service["environment"]!.AsObject();
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
            env["NODES_TLS_PASSWORD"] = _password;
            service["volumes"] = new JsonArray(tlsVolume);
            outServices[node] = service;
        }
        var driver = Resolve((YamlMappingNode)services.Children[new YamlScalarNode("driver")]);
        driver.Remove("profiles"); // podman-compose 1.0.3 ignores profiles; the driver is started by name only
        driver["depends_on"] = new JsonArray(LabCommandLine.Nodes.Select(n => (JsonNode?)n).ToArray());
        var driverCommand = driver["command"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        driverCommand[driverCommand.IndexOf("--cluster") + 1] = SeedAddress;
        driverCommand.AddRange(["--tls-certificate", CertificateInContainer]);
        driver["command"] = new JsonArray(driverCommand.Select(c => (JsonNode?)c).ToArray());
        driver["environment"]!.AsObject()["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
        driver["environment"]!.AsObject()["NODES_TLS_PASSWORD"] = _password;
        driver["volumes"] = new JsonArray(tlsVolume);
        outServices["driver"] = driver;
        outServices["dashboard"] = new JsonObject
        {
            ["image"] = Image,
            ["hostname"] = "dashboard",
            ["entrypoint"] = new JsonArray("/dashboard/Aspire.Dashboard"),
            ["command"] = new JsonArray(),
            ["working_dir"] = "/dashboard",
            ["environment"] = new JsonObject
            {
                ["ASPNETCORE_URLS"] = "http://0.0.0.0:18888",
                ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = "http://0.0.0.0:18889",
                ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
                ["DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
            },
            ["volumes"] = new JsonArray($"{dashboardDir}:/dashboard:ro"),
            ["healthcheck"] = new JsonObject { ["test"] = new JsonArray("NONE") },
        };
        var root = new JsonObject
        {
            ["services"] = outServices,
            ["networks"] = new JsonObject { ["default"] = new JsonObject { ["name"] = Network, ["external"] = true } },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    /// <summary>A service with its merge keys (<c>&lt;&lt;: *member</c>) resolved, as JSON.</summary>
    private static JsonObject Resolve(YamlMappingNode map)
    {
        var o = new JsonObject();
        if (Get(map, "<<") is YamlMappingNode merged)
            foreach (var (k, v) in Resolve(merged)) o[k] = v?.DeepClone();
        foreach (var (k, v) in map.Children)
        {
            var key = ((YamlScalarNode)k).Value!;
            if (key != "<<") o[key] = ToJson(v);
        }
        return o;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlScalarNode s => JsonValue.Create(s.Value),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlMappingNode m => Resolve(m),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    public string DashboardUi { get; private set; } = "";

    private void WaitForDashboard(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        var ip = Run(Podman, ["inspect", "--format", $"{{{{ (index .NetworkSettings.Networks \"{Network}\").IPAddress }}}}", Container("dashboard")]).StdOut.Trim();
        if (ip.Length == 0) throw new InvalidOperationException($"the dashboard container has no address on {Network}:\n{Logs("dashboard")}");
        // The host reaches the internal network's containers through the bridge (nothing is published on a port).
        DashboardUi = $"http://{ip}:18888/";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            try
            {
                if (client.GetAsync(new Uri(new Uri(DashboardUi), "api/telemetry/traces")).Result.IsSuccessStatusCode) return;
            }
            catch (AggregateException) { }
            if (DateTime.UtcNow > until) throw new TimeoutException($"the dashboard did not answer at {DashboardUi}:\n{Logs("dashboard")}");
            Thread.Sleep(500);
        }
    }

    /// <summary>Every span the dashboard holds, through its API.</summary>
    public IReadOnlyList<SpanRecord> Spans()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        return OtlpJson.Read(client.GetStringAsync(new Uri(new Uri(DashboardUi), "api/telemetry/traces")).Result);
    }

    /// <summary><c>podman run</c> of the image on the lab's network with the certificate, started and left running.</summary>
    public NodesProcess RunInLab(string name, params string[] args) =>
        NodesProcess.Through(name, [Podman, "run", "--rm", "--no-healthcheck", "--name", $"{Project}-{name}", "--network", Network, "--volume", $"{TlsDirectory}:/tls:ro",
            "--env", $"NODES_TLS_PASSWORD={_password}", "--env", "OTEL_EXPORTER_OTLP_ENDPOINT=http://dashboard:18889", Image], args);

    /// <summary>The one JSON object a driver printed on stdout, cut out of whatever else is there (podman-compose prints its own lines).</summary>
    public static JsonElement Summary(NodesProcess driver)
    {
        var text = driver.StdOut;
        var start = text.StartsWith('{') ? 0 : text.IndexOf("\n{", StringComparison.Ordinal) is var i and >= 0 ? i + 1 : -1;
        var end = text.LastIndexOf('}');
        if (start < 0 || end < start) throw new InvalidOperationException($"no JSON object on stdout:\n{text}\n{driver.StdErr}");
        return JsonDocument.Parse(text[start..(end + 1)]).RootElement.Clone();
    }

    /// <summary>The TLS options every member has, for a command run in the lab.</summary>
    public static string[] Tls => ["--tls-certificate", CertificateInContainer];

    public string Logs(string service)
    {
        var r = Run(Podman, ["logs", Container(service)]);
        return r.StdOut + r.StdErr;
    }

    public ExternalTool.Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var list = args.ToList();
        var r = ExternalTool.Run(file, list, timeout ?? TimeSpan.FromSeconds(60));
        Note($"$ {Path.GetFileName(file)} {string.Join(' ', list)} -> {r.ExitCode}");
        return r;
    }

    private static void Check(ExternalTool.Result r, string what)
    {
        if (r.ExitCode != 0) throw new InvalidOperationException($"{what} failed (exit {r.ExitCode}):\n{r.StdOut}\n{r.StdErr}");
    }

    public void Note(string line)
    {
        lock (_log) _log.AppendLine(line);
    }

    private static HashSet<string> NftTables()
    {
        if (ExternalTool.Find("nft") is null) return [];
        var r = ExternalTool.Run("nft", ["list", "tables"], TimeSpan.FromSeconds(10));
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
    }

    public void Dispose()
    {
        if (_dir is null) return;
        try
        {
            foreach (var n in LabCommandLine.Nodes.Append("dashboard")) Note($"--- {n}\n{Logs(n)}");
            Run(PodmanCompose, ["-p", Project, "-f", ComposeFile, "down", "-t", "2"], TimeSpan.FromSeconds(120));
            // What down leaves: containers of the project run by hand, and the network.
            var left = Run(Podman, ["ps", "-a", "--format", "{{.Names}}", "--filter", $"name={Project}"]).StdOut
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (left.Length > 0) Run(Podman, ["rm", "-f", "-t", "0", .. left]);
            Run(Podman, ["network", "rm", "-f", Network]);
        }
        finally
        {
            // netavark turns forwarding on and may add firewall tables: the other tests expect the host as it was.
            if (_ipForward is not null) File.WriteAllText("/proc/sys/net/ipv4/ip_forward", _ipForward);
            if (_nftTables is not null)
                foreach (var table in NftTables().Except(_nftTables))
                    if (table.StartsWith("table ", StringComparison.Ordinal))
                        ExternalTool.Run("nft", ["delete", .. table.Split(' ')], TimeSpan.FromSeconds(10));
            Directory.Delete(_dir, recursive: true);
        }
    }
}
