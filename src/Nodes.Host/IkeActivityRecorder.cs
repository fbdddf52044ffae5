using System.Buffers.Binary;
using Nodes.Actors.Lab;
using Nodes.Config.Diagnostics;
using Nodes.Capture;
using Nodes.Messages;
using Nodes.Topology.Model;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Host;

/// <summary>
/// Keeps what Azure's diagnostics need of every Azure VPN gateway's IKE activity: each IKE message it sends or
/// receives, read from the cleartext IKE header of the frames on its links (and the error notifies of an unencrypted
/// IKE_SA_INIT), and its "ike" events. Sits in front of another tap (the web view) and passes everything on; keys go
/// on to that tap only and are never kept here. Thread-safe: links of one process record from their own actors.
/// </summary>
public sealed class IkeActivityRecorder : ICaptureTap
{
    /// <summary>Entries kept per gateway; the oldest go first.</summary>
    public const int Capacity = 20_000;

    private const int IkePort = 500;
    private const int NatTraversalPort = 4500;

    private readonly ICaptureTap? _inner;
    private readonly Dictionary<string, HashSet<Ipv4Address>> _addresses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<IkeActivityRecord>> _log = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public IkeActivityRecorder(TopologySpec lab, ICaptureTap? inner = null)
    {
        _inner = inner;
        foreach (var gw in lab.Nodes.OfType<AzureVpnGatewaySpec>())
        {
            _addresses[gw.Name] = [gw.PublicAddress, .. gw.Interfaces.Select(i => i.Address)];
            _connections[gw.Name] = gw.Connections.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            _log[gw.Name] = new Queue<IkeActivityRecord>();
        }
    }

    /// <summary>Whether the lab has a gateway to record for.</summary>
    public bool HasGateways => _log.Count > 0;

    public void Frame(string link, string fromNode, string fromInterface, Ipv4Address nextHop, DateTimeOffset at, ReadOnlySpan<byte> packet)
    {
        _inner?.Frame(link, fromNode, fromInterface, nextHop, at, packet);
        string? gateway = null;
        var sent = false;
        if (_log.ContainsKey(fromNode))
        {
            gateway = fromNode;
            sent = true;
        }
        else
        {
            foreach (var (name, addresses) in _addresses)
                if (addresses.Contains(nextHop)) gateway = name;
        }
        if (gateway is null || Read(packet, sent, at) is not { } record) return;
        Add(gateway, record);
    }

    public void Keys(EspSaKeyEntry esp) => _inner?.Keys(esp);

    public void Keys(IkeSaKeyEntry ike) => _inner?.Keys(ike);

    /// <summary>Keeps a gateway's "ike" event, with the connection it names.</summary>
    public void Event(NodeEvent e)
    {
        if (e.Kind != "ike" || !_connections.TryGetValue(e.Node, out var connections)) return;
        if (GatewayEvents.Split(e.Text, connections) is not { } split) return;
        Add(e.Node, new IkeActivityRecord { AtUnixMs = e.AtUnixMs, Connection = split.Connection, Text = split.Text });
    }

    /// <summary>What was kept for <paramref name="node"/>, oldest first; recorded is false for a node that is no Azure gateway here.</summary>
    public IkeActivityLog Snapshot(string node)
    {
        var log = new IkeActivityLog { Node = node };
        lock (_gate)
        {
            if (!_log.TryGetValue(node, out var q)) return log;
            log.Recorded = true;
            log.Records.AddRange(q);
        }
        return log;
    }

    private void Add(string gateway, IkeActivityRecord record)
    {
        lock (_gate)
        {
            var q = _log[gateway];
            if (q.Count == Capacity) q.Dequeue();
            q.Enqueue(record);
        }
    }

    /// <summary>The IKE message in an IPv4 frame on UDP 500 or 4500 (RFC 3948: after a zero non-ESP marker), or null.</summary>
    internal static IkeActivityRecord? Read(ReadOnlySpan<byte> packet, bool sent, DateTimeOffset at)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out _, out var payload, out _)) return null;
        // A later fragment has no UDP header; the first one has the IKE header at least.
        if (ip.Protocol != IpProtocol.Udp || ip.FragmentOffset != 0 || payload.Length < 8) return null;
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(payload);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(payload[2..]);
        var ike = payload[8..];
        if (sourcePort == NatTraversalPort || destinationPort == NatTraversalPort)
        {
            if (ike.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(ike) != 0) return null; // ESP in UDP, or a keepalive
            ike = ike[4..];
        }
        else if (sourcePort != IkePort && destinationPort != IkePort) return null;
        if (!IkeHeader.TryParse(ike, out var h, out _)) return null;
        var here = sent ? $"{ip.Source}:{sourcePort}" : $"{ip.Destination}:{destinationPort}";
        var there = sent ? $"{ip.Destination}:{destinationPort}" : $"{ip.Source}:{sourcePort}";
        var record = new IkeActivityRecord
        {
            AtUnixMs = at.ToUnixTimeMilliseconds(), Sent = sent, Local = here, Remote = there, Exchange = (uint)h.Exchange,
            Response = h.IsResponse, MessageId = h.MessageId, InitiatorSpi = h.InitiatorSpi, ResponderSpi = h.ResponderSpi,
        };
        // Only IKE_SA_INIT travels unencrypted (RFC 7296 section 1.2): its error notifies are readable on the wire.
        if (h.Exchange == ExchangeType.IkeSaInit && !ip.IsFragment && IkeMessage.TryParse(ike, out var message, out _) && message is not null)
            record.Notifies.AddRange(message.PayloadsOf<NotifyPayload>().Where(n => n.IsError).Select(n => (uint)n.NotifyType));
        return record;
    }
}
