using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Messages;
using Nodes.Telemetry;

namespace Nodes.Host;

/// <summary>
/// Collects the hosts' ping summaries for a run (one process or a cluster driver) until the expected number arrived or
/// the deadline passed; keeps the trace id of every answered ping in answer order (the first is the first journey)
/// and hands each result to <c>watch</c> when one is given.
/// </summary>
internal sealed class PingCollector : ReceiveActor, IWithTimers
{
    public sealed record WaitFor(int Count, TimeSpan Deadline) : INoSerializationVerificationNeeded;

    public sealed record TraceIds : INoSerializationVerificationNeeded;

    private sealed record Timeout : INoSerializationVerificationNeeded;

    private readonly List<PingSummary> _summaries = [];
    private readonly List<string> _traces = [];
    private IActorRef? _waiter;
    private int _expected = int.MaxValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public PingCollector(IActorRef? watch)
    {
        Receive<PingSummary>(s =>
        {
            _summaries.Add(s);
            Check();
        });
        Receive<PingResult>(r =>
        {
            watch?.Tell(r);
            if (r.Answered && Spans.TraceId(r.Traceparent) is { } id && !_traces.Contains(id)) _traces.Add(id);
        });
        Receive<TraceIds>(_ => Sender.Tell(_traces.ToImmutableList()));
        Receive<WaitFor>(w =>
        {
            _waiter = Sender;
            _expected = w.Count;
            Timers.StartSingleTimer("deadline", new Timeout(), w.Deadline);
            Check();
        });
        Receive<Timeout>(_ => Reply());
    }

    private void Check()
    {
        if (_waiter is not null && _summaries.Count >= _expected) Reply();
    }

    private void Reply()
    {
        _waiter?.Tell(_summaries.ToImmutableList());
        _waiter = null;
    }
}
