using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Nodes.Actors.Lab;

/// <summary>
/// The lab's mailbox: unbounded, first in first out, with a front for a stash to put messages back. Akka's default
/// queue starts every actor with a segment of 32 slots (about 1 KB) that it keeps for ever; a generated hub has five
/// actors a branch, most of them idle most of the time, so that alone was 5 KB a tunnel. This one starts with no
/// slots and grows by doubling while messages wait; it keeps the size it reached (as Akka's keeps its newest segment),
/// so an actor that takes floods (a hub's gateway, the internet router) does not allocate its ring again for each one,
/// and one that never saw more than a few messages at once holds a few slots.
/// </summary>
public sealed class LabMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<LabMessageQueue>
{
    /// <summary>Makes an actor system's actors use this mailbox, the ones that stash included.</summary>
    public static Config Configuration { get; } = ConfigurationFactory.ParseString($$"""
        akka.actor.default-mailbox.mailbox-type = "{{typeof(LabMailbox).FullName}}, {{typeof(LabMailbox).Assembly.GetName().Name}}"
        akka.actor.mailbox.unbounded-queue-based.mailbox-type = "{{typeof(LabMailbox).FullName}}, {{typeof(LabMailbox).Assembly.GetName().Name}}"
        akka.actor.mailbox.unbounded-deque-based.mailbox-type = "{{typeof(LabMailbox).FullName}}, {{typeof(LabMailbox).Assembly.GetName().Name}}"
        """);

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LabMessageQueue();
}

/// <summary>
/// A ring of envelopes behind one lock: any thread enqueues, the actor's own turn dequeues, and a stash prepends.
/// <see cref="Count"/> and <see cref="HasMessages"/> are read without the lock (the dispatcher asks them often).
/// </summary>
public sealed class LabMessageQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    /// <summary>Slots the ring gets for its first message.</summary>
    public const int FirstCapacity = 4;

    private readonly Lock _gate = new();
    private Envelope[] _ring = [];
    private int _head;
    private volatile int _count;

    public bool HasMessages => _count > 0;

    public int Count => _count;

    /// <summary>Slots the ring has now (0 before the first message, then the most that ever waited, rounded up to a power of two).</summary>
    public int Capacity => _ring.Length;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_gate)
        {
            if (_count == _ring.Length) Grow();
            _ring[(_head + _count) & (_ring.Length - 1)] = envelope;
            _count++;
        }
    }

    public void EnqueueFirst(Envelope envelope)
    {
        lock (_gate)
        {
            if (_count == _ring.Length) Grow();
            _head = (_head - 1) & (_ring.Length - 1);
            _ring[_head] = envelope;
            _count++;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (_count == 0)
        {
            envelope = default;
            return false;
        }
        lock (_gate)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }
            envelope = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) & (_ring.Length - 1);
            _count--;
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }

    private void Grow()
    {
        var bigger = new Envelope[Math.Max(FirstCapacity, _ring.Length * 2)];
        for (var i = 0; i < _count; i++) bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        _ring = bigger;
        _head = 0;
    }
}
