using Akka.Actor;
using Akka.Cluster;
using Nodes.Actors.Cluster;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Wire.Ip;

namespace Nodes.Host;

/// <summary>
/// The driver's end of the members' capture feeds (<see cref="CaptureFeedActor"/>), for a web view of a lab spread
/// over processes: subscribes to every lab member's <c>/user/capture</c> (also members that come back after a
/// restart), acknowledges each batch at once, and hands frames and keys to a tap as if the links were in this process.
/// Members flush every 50 ms, each on its own, so frames are held for <see cref="Hold"/> and released in the time
/// order the links recorded them: a ping's hops through three members then follow one another as they did. Members on
/// other machines have other clocks: each member's frames are moved onto this process's clock first
/// (<see cref="MemberClocks"/>, from the send time every batch carries), so that the order holds across machines.
/// </summary>
public sealed class CaptureFeedReceiver : ReceiveActor, IWithTimers
{
    /// <summary>How long a frame waits for the frames of other members that happened before it.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(300);

    /// <summary>Frames held at most; past it the oldest go to the tap at once.</summary>
    public const int MaxHeld = 100_000;

    private readonly ICaptureTap _tap;
    private readonly PriorityQueue<CapturedFrame, (long At, long Order)> _held = new();
    private readonly MemberClocks _clocks = new();
    private readonly Action<NodeEvent>? _onEvent;
    private readonly Dictionary<Address, (long Missed, long Told, DateTimeOffset At)> _missed = [];
    private long _order;

    private sealed record Release
    {
        public static readonly Release Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="onEvent">Told (at most once a second per member) when a member's frames were dropped for a view too slow.</param>
    public CaptureFeedReceiver(ICaptureTap tap, Action<NodeEvent>? onEvent)
    {
        _tap = tap;
        _onEvent = onEvent;
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp));
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.HasRole(ClusterSettings.LabRole))
                Context.ActorSelection(new RootActorPath(m.Member.Address) / "user" / CaptureFeedActor.Name).Tell(SubscribeCapture.Instance);
        });
        Receive<CapturedFrames>(batch =>
        {
            Sender.Tell(CaptureAck.Instance);
            var member = Sender.Path.Address;
            _clocks.Observe(member, batch.SentAtUnixUs, CapturedFrame.UnixUs(DateTimeOffset.UtcNow));
            foreach (var e in batch.Esp) _tap.Keys(e);
            foreach (var k in batch.Ike) _tap.Keys(k);
            var corrected = _clocks.OffsetUs(member) != 0;
            foreach (var f in batch.Frames)
            {
                var on = corrected ? f with { AtUnixUs = _clocks.Correct(member, f.AtUnixUs) } : f;
                _held.Enqueue(on, (on.AtUnixUs, _order++));
            }
            var m = _missed.GetValueOrDefault(member);
            _missed[member] = m with { Missed = batch.Missed };
            while (_held.Count > MaxHeld) Emit(_held.Dequeue());
        });
        Receive<Release>(_ =>
        {
            var until = CapturedFrame.UnixUs(DateTimeOffset.UtcNow - Hold);
            while (_held.TryPeek(out var _, out var key) && key.At <= until) Emit(_held.Dequeue());
            var now = DateTimeOffset.UtcNow;
            foreach (var (member, m) in _missed.Where(x => x.Value.Missed > x.Value.Told && now - x.Value.At >= TimeSpan.FromSeconds(1)).ToList())
            {
                _missed[member] = (m.Missed, m.Missed, now);
                _onEvent?.Invoke(new NodeEvent
                {
                    Node = member.ToString(), Kind = "capture", AtUnixMs = now.ToUnixTimeMilliseconds(),
                    Text = $"{m.Missed - m.Told} frame(s) of member {member} not shown ({m.Missed} in all): the view fell behind the lab",
                });
            }
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("release", Release.Instance, TimeSpan.FromMilliseconds(50));

    private void Emit(CapturedFrame f) => _tap.Frame(f.Link, f.FromNode, f.FromInterface, new Ipv4Address(f.NextHop), f.At, f.Packet);

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        while (_held.Count > 0) Emit(_held.Dequeue());
    }

    public static Props Props(ICaptureTap tap, Action<NodeEvent>? onEvent) => Akka.Actor.Props.Create(() => new CaptureFeedReceiver(tap, onEvent));
}
