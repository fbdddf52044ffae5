using System.Diagnostics;
using Akka.Actor;
using Nodes.Gateway;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Hosts;
using Nodes.Net.Routing;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Nodes;

/// <summary>
/// A host (the client PC, the Azure VM): an IPv4 stack that answers pings, and a ping generator driven by
/// <see cref="StartPing"/>. Each reply or loss goes back to whoever asked, as <see cref="PingResult"/>, and a
/// <see cref="PingSummary"/> ends the run. It also runs UDP flows and TCP: listening ports (<see cref="ListenTcp"/>)
/// and client flows (<see cref="StartTcp"/>, ended by a <see cref="TcpSummary"/>), its TCP timers on one actor timer
/// set to the stack's next deadline (retransmission timers are never scaled).
/// </summary>
public sealed class HostActor : NodeActor
{
    private readonly HostStack _stack;
    private readonly Dictionary<ushort, PingRun> _runs = [];
    private ushort _nextIdentifier = 0x1000;
    private bool _quiet;
    /// <summary>The root span of every echo request in flight, by ICMP identifier and sequence (only while tracing).</summary>
    private Dictionary<(ushort Identifier, ushort Sequence), Activity>? _echoes; // made when the first traced ping starts

    private sealed record PingRun(StartPing Request, PingSession Session, IActorRef ReplyTo, TimeSpan Interval)
    {
        public HashSet<ushort> Reported { get; } = [];
        /// <summary>When each request left (Unix ms), for the results; not kept for a flood.</summary>
        public Dictionary<ushort, long> SentAt { get; } = [];
    }

    private sealed record PingTick(ushort Identifier) : INoSerializationVerificationNeeded;

    private sealed record UdpTick(int Flow) : INoSerializationVerificationNeeded;

    private sealed record UdpRun(StartUdp Request, UdpFlow Flow, IActorRef ReplyTo, int PerTick, TimeSpan Interval);

    // Made at first use: most hosts of a big lab never send UDP, listen or open TCP.
    private Dictionary<int, UdpRun>? _udpRuns;
    private Dictionary<ushort, UdpReceiver>? _receivers;
    private int _nextFlow;

    /// <summary>
    /// A UDP flow for load: datagrams carrying a sequence number, paced at the requested rate (in batches on a
    /// 10 ms tick when the rate is above 100 per second), ended by a <see cref="UdpSummary"/>.
    /// </summary>
    private void OnStartUdp(StartUdp m)
    {
        if (!Ipv4Address.TryParse(m.Destination, out var destination) || m.Port is 0 or > ushort.MaxValue)
        {
            Sender.Tell(new UdpSummary { Host = Name, Destination = m.Destination, Port = m.Port });
            return;
        }
        var id = ++_nextFlow;
        var source = m.SourcePort is > 0 and <= ushort.MaxValue ? (ushort)m.SourcePort : (ushort)(49152 + id % 16384);
        var flow = HostStack.CreateUdpFlow(new UdpFlowOptions(new Ipv4Endpoint(destination, (ushort)m.Port), source, (int)m.Packets, (int)Math.Max(4, m.Size)));
        var rate = m.RatePps <= 0 ? 100 : m.RatePps;
        var interval = rate > 100 ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromSeconds(1 / rate);
        var perTick = rate > 100 ? (int)Math.Ceiling(rate / 100) : 1;
        (_udpRuns ??= [])[id] = new UdpRun(m, flow, Sender, perTick, interval);
        Report("udp", $"sending {m.Packets} UDP datagrams of {m.Size} bytes to {destination}:{m.Port} at {rate:0.#} per second");
        Self.Tell(new UdpTick(id));
    }

    private void OnUdpTick(UdpTick t)
    {
        if (_udpRuns is null || !_udpRuns.TryGetValue(t.Flow, out var run)) return;
        Handle(_stack.SendUdp(run.Flow, Math.Min(run.PerTick, run.Flow.Remaining), LabNow), "");
        if (run.Flow.Remaining > 0)
        {
            Timers.StartSingleTimer($"udp-{t.Flow}", t, run.Interval);
            return;
        }
        _udpRuns.Remove(t.Flow);
        Report("udp", $"{run.Flow.Sent} UDP datagrams sent to {run.Request.Destination}:{run.Request.Port}");
        run.ReplyTo.Tell(new UdpSummary { Host = Name, Destination = run.Request.Destination, Port = run.Request.Port, Sent = (uint)run.Flow.Sent });
    }

    private UdpCounts Counts(ushort port) => _receivers is not null && _receivers.TryGetValue(port, out var r)
        ? new UdpCounts { Host = Name, Port = port, Packets = (ulong)r.Packets, Distinct = (ulong)r.Distinct, Duplicates = (ulong)r.Duplicates, OutOfOrder = (ulong)r.OutOfOrder }
        : new UdpCounts { Host = Name, Port = port };
    private sealed record StackTick : INoSerializationVerificationNeeded;

    private sealed record TcpTick : INoSerializationVerificationNeeded;

    private sealed record TcpLimit(int Flow) : INoSerializationVerificationNeeded;

    private sealed record TcpRun(StartTcp Request, TcpFlow Flow, IActorRef ReplyTo)
    {
        public bool Connected { get; set; }
    }

    private Dictionary<int, TcpRun>? _tcpRuns;
    private int _nextTcp;
    private TimeSpan? _tcpTimerAt;

    private void OnStartTcp(StartTcp m)
    {
        if (!Ipv4Address.TryParse(m.Destination, out var destination) || m.Port is 0 or > ushort.MaxValue)
        {
            Sender.Tell(new TcpSummary { Host = Name, Destination = m.Destination, Port = m.Port, Outcome = "no-route" });
            return;
        }
        var options = m.Requests > 0
            ? new TcpFlowOptions(new Ipv4Endpoint(destination, (ushort)m.Port), TcpFlowKind.RequestResponse, Requests: (int)m.Requests, RequestSize: (int)m.RequestSize, ResponseSize: (int)m.ResponseSize)
            : new TcpFlowOptions(new Ipv4Endpoint(destination, (ushort)m.Port), TcpFlowKind.Bulk, Bytes: (long)m.Bytes);
        var id = ++_nextTcp;
        var flow = _stack.StartTcp(options, LabNow, out var output);
        (_tcpRuns ??= [])[id] = new TcpRun(m, flow, Sender);
        Report("tcp", m.Requests > 0
            ? $"connecting to {destination}:{m.Port} from port {flow.LocalPort} for {m.Requests} requests of {m.RequestSize} bytes answered by {m.ResponseSize} bytes"
            : $"connecting to {destination}:{m.Port} from port {flow.LocalPort} to send {m.Bytes} bytes");
        if (m.LimitMs > 0) Timers.StartSingleTimer($"tcp-limit-{id}", new TcpLimit(id), TimeSpan.FromMilliseconds(m.LimitMs));
        Handle(output, "");
    }

    private void OnTcpLimit(TcpLimit l)
    {
        if (_tcpRuns is null || !_tcpRuns.Remove(l.Flow, out var run)) return;
        var summary = Summarize(run);
        Handle(_stack.AbortTcp(run.Flow, LabNow), "");
        Report("tcp", $"{run.Request.Destination}:{run.Request.Port} unfinished after {run.Request.LimitMs / 1000.0:0.###} s: {Describe(summary)}; aborted");
        summary.Outcome = "unfinished";
        run.ReplyTo.Tell(summary);
    }

    /// <summary>After every event: report connections and ended flows, and set the TCP timer to the stack's next deadline.</summary>
    private void AfterTcp()
    {
        if (_tcpRuns is { Count: > 0 })
        {
            foreach (var (id, run) in _tcpRuns.ToList())
            {
                if (!run.Connected && run.Flow.Connection is { EstablishedAt: not null } c)
                {
                    run.Connected = true;
                    Report("tcp", $"connected to {run.Request.Destination}:{run.Request.Port}: MSS {c.EffectiveMss} (peer announced {c.PeerMss}), path MTU {c.PathMtu}");
                }
                if (!run.Flow.Done) continue;
                _tcpRuns.Remove(id);
                Timers.Cancel($"tcp-limit-{id}");
                var summary = Summarize(run);
                Report("tcp", $"{run.Request.Destination}:{run.Request.Port} {summary.Outcome}: {Describe(summary)}");
                run.ReplyTo.Tell(summary);
            }
        }
        var next = _stack.NextTcpDeadline;
        if (next == _tcpTimerAt) return;
        _tcpTimerAt = next;
        if (next is { } at) Timers.StartSingleTimer("tcp", new TcpTick(), at > LabNow ? at - LabNow : TimeSpan.Zero);
        else Timers.Cancel("tcp");
    }

    private TcpSummary Summarize(TcpRun run)
    {
        var f = run.Flow;
        var now = LabNow;
        var c = f.Connection;
        var stalled = c?.StalledFor(now) ?? TimeSpan.Zero;
        var ongoing = c is not null && stalled >= c.Options.StallThreshold;
        var longest = c is null ? TimeSpan.Zero : c.LongestStall > stalled ? c.LongestStall : stalled;
        return new TcpSummary
        {
            Host = Name,
            Destination = run.Request.Destination,
            Port = run.Request.Port,
            Outcome = Outcome(f.Outcome),
            Bytes = run.Request.Bytes,
            Requests = run.Request.Requests,
            BytesAcknowledged = (ulong)f.BytesAcknowledged,
            BytesReceived = (ulong)f.BytesReceived,
            Exchanges = (uint)f.Exchanges,
            DurationMs = ((f.FinishedAt ?? now) - f.StartedAt).TotalMilliseconds,
            ThroughputBytesPerSecond = f.Throughput(now),
            SegmentsSent = (ulong)(c?.SegmentsSent ?? 0),
            Retransmissions = (ulong)(c?.Retransmissions ?? 0),
            Timeouts = (ulong)(c?.Timeouts ?? 0),
            FastRetransmits = (ulong)(c?.FastRetransmits ?? 0),
            Stalls = (uint)((c?.Stalls ?? 0) + (ongoing ? 1 : 0)),
            LongestStallMs = longest.TotalMilliseconds,
            Mss = (uint)(c?.EffectiveMss ?? 0),
            PathMtu = (uint)(c?.PathMtu ?? 0),
            SrttMs = c?.Rto.SmoothedRtt?.TotalMilliseconds ?? 0,
            RtoMs = c?.Rto.Current.TotalMilliseconds ?? 0,
            ExchangeAvgMs = f.ExchangeTimes.Count == 0 ? 0 : f.ExchangeTimes.Average(t => t.TotalMilliseconds),
            ExchangeMaxMs = f.ExchangeTimes.Count == 0 ? 0 : f.ExchangeTimes.Max(t => t.TotalMilliseconds),
        };
    }

    private static string Outcome(TcpFlowOutcome o) => o switch
    {
        TcpFlowOutcome.Completed => "completed",
        TcpFlowOutcome.TimedOut => "timed-out",
        TcpFlowOutcome.Refused => "refused",
        TcpFlowOutcome.Reset => "reset",
        TcpFlowOutcome.NoRoute => "no-route",
        TcpFlowOutcome.Unfinished => "unfinished",
        _ => "running",
    };

    private static string Describe(TcpSummary s) =>
        (s.Requests > 0 ? $"{s.Exchanges} of {s.Requests} exchanges (avg {s.ExchangeAvgMs:0.#} ms)" : $"{s.BytesAcknowledged} of {s.Bytes} bytes acknowledged")
        + $" in {s.DurationMs / 1000:0.###} s ({s.ThroughputBytesPerSecond * 8 / 1e6:0.###} Mbit/s), MSS {s.Mss}, {s.Retransmissions} retransmissions, {s.Timeouts} timeouts, {s.Stalls} stalls"
        + (s.Stalls > 0 ? $" (longest {s.LongestStallMs / 1000:0.###} s)" : "");

    public HostActor(HostSpec spec, IEnumerable<Attachment> attachments, LabContext lab)
        : base(spec.Name, "host", attachments, lab)
    {
        var interfaces = SpecNetwork.Interfaces(spec);
        _stack = new HostStack(new HostOptions
        {
            Interfaces = interfaces,
            DefaultGateway = spec.DefaultGateway,
            TimeToLive = (byte)spec.DefaultTtl,
            Seed = DeterministicRandom.Derive(lab.Seed, spec.Name),
        });
        foreach (var r in spec.Routes)
        {
            var via = interfaces.FirstOrDefault(i => i.Prefix.Contains(r.NextHop));
            if (via is not null) _stack.Routes.Add(new Route(r.Destination, r.NextHop, via.Name, r.Metric));
        }
    }

    protected override bool OnMessage(object message)
    {
        switch (message)
        {
            case Frame frame:
                OnFrame(frame);
                break;
            case StartPing m:
                OnStartPing(m);
                break;
            case StartUdp m:
                OnStartUdp(m);
                break;
            case UdpTick m:
                OnUdpTick(m);
                break;
            case ListenUdp m:
                _receivers ??= [];
                if (!_receivers.ContainsKey((ushort)m.Port)) _receivers[(ushort)m.Port] = _stack.ListenUdp((ushort)m.Port);
                Sender.Tell(Counts((ushort)m.Port));
                break;
            case QueryUdp m:
                Sender.Tell(Counts((ushort)m.Port));
                break;
            case PingTick m:
                OnPingTick(m);
                break;
            case ListenTcp m:
                _stack.ListenTcp(new TcpListenOptions((ushort)m.Port, (int)m.RequestSize, (int)m.ResponseSize));
                Sender.Tell(new TcpListening { Host = Name, Port = m.Port });
                break;
            case StartTcp m:
                OnStartTcp(m);
                break;
            case TcpLimit m:
                OnTcpLimit(m);
                break;
            case TcpTick:
                _tcpTimerAt = null;
                Handle(_stack.Tick(LabNow), "");
                break;
            case StackTick:
                Handle(_stack.Tick(LabNow), "");
                break;
            default:
                return false;
        }
        return true;
    }

    public static Props Props(HostSpec spec, IEnumerable<Attachment> attachments, LabContext lab) =>
        Akka.Actor.Props.Create(() => new HostActor(spec, attachments, lab));

    private void OnFrame(Frame frame)
    {
        CountIn();
        using var span = Spans.Continue(Name, SpanNames.HostReceive, frame.Traceparent, ActivityKind.Server);
        if (span is not null)
        {
            span.SetTag(Attr.Link, frame.Link);
            span.SetTag(Attr.IngressInterface, frame.Interface);
            Spans.TagPacket(span, frame.Packet.Span);
            span.DisplayName = span.GetTagItem(Attr.IcmpType) switch
            {
                8 => SpanNames.EchoReply,
                0 => SpanNames.EchoReplyReceived,
                _ => SpanNames.HostReceive,
            };
        }
        // An echo reply leaves within this span, so it carries the request's trace: request and reply are one trace.
        Handle(_stack.Receive(frame.Packet.Span, frame.Interface, LabNow), Spans.Context(span, frame.Traceparent));
    }

    /// <summary>Sends the next echo request of a run; while tracing, each request starts its own trace.</summary>
    private void SendEcho(PingRun run)
    {
        var output = _stack.SendPing(run.Session, LabNow);
        if (!_quiet && output.Transmissions.Count > 0 && TryEcho(output.Transmissions[0].Datagram, out var sent)) run.SentAt[sent.Item2] = Now.ToUnixTimeMilliseconds();
        if (!Spans.Listening || output.Transmissions.Count == 0 || !TryEcho(output.Transmissions[0].Datagram, out var key))
        {
            Handle(output, "");
            return;
        }
        var root = Spans.StartRecordedRoot(Name, SpanNames.EchoRequest, ActivityKind.Client, Lab.Roots);
        if (root is null)
        {
            // Not sampled: no span, and the frames carry no trace context.
            Handle(output, "");
            return;
        }
        root.AddTag(Attr.NetworkType, "ipv4");
        Spans.TagPacket(root, output.Transmissions[0].Datagram);
        root.SetTag(Attr.EgressInterface, output.Transmissions[0].Interface);
        _echoes ??= [];
        if (_echoes.Remove(key, out var stale)) Spans.StopDetached(stale);
        _echoes[key] = root;
        Handle(output, root.Id ?? "");
    }

    // Segments of TCP data this host traces of its own accord, a second of lab time at a time: a bulk transfer shows its
    // journey without a trace per segment. SYN, FIN and RST are always traced.
    private const int TracedDataSegmentsPerSecond = 10;
    private long _tracedSecond = -1;
    private int _tracedInSecond;

    /// <summary>
    /// The trace context a datagram leaves with. Not TCP: <paramref name="incoming"/>, the trace of what it answers (or
    /// none). A TCP segment without data answers in the trace of the segment that arrived (an ACK, a SYN,ACK), or
    /// starts one of its own when it answers nothing; a segment with data starts its own, so a transfer is one trace
    /// per traced segment and not one chain from SYN to FIN. Of the segments that start a trace every SYN, FIN and RST
    /// is traced, and up to <see cref="TracedDataSegmentsPerSecond"/> others a second.
    /// </summary>
    private string TcpTrace(byte[] datagram, string incoming)
    {
        if (datagram.Length < 40 || datagram[9] != 6) return incoming;
        var ihl = (datagram[0] & 0x0f) * 4;
        if (datagram.Length < ihl + 20) return incoming;
        var flags = datagram[ihl + 13];
        var data = (datagram[2] << 8 | datagram[3]) - ihl - (datagram[ihl + 12] >> 4) * 4;
        if (data <= 0 && incoming.Length > 0) return incoming;
        if ((flags & 0x07) == 0)
        {
            var second = (long)LabNow.TotalSeconds;
            if (second != _tracedSecond)
            {
                _tracedSecond = second;
                _tracedInSecond = 0;
            }
            if (++_tracedInSecond > TracedDataSegmentsPerSecond) return "";
        }
        return Spans.OriginateTcp(Name, datagram, Lab.Roots);
    }

    /// <summary>Identifier and sequence of an ICMP echo in an IPv4 datagram (the first fragment carries them).</summary>
    private static bool TryEcho(byte[] datagram, out (ushort, ushort) key)
    {
        key = default;
        if (datagram.Length < 20) return false;
        var ihl = (datagram[0] & 0x0f) * 4;
        if (datagram[9] != 1 || datagram.Length < ihl + 8) return false;
        key = ((ushort)(datagram[ihl + 4] << 8 | datagram[ihl + 5]), (ushort)(datagram[ihl + 6] << 8 | datagram[ihl + 7]));
        return true;
    }

    private void EndEcho(ushort identifier, ushort sequence, double? rttMs, string? failure)
    {
        if (_echoes is not { Count: > 0 } || !_echoes.Remove((identifier, sequence), out var root)) return;
        if (rttMs is { } ms) root.SetTag(Attr.PingRttMs, Math.Round(ms, 3));
        if (failure is not null)
        {
            root.SetStatus(ActivityStatusCode.Error, failure);
            root.SetTag(Attr.ErrorType, failure);
        }
        Spans.StopDetached(root);
    }

    protected override void PostStop()
    {
        if (_echoes is null) return;
        foreach (var root in _echoes.Values) Spans.StopDetached(root);
        _echoes.Clear();
    }

    private void OnStartPing(StartPing m)
    {
        if (!Ipv4Address.TryParse(m.Destination, out var destination))
        {
            Sender.Tell(new PingSummary { Host = Name, Destination = m.Destination });
            return;
        }
        var id = _nextIdentifier++;
        while (_stack.PingInUse(id)) id = _nextIdentifier++;
        _quiet = m.SummaryOnly || (m.IntervalMs == 0 && m.Count > 100); // a flood reports its summary only
        var size = m.Size == 0 ? 32 : (int)m.Size;
        var flood = m.IntervalMs == 0 ? (int)Math.Min(m.Count, ushort.MaxValue + 1u) : 0;
        var session = _stack.StartPing(new PingOptions(destination, id, size, m.DontFragment, TimeSpan.FromSeconds(4)), flood);
        var interval = TimeSpan.FromMilliseconds(m.IntervalMs);
        _runs[id] = new PingRun(m, session, Sender, interval);
        _runs[id].Reported.EnsureCapacity(flood);
        if (!_quiet) Report("ping", $"pinging {destination} with {size} bytes of data, {m.Count} times");
        Self.Tell(new PingTick(id));
        Timers.StartPeriodicTimer("stack", new StackTick(), TimeSpan.FromMilliseconds(250));
    }

    private void OnPingTick(PingTick t)
    {
        if (!_runs.TryGetValue(t.Identifier, out var run)) return;
        if (run.Request.IntervalMs == 0)
        {
            // Interval 0: a flood with every request in flight at once (ping -f -l COUNT), for load and benchmarks.
            while (run.Session.Sent < run.Request.Count) SendEcho(run);
        }
        else if (run.Session.Sent < run.Request.Count)
        {
            SendEcho(run);
            if (run.Session.Sent < run.Request.Count) Timers.StartSingleTimer($"ping-{t.Identifier}", t, run.Interval);
        }
        Finish(run);
    }

    private void Handle(HostOutput output, string traceparent)
    {
        if (Spans.Listening)
            for (var i = 0; i < output.Transmissions.Count; i++) Send(output.Transmissions[i], TcpTrace(output.Transmissions[i].Datagram, traceparent));
        else Send(output.Transmissions, traceparent);
        if (output.Drop != Net.DropReason.None) Drop(output.Drop);
        AfterTcp();
        for (var i = 0; i < output.Events.Count; i++)
        {
            switch (output.Events[i])
            {
                case PingReplied r when _runs.TryGetValue(r.Identifier, out var run):
                    run.Reported.Add(r.Sequence);
                    var ms = r.RoundTrip.TotalMilliseconds;
                    EndEcho(r.Identifier, r.Sequence, ms, null);
                    if (!_quiet) Report("ping", $"reply from {r.From}: bytes={r.DataLength} time={ms:0.###}ms TTL={r.TimeToLive}", traceparent);
                    if (!_quiet) run.ReplyTo.Tell(new PingResult { Host = Name, Destination = run.Request.Destination, Sequence = r.Sequence, Answered = true, RttMs = ms, Traceparent = traceparent, SentAtUnixMs = run.SentAt.GetValueOrDefault(r.Sequence) });
                    Finish(run);
                    break;
                case PingTimedOut o when _runs.TryGetValue(o.Identifier, out var run):
                    run.Reported.Add(o.Sequence);
                    EndEcho(o.Identifier, o.Sequence, null, "timed out");
                    Report("ping", $"request {o.Sequence} to {run.Request.Destination} timed out");
                    if (!_quiet) run.ReplyTo.Tell(new PingResult { Host = Name, Destination = run.Request.Destination, Sequence = o.Sequence, Answered = false, Failure = "timed out", SentAtUnixMs = run.SentAt.GetValueOrDefault(o.Sequence) });
                    Finish(run);
                    break;
                case PingFailed f when _runs.TryGetValue(f.Identifier, out var run):
                    run.Reported.Add(f.Sequence);
                    EndEcho(f.Identifier, f.Sequence, null, "ICMP error");
                    var why = f.NextHopMtu is { } mtu ? $"{f.ReportedBy}: fragmentation needed, next-hop MTU {mtu}" : $"{f.ReportedBy}: ICMP {f.Type} code {f.Code}";
                    Report("ping", $"request {f.Sequence} to {run.Request.Destination} failed: {why}");
                    if (!_quiet) run.ReplyTo.Tell(new PingResult { Host = Name, Destination = run.Request.Destination, Sequence = f.Sequence, Answered = false, Failure = why, SentAtUnixMs = run.SentAt.GetValueOrDefault(f.Sequence) });
                    Finish(run);
                    break;
            }
        }
    }

    private void Finish(PingRun run)
    {
        var s = run.Session;
        if (s.Sent < run.Request.Count || run.Reported.Count < s.Sent) return;
        _runs.Remove(s.Options.Identifier);
        _stack.StopPing(s.Options.Identifier);
        if (_runs.Count == 0) Timers.Cancel("stack");
        var summary = new PingSummary
        {
            Host = Name,
            Destination = run.Request.Destination,
            Sent = (uint)s.Sent,
            Received = (uint)s.Received,
            RttMinMs = s.Minimum?.TotalMilliseconds ?? 0,
            RttAvgMs = s.Average?.TotalMilliseconds ?? 0,
            RttMaxMs = s.Maximum?.TotalMilliseconds ?? 0,
        };
        Report("ping", $"{s.Sent} sent, {s.Received} received, {s.Lost} lost");
        run.ReplyTo.Tell(summary);
    }
}
