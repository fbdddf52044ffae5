using System.Collections.Immutable;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Cluster;
using Nodes.Actors.Cluster;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Host;

/// <summary>One fault to inject into a running lab (<c>nodes fault NAME ...</c>).</summary>
public sealed record LiveFaultRequest
{
    /// <summary>A member's address, akka.tcp://nodes@host:port: the client joins the lab through it.</summary>
    public required string ClusterAddress { get; init; }
    public required string Fault { get; init; }
    public string? Node { get; init; }
    public string? Link { get; init; }
    public IReadOnlyDictionary<string, string> Params { get; init; } = ImmutableDictionary<string, string>.Empty;
    public TlsOptions? Tls { get; init; }
    /// <summary>What the client binds to; by default the local address on the route to the cluster address.</summary>
    public string? Hostname { get; init; }
    /// <summary>How long joining the lab may take before it counts as not reachable.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long the members and the targets have to answer.</summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>What happened to a live fault: applied by at least one target and refused by none, refused, or not reachable.</summary>
public enum LiveFaultOutcome
{
    Applied,
    Refused,
    NotReachable,
}

/// <summary>
/// The answers to one live fault: every target's <see cref="FaultApplied"/>, the members asked, the members that did
/// not answer and the targets that were routed to but did not answer in time.
/// </summary>
public sealed record LiveFaultResult(
    string Id,
    LiveFaultOutcome Outcome,
    string Message,
    IReadOnlyList<FaultApplied> Answers,
    IReadOnlyList<string> Members,
    IReadOnlyList<string> SilentMembers,
    IReadOnlyList<string> Unanswered)
{
    /// <summary>The exit code of <c>nodes fault</c>: 0 applied, 1 refused, 3 not reachable.</summary>
    public int ExitCode => Outcome switch
    {
        LiveFaultOutcome.Applied => 0,
        LiveFaultOutcome.Refused => 1,
        _ => 3,
    };
}

/// <summary>
/// Injects a fault into a running lab from outside it, the way <c>nodes fault</c> does: joins the cluster as a
/// client hosting no node, sends one <see cref="InjectFault"/> (origin "live") to every lab member's
/// <c>/user/lab</c>, which forwards it to the node and link actors it hosts among the fault's targets, and gathers
/// what each target answers. Works for a lab of <c>nodes host</c> members and for <c>nodes run --listen</c>.
/// </summary>
public static class LiveFaults
{
    /// <summary>The origin of every fault injected through this class.</summary>
    public const string Origin = "live";

    /// <summary>
    /// Every problem with a fault as given on the command line, with a hint each, checked without the lab: the
    /// name, the parameters and their values (<see cref="FaultValues.Check"/>), and whether a node or a link is
    /// named as the fault needs.
    /// </summary>
    public static IReadOnlyList<(string Problem, string Hint)> Check(string fault, string? node, string? link, IReadOnlyDictionary<string, string> parameters)
    {
        var info = FaultCatalog.Find(fault);
        if (info is null)
        {
            var near = Suggest(fault, FaultCatalog.Names);
            return [($"unknown fault '{fault}'", near is not null ? $"did you mean '{near}'? (nodes fault list shows every fault)" : $"faults: {string.Join(", ", FaultCatalog.Names)}")];
        }
        var problems = FaultValues.Check(info.Kind, parameters).Select(p => (p.Problem, p.Hint)).ToList();
        var hasNode = !string.IsNullOrWhiteSpace(node);
        var hasLink = !string.IsNullOrWhiteSpace(link);
        switch (info.Target)
        {
            case FaultTarget.Link when !hasLink:
                problems.Add(($"fault '{info.Name}' needs a link", "add --link with a link's name or one end, e.g. --link isp-router:wan"));
                break;
            case FaultTarget.Link when hasNode:
                problems.Add(($"fault '{info.Name}' acts on a link, not on a node", "drop --node and name the link with --link, e.g. --link isp-router:wan"));
                break;
            case FaultTarget.NatRouter or FaultTarget.Node or FaultTarget.Gateway when !hasNode:
                problems.Add(($"fault '{info.Name}' needs {FaultCatalog.TargetText(info.Target)}", "add --node NAME"));
                break;
            case FaultTarget.NatRouter or FaultTarget.Node or FaultTarget.Gateway when hasLink:
                problems.Add(($"fault '{info.Name}' acts on {FaultCatalog.TargetText(info.Target)}, not on a link", "drop --link"));
                break;
            case FaultTarget.LinkOrNode when hasNode == hasLink:
                problems.Add(($"fault '{info.Name}' needs either a link or a node", "give --link LINK to cut one link, or --node NODE to cut every link of the node"));
                break;
        }
        return problems;
    }

    /// <summary>Reads "key=value" pairs (<c>--param</c>); false with a sentence for the first one that is not such a pair or repeats a key.</summary>
    public static bool TryParseParams(IEnumerable<string> pairs, out ImmutableDictionary<string, string> parameters, out string? problem)
    {
        var b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        parameters = ImmutableDictionary<string, string>.Empty;
        problem = null;
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                problem = $"--param '{pair}' is not key=value (e.g. --param udp-timeout=10s)";
                return false;
            }
            var key = pair[..eq].Trim();
            if (!b.TryAdd(key, pair[(eq + 1)..].Trim()))
            {
                problem = $"--param '{key}' is given twice";
                return false;
            }
        }
        parameters = b.ToImmutable();
        return true;
    }

    /// <summary>
    /// Joins the lab at <see cref="LiveFaultRequest.ClusterAddress"/>, injects the fault and gathers the answers.
    /// The request must have passed <see cref="Check"/>. Never throws for an unreachable lab: that is an outcome.
    /// </summary>
    public static async Task<LiveFaultResult> InjectAsync(LiveFaultRequest request, CancellationToken cancel = default)
    {
        var id = "live-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var system = LabClient.Start(request.ClusterAddress, request.Tls, request.Hostname);
        try
        {
            var (members, problem) = await LabClient.JoinAsync(system, request.ClusterAddress, request.JoinTimeout, cancel);
            if (problem is not null) return new LiveFaultResult(id, LiveFaultOutcome.NotReachable, problem, [], [], [], []);
            var inject = new InjectFault { Id = id, Fault = request.Fault, Origin = Origin, Node = request.Node ?? "", Link = request.Link ?? "" };
            foreach (var (k, v) in request.Params) inject.Params[k] = v;
            var done = new TaskCompletionSource<Gathered>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new Gather(inject, members, request.AnswerTimeout, done)), "fault-" + id);
            var gathered = await done.Task.WaitAsync(request.AnswerTimeout * 3, cancel);
            return Result(id, request, members, gathered);
        }
        finally
        {
            await LabClient.LeaveAsync(system);
        }
    }

    private static LiveFaultResult Result(string id, LiveFaultRequest request, IReadOnlyList<Address> members, Gathered g)
    {
        var answers = g.Answers.OrderBy(a => a.Target, StringComparer.Ordinal).ToList();
        var unanswered = g.Routed.Values.SelectMany(t => t).Distinct().Where(t => answers.All(a => a.Target != t)).Order(StringComparer.Ordinal).ToList();
        var silent = members.Where(m => !g.Routed.ContainsKey(m)).Select(m => m.ToString()).ToList();
        var target = request.Link is { Length: > 0 } l ? $"link '{l}'" : $"node '{request.Node}'";
        LiveFaultOutcome outcome;
        string message;
        if (answers.Any(a => !a.Ok))
        {
            outcome = LiveFaultOutcome.Refused;
            message = $"{request.Fault} refused by {string.Join(", ", answers.Where(a => !a.Ok).Select(a => a.Target))}";
        }
        else if (answers.Count > 0)
        {
            outcome = LiveFaultOutcome.Applied;
            message = $"{request.Fault} applied by {string.Join(", ", answers.Select(a => a.Target))}";
        }
        else
        {
            outcome = LiveFaultOutcome.NotReachable;
            message = unanswered.Count > 0
                ? $"{string.Join(", ", unanswered)} did not answer within {request.AnswerTimeout.TotalSeconds:0} s"
                : $"{target} is not reachable: none of the {members.Count} member(s) answering hosts it{(request.Link is { Length: > 0 } ? " (name a link by its name or one end, node:interface)" : "")}";
        }
        if (silent.Count > 0) message += $"; member(s) not answering: {string.Join(", ", silent)}";
        if (outcome == LiveFaultOutcome.Applied && unanswered.Count > 0) message += $"; no answer from {string.Join(", ", unanswered)}";
        return new LiveFaultResult(id, outcome, message, answers, members.Select(m => m.ToString()).ToList(), silent, unanswered);
    }

    private sealed record Gathered(IReadOnlyDictionary<Address, IReadOnlyList<string>> Routed, IReadOnlyList<FaultApplied> Answers);

    /// <summary>
    /// Sends the fault to every member's lab actor and gathers, in any order, each member's <see cref="FaultRouted"/>
    /// and each target's <see cref="FaultApplied"/>; done when every member and every target it named answered, or
    /// when the time is up.
    /// </summary>
    private sealed class Gather : ReceiveActor, IWithTimers
    {
        private sealed record TimeUp : INoSerializationVerificationNeeded;

        private readonly InjectFault _inject;
        private readonly IReadOnlyList<Address> _members;
        private readonly TimeSpan _timeout;
        private readonly TaskCompletionSource<Gathered> _done;
        private readonly Dictionary<Address, IReadOnlyList<string>> _routed = [];
        private readonly List<FaultApplied> _answers = [];

        public ITimerScheduler Timers { get; set; } = null!;

        public Gather(InjectFault inject, IReadOnlyList<Address> members, TimeSpan timeout, TaskCompletionSource<Gathered> done)
        {
            _inject = inject;
            _members = members;
            _timeout = timeout;
            _done = done;
            Receive<FaultRouted>(r =>
            {
                if (r.Id != _inject.Id) return;
                _routed[Sender.Path.Address] = r.Targets;
                Check();
            });
            Receive<FaultApplied>(a =>
            {
                if (a.Id != _inject.Id || _answers.Any(x => x.Target == a.Target)) return;
                _answers.Add(a);
                Check();
            });
            Receive<TimeUp>(_ => Finish());
        }

        protected override void PreStart()
        {
            foreach (var m in _members) Context.ActorSelection(new RootActorPath(m) / "user" / MemberLabActor.Name).Tell(_inject, Self);
            Timers.StartSingleTimer("time-up", new TimeUp(), _timeout);
        }

        private void Check()
        {
            if (_routed.Count < _members.Count) return;
            var targets = _routed.Values.SelectMany(t => t).Distinct().ToList();
            if (targets.All(t => _answers.Any(a => a.Target == t))) Finish();
        }

        private void Finish()
        {
            _done.TrySetResult(new Gathered(new Dictionary<Address, IReadOnlyList<string>>(_routed), _answers.ToList()));
            Context.Stop(Self);
        }
    }

    private static string? Suggest(string name, IEnumerable<string> candidates) =>
        candidates.Select(c => (c, d: Distance(name, c))).Where(x => x.d <= Math.Max(2, name.Length / 3)).OrderBy(x => x.d).Select(x => x.c).FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) d[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var prev = d[0];
            d[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var tmp = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
                prev = tmp;
            }
        }
        return d[b.Length];
    }
}
