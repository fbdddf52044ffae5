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
            default:
                throw new ArgumentException($"{obj.GetType()} is not a cluster control message", nameof(obj));
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
            default:
                throw new SerializationException($"unknown cluster control manifest '{manifest}'");
        }
    }

    public static Config Configuration() => BoundSerializer.Configuration(typeof(ClusterControlSerializer), Name, SerializerId, Table);

    /// <summary>Throws naming every control message type that would fall back to another serializer.</summary>
    public static void VerifyBindings(ActorSystem system) =>
        BoundSerializer.Verify<ClusterControlSerializer>(system, "cluster control messages",
            [MemberInfoRequest.Instance, new MemberInfo("", [], [], "", "", "", 0, 1, []), SubscribeEvents.Instance, new FaultRouted("", "", [])]);
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
