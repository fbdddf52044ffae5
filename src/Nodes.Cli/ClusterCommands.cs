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
    /// <summary>The nodes a member hosts, for its first line: all of them, or the first few and how many (a generated hub's member hosts tens of thousands).</summary>
    private static string Listed(IReadOnlyList<string> nodes) =>
        nodes.Count <= 12 ? string.Join(", ", nodes) : $"{string.Join(", ", nodes.Take(6))} and {nodes.Count - 6} more ({nodes.Count} nodes)";

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
        var healthPort = HealthPortOption("--health-port", "Answer health probes over HTTP on this port: /live (the node actors answer) and /ready (and the member is Up); default the environment variable NODES_HEALTH_PORT, else none");
        var stateDir = new Option<DirectoryInfo?>("--state-dir") { Description = "Where the member keeps the record of its runs at its address (how many, when last alive), so that a member restarted after a crash waits until the cluster has removed its old incarnation and draws fresh random numbers (default: the temporary folder)" };
        var tls = TlsOptionSet.Create();
        var command = new Command("host", "Start a cluster member hosting some nodes of a lab; a driver (nodes run FILE --cluster ADDRESS) starts the traffic")
        {
            file, node, process, hostname, publicHostname, port, seeds, scenario, seed, timeScale, quiet, healthPort, stateDir,
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
            if (!HealthPort(parse.GetValue(healthPort), "--health-port", out var health)) return 2;
            var tlsOptions = tls.Read(parse);
            var settings = new ClusterSettings
            {
                Hostname = parse.GetValue(hostname) ?? "127.0.0.1",
                PublicHostname = parse.GetValue(publicHostname),
                Port = parse.GetValue(port),
                SeedNodes = (parse.GetValue(seeds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Tls = tlsOptions,
            };
            var name = parse.GetValue(process) ?? string.Join("+", nodes);
            // A member that ran at this address a moment ago (crashed, killed, restarted by its supervisor) is still in
            // the cluster: stay silent until the cluster has removed it (MemberIncarnation says why).
            if (parse.GetValue(stateDir) is { } dir && !dir.Exists)
            {
                Console.Error.WriteLine($"--state-dir {dir.FullName}: no such folder; create it or give another");
                return 2;
            }
            using var incarnation = settings.Port == 0
                ? MemberIncarnation.Unrecorded()
                : MemberIncarnation.Begin(settings.SelfAddress, settings.RemovalTime, DateTimeOffset.UtcNow, parse.GetValue(stateDir)?.FullName);
            if (incarnation.Wait > TimeSpan.Zero)
            {
                Console.Out.WriteLine($"member {name}: an earlier run at {settings.SelfAddress} did not leave the cluster and may still be in it; waiting {incarnation.Wait.TotalSeconds:0} s for the cluster to remove that incarnation before joining as incarnation {incarnation.Number}");
                try
                {
                    await Task.Delay(incarnation.Wait, cancel);
                }
                catch (OperationCanceledException)
                {
                    return 0;
                }
            }
            var started = DateTimeOffset.UtcNow;
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
                    Incarnation = incarnation.Number,
                });
                incarnation.StartBeating();
            }
            catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or System.Security.Cryptography.CryptographicException)
            {
                Console.Error.WriteLine($"member {name} refused to start: {e.Message}");
                return 2;
            }
            Console.Out.WriteLine($"member {name} of {topology.Name} (scenario {chosen.Name}) at {settings.SelfAddress}, hosting {Listed(nodes)}; seed nodes {string.Join(", ", settings.SeedNodes.DefaultIfEmpty(settings.SelfAddress + " (this member)"))}");
            Console.Out.WriteLine(tlsOptions is not null
                ? $"TLS on: Akka.Remote uses certificate {tlsOptions.LoadCertificate().Subject}, and peers must present theirs"
                : settings.BindsLoopbackOnly
                    ? "TLS off: bound to loopback only, so only processes on this machine can join (give --tls-certificate to open it to other machines)"
                    : $"TLS off: bound to {settings.Hostname} WITHOUT encryption, anyone who reaches it can join (give --tls-certificate)");
            HealthEndpoint? endpoint = null;
            if (health is { } h)
            {
                try
                {
                    endpoint = HealthEndpoint.Start(member, h);
                }
                catch (System.Net.HttpListenerException e)
                {
                    Console.Error.WriteLine($"--health-port {h}: cannot listen ({e.Message}); give another port");
                    await member.LeaveAsync();
                    return 2;
                }
                Console.Out.WriteLine($"health probes on port {h}: /live (node actors answer), /ready (and member Up); nodes probe --port {h} asks them");
            }
            using var healthStops = endpoint;
            using var registration = cancel.Register(() => _ = member.LeaveAsync());
            await member.WhenTerminated;
            if (cancel.IsCancellationRequested)
            {
                incarnation.Left(); // left gracefully: nothing of this run is left in the cluster
                return 0;
            }
            Console.Error.WriteLine($"member {name} left the cluster (downed by the split-brain resolver or removed); restart it with the same command to rejoin");
            return 3;
        });
        return command;
    }

    private const string HealthPortVariable = "NODES_HEALTH_PORT";

    private static Option<string?> HealthPortOption(string name, string description) => new(name) { Description = description };

    /// <summary>The health port from the option, else from NODES_HEALTH_PORT; false (with the message printed) when it is not a port.</summary>
    private static bool HealthPort(string? option, string name, out int? port)
    {
        port = null;
        var (text, from) = option is not null ? (option, name) : (Environment.GetEnvironmentVariable(HealthPortVariable), HealthPortVariable);
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535)
        {
            port = p;
            return true;
        }
        Console.Error.WriteLine($"{from} '{text}' is not a TCP port (1 to 65535), e.g. {name} 8080");
        return false;
    }

    /// <summary><c>nodes probe</c>: asks a member's health endpoint (as a container's health check does) and exits 0 when it holds.</summary>
    public static Command Probe()
    {
        var ready = new Option<bool>("--ready") { Description = "Ask whether the member is ready (Up in the cluster, node actors answering) instead of live (node actors answering)" };
        var port = HealthPortOption("--port", "The member's health port (default the environment variable NODES_HEALTH_PORT)");
        var host = new Option<string>("--host") { Description = "The member's address (default 127.0.0.1: the member in this container)", DefaultValueFactory = _ => "127.0.0.1" };
        var wait = new Option<double>("--wait") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };
        var command = new Command("probe", "Ask a nodes host member started with --health-port whether it is live or ready; exit 0 when it is, 1 when not, 3 when nothing answers")
        {
            ready, port, host, wait,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var err = parse.InvocationConfiguration.Error;
            if (!HealthPort(parse.GetValue(port), "--port", out var p)) return 2;
            if (p is not { } healthPort)
            {
                err.WriteLine($"give the member's health port: nodes probe --port 8080 (or set {HealthPortVariable})");
                return 2;
            }
            var seconds = parse.GetValue(wait);
            if (!double.IsFinite(seconds) || seconds <= 0 || seconds > 600)
            {
                err.WriteLine($"--wait {seconds} is not a number of seconds from 0 to 600");
                return 2;
            }
            var what = parse.GetValue(ready) ? "ready" : "live";
            var url = $"http://{parse.GetValue(host)}:{healthPort}/{what}";
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                err.WriteLine($"--host {parse.GetValue(host)}: not a host name or address");
                return 2;
            }
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(seconds) };
            try
            {
                using var answer = await client.GetAsync(uri, cancel);
                var text = (await answer.Content.ReadAsStringAsync(cancel)).TrimEnd();
                (answer.IsSuccessStatusCode ? parse.InvocationConfiguration.Output : err).WriteLine(text);
                return answer.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                err.WriteLine($"no answer from {url}: {(e is TaskCanceledException ? $"nothing within {seconds} s" : e.Message)}");
                return 3;
            }
        });
        return command;
    }

    /// <summary>
    /// The body of <c>nodes run FILE --cluster ADDRESS</c>: drive a running lab and print the same summary as a
    /// one-process run (plus the cluster's part). Returns the exit code: 0 when the expectations hold, 1 when not,
    /// 3 when the lab could not be joined or was not complete in time.
    /// </summary>
    public static async Task<int> DriveAsync(TopologySpec topology, ScenarioSpec scenario, string topologyText, string cluster, int? count, bool asJson,
        TlsOptions? tls, Action<RunSummary, TextWriter> print, CancellationToken cancel, TimeSpan? minDuration = null, Nodes.Web.WebView? view = null)
    {
        var progress = asJson ? Console.Error : Console.Out;
        var started = DateTimeOffset.UtcNow;
        progress.WriteLine($"Driving {topology.Name} at {cluster}, scenario {scenario.Name}{(scenario.Description is { } desc ? $": {desc}" : "")}");
        try
        {
            var options = new DriverOptions
            {
                ClusterAddress = cluster,
                Fingerprint = Nodes.Host.ClusterMember.FingerprintOf(topologyText),
                Count = count,
                Tls = tls,
                OnEvent = e => progress.WriteLine(Line(e, started)),
                MinDuration = minDuration,
            };
            var runCancel = cancel;
            if (view is not null)
            {
                // As in a one-process run, the page keeps the lab driven: until Ctrl+C (which then ends the run with its
                // summary), or for --duration.
                runCancel = CancellationToken.None;
                options = view.Observe(minDuration is null ? options with { HoldOpen = Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { }, TaskScheduler.Default) } : options);
                progress.WriteLine(minDuration is null ? "The lab is driven until Ctrl+C." : $"The lab is driven for {minDuration.Value.TotalSeconds:0.###} s.");
            }
            var result = await ClusterDriver.RunAsync(topology, scenario, options, runCancel);
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
