using Akka.Actor;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Messages;

namespace Nodes.Host;

/// <summary>What <c>nodes status</c> asks a running lab for.</summary>
public sealed record LiveStatusRequest
{
    /// <summary>A member's address, akka.tcp://nodes@host:port: the client joins the lab through it.</summary>
    public required string ClusterAddress { get; init; }
    /// <summary>Only this gateway (null: every Azure VPN gateway of the lab).</summary>
    public string? Node { get; init; }
    public TlsOptions? Tls { get; init; }
    /// <summary>What the client binds to; by default the local address on the route to the cluster address.</summary>
    public string? Hostname { get; init; }
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>The answer of a running lab: reached or not (with why), and Azure's diagnostics of every connection found.</summary>
public sealed record LiveStatusResult(bool Reached, string Message, IReadOnlyList<AzureConnectionDiagnostics> Connections);

/// <summary>
/// Azure's diagnostics of a running lab, the way <c>nodes fault</c> reaches one (<see cref="LiveFaults"/>): joins the
/// cluster as a client hosting no node, asks every lab member's <c>/user/lab</c> which nodes it hosts, asks each node
/// for its status, keeps the Azure VPN gateways, and gathers from every member what it recorded of their IKE
/// activity (a gateway's frames are recorded where its links are owned, its events where it is hosted).
/// </summary>
public static class LiveStatus
{
    /// <summary>Queries the lab; never throws for an unreachable lab: that is an outcome.</summary>
    public static async Task<LiveStatusResult> QueryAsync(LiveStatusRequest request, CancellationToken cancel = default)
    {
        var system = LabClient.Start(request.ClusterAddress, request.Tls, request.Hostname);
        try
        {
            var (members, problem) = await LabClient.JoinAsync(system, request.ClusterAddress, request.JoinTimeout, cancel);
            if (problem is not null) return new LiveStatusResult(false, problem, []);
            var statuses = new List<NodeStatus>();
            foreach (var m in members)
            {
                MemberInfo info;
                try
                {
                    info = await system.ActorSelection(new RootActorPath(m) / "user" / MemberLabActor.Name).Ask<MemberInfo>(MemberInfoRequest.Instance, request.AnswerTimeout, cancel);
                }
                catch (AskTimeoutException)
                {
                    continue;
                }
                foreach (var node in info.Nodes.Where(n => request.Node is null || n == request.Node))
                {
                    try
                    {
                        statuses.Add(await system.ActorSelection(new RootActorPath(m) / "user" / LabBuilder.NodeActorName(node))
                            .Ask<NodeStatus>(new QueryStatus { Requester = "status" }, request.AnswerTimeout, cancel));
                    }
                    catch (AskTimeoutException)
                    {
                        // A node that does not answer is left out; the message below says what was found.
                    }
                }
            }
            var gateways = statuses.Where(s => s.Kind == AzureDiagnostics.GatewayKind).ToList();
            if (gateways.Count == 0)
                return new LiveStatusResult(true, request.Node is { } only
                    ? $"node '{only}' is no Azure VPN gateway of the lab at {request.ClusterAddress}, or it did not answer"
                    : $"the lab at {request.ClusterAddress} has no Azure VPN gateway that answered", []);
            var activity = await GatherAsync(system, members, gateways.Select(g => g.Node), request.AnswerTimeout, cancel);
            var now = system.Scheduler.Now;
            var first = activity.Values.SelectMany(r => r).Select(r => r.AtUnixMs).DefaultIfEmpty(now.ToUnixTimeMilliseconds()).Min();
            var connections = AzureDiagnostics.Build(gateways, n => activity.GetValueOrDefault(n) ?? [], DateTimeOffset.FromUnixTimeMilliseconds(first), now);
            return new LiveStatusResult(true, $"{connections.Count} connection(s) of {gateways.Count} Azure VPN gateway(s) at {request.ClusterAddress}", connections);
        }
        finally
        {
            await LabClient.LeaveAsync(system);
        }
    }

    /// <summary>Every member's record of each gateway's IKE activity, merged in time order.</summary>
    public static async Task<Dictionary<string, List<IkeActivityRecord>>> GatherAsync(ActorSystem system, IReadOnlyList<Address> members, IEnumerable<string> gateways,
        TimeSpan timeout, CancellationToken cancel)
    {
        var result = new Dictionary<string, List<IkeActivityRecord>>(StringComparer.Ordinal);
        foreach (var gw in gateways)
        {
            var all = new List<IkeActivityRecord>();
            foreach (var m in members)
            {
                try
                {
                    var log = await system.ActorSelection(new RootActorPath(m) / "user" / MemberLabActor.Name)
                        .Ask<IkeActivityLog>(new QueryIkeActivity { Node = gw }, timeout, cancel);
                    all.AddRange(log.Records);
                }
                catch (AskTimeoutException)
                {
                    // A member that does not answer adds nothing.
                }
            }
            result[gw] = all.OrderBy(r => r.AtUnixMs).ToList();
        }
        return result;
    }
}
