using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Nodes.Host;
using Nodes.Messages;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Cli;

/// <summary>The commands of a lab spread over processes and machines: <c>nodes host</c>, and the driver behind <c>nodes run --cluster</c>.</summary>
internal static class ClusterCommands
{
    public static Command Host()
    {
        var file = new Argument<FileInfo>("file") { Description = "A topology file (YAML); every member and the driver load the same file" };
        var node = new Option<string[]>("--node") { Description = "A node to host (repeat for several); the node names become the member's cluster roles", AllowMultipleArgumentsPerToken = false };
        var process = new Option<string?>("--process") { Description = "Host the nodes the topology's placement gives this process" };
        var hostname = new Option<string?>("--hostname") { Description = "Address to bind to (default 127.0.0.1: without TLS nothing off this machine can reach the member)" };
        var publicHostname = new Option<string?>("--public-hostname") { Description = "Address the other members use to reach this one, when it differs from --hostname (containers, 0.0.0.0)" };
        var port = new Option<int>("--port") { Description = "TCP port of the member (default 4053)", DefaultValueFactory = _ => 4053 };
        var seeds = new Option<string?>("--seed-nodes") { Description = "Comma-separated seed members, e.g. akka.tcp://nodes@127.0.0.1:4053,akka.tcp://nodes@127.0.0.1:4054 (default: this member forms the cluster)" };
        var scenario = new Option<string?>("--scenario") { Description = "The scenario whose node settings apply (default: the one marked default); the driver must ask for the same" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for every random choice of this member's nodes and links" };
        var timeScale = Commands.TimeScaleOption();
        var quiet = new Option<bool>("--quiet") { Description = "Do not print the nodes' events (a driver still receives them)" };
        var tls = TlsOptionSet.Create();
        var command = new Command("host", "Start a cluster member hosting some nodes of a lab; a driver (nodes run FILE --cluster ADDRESS) starts the traffic")
        {
            file, node, process, hostname, publicHostname, port, seeds, scenario, seed, timeScale, quiet,
        };
        tls.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            if (!Commands.TimeScaleOk(parse.GetValue(timeScale), parse.InvocationConfiguration.Error)) return 2;
            if (!FlagChecks.PortOk(parse.GetValue(port), "--port", parse.InvocationConfiguration.Error)) return 2;
            var path = parse.GetValue(file)!.FullName;
            if (Load(path, parse.GetValue(scenario)) is not { } loaded) return 2;
            var (topology, chosen, text) = loaded;
            IReadOnlyList<string> nodes;
            try
            {
                nodes = Nodes.Host.ClusterMember.NodesFor(topology, parse.GetValue(node) ?? [], parse.GetValue(process));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            var tlsOptions = tls.Read(parse);
            var settings = new ClusterSettings
            {
                Hostname = parse.GetValue(hostname) ?? "127.0.0.1",
                PublicHostname = parse.GetValue(publicHostname),
                Port = parse.GetValue(port),
                SeedNodes = (parse.GetValue(seeds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Tls = tlsOptions,
            };
            var started = DateTimeOffset.UtcNow;
            var name = parse.GetValue(process) ?? string.Join("+", nodes);
            Nodes.Host.ClusterMember member;
            try
            {
                member = Nodes.Host.ClusterMember.Start(topology, chosen, settings, new MemberOptions
                {
                    Nodes = nodes,
                    Process = name,
                    Fingerprint = Nodes.Host.ClusterMember.FingerprintOf(text),
                    Seed = parse.GetValue(seed),
                    TimeScale = parse.GetValue(timeScale),
                    OnEvent = parse.GetValue(quiet) ? null : e => Console.Out.WriteLine(Line(e, started)),
                });
            }
            catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or System.Security.Cryptography.CryptographicException)
            {
                Console.Error.WriteLine($"member {name} refused to start: {e.Message}");
                return 2;
            }
            Console.Out.WriteLine($"member {name} of {topology.Name} (scenario {chosen.Name}) at {settings.SelfAddress}, hosting {string.Join(", ", nodes)}; seed nodes {string.Join(", ", settings.SeedNodes.DefaultIfEmpty(settings.SelfAddress + " (this member)"))}");
            Console.Out.WriteLine(tlsOptions is not null
                ? $"TLS on: Akka.Remote uses certificate {tlsOptions.LoadCertificate().Subject}, and peers must present theirs"
                : settings.BindsLoopbackOnly
                    ? "TLS off: bound to loopback only, so only processes on this machine can join (give --tls-certificate to open it to other machines)"
                    : $"TLS off: bound to {settings.Hostname} WITHOUT encryption, anyone who reaches it can join (give --tls-certificate)");
            using var registration = cancel.Register(() => _ = member.LeaveAsync());
            await member.WhenTerminated;
            if (cancel.IsCancellationRequested) return 0;
            Console.Error.WriteLine($"member {name} left the cluster (downed by the split-brain resolver or removed); restart it with the same command to rejoin");
            return 3;
        });
        return command;
    }

    /// <summary>
    /// The body of <c>nodes run FILE --cluster ADDRESS</c>: drive a running lab and print the same summary as a
    /// one-process run (plus the cluster's part). Returns the exit code: 0 when the expectations hold, 1 when not,
    /// 3 when the lab could not be joined or was not complete in time.
    /// </summary>
    public static async Task<int> DriveAsync(TopologySpec topology, ScenarioSpec scenario, string topologyText, string cluster, int? count, bool asJson,
        TlsOptions? tls, Action<RunSummary, TextWriter> print, CancellationToken cancel, TimeSpan? minDuration = null)
    {
        var progress = asJson ? Console.Error : Console.Out;
        var started = DateTimeOffset.UtcNow;
        progress.WriteLine($"Driving {topology.Name} at {cluster}, scenario {scenario.Name}{(scenario.Description is { } desc ? $": {desc}" : "")}");
        try
        {
            var result = await ClusterDriver.RunAsync(topology, scenario, new DriverOptions
            {
                ClusterAddress = cluster,
                Fingerprint = Nodes.Host.ClusterMember.FingerprintOf(topologyText),
                Count = count,
                Tls = tls,
                OnEvent = e => progress.WriteLine(Line(e, started)),
                MinDuration = minDuration,
            }, cancel);
            if (asJson) Console.Out.WriteLine(result.ToJson());
            else
            {
                print(result.Summary, Console.Out);
                result.PrintCluster(Console.Out);
            }
            return result.Summary.Ok ? 0 : 1;
        }
        catch (Exception e) when (e is LabNotReadyException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }

    /// <summary>The TLS options shared by <c>nodes host</c> and <c>nodes run --cluster</c>.</summary>
    internal sealed class TlsOptionSet
    {
        public required Option<string?> Certificate { get; init; }
        public required Option<string?> Password { get; init; }
        public required Option<string?> Thumbprint { get; init; }
        public required Option<StoreName> StoreName { get; init; }
        public required Option<StoreLocation> StoreLocation { get; init; }
        public required Option<string[]> Peers { get; init; }

        public static TlsOptionSet Create() => new()
        {
            Certificate = new Option<string?>("--tls-certificate") { Description = "PKCS#12 file (.pfx) with this member's certificate and key: Akka.Remote runs over TLS" },
            Password = new Option<string?>("--tls-password") { Description = "Password of the PKCS#12 file (or the environment variable NODES_TLS_PASSWORD)" },
            Thumbprint = new Option<string?>("--tls-thumbprint") { Description = "Take the certificate from a certificate store by thumbprint instead of a file" },
            StoreName = new Option<StoreName>("--tls-store-name") { Description = "Store for --tls-thumbprint (default My)", DefaultValueFactory = _ => System.Security.Cryptography.X509Certificates.StoreName.My },
            StoreLocation = new Option<StoreLocation>("--tls-store-location") { Description = "CurrentUser or LocalMachine (default CurrentUser)", DefaultValueFactory = _ => System.Security.Cryptography.X509Certificates.StoreLocation.CurrentUser },
            Peers = new Option<string[]>("--tls-peer") { Description = "Accept only peers presenting a certificate with this thumbprint (repeat); default: a self-signed certificate accepts itself, a CA-issued one its chain" },
        };

        public void AddTo(Command c)
        {
            c.Options.Add(Certificate);
            c.Options.Add(Password);
            c.Options.Add(Thumbprint);
            c.Options.Add(StoreName);
            c.Options.Add(StoreLocation);
            c.Options.Add(Peers);
        }

        public TlsOptions? Read(ParseResult parse)
        {
            var file = parse.GetValue(Certificate);
            var thumb = parse.GetValue(Thumbprint);
            if (file is null && thumb is null) return null;
            return new TlsOptions
            {
                CertificatePath = file is null ? null : Path.GetFullPath(file),
                Password = parse.GetValue(Password) ?? Environment.GetEnvironmentVariable("NODES_TLS_PASSWORD"),
                Thumbprint = thumb,
                StoreName = parse.GetValue(StoreName),
                StoreLocation = parse.GetValue(StoreLocation),
                PeerThumbprints = parse.GetValue(Peers) ?? [],
            };
        }
    }

    private static (TopologySpec Topology, ScenarioSpec Scenario, string Text)? Load(string path, string? scenario)
    {
        var loaded = TopologyLoader.Load(path);
        if (loaded.Topology is null)
        {
            foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d.ToString());
            Console.Error.WriteLine($"{loaded.Diagnostics.Length} problem(s) in {path}; nothing was started.");
            return null;
        }
        if (!loaded.Topology.TrySelectScenario(scenario, out var chosen, out var error))
        {
            Console.Error.WriteLine(error);
            return null;
        }
        return (loaded.Topology, chosen!, File.ReadAllText(path));
    }

    internal static string Line(NodeEvent e, DateTimeOffset started)
    {
        var t = DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs) - started;
        return string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, t.TotalSeconds),8:0.000}s  {e.Node,-12} {e.Kind,-6} {e.Text}");
    }
}
