using Akka.Actor;
using Akka.Cluster;

namespace Nodes.Host;

/// <summary>
/// A short-lived client of a running lab (<c>nodes fault</c>, <c>nodes status</c>): an actor system that joins the
/// cluster through one member with the driver role, hosts no node, and leaves again.
/// </summary>
internal static class LabClient
{
    /// <summary>The outcome of joining: the lab members hosting nodes, or why the lab was not reached.</summary>
    public sealed record Joined(IReadOnlyList<Address> Members, string? Problem);

    /// <summary>Starts the client's actor system; <paramref name="hostname"/> null binds the local address on the route to the lab.</summary>
    public static ActorSystem Start(string clusterAddress, TlsOptions? tls, string? hostname)
    {
        var (host, _) = ClusterSettings.ParseAddress(clusterAddress);
        return new ClusterSettings
        {
            Hostname = hostname ?? ClusterSettings.LocalAddressTowards(host),
            Port = 0,
            SeedNodes = [clusterAddress],
            Roles = [ClusterSettings.DriverRole],
            Tls = tls,
            // A short-lived client: an unreachable lab is its answer, not a stream of remoting warnings.
            Overrides = Akka.Configuration.ConfigurationFactory.ParseString("akka { loglevel = ERROR, stdout-loglevel = ERROR }"),
        }.CreateSystem();
    }

    /// <summary>Waits until the client is up in the cluster; gives the lab members, or the sentence saying why there are none.</summary>
    public static async Task<Joined> JoinAsync(ActorSystem system, string clusterAddress, TimeSpan timeout, CancellationToken cancel)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(timeout, cancel)) != up.Task)
            return new Joined([], $"could not join the lab at {clusterAddress} within {timeout.TotalSeconds:0} s: is a lab running there (nodes host ..., or nodes run --listen), with the same TLS settings?");
        var members = cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(ClusterSettings.LabRole)).Select(m => m.Address).ToList();
        return members.Count == 0 ? new Joined([], $"the cluster at {clusterAddress} has no member hosting nodes") : new Joined(members, null);
    }

    /// <summary>Leaves the cluster and stops the system; never throws.</summary>
    public static Task LeaveAsync(ActorSystem system) =>
        CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance)
            .WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
}
