using System.Diagnostics;
using Akka.Actor;
using Nodes.Messages;
using Nodes.Topology.Model;

namespace Nodes.Actors.Cluster;

/// <summary>
/// The lab actor of one member, <c>/user/lab</c>: answers <see cref="MemberInfoRequest"/> with what the member hosts
/// and which of its ports still wait for their peers, receives the events of its nodes (it is the member's
/// <see cref="Lab.LabContext.Events"/>) and passes each to the local terminal and to every subscribed driver. It is
/// also where a fault injected live (<c>nodes fault</c>) enters the member: it forwards the
/// <see cref="InjectFault"/> to the node and link actors of this member that the fault targets, keeping the sender,
/// and tells the sender which targets those are (<see cref="FaultRouted"/>). A scale run drives the member through it:
/// <see cref="RunHostedPings"/> starts the pings of every host here, <see cref="MemberFiguresRequest"/> measures it.
/// </summary>
public sealed class MemberLabActor : ReceiveActor
{
    public const string Name = "lab";

    private readonly MemberInfo _info;
    private readonly Action<NodeEvent>? _onEvent;
    private readonly IReadOnlyList<LinkSpec> _links;
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    // A port can find its peer before the member has finished building and told this actor which ports it made:
    // that report must not be lost, or the port would be listed as waiting for ever.
    private readonly HashSet<string> _connected = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _subscribers = [];
    private IReadOnlyDictionary<string, IActorRef> _nodesHere = new Dictionary<string, IActorRef>();
    private IReadOnlyDictionary<string, IActorRef> _linksHere = new Dictionary<string, IActorRef>();
    private IReadOnlyList<PingSpec> _pings = [];
    private IReadOnlyList<string> _gateways = [];
    private Built _built = new(0, 0, 0);
    private readonly Lab.IkeEventTally _tally;
    private int _rounds;

    /// <summary>The ports the member built; each reports when it finds its peer.</summary>
    public sealed record ExpectPorts(IReadOnlyCollection<string> Ports) : INoSerializationVerificationNeeded;

    /// <summary>The node actors (by node name) and link actors (by link name) this member built: where faults go.</summary>
    public sealed record Hosted(IReadOnlyDictionary<string, IActorRef> Nodes, IReadOnlyDictionary<string, IActorRef> Links) : INoSerializationVerificationNeeded
    {
        /// <summary>The scenario's pings (those starting at a node here are what <see cref="RunHostedPings"/> starts).</summary>
        public IReadOnlyList<PingSpec> Pings { get; init; } = [];
        /// <summary>The Azure gateways hosted here, whose tunnels the figures count.</summary>
        public IReadOnlyList<string> Gateways { get; init; } = [];
    }

    /// <summary>The member's managed and resident memory before it built its part of the lab, and how long building took.</summary>
    public sealed record Built(long ManagedBaseline, long ResidentBaseline, double BuildMs) : INoSerializationVerificationNeeded;

    /// <param name="links">Every link of the topology, to resolve a link named by one end and the links of a node.</param>
    /// <param name="ikeActivity">What this member recorded of a gateway's IKE activity (for Azure's diagnostics); null: nothing.</param>
    public MemberLabActor(MemberInfo info, Action<NodeEvent>? onEvent, IReadOnlyList<LinkSpec> links, Func<string, IkeActivityLog>? ikeActivity = null)
    {
        _info = info;
        _onEvent = onEvent;
        _tally = new Lab.IkeEventTally(node => _gateways.Contains(node));
        _links = links;
        Receive<ExpectPorts>(m => _waiting.UnionWith(m.Ports.Where(p => !_connected.Contains(p))));
        Receive<Hosted>(h =>
        {
            _nodesHere = h.Nodes;
            _linksHere = h.Links;
            _pings = h.Pings;
            _gateways = h.Gateways;
        });
        Receive<Built>(b => _built = b);
        Receive<RunHostedPings>(r =>
        {
            var pings = _pings.Where(p => _nodesHere.ContainsKey(p.From)).Select(p => (_nodesHere[p.From], p)).ToList();
            Context.ActorOf(Akka.Actor.Props.Create(() => new PingRound(_info.Process, pings, r, Sender)), $"pings-{++_rounds}");
        });
        Receive<MemberFiguresRequest>(q =>
        {
            var counts = (_tally.Retransmissions, _tally.InitRetransmissions, _tally.ResponderExchanges);
            var gateways = _gateways.Where(_nodesHere.ContainsKey).Select(g => _nodesHere[g]).ToList();
            FiguresAsync(q.Collect, _info.Process, _waiting.Count, _built, gateways, counts).PipeTo(Sender);
        });
        Receive<RemotePort.PortState>(s =>
        {
            if (s.Connected)
            {
                _waiting.Remove(s.Port);
                _connected.Add(s.Port);
            }
            else
            {
                _waiting.Add(s.Port);
                _connected.Remove(s.Port);
            }
        });
        Receive<MemberInfoRequest>(_ => Sender.Tell(_info with { Waiting = _waiting.Order(StringComparer.Ordinal).ToArray() }));
        Receive<SubscribeEvents>(_ =>
        {
            if (_subscribers.Add(Sender)) Context.Watch(Sender);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<NodeEvent>(e =>
        {
            _tally.Add(e);
            _onEvent?.Invoke(e);
            foreach (var s in _subscribers) s.Tell(e);
        });
        Receive<FaultApplied>(f =>
        {
            foreach (var s in _subscribers) s.Tell(f);
        });
        Receive<QueryIkeActivity>(q => Sender.Tell(ikeActivity?.Invoke(q.Node) ?? new IkeActivityLog { Node = q.Node }));
        Receive<InjectFault>(f =>
        {
            var targets = Targets(f, _links).Where(t => t.IsLink ? _linksHere.ContainsKey(t.Name) : _nodesHere.ContainsKey(t.Name)).ToList();
            // The count first, so that the sender knows how many answers to wait for; each target answers the sender.
            Sender.Tell(new FaultRouted(f.Id, _info.Process, targets.Select(t => t.Name).ToArray()));
            foreach (var (name, isLink) in targets) (isLink ? _linksHere[name] : _nodesHere[name]).Forward(f);
        });
    }

    private static async Task<MemberFigures> FiguresAsync(bool collect, string process, int waiting, Built built, IReadOnlyList<IActorRef> gateways,
        (long Retransmissions, long Init, long Exchanges) counts)
    {
        var tunnelCounts = await Task.WhenAll(gateways.Select(async g =>
        {
            try
            {
                return await g.Ask<Nodes.GatewayActor.TunnelCounts>(Nodes.GatewayActor.CountTunnels.Instance, TimeSpan.FromSeconds(30));
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }));
        // The collection runs on a pool thread, not the actor's: the member keeps answering while it measures.
        var managed = collect ? await Task.Run(() => GC.GetTotalMemory(forceFullCollection: true)) : GC.GetTotalMemory(false);
        using var self = Process.GetCurrentProcess();
        var answered = tunnelCounts.OfType<Nodes.GatewayActor.TunnelCounts>().ToList();
        var drops = answered.SelectMany(s => s.IkeDrops)
            .GroupBy(d => d.Key, StringComparer.Ordinal).Select(g => new KeyValuePair<string, ulong>(g.Key, (ulong)g.Sum(d => (decimal)d.Value))).ToList();
        return new MemberFigures(process, waiting, managed, built.ManagedBaseline, self.WorkingSet64, built.ResidentBaseline, self.PeakWorkingSet64, built.BuildMs,
            answered.Sum(a => a.Tunnels), answered.Sum(a => a.Connected), counts.Retransmissions, counts.Init, counts.Exchanges, drops)
        {
            NotConnected = answered.SelectMany(a => a.NotConnected).Take(Nodes.GatewayActor.TunnelCounts.NamesKept).ToList(),
        };
    }

    /// <summary>One <see cref="RunHostedPings"/> round: starts every ping, counts the summaries, answers once all are in or patience ends.</summary>
    private sealed class PingRound : ReceiveActor, IWithTimers
    {
        private readonly string _process;
        private readonly IActorRef _replyTo;
        private readonly IReadOnlyList<(IActorRef Host, PingSpec Ping)> _pings;
        private readonly RunHostedPings _round;
        private int _summaries;
        private int _answered;
        private int _started;

        public ITimerScheduler Timers { get; set; } = null!;

        private sealed record Next : INoSerializationVerificationNeeded
        {
            public static readonly Next Instance = new();
        }

        public PingRound(string process, IReadOnlyList<(IActorRef Host, PingSpec Ping)> pings, RunHostedPings round, IActorRef replyTo)
        {
            _process = process;
            _replyTo = replyTo;
            _pings = pings;
            _round = round;
            Receive<PingSummary>(s =>
            {
                _summaries++;
                if (s.Sent > 0 && s.Received == s.Sent) _answered++;
                if (_summaries == _pings.Count) Finish();
            });
            Receive<ReceiveTimeout>(_ => Finish());
            Receive<Next>(_ => StartSome());
        }

        protected override void PreStart()
        {
            if (_pings.Count == 0) Finish();
            else StartSome();
        }

        /// <summary>Starts the next tenth of a second's pings (all of them without a rate), then waits for the next tenth or for the answers.</summary>
        private void StartSome()
        {
            var batch = _round.PerSecond == 0 ? _pings.Count : (int)Math.Max(1, _round.PerSecond / 10);
            for (var end = Math.Min(_pings.Count, _started + batch); _started < end; _started++)
            {
                var (host, p) = _pings[_started];
                host.Tell(new StartPing
                {
                    Host = p.From, Destination = p.To.ToString(), Count = _round.Count, IntervalMs = (uint)p.Interval.TotalMilliseconds,
                    Size = (uint)p.Size, DontFragment = p.DontFragment, SummaryOnly = true,
                }, Self);
            }
            if (_started < _pings.Count) Timers.StartSingleTimer("next", Next.Instance, TimeSpan.FromMilliseconds(100));
            else Timers.StartSingleTimer("patience", ReceiveTimeout.Instance, TimeSpan.FromMilliseconds(Math.Max(1, _round.PatienceMs)));
        }

        private void Finish()
        {
            _replyTo.Tell(new HostedPingsDone(_process, _pings.Count, _answered));
            Context.Stop(Self);
        }
    }

    public static Props Props(MemberInfo info, Action<NodeEvent>? onEvent, IReadOnlyList<LinkSpec> links, Func<string, IkeActivityLog>? ikeActivity = null) =>
        Akka.Actor.Props.Create(() => new MemberLabActor(info, onEvent, links, ikeActivity));

    /// <summary>
    /// Every node or link a fault acts on, wherever it is hosted: the link named by <see cref="InjectFault.Link"/>
    /// (its name, or one of its ends "node:interface"); for a partition or heal of a node, every link the node
    /// attaches to; otherwise the node named by <see cref="InjectFault.Node"/>. Empty when the link is unknown.
    /// </summary>
    public static IReadOnlyList<(string Name, bool IsLink)> Targets(InjectFault f, IReadOnlyList<LinkSpec> links)
    {
        if (f.Link.Length > 0)
        {
            var link = links.FirstOrDefault(l => l.Name == f.Link) ?? links.FirstOrDefault(l => l.Endpoints.Any(e => e.ToString() == f.Link));
            return link is null ? [] : [(link.Name, true)];
        }
        if (f.Node.Length == 0) return [];
        if (FaultCatalog.Find(f.Fault) is { Target: FaultTarget.LinkOrNode })
            return links.Where(l => l.Endpoints.Any(e => e.Node == f.Node)).Select(l => (l.Name, true)).ToList();
        return [(f.Node, false)];
    }
}
