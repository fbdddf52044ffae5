using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Nodes.Actors.Cluster;
using Nodes.Messages;

namespace Nodes.Host;

/// <summary>
/// Akka.Remote over TLS: the member's certificate from a PKCS#12 file (with its password) or from a certificate
/// store by thumbprint. Peers must present a certificate too (mutual TLS). Their certificates are checked against
/// <see cref="PeerThumbprints"/> when given; otherwise a self-signed certificate is pinned to itself (every member
/// of the lab uses the same one), and a CA-issued certificate must chain to a trusted root.
/// </summary>
public sealed record TlsOptions
{
    public string? CertificatePath { get; init; }
    public string? Password { get; init; }
    public string? Thumbprint { get; init; }
    public StoreName StoreName { get; init; } = StoreName.My;
    public StoreLocation StoreLocation { get; init; } = StoreLocation.CurrentUser;
    public IReadOnlyList<string> PeerThumbprints { get; init; } = [];

    public X509Certificate2 LoadCertificate()
    {
        if (CertificatePath is { } path)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"TLS certificate {path} does not exist", path);
            var cert = X509CertificateLoader.LoadPkcs12FromFile(path, Password);
            if (!cert.HasPrivateKey) throw new InvalidOperationException($"TLS certificate {path} has no private key");
            return cert;
        }
        if (Thumbprint is { } thumb)
        {
            using var store = new X509Store(StoreName, StoreLocation);
            store.Open(OpenFlags.ReadOnly);
            var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumb, validOnly: false);
            if (found.Count == 0) throw new InvalidOperationException($"no certificate with thumbprint {thumb} in store {StoreLocation}/{StoreName}");
            return found[0];
        }
        throw new InvalidOperationException("TLS needs a certificate file (--tls-certificate) or a store thumbprint (--tls-thumbprint)");
    }

    internal DotNettySslSetup Setup()
    {
        var cert = LoadCertificate();
        var pins = PeerThumbprints.Count > 0 ? PeerThumbprints.ToArray()
            : cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData) ? [cert.Thumbprint] : null;
        return pins is null
            ? new DotNettySslSetup(cert, suppressValidation: false, requireMutualAuthentication: true)
            : new DotNettySslSetup(cert, suppressValidation: false, requireMutualAuthentication: true, CertificateValidation.PinnedCertificate(pins));
    }
}

/// <summary>How one process takes part in a multi-process lab: where it listens, whom it joins, what it is.</summary>
public sealed record ClusterSettings
{
    /// <summary>The actor system name every member and driver uses: addresses are akka.tcp://nodes@host:port.</summary>
    public const string SystemName = "nodes";

    /// <summary>The role of every member that hosts nodes (the split-brain resolver counts only these).</summary>
    public const string LabRole = "lab";

    /// <summary>The role of a driver: it hosts no node and only starts traffic and collects the summary.</summary>
    public const string DriverRole = "driver";

    /// <summary>What the member binds to. Without TLS the default is loopback: nothing off this machine can reach it.</summary>
    public string Hostname { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 4053;
    /// <summary>The address other members use to reach this one, when it differs from <see cref="Hostname"/> (containers, 0.0.0.0).</summary>
    public string? PublicHostname { get; init; }
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public IReadOnlyList<string> Roles { get; init; } = [];
    public TlsOptions? Tls { get; init; }
    /// <summary>
    /// How long the split-brain resolver waits for a stable view before it downs the unreachable side (Akka's default,
    /// 20 s). A member that has just restarted on a busy machine can miss its heartbeats for a while and see its
    /// neighbours as unreachable in turn; within this time it recovers and nothing is downed, where a shorter wait
    /// downs it with everyone it could not hear, the cluster driver included.
    /// </summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>
    /// How long a member's heartbeats may stop before the failure detector calls it unreachable (Akka's default is
    /// 3 s). Members share machines with busy neighbours, and a container that has just been restarted compiles its
    /// code while it starts: a pause of a few seconds is load, not a crash. A crashed member that comes back on its
    /// address replaces its old incarnation at once, whatever this setting.
    /// </summary>
    public TimeSpan HeartbeatPause { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// How long the cluster may take to remove a member that fell silent: the failure detector's pause, the
    /// split-brain resolver's stable-after, and ten seconds for the leader's removal to reach every member.
    /// </summary>
    public TimeSpan RemovalTime => HeartbeatPause + StableAfter + TimeSpan.FromSeconds(10);

    /// <summary>
    /// Join the cluster as soon as the actor system starts (the default); when false, the owner calls
    /// <see cref="JoinNow"/> once it is ready, as a member does after building its part of the lab.
    /// </summary>
    public bool JoinAtStart { get; init; } = true;

    /// <summary>Joins <paramref name="system"/> to the seed nodes, or forms the cluster on this member's own fixed address.</summary>
    public void JoinNow(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (SeedNodes.Count > 0) cluster.JoinSeedNodes(SeedNodes.Select(Address.Parse));
        else if (Port != 0) cluster.Join(cluster.SelfAddress);
    }

    /// <summary>Settings that take precedence over the generated ones (tuning, or tests).</summary>
    public Akka.Configuration.Config? Overrides { get; init; }

    /// <summary>akka.tcp, or akka.ssl.tcp over TLS: seed node addresses must use the same.</summary>
    public string Protocol => Tls is null ? "akka.tcp" : "akka.ssl.tcp";

    /// <summary>This member's own address as others see it.</summary>
    public string SelfAddress => $"{Protocol}://{SystemName}@{PublicHostname ?? Hostname}:{Port}";

    public bool BindsLoopbackOnly => IPAddress.TryParse(Hostname, out var ip) ? IPAddress.IsLoopback(ip) : Hostname == "localhost";

    public Akka.Configuration.Config Hocon()
    {
        static string Q(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        // Without seed nodes the member forms the cluster by itself; on port 0 its address is known only once bound,
        // so whoever starts it joins it to itself then.
        IReadOnlyList<string> seeds = !JoinAtStart ? [] : SeedNodes.Count > 0 ? SeedNodes : Port == 0 ? [] : [SelfAddress];
        return ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.provider = cluster
              remote {
                log-remote-lifecycle-events = off
                # Every port watches the actor it stands for, and a watch is a system message kept until acknowledged: a
                # member with a hundred thousand ports (a generated hub) sends that many at once, five times Akka's
                # default buffer, which would quarantine the peer.
                system-message-buffer-size = 262144
                dot-netty.tcp {
                  hostname = {{Q(Hostname)}}
                  port = {{Port}}
                  public-hostname = {{Q(PublicHostname ?? Hostname)}}
                  enable-ssl = {{(Tls is null ? "off" : "on")}}
                }
              }
              cluster {
                roles = [{{string.Join(", ", Roles.Select(Q))}}]
                seed-nodes = [{{string.Join(", ", seeds.Select(Q))}}]
                failure-detector.acceptable-heartbeat-pause = {{(int)HeartbeatPause.TotalMilliseconds}}ms
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{(int)StableAfter.TotalMilliseconds}}ms
                  keep-majority.role = {{LabRole}}
                }
                # A member the resolver downs stops its actor system; the process then exits (and its supervisor restarts it).
                run-coordinated-shutdown-when-down = on
                log-info = off
                # Heartbeats and gossip on their own thread: a member whose nodes keep every pool thread busy (a generated
                # hub's tens of thousands of tunnels dialing at once) still tells the others it is alive.
                use-dispatcher = nodes-cluster-dispatcher
              }
            }
            nodes-cluster-dispatcher {
              type = ForkJoinDispatcher
              throughput = 100
              dedicated-thread-pool {
                thread-count = 1
                threadtype = background
              }
            }
            """).WithFallback(NodesSerializer.Configuration()).WithFallback(ClusterControlSerializer.Configuration()).WithFallback(CaptureFeedSerializer.Configuration()).WithFallback(Nodes.Actors.Lab.LabGuardianStrategy.Configuration).WithFallback(Nodes.Actors.Lab.LabMailbox.Configuration);
    }

    /// <summary>
    /// Creates the actor system and refuses to go on (terminating it and throwing) if any Nodes message or cluster
    /// control message would be serialized by anything but its own serializer.
    /// </summary>
    public ActorSystem CreateSystem()
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(Overrides is null ? Hocon() : Overrides.WithFallback(Hocon()));
        var setup = Tls is null ? ActorSystemSetup.Create(bootstrap) : ActorSystemSetup.Create(bootstrap, Tls.Setup());
        var system = ActorSystem.Create(SystemName, setup);
        try
        {
            NodesSerializer.VerifyBindings(system);
            ClusterControlSerializer.VerifyBindings(system);
            CaptureFeedSerializer.VerifyBindings(system);
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(5));
            throw;
        }
        return system;
    }

    /// <summary>
    /// The local address a process should bind to so that <paramref name="host"/> can reach it: loopback for a
    /// loopback lab, otherwise the address of the interface the route to <paramref name="host"/> leaves by.
    /// </summary>
    public static string LocalAddressTowards(string host)
    {
        var target = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        if (IPAddress.IsLoopback(target)) return "127.0.0.1";
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Connect(target, 9);
        return ((IPEndPoint)s.LocalEndPoint!).Address.ToString();
    }

    /// <summary>Parses akka.tcp://nodes@host:port into its host and port.</summary>
    public static (string Host, int Port) ParseAddress(string address)
    {
        Address a;
        try
        {
            a = Address.Parse(address);
        }
        catch (UriFormatException)
        {
            a = Address.AllSystems;
        }
        if (a.Host is null || a.Port is null || a.Protocol is not ("akka.tcp" or "akka.ssl.tcp"))
            throw new FormatException($"'{address}' is not a member address like akka.tcp://nodes@127.0.0.1:4053 (akka.ssl.tcp://... over TLS)");
        if (a.System != SystemName) throw new FormatException($"'{address}' names actor system '{a.System}'; the lab's is '{SystemName}'");
        return (a.Host, a.Port.Value);
    }
}
