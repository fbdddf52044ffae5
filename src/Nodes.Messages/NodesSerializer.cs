using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Google.Protobuf;

namespace Nodes.Messages;

/// <summary>Marks every message that may cross from one node to another (and so from one process to another).</summary>
public interface INodesMessage;

public sealed partial class Frame : INodesMessage;
public sealed partial class StartPing : INodesMessage;
public sealed partial class PingResult : INodesMessage;
public sealed partial class PingSummary : INodesMessage;
public sealed partial class QueryStatus : INodesMessage;
public sealed partial class NodeStatus : INodesMessage;
public sealed partial class NodeEvent : INodesMessage;
public sealed partial class StartUdp : INodesMessage;
public sealed partial class UdpSummary : INodesMessage;
public sealed partial class ListenUdp : INodesMessage;
public sealed partial class QueryUdp : INodesMessage;
public sealed partial class UdpCounts : INodesMessage;
public sealed partial class ListenTcp : INodesMessage;
public sealed partial class TcpListening : INodesMessage;
public sealed partial class StartTcp : INodesMessage;
public sealed partial class TcpSummary : INodesMessage;

/// <summary>
/// Serializes Nodes' protobuf messages for Akka.Remote with short, stable manifests. The manifests are part of the
/// wire contract between processes: never rename one, only add. An unknown manifest is a
/// <see cref="SerializationException"/>, so a member of a newer version drops what it cannot read instead of
/// breaking the association.
/// </summary>
public sealed class NodesSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves identifiers 0 to 100.</summary>
    public const int SerializerId = 4_117;

    /// <summary>The name under which the serializer is configured.</summary>
    public const string Name = "nodes-protobuf";

    private static readonly (Type Type, string Manifest, MessageParser Parser)[] Table =
    [
        (typeof(Frame), "fr", Frame.Parser),
        (typeof(StartPing), "sp", StartPing.Parser),
        (typeof(PingResult), "pr", PingResult.Parser),
        (typeof(PingSummary), "ps", PingSummary.Parser),
        (typeof(QueryStatus), "qs", QueryStatus.Parser),
        (typeof(NodeStatus), "ns", NodeStatus.Parser),
        (typeof(NodeEvent), "ne", NodeEvent.Parser),
        (typeof(StartUdp), "su", StartUdp.Parser),
        (typeof(UdpSummary), "us", UdpSummary.Parser),
        (typeof(ListenUdp), "lu", ListenUdp.Parser),
        (typeof(QueryUdp), "qu", QueryUdp.Parser),
        (typeof(UdpCounts), "uc", UdpCounts.Parser),
        (typeof(InjectFault), "if", InjectFault.Parser),
        (typeof(FaultApplied), "fa", FaultApplied.Parser),
        (typeof(ListenTcp), "ltc", ListenTcp.Parser),
        (typeof(TcpListening), "tcl", TcpListening.Parser),
        (typeof(StartTcp), "stc", StartTcp.Parser),
        (typeof(TcpSummary), "tcs", TcpSummary.Parser),
        (typeof(QueryIkeActivity), "qia", QueryIkeActivity.Parser),
        (typeof(IkeActivityLog), "ial", IkeActivityLog.Parser),
    ];

    private static readonly Dictionary<Type, string> Manifests = Table.ToDictionary(t => t.Type, t => t.Manifest);
    private static readonly Dictionary<string, MessageParser> Parsers = Table.ToDictionary(t => t.Manifest, t => t.Parser);

    /// <summary>Every message type with its manifest.</summary>
    public static IReadOnlyList<(Type Type, string Manifest)> Bindings { get; } = Table.Select(t => (t.Type, t.Manifest)).ToArray();

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"{o.GetType()} is not a Nodes message", nameof(o));

    public override byte[] ToBinary(object obj) =>
        obj is IMessage message && Manifests.ContainsKey(obj.GetType())
            ? message.ToByteArray()
            : throw new ArgumentException($"{obj.GetType()} is not a Nodes message", nameof(obj));

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!Parsers.TryGetValue(manifest, out var parser))
            throw new SerializationException($"unknown Nodes message manifest '{manifest}'");
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SerializationException($"malformed Nodes message '{manifest}': {e.Message}", e);
        }
    }

    /// <summary>
    /// HOCON that registers the serializer and binds every message type to it by its concrete type (a binding on
    /// the marker interface alone would lose to Akka's own binding of Google.Protobuf's IMessage).
    /// </summary>
    public static Config Configuration()
    {
        var bindings = string.Join('\n', Bindings.Select(b => $"      \"{b.Type.FullName}, {b.Type.Assembly.GetName().Name}\" = {Name}"));
        return ConfigurationFactory.ParseString($$"""
            akka.actor {
              serializers {
                {{Name}} = "{{typeof(NodesSerializer).FullName}}, {{typeof(NodesSerializer).Assembly.GetName().Name}}"
              }
              serialization-bindings {
            {{bindings}}
              }
              serialization-identifiers {
                "{{typeof(NodesSerializer).FullName}}, {{typeof(NodesSerializer).Assembly.GetName().Name}}" = {{SerializerId}}
              }
            }
            """);
    }

    /// <summary>
    /// Checks that every Nodes message resolves to this serializer in <paramref name="system"/>; throws naming the
    /// first type that would fall back to another one. Members call it at start-up and refuse to run otherwise.
    /// </summary>
    public static void VerifyBindings(ActorSystem system)
    {
        var problems = new List<string>();
        foreach (var (type, _, _) in Table)
        {
            var instance = Activator.CreateInstance(type)!;
            var s = system.Serialization.FindSerializerFor(instance);
            if (s is not NodesSerializer) problems.Add($"{type.Name} would be serialized by {s.GetType().Name}");
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("Nodes messages are not bound to the Nodes serializer: " + string.Join("; ", problems));
    }
}
