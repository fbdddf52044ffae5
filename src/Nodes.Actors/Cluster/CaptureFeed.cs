using System.Collections.Concurrent;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Google.Protobuf;
using Nodes.Actors.Lab;
using Nodes.Capture;
using Nodes.Crypto;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Cluster;

/// <summary>One frame as a member's link recorded it (what <see cref="ICaptureTap.Frame"/> sees), for a driver's web view.</summary>
public sealed record CapturedFrame(string Link, string FromNode, string FromInterface, uint NextHop, long AtUnixUs, byte[] Packet)
{
    public DateTimeOffset At => DateTimeOffset.UnixEpoch.AddTicks(AtUnixUs * 10);

    public static long UnixUs(DateTimeOffset at) => (at - DateTimeOffset.UnixEpoch).Ticks / 10;
}

/// <summary>
/// The sender (a driver showing the web view) wants the frames the member's links carry and the keys of the SAs of
/// the member's gateways from now on, in <see cref="CapturedFrames"/> batches that it acknowledges one by one.
/// </summary>
public sealed record SubscribeCapture : IClusterControlMessage
{
    public static readonly SubscribeCapture Instance = new();
}

/// <summary>
/// A batch of frames in the order the member's links recorded them, the keys exported since the last batch, and how
/// many frames the subscriber has missed in all because it acknowledged too slowly (or the member's buffer was full).
/// Key bytes cross only to a subscriber that asked, as they go into a capture folder when the user asks for one;
/// they print as <c>[redacted]</c> (<see cref="SecretKey.ToString"/>), so no log line carries them.
/// <paramref name="SentAtUnixUs"/> is the member's clock when it sent the batch: the subscriber compares it with its own
/// to put frames of members whose clocks differ on one time line (0 when unknown).
/// </summary>
public sealed record CapturedFrames(IReadOnlyList<CapturedFrame> Frames, IReadOnlyList<EspSaKeyEntry> Esp, IReadOnlyList<IkeSaKeyEntry> Ike, long Missed,
    long SentAtUnixUs = 0) : IClusterControlMessage
{
    public override string ToString() => $"CapturedFrames({Frames.Count} frames, {Esp.Count} ESP and {Ike.Count} IKE key entries, {Missed} missed)";
}

/// <summary>The subscriber took one <see cref="CapturedFrames"/>: the member may send another.</summary>
public sealed record CaptureAck : IClusterControlMessage
{
    public static readonly CaptureAck Instance = new();
}

/// <summary>
/// The member's capture tap for drivers' web views: while someone subscribes, every frame goes into a bounded queue
/// (a frame that finds it full is counted and dropped: a slow view never slows the lab); keys are always kept (few,
/// and a view that subscribes late still decrypts the SAs up already). Called on the links' and SAs' actor threads.
/// </summary>
public sealed class CaptureFeedTap : ICaptureTap
{
    /// <summary>Frames waiting for the feed actor at most.</summary>
    public const int Capacity = 16_384;

    private readonly ConcurrentQueue<CapturedFrame> _queue = new();
    private readonly object _gate = new();
    private readonly List<EspSaKeyEntry> _esp = [];
    private readonly List<IkeSaKeyEntry> _ike = [];
    private int _count;
    private long _dropped;
    private volatile bool _open;

    /// <summary>Frames dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Frame(string link, string fromNode, string fromInterface, Ipv4Address nextHop, DateTimeOffset at, ReadOnlySpan<byte> packet)
    {
        if (!_open) return;
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _queue.Enqueue(new CapturedFrame(link, fromNode, fromInterface, nextHop.Value, CapturedFrame.UnixUs(at), packet.ToArray()));
    }

    public void Keys(EspSaKeyEntry esp)
    {
        lock (_gate) _esp.Add(esp);
    }

    public void Keys(IkeSaKeyEntry ike)
    {
        lock (_gate) _ike.Add(ike);
    }

    internal bool Open
    {
        set
        {
            _open = value;
            if (!value) while (_queue.TryDequeue(out _)) Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Frames in recording order, until <paramref name="maxBytes"/> of packets (at least one frame when any waits).</summary>
    internal List<CapturedFrame> Take(int maxBytes)
    {
        var batch = new List<CapturedFrame>();
        var bytes = 0;
        while (bytes < maxBytes && _queue.TryDequeue(out var f))
        {
            Interlocked.Decrement(ref _count);
            batch.Add(f);
            bytes += f.Packet.Length + f.Link.Length + 32;
        }
        return batch;
    }

    internal (EspSaKeyEntry[] Esp, IkeSaKeyEntry[] Ike) KeysFrom(int esp, int ike)
    {
        lock (_gate) return (_esp.Skip(esp).ToArray(), _ike.Skip(ike).ToArray());
    }
}

/// <summary>
/// The member's capture feed, <c>/user/capture</c>: sends the frames of <see cref="CaptureFeedTap"/> to every
/// subscribed driver in batches, at most <see cref="InFlight"/> unacknowledged batches per subscriber; a subscriber
/// out of credit misses the batch (counted in <see cref="CapturedFrames.Missed"/>), so that a slow view never holds
/// frames in the member beyond the tap's bounded queue.
/// </summary>
public sealed class CaptureFeedActor : ReceiveActor, IWithTimers
{
    public const string Name = "capture";

    /// <summary>Batches a subscriber may have unacknowledged.</summary>
    public const int InFlight = 4;

    /// <summary>Packet bytes per batch at most: well below Akka.Remote's 128,000-byte frame limit.</summary>
    public const int BatchBytes = 64 * 1024;

    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly CaptureFeedTap _tap;
    private readonly Dictionary<IActorRef, Subscriber> _subscribers = [];

    private sealed class Subscriber
    {
        public int InFlight;
        public int EspSent;
        public int IkeSent;
        public long Missed;
    }

    private sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public CaptureFeedActor(CaptureFeedTap tap)
    {
        _tap = tap;
        Receive<SubscribeCapture>(_ =>
        {
            if (_subscribers.ContainsKey(Sender)) return;
            _subscribers[Sender] = new Subscriber();
            Context.Watch(Sender);
            _tap.Open = true;
            if (!Timers.IsTimerActive("flush")) Timers.StartPeriodicTimer("flush", Flush.Instance, Interval);
        });
        Receive<Terminated>(t =>
        {
            _subscribers.Remove(t.ActorRef);
            if (_subscribers.Count > 0) return;
            _tap.Open = false;
            Timers.Cancel("flush");
        });
        Receive<CaptureAck>(_ =>
        {
            if (_subscribers.TryGetValue(Sender, out var s) && s.InFlight > 0) s.InFlight--;
        });
        Receive<Flush>(_ => Send());
    }

    private void Send()
    {
        while (true)
        {
            var ready = _subscribers.Where(s => s.Value.InFlight < InFlight).ToList();
            if (ready.Count == 0) return;
            var frames = _tap.Take(BatchBytes);
            var missed = _tap.Dropped;
            var sent = false;
            foreach (var (who, s) in _subscribers)
            {
                if (s.InFlight >= InFlight)
                {
                    s.Missed += frames.Count;
                    continue;
                }
                var (esp, ike) = _tap.KeysFrom(s.EspSent, s.IkeSent);
                if (frames.Count == 0 && esp.Length == 0 && ike.Length == 0) continue;
                s.EspSent += esp.Length;
                s.IkeSent += ike.Length;
                s.InFlight++;
                who.Tell(new CapturedFrames(frames, esp, ike, s.Missed + missed, CapturedFrame.UnixUs(DateTimeOffset.UtcNow)));
                sent = true;
            }
            if (!sent || frames.Count == 0) return;
        }
    }

    public static Props Props(CaptureFeedTap tap) => Akka.Actor.Props.Create(() => new CaptureFeedActor(tap));
}

/// <summary>
/// Serializes the capture feed's messages in protobuf wire format with short, stable manifests, written by hand
/// like <see cref="ClusterControlSerializer"/>, of which it is the part that carries frames and keys.
/// </summary>
public sealed class CaptureFeedSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4_119;
    public const string Name = "nodes-capture-feed";

    private static readonly (Type Type, string Manifest)[] Table =
    [
        (typeof(SubscribeCapture), "sc"),
        (typeof(CapturedFrames), "cf"),
        (typeof(CaptureAck), "ca"),
    ];

    public static IReadOnlyList<(Type Type, string Manifest)> Bindings => Table;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Table.FirstOrDefault(t => t.Type == o.GetType()).Manifest ?? throw new ArgumentException($"{o.GetType()} is not a capture feed message", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        switch (obj)
        {
            case SubscribeCapture or CaptureAck:
                return [];
            case CapturedFrames c:
                using (var ms = new MemoryStream())
                {
                    var o = new CodedOutputStream(ms);
                    foreach (var f in c.Frames) Nested(o, 1, w =>
                    {
                        w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(f.Link);
                        w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(f.FromNode);
                        w.WriteTag(3, WireFormat.WireType.LengthDelimited); w.WriteString(f.FromInterface);
                        w.WriteTag(4, WireFormat.WireType.Fixed32); w.WriteFixed32(f.NextHop);
                        w.WriteTag(5, WireFormat.WireType.Varint); w.WriteInt64(f.AtUnixUs);
                        w.WriteTag(6, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(f.Packet));
                    });
                    foreach (var e in c.Esp) Nested(o, 2, w =>
                    {
                        w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(e.Source);
                        w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(e.Destination);
                        w.WriteTag(3, WireFormat.WireType.Fixed32); w.WriteFixed32(e.Spi);
                        Suite(w, 4, e.Suite);
                        Key(w, 5, e.EncryptionKey);
                        Key(w, 6, e.IntegrityKey);
                    });
                    foreach (var k in c.Ike) Nested(o, 3, w =>
                    {
                        w.WriteTag(1, WireFormat.WireType.Fixed64); w.WriteFixed64(k.InitiatorSpi);
                        w.WriteTag(2, WireFormat.WireType.Fixed64); w.WriteFixed64(k.ResponderSpi);
                        Suite(w, 3, k.Suite);
                        Key(w, 4, k.SkEi);
                        Key(w, 5, k.SkEr);
                        Key(w, 6, k.SkAi);
                        Key(w, 7, k.SkAr);
                    });
                    o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt64(c.Missed);
                    if (c.SentAtUnixUs != 0) { o.WriteTag(5, WireFormat.WireType.Varint); o.WriteInt64(c.SentAtUnixUs); }
                    o.Flush();
                    return ms.ToArray();
                }
            default:
                throw new ArgumentException($"{obj.GetType()} is not a capture feed message", nameof(obj));
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        switch (manifest)
        {
            case "sc": return SubscribeCapture.Instance;
            case "ca": return CaptureAck.Instance;
            case "cf":
                try
                {
                    var i = new CodedInputStream(bytes);
                    List<CapturedFrame> frames = [];
                    List<EspSaKeyEntry> esp = [];
                    List<IkeSaKeyEntry> ike = [];
                    long missed = 0, sentAt = 0;
                    uint tag;
                    while ((tag = i.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(tag))
                        {
                            case 1: frames.Add(ReadFrame(new CodedInputStream(i.ReadBytes().ToByteArray()))); break;
                            case 2: esp.Add(ReadEsp(new CodedInputStream(i.ReadBytes().ToByteArray()))); break;
                            case 3: ike.Add(ReadIke(new CodedInputStream(i.ReadBytes().ToByteArray()))); break;
                            case 4: missed = i.ReadInt64(); break;
                            case 5: sentAt = i.ReadInt64(); break;
                            default: i.SkipLastField(); break;
                        }
                    }
                    return new CapturedFrames(frames, esp, ike, missed, sentAt);
                }
                catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
                {
                    throw new SerializationException($"malformed capture feed message '{manifest}': {e.Message}", e);
                }
            default:
                throw new SerializationException($"unknown capture feed manifest '{manifest}'");
        }
    }

    private static void Nested(CodedOutputStream o, int field, Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        var w = new CodedOutputStream(ms);
        write(w);
        w.Flush();
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(ms.GetBuffer(), 0, (int)ms.Length));
    }

    private static void Suite(CodedOutputStream w, int field, CipherSuite s)
    {
        w.WriteTag(field, WireFormat.WireType.Varint);
        // Encryption, key bits and integrity in one varint: 16 + 16 + 16 bits.
        w.WriteUInt64(((ulong)(ushort)s.Encryption << 32) | ((ulong)(ushort)s.KeyBits << 16) | (ushort)s.Integrity);
    }

    private static CipherSuite ReadSuite(ulong v) =>
        new((EncryptionAlgorithm)(ushort)(v >> 32), (ushort)(v >> 16), (IntegrityAlgorithm)(ushort)v);

    private static void Key(CodedOutputStream w, int field, SecretKey? key)
    {
        if (key is null) return;
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(key.Expose()));
    }

    private static SecretKey ReadKey(CodedInputStream i) => new(i.ReadBytes().Span);

    private static CapturedFrame ReadFrame(CodedInputStream i)
    {
        string link = "", node = "", iface = "";
        uint next = 0;
        long at = 0;
        byte[] packet = [];
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: link = i.ReadString(); break;
                case 2: node = i.ReadString(); break;
                case 3: iface = i.ReadString(); break;
                case 4: next = i.ReadFixed32(); break;
                case 5: at = i.ReadInt64(); break;
                case 6: packet = i.ReadBytes().ToByteArray(); break;
                default: i.SkipLastField(); break;
            }
        }
        return new CapturedFrame(link, node, iface, next, at, packet);
    }

    private static EspSaKeyEntry ReadEsp(CodedInputStream i)
    {
        string source = "", destination = "";
        uint spi = 0;
        CipherSuite suite = default;
        SecretKey? encryption = null, integrity = null;
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: source = i.ReadString(); break;
                case 2: destination = i.ReadString(); break;
                case 3: spi = i.ReadFixed32(); break;
                case 4: suite = ReadSuite(i.ReadUInt64()); break;
                case 5: encryption = ReadKey(i); break;
                case 6: integrity = ReadKey(i); break;
                default: i.SkipLastField(); break;
            }
        }
        return new EspSaKeyEntry(source, destination, spi, suite, encryption ?? throw new InvalidDataException("an ESP key entry without its encryption key"), integrity);
    }

    private static IkeSaKeyEntry ReadIke(CodedInputStream i)
    {
        ulong spiI = 0, spiR = 0;
        CipherSuite suite = default;
        SecretKey? ei = null, er = null, ai = null, ar = null;
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: spiI = i.ReadFixed64(); break;
                case 2: spiR = i.ReadFixed64(); break;
                case 3: suite = ReadSuite(i.ReadUInt64()); break;
                case 4: ei = ReadKey(i); break;
                case 5: er = ReadKey(i); break;
                case 6: ai = ReadKey(i); break;
                case 7: ar = ReadKey(i); break;
                default: i.SkipLastField(); break;
            }
        }
        if (ei is null || er is null) throw new InvalidDataException("an IKE key entry without its SK_e keys");
        return new IkeSaKeyEntry(spiI, spiR, suite, ei, er, ai, ar);
    }

    public static Config Configuration() => BoundSerializer.Configuration(typeof(CaptureFeedSerializer), Name, SerializerId, Table);

    /// <summary>Throws naming every capture feed message type that would fall back to another serializer.</summary>
    public static void VerifyBindings(ActorSystem system) =>
        BoundSerializer.Verify<CaptureFeedSerializer>(system, "capture feed messages", [SubscribeCapture.Instance, new CapturedFrames([], [], [], 0), CaptureAck.Instance]);
}
