using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Nodes.Actors.Lab;
using Nodes.Host;

namespace Nodes.Actors.Tests;

/// <summary>The lab's mailbox: order, the stash's front, how its ring grows and lets go, many senders at once, and that a lab's actors get it.</summary>
public class LabMailboxTests
{
    private static Envelope Message(object m) => new(m, ActorRefs.NoSender);

    private static List<object> Drain(LabMessageQueue q)
    {
        var got = new List<object>();
        while (q.TryDequeue(out var e)) got.Add(e.Message);
        return got;
    }

    [Fact]
    public void Messages_must_leave_in_the_order_they_came_and_a_stashed_one_must_go_first()
    {
        var q = new LabMessageQueue();
        Assert.False(q.HasMessages);
        Assert.False(q.TryDequeue(out _));
        for (var i = 0; i < 10; i++) q.Enqueue(ActorRefs.Nobody, Message(i));
        q.EnqueueFirst(Message("unstashed-2"));
        q.EnqueueFirst(Message("unstashed-1"));
        Assert.Equal(12, q.Count);
        Assert.True(q.HasMessages);
        Assert.Equal(["unstashed-1", "unstashed-2", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Drain(q));
        Assert.Equal(0, q.Count);
    }

    [Fact]
    public void An_idle_queue_must_hold_no_slots_and_grow_only_as_far_as_messages_waited()
    {
        var q = new LabMessageQueue();
        Assert.Equal(0, q.Capacity);
        for (var round = 0; round < 100; round++)
        {
            q.Enqueue(ActorRefs.Nobody, Message(round));
            q.Enqueue(ActorRefs.Nobody, Message(round));
            Drain(q);
        }
        Assert.Equal(LabMessageQueue.FirstCapacity, q.Capacity); // two at a time never needed more than the first ring

        for (var i = 0; i < 1000; i++) q.Enqueue(ActorRefs.Nobody, Message(i));
        Assert.Equal(1024, q.Capacity);
        Assert.Equal(Enumerable.Range(0, 1000).Cast<object>(), Drain(q));
        for (var i = 0; i < 1000; i++) q.Enqueue(ActorRefs.Nobody, Message(i));
        Assert.Equal(1024, q.Capacity); // the next flood finds its ring
        Assert.Equal(1000, Drain(q).Count);
    }

    [Fact]
    public void A_ring_that_wrapped_must_keep_the_order_when_it_grows()
    {
        var q = new LabMessageQueue();
        var next = 0;
        var expected = 0;
        // Keep three waiting while the head walks round the ring of four, then overfill it.
        for (var round = 0; round < 10; round++)
        {
            while (q.Count < 3) q.Enqueue(ActorRefs.Nobody, Message(next++));
            Assert.True(q.TryDequeue(out var e));
            Assert.Equal(expected++, e.Message);
        }
        for (var i = 0; i < 20; i++) q.Enqueue(ActorRefs.Nobody, Message(next++));
        Assert.Equal(Enumerable.Range(expected, next - expected).Cast<object>(), Drain(q));
    }

    [Fact]
    public void Many_senders_at_once_must_lose_nothing_and_keep_each_senders_order()
    {
        var q = new LabMessageQueue();
        const int senders = 4;
        const int each = 20_000;
        var received = new List<(int Sender, int Index)>();
        using var done = new CountdownEvent(senders);
        var threads = Enumerable.Range(0, senders).Select(s => new Thread(() =>
        {
            for (var i = 0; i < each; i++) q.Enqueue(ActorRefs.Nobody, Message((s, i)));
            done.Signal();
        })).ToList();
        threads.ForEach(t => t.Start());
        while (!done.IsSet || q.HasMessages)
            if (q.TryDequeue(out var e)) received.Add(((int, int))e.Message);
        threads.ForEach(t => t.Join());
        while (q.TryDequeue(out var e)) received.Add(((int, int))e.Message);

        Assert.Equal(senders * each, received.Count);
        for (var s = 0; s < senders; s++)
            Assert.Equal(Enumerable.Range(0, each), received.Where(r => r.Sender == s).Select(r => r.Index));
    }

    [Fact]
    public void Left_over_messages_must_go_to_the_dead_letters_on_clean_up()
    {
        var q = new LabMessageQueue();
        var dead = new LabMessageQueue();
        q.Enqueue(ActorRefs.Nobody, Message("a"));
        q.Enqueue(ActorRefs.Nobody, Message("b"));
        q.CleanUp(ActorRefs.Nobody, dead);
        Assert.False(q.HasMessages);
        Assert.Equal(["a", "b"], Drain(dead));
    }

    [Fact]
    public async Task A_labs_actors_and_one_that_stashes_must_run_on_the_lab_mailbox()
    {
        using var system = ActorSystem.Create("mailbox-spec", LabRunner.AkkaConfig(serializeAll: false));
        var gate = system.ActorOf(Props.Create(() => new Gate()), "gate");
        await gate.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(10));
        var cell = (ActorCell)((ActorRefWithCell)gate).Underlying;
        Assert.IsType<LabMessageQueue>(cell.Mailbox!.MessageQueue);

        // Held back until "open", then handed over in the order sent, ahead of what came after.
        gate.Tell(1);
        gate.Tell(2);
        gate.Tell("open");
        gate.Tell(3);
        var got = await gate.Ask<int[]>("report", TimeSpan.FromSeconds(10));
        Assert.Equal([1, 2, 3], got);
    }

    private sealed class Gate : ActorBase, IWithUnboundedStash
    {
        private readonly List<int> _seen = [];
        private bool _open;

        public IStash Stash { get; set; } = null!;

        protected override bool Receive(object message)
        {
            switch (message)
            {
                case int when !_open:
                    Stash.Stash();
                    return true;
                case int n:
                    _seen.Add(n);
                    return true;
                case "open":
                    _open = true;
                    Stash.UnstashAll();
                    return true;
                case "report":
                    Sender.Tell(_seen.ToArray());
                    return true;
                default:
                    return false;
            }
        }
    }
}
