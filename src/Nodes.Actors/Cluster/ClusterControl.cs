using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Google.Protobuf;

namespace Nodes.Actors.Cluster;

/// <summary>Marks the messages members and drivers of a multi-process lab exchange about the lab itself.</summary>
public interface IClusterControlMessage;

/// <summary>Asks a member's lab actor (<c>/user/lab</c>) what it hosts; answered with <see cref="MemberInfo"/>.</summary>
public sealed record MemberInfoRequest : IClusterControlMessage
{
    public static readonly MemberInfoRequest Instance = new();
}

/// <summary>
/// What one member hosts and how it built its part of the lab. A driver compares <see cref="Fingerprint"/> and
/// <see cref="Scenario"/> across members: every member must run the same topology file and scenario.
/// </summary>
public sealed record MemberInfo(
    string Process,
    IReadOnlyList<string> Nodes,
    IReadOnlyList<string> Links,
    string Topology,
    string Fingerprint,
    string Scenario,
    ulong Seed,
    double TimeScale,
    IReadOnlyList<string> Waiting) : IClusterControlMessage
{
    /// <summary>Every port of this member found its peer: frames can flow to and from its nodes.</summary>
    public bool Connected => Waiting.Count == 0;
}

/// <summary>The sender wants every <see cref="Messages.NodeEvent"/> of the member's nodes from now on.</summary>
public sealed record SubscribeEvents : IClusterControlMessage
{
    public static readonly SubscribeEvents Instance = new();
}

/// <summary>
/// A member's lab actor's answer to an <see cref="Messages.InjectFault"/>: the member's targets of the fault (nodes
/// and links it hosts), each of which answers the same sender with a <see cref="Messages.FaultApplied"/>. Empty
/// when the member hosts none of them, so the sender knows how many answers to wait for.
/// </summary>
public sealed record FaultRouted(string Id, string Process, IReadOnlyList<string> Targets) : IClusterControlMessage;

/// <summary>
/// Asks a member's lab actor to start, from every node it hosts that one of the scenario's pings starts at, that ping
/// with <see cref="Count"/> echo requests (a summary only); answered with <see cref="HostedPingsDone"/> once every
/// ping has its summary or <see cref="PatienceMs"/> has passed after the last one started. With
/// <see cref="PerSecond"/> the pings start at that rate, in tenths of a second, instead of all at once. A scale run
/// drives a hundred thousand hosts this way with one message per member instead of one per host.
/// </summary>
public sealed record RunHostedPings(uint Count, uint PatienceMs, uint PerSecond = 0) : IClusterControlMessage;

/// <summary>How a <see cref="RunHostedPings"/> round went in one member: pings started, and those whose every echo came back.</summary>
public sealed record HostedPingsDone(string Process, int Started, int Answered) : IClusterControlMessage;

/// <summary>
/// Asks a member's lab actor for its figures (<see cref="MemberFigures"/>); with <see cref="Collect"/>, after a full
/// garbage collection, so that the managed memory measured is what the lab holds.
/// </summary>
public sealed record MemberFiguresRequest(bool Collect) : IClusterControlMessage;

/// <summary>
/// One member's figures: its ports still waiting for their peers; managed and resident memory now and before it
/// built its part of the lab, and its peak resident memory (bytes); how long building took; the tunnels of the Azure
/// gateways it hosts and how many are Connected; the IKE retransmissions its nodes reported (those of IKE_SA_INIT
/// requests apart), the IKE_SA_INIT requests its Azure gateways answered as responder, and their IKE drops by reason.
/// </summary>
public sealed record MemberFigures(
    string Process,
    int PortsWaiting,
    long ManagedBytes,
    long ManagedBaseline,
    long ResidentBytes,
    long ResidentBaseline,
    long PeakResidentBytes,
    double BuildMs,
    int Tunnels,
    int TunnelsConnected,
    long IkeRetransmissions,
    long InitRetransmissions,
    long ResponderExchanges,
    IReadOnlyList<KeyValuePair<string, ulong>> IkeDrops) : IClusterControlMessage
{
    /// <summary>The first few of the Azure gateways' tunnels that are not Connected, with their status.</summary>
    public IReadOnlyList<string> NotConnected { get; init; } = [];
}

/// <summary>
/// Serializes the cluster control messages in protobuf wire format with short, stable manifests, written by hand
/// (four small messages). Like <see cref="Messages.NodesSerializer"/>, every type is bound by its concrete type and
/// checked at start-up.
/// </summary>
public sealed class ClusterControlSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4_118;
    public const string Name = "nodes-cluster-control";

    private static readonly (Type Type, string Manifest)[] Table =
    [
        (typeof(MemberInfoRequest), "mq"),
        (typeof(MemberInfo), "mi"),
        (typeof(SubscribeEvents), "se"),
        (typeof(FaultRouted), "fr"),
        (typeof(RunHostedPings), "rp"),
        (typeof(HostedPingsDone), "pd"),
        (typeof(MemberFiguresRequest), "fq"),
        (typeof(MemberFigures), "mf"),
    ];

    public static IReadOnlyList<(Type Type, string Manifest)> Bindings => Table;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Table.FirstOrDefault(t => t.Type == o.GetType()).Manifest ?? throw new ArgumentException($"{o.GetType()} is not a cluster control message", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        switch (obj)
        {
            case MemberInfoRequest or SubscribeEvents:
                return [];
            case MemberInfo m:
                using (var ms = new MemoryStream())
                {
                    var o = new CodedOutputStream(ms);
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(m.Process);
                    foreach (var n in m.Nodes) { o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(n); }
                    foreach (var l in m.Links) { o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString(l); }
                    o.WriteTag(4, WireFormat.WireType.LengthDelimited); o.WriteString(m.Topology);
                    o.WriteTag(5, WireFormat.WireType.LengthDelimited); o.WriteString(m.Fingerprint);
                    o.WriteTag(6, WireFormat.WireType.LengthDelimited); o.WriteString(m.Scenario);
                    o.WriteTag(7, WireFormat.WireType.Varint); o.WriteUInt64(m.Seed);
                    o.WriteTag(8, WireFormat.WireType.Fixed64); o.WriteDouble(m.TimeScale);
                    foreach (var w in m.Waiting) { o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteString(w); }
                    o.Flush();
                    return ms.ToArray();
                }
            case FaultRouted r:
                using (var ms = new MemoryStream())
                {
                    var o = new CodedOutputStream(ms);
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(r.Id);
                    o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(r.Process);
                    foreach (var t in r.Targets) { o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString(t); }
                    o.Flush();
                    return ms.ToArray();
                }
            case RunHostedPings r:
                return Write(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.Varint); o.WriteUInt32(r.Count);
                    o.WriteTag(2, WireFormat.WireType.Varint); o.WriteUInt32(r.PatienceMs);
                    o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt32(r.PerSecond);
                });
            case HostedPingsDone d:
                return Write(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(d.Process);
                    o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(d.Started);
                    o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt32(d.Answered);
                });
            case MemberFiguresRequest q:
                return Write(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.Varint); o.WriteBool(q.Collect);
                });
            case MemberFigures f:
                return Write(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(f.Process);
                    o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt32(f.PortsWaiting);
                    o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(f.ManagedBytes);
                    o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt64(f.ManagedBaseline);
                    o.WriteTag(5, WireFormat.WireType.Varint); o.WriteInt64(f.ResidentBytes);
                    o.WriteTag(6, WireFormat.WireType.Varint); o.WriteInt64(f.ResidentBaseline);
                    o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt64(f.PeakResidentBytes);
                    o.WriteTag(8, WireFormat.WireType.Fixed64); o.WriteDouble(f.BuildMs);
                    o.WriteTag(9, WireFormat.WireType.Varint); o.WriteInt32(f.Tunnels);
                    o.WriteTag(10, WireFormat.WireType.Varint); o.WriteInt32(f.TunnelsConnected);
                    o.WriteTag(11, WireFormat.WireType.Varint); o.WriteInt64(f.IkeRetransmissions);
                    o.WriteTag(12, WireFormat.WireType.Varint); o.WriteInt64(f.InitRetransmissions);
                    o.WriteTag(13, WireFormat.WireType.Varint); o.WriteInt64(f.ResponderExchanges);
                    foreach (var (reason, count) in f.IkeDrops)
                    {
                        o.WriteTag(14, WireFormat.WireType.LengthDelimited); o.WriteString(reason);
                        o.WriteTag(15, WireFormat.WireType.Varint); o.WriteUInt64(count);
                    }
                    foreach (var n in f.NotConnected) { o.WriteTag(16, WireFormat.WireType.LengthDelimited); o.WriteString(n); }
                });
            default:
                throw new ArgumentException($"{obj.GetType()} is not a cluster control message", nameof(obj));
        }
    }

    private static byte[] Write(Action<CodedOutputStream> fields)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        fields(o);
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>Reads every field of a message with <paramref name="field"/>, turning a malformed one into a serialization error.</summary>
    private static T Read<T>(byte[] bytes, string manifest, Action<int, CodedInputStream> field, Func<T> result)
    {
        try
        {
            var i = new CodedInputStream(bytes);
            uint tag;
            while ((tag = i.ReadTag()) != 0) field(WireFormat.GetTagFieldNumber(tag), i);
            return result();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SerializationException($"malformed cluster control message '{manifest}': {e.Message}", e);
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        switch (manifest)
        {
            case "mq": return MemberInfoRequest.Instance;
            case "se": return SubscribeEvents.Instance;
            case "mi":
                try
                {
                    var i = new CodedInputStream(bytes);
                    string process = "", topology = "", fingerprint = "", scenario = "";
                    ulong seed = 0;
                    double scale = 1;
                    List<string> nodes = [], links = [], waiting = [];
                    uint tag;
                    while ((tag = i.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(tag))
                        {
                            case 1: process = i.ReadString(); break;
                            case 2: nodes.Add(i.ReadString()); break;
                            case 3: links.Add(i.ReadString()); break;
                            case 4: topology = i.ReadString(); break;
                            case 5: fingerprint = i.ReadString(); break;
                            case 6: scenario = i.ReadString(); break;
                            case 7: seed = i.ReadUInt64(); break;
                            case 8: scale = i.ReadDouble(); break;
                            case 9: waiting.Add(i.ReadString()); break;
                            default: i.SkipLastField(); break;
                        }
                    }
                    return new MemberInfo(process, nodes, links, topology, fingerprint, scenario, seed, scale, waiting);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new SerializationException($"malformed cluster control message '{manifest}': {e.Message}", e);
                }
            case "fr":
                try
                {
                    var i = new CodedInputStream(bytes);
                    string id = "", process = "";
                    List<string> targets = [];
                    uint tag;
                    while ((tag = i.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(tag))
                        {
                            case 1: id = i.ReadString(); break;
                            case 2: process = i.ReadString(); break;
                            case 3: targets.Add(i.ReadString()); break;
                            default: i.SkipLastField(); break;
                        }
                    }
                    return new FaultRouted(id, process, targets);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new SerializationException($"malformed cluster control message '{manifest}': {e.Message}", e);
                }
            case "rp":
                {
                    uint count = 0, patience = 0, rate = 0;
                    return Read(bytes, manifest, (n, i) =>
                    {
                        switch (n)
                        {
                            case 1: count = i.ReadUInt32(); break;
                            case 2: patience = i.ReadUInt32(); break;
                            case 3: rate = i.ReadUInt32(); break;
                            default: i.SkipLastField(); break;
                        }
                    }, () => new RunHostedPings(count, patience, rate));
                }
            case "pd":
                {
                    var process = "";
                    int started = 0, answered = 0;
                    return Read(bytes, manifest, (n, i) =>
                    {
                        switch (n)
                        {
                            case 1: process = i.ReadString(); break;
                            case 2: started = i.ReadInt32(); break;
                            case 3: answered = i.ReadInt32(); break;
                            default: i.SkipLastField(); break;
                        }
                    }, () => new HostedPingsDone(process, started, answered));
                }
            case "fq":
                {
                    var collect = false;
                    return Read(bytes, manifest, (n, i) =>
                    {
                        if (n == 1) collect = i.ReadBool();
                        else i.SkipLastField();
                    }, () => new MemberFiguresRequest(collect));
                }
            case "mf":
                {
                    var process = "";
                    int waiting = 0, tunnels = 0, connected = 0;
                    long managed = 0, managedBase = 0, resident = 0, residentBase = 0, peak = 0, retrans = 0, init = 0, exchanges = 0;
                    double build = 0;
                    var drops = new List<KeyValuePair<string, ulong>>();
                    var notConnected = new List<string>();
                    string? reason = null;
                    return Read(bytes, manifest, (n, i) =>
                    {
                        switch (n)
                        {
                            case 1: process = i.ReadString(); break;
                            case 2: waiting = i.ReadInt32(); break;
                            case 3: managed = i.ReadInt64(); break;
                            case 4: managedBase = i.ReadInt64(); break;
                            case 5: resident = i.ReadInt64(); break;
                            case 6: residentBase = i.ReadInt64(); break;
                            case 7: peak = i.ReadInt64(); break;
                            case 8: build = i.ReadDouble(); break;
                            case 9: tunnels = i.ReadInt32(); break;
                            case 10: connected = i.ReadInt32(); break;
                            case 11: retrans = i.ReadInt64(); break;
                            case 12: init = i.ReadInt64(); break;
                            case 13: exchanges = i.ReadInt64(); break;
                            case 14: reason = i.ReadString(); break;
                            case 15:
                                var count = i.ReadUInt64();
                                if (reason is not null) drops.Add(new(reason, count));
                                reason = null;
                                break;
                            case 16: notConnected.Add(i.ReadString()); break;
                            default: i.SkipLastField(); break;
                        }
                    }, () => new MemberFigures(process, waiting, managed, managedBase, resident, residentBase, peak, build, tunnels, connected, retrans, init, exchanges, drops)
                    {
                        NotConnected = notConnected,
                    });
                }
            default:
                throw new SerializationException($"unknown cluster control manifest '{manifest}'");
        }
    }

    public static Config Configuration() => BoundSerializer.Configuration(typeof(ClusterControlSerializer), Name, SerializerId, Table);

    /// <summary>Throws naming every control message type that would fall back to another serializer.</summary>
    public static void VerifyBindings(ActorSystem system) =>
        BoundSerializer.Verify<ClusterControlSerializer>(system, "cluster control messages",
            [MemberInfoRequest.Instance, new MemberInfo("", [], [], "", "", "", 0, 1, []), SubscribeEvents.Instance, new FaultRouted("", "", []),
                new RunHostedPings(1, 1), new HostedPingsDone("", 0, 0), new MemberFiguresRequest(false), new MemberFigures("", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, [])]);
}

/// <summary>The HOCON that binds a hand-written serializer to its message types, and the start-up check that it holds.</summary>
internal static class BoundSerializer
{
    public static Config Configuration(Type serializer, string name, int id, IEnumerable<(Type Type, string Manifest)> table)
    {
        var self = $"{serializer.FullName}, {serializer.Assembly.GetName().Name}";
        var bindings = string.Join('\n', table.Select(b => $"      \"{b.Type.FullName}, {b.Type.Assembly.GetName().Name}\" = {name}"));
        return ConfigurationFactory.ParseString($$"""
            akka.actor {
              serializers { {{name}} = "{{self}}" }
              serialization-bindings {
            {{bindings}}
              }
              serialization-identifiers { "{{self}}" = {{id}} }
            }
            """);
    }

    /// <summary>Throws naming every sample whose type would be serialized by anything but <typeparamref name="T"/>.</summary>
    public static void Verify<T>(ActorSystem system, string what, IEnumerable<object> samples) where T : Serializer
    {
        var problems = samples.Select(s => (s, system.Serialization.FindSerializerFor(s)))
            .Where(x => x.Item2 is not T)
            .Select(x => $"{x.s.GetType().Name} would be serialized by {x.Item2.GetType().Name}")
            .ToList();
        if (problems.Count > 0)
            throw new InvalidOperationException($"{what} are not bound to their serializer: " + string.Join("; ", problems));
    }
}
