using System.Runtime.InteropServices;
using Akka.Actor;
using Google.Protobuf;
using Nodes.Capture;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Lab;

/// <summary>
/// What every node of a lab shares in one process: the time origin, the seed, the time scale, where events go,
/// and (when the user asked for one) the capture sink. Immutable apart from the capture sink, which locks.
/// </summary>
public sealed record LabContext(DateTimeOffset Epoch, ulong Seed, double TimeScale, IActorRef Events, CaptureSink? Capture)
{
    /// <summary>
    /// What a node's counters were when it restarted (a node-restart fault): counters are the lab's record of what
    /// happened, so they carry across the restart even though the node's state does not.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, NodeCountersCarried> Carried { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How many times this process's member has started at its address before (0 in one process, and on a member's
    /// first run): a restarted member's devices draw fresh random numbers, as a node restart's do.
    /// </summary>
    public int MemberIncarnation { get; init; }

    /// <summary>The lab's sampler for the roots of packet journeys (an echo request's span); null when tracing is off.</summary>
    public global::Nodes.Telemetry.RootSampler? Roots { get; init; }

    /// <summary>Lab time for the network models: time since the lab started.</summary>
    public TimeSpan Since(DateTimeOffset now) => now - Epoch;

    /// <summary>
    /// A protocol timer shrunk by the time scale (lifetimes, DPD, keepalives, NAT timeouts), never below
    /// <paramref name="floor"/> (or the original value when that is smaller): a timer shorter than a round trip
    /// would only show the scale, not the protocol. Retransmission timers are not scaled at all.
    /// </summary>
    public TimeSpan Scaled(TimeSpan t, TimeSpan? floor = null) => new Gateway.TimeScale(TimeScale).Scaled(t, floor);
}

/// <summary>A node's counters, kept across a restart.</summary>
/// <param name="Incarnation">How many times the node has restarted: a restarted device draws fresh random numbers.</param>
public sealed record NodeCountersCarried(ulong FramesIn, ulong FramesOut, IReadOnlyDictionary<string, long> Drops, int Incarnation);

/// <summary>Where a node's interface attaches: the link actor and the link's name, and the link's shortcut when it is built in this process.</summary>
public sealed record Attachment(string Interface, string Link, IActorRef LinkActor, LinkShortcut? Shortcut = null);

/// <summary>
/// Sees what a <see cref="CaptureSink"/> sees, as it happens: every frame a link carries and the keys of every SA.
/// Called on the link's and the SA's actor threads, so an implementation locks or queues; it must not keep the span.
/// </summary>
public interface ICaptureTap
{
    /// <summary>
    /// A frame sent onto <paramref name="link"/> by <paramref name="fromNode"/>'s <paramref name="fromInterface"/>
    /// toward <paramref name="nextHop"/> (what ARP would resolve on a segment), before the link's impairments.
    /// </summary>
    void Frame(string link, string fromNode, string fromInterface, Ipv4Address nextHop, DateTimeOffset at, ReadOnlySpan<byte> packet);

    /// <summary>The keys of one ESP SA direction; the entry is the sink's own copy and stays valid.</summary>
    void Keys(EspSaKeyEntry esp);

    /// <summary>The keys of one IKE SA; the entry is the sink's own copy and stays valid.</summary>
    void Keys(IkeSaKeyEntry ike);
}

/// <summary>
/// Writes one pcapng per link and collects the keys of every SA for Wireshark, and hands both to a tap (the web view)
/// when one is given. Shared by the actors of one process (captures are a feature of a lab run), so it locks.
/// </summary>
public sealed class CaptureSink : IDisposable
{
    private readonly object _gate = new();
    private readonly string? _directory;
    private readonly ICaptureTap? _tap;
    private readonly Dictionary<string, PcapngWriter> _writers = [];
    private readonly WiresharkKeys _keys = new();
    // The SPIs already recorded, looked up per new SA: a hub of a hundred thousand tunnels reports as many SAs, and a
    // walk of the list for each made building the keys file quadratic.
    private readonly HashSet<uint> _espSpis = [];
    private readonly HashSet<(ulong Initiator, ulong Responder)> _ikeSpis = [];

    /// <summary>A sink writing into <paramref name="directory"/> (null: no files, only the tap).</summary>
    public CaptureSink(string? directory, ICaptureTap? tap = null)
    {
        _directory = directory;
        _tap = tap;
        if (directory is not null) System.IO.Directory.CreateDirectory(directory);
    }

    /// <summary>Where the files go; null when the sink only feeds its tap.</summary>
    public string? Directory => _directory;

    private readonly List<string> _files = [];

    /// <summary>The capture files written (one per link that carried a frame).</summary>
    public IReadOnlyCollection<string> Files { get { lock (_gate) return _files.ToArray(); } }

    public string FileFor(string link) => Path.Combine(_directory ?? ".", SafeName(link) + ".pcapng");

    /// <summary>Records a frame on <paramref name="link"/>; the sender and its next hop are for the tap.</summary>
    public void Record(string link, DateTimeOffset at, ReadOnlySpan<byte> packet, string fromNode = "", string fromInterface = "", Ipv4Address nextHop = default)
    {
        _tap?.Frame(link, fromNode, fromInterface, nextHop, at, packet);
        if (_directory is null) return;
        lock (_gate)
        {
            if (!_writers.TryGetValue(link, out var w))
            {
                w = new PcapngWriter(File.Create(FileFor(link)));
                w.AddInterface(link);
                _writers[link] = w;
                _files.Add(FileFor(link));
            }
            w.WritePacket(0, at, packet);
        }
    }

    // The SAs own their keys and wipe them when they go; the sink keeps copies until the files are written.
    public void AddKeys(EspSaKeyEntry esp)
    {
        EspSaKeyEntry copy;
        lock (_gate)
        {
            // Both ends of a tunnel report each SA; one line per SPI is enough.
            if (!_espSpis.Add(esp.Spi)) return;
            copy = esp with { EncryptionKey = Copy(esp.EncryptionKey)!, IntegrityKey = Copy(esp.IntegrityKey) };
            _keys.Add(copy);
        }
        _tap?.Keys(copy);
    }

    public void AddKeys(IkeSaKeyEntry ike)
    {
        IkeSaKeyEntry copy;
        lock (_gate)
        {
            if (!_ikeSpis.Add((ike.InitiatorSpi, ike.ResponderSpi))) return;
            copy = ike with { SkEi = Copy(ike.SkEi)!, SkEr = Copy(ike.SkEr)!, SkAi = Copy(ike.SkAi), SkAr = Copy(ike.SkAr) };
            _keys.Add(copy);
        }
        _tap?.Keys(copy);
    }

    private static Crypto.SecretKey? Copy(Crypto.SecretKey? key) => key is null ? null : new Crypto.SecretKey(key.Expose());

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var w in _writers.Values) w.Dispose();
            _writers.Clear();
            if (_directory is not null) _keys.WriteTo(_directory);
        }
    }

    private static string SafeName(string link) => string.Concat(link.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>Small helpers shared by node actors.</summary>
internal static class FrameExtensions
{
    /// <summary>
    /// The frame's datagram as an array the receiving node may change and send on. A delivered frame's bytes are the
    /// receiver's alone: a link gives each receiver its own copy, a sender gives its datagram away with the frame, and a
    /// frame from another process or a socket is built on fresh bytes. So the array under the packet is taken when it
    /// is exactly the packet, and copied only otherwise.
    /// </summary>
    public static byte[] TakePacket(this Frame frame) =>
        MemoryMarshal.TryGetArray(frame.Packet.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : frame.Packet.ToByteArray();

    public static Frame ToFrame(this Transmission t, string node, Attachment a, string traceparent, ulong sequence) => new()
    {
        Link = a.Link,
        Node = node,
        Interface = t.Interface,
        Packet = UnsafeByteOperations.UnsafeWrap(t.Datagram),
        NextHop = t.NextHop.Value,
        Traceparent = traceparent,
        Sequence = sequence,
    };
}
