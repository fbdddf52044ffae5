using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Google.Protobuf;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Actors.External;

/// <summary>
/// Plays the link's role for an interface marked <c>external</c>: the node's IKE and ESP-in-UDP leave on real UDP
/// sockets bound to the external address (ports 500 and 4500, the frame's source port choosing the socket), and
/// datagrams arriving on those sockets enter the node as IPv4/UDP frames with a synthesized header (correct IPv4 and
/// UDP checksums). Anything else the node sends there (raw ESP, ICMP, other ports) is dropped with a reason: without
/// raw sockets and kernel ESP the real network only carries what a UDP socket can send.
/// </summary>
public sealed class ExternalLinkActor : ReceiveActor
{
    /// <summary>The ports a VPN gateway needs on the real network: IKE and IKE/ESP after NAT traversal.</summary>
    public static readonly IReadOnlyList<ushort> Ports = [UdpPorts.Ike, UdpPorts.IkeNatTraversal];

    private readonly string _node;
    private readonly string _interface;
    private readonly string _name;
    private readonly Ipv4Address _inside;
    private readonly Ipv4Address _outside;
    private readonly LabContext _lab;
    private readonly Dictionary<ushort, Socket> _sockets = [];
    private readonly Dictionary<string, long> _drops = [];
    private readonly CancellationTokenSource _stop = new();
    private IActorRef _nodeActor = ActorRefs.Nobody;
    private readonly List<Arrived> _early = [];
    private long _sent;
    private long _received;
    private ushort _ipId = 1;

    /// <summary>A datagram read from one of the sockets.</summary>
    private sealed record Arrived(ushort LocalPort, IPEndPoint From, byte[] Payload) : INoSerializationVerificationNeeded;

    /// <summary>A socket's receive loop ended with an error.</summary>
    private sealed record ReceiveFailed(ushort LocalPort, string Error) : INoSerializationVerificationNeeded;

    /// <summary>Tells the attachment which node actor owns the interface (sent once, right after the node exists).</summary>
    public sealed record Connect(IActorRef Node) : INoSerializationVerificationNeeded;

    /// <summary>The name this attachment carries in frames, captures and the run summary.</summary>
    public static string LinkName(string node, string iface) => $"external-{node}-{iface}";

    public ExternalLinkActor(string node, InterfaceSpec iface, LabContext lab)
    {
        _node = node;
        _interface = iface.Name;
        _name = LinkName(node, iface.Name);
        _inside = iface.Address;
        _outside = iface.External!.Address;
        _lab = lab;
        Receive<Connect>(c =>
        {
            _nodeActor = c.Node;
            foreach (var a in _early) OnArrived(a);
            _early.Clear();
        });
        Receive<Frame>(OnFrame);
        Receive<Arrived>(OnArrived);
        Receive<ReceiveFailed>(f =>
        {
            Count("external-receive-failed");
            Report($"receiving on {_outside}:{f.LocalPort} failed: {f.Error}");
        });
        Receive<QueryStatus>(_ =>
        {
            var s = new NodeStatus { Node = _name, Kind = "external", FramesIn = (ulong)_sent, FramesOut = (ulong)_received };
            foreach (var (r, c) in _drops.OrderBy(d => d.Key, StringComparer.Ordinal)) s.Drops.Add(new DropCount { Reason = r, Count = (ulong)c });
            Sender.Tell(s);
        });
    }

    public static Props Props(string node, InterfaceSpec iface, LabContext lab) =>
        Akka.Actor.Props.Create(() => new ExternalLinkActor(node, iface, lab));

    protected override void PreStart()
    {
        var self = Self;
        foreach (var port in Ports)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(new IPEndPoint(ToIp(_outside), port));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                Count("external-bind-failed");
                Report($"cannot bind {_outside}:{port}: {e.SocketErrorCode} ({e.Message}); is {_outside} an address of this machine (or of this network namespace)?");
                continue;
            }
            _sockets[port] = socket;
            _ = ReceiveLoop(socket, port, self, _stop.Token);
        }
        if (_sockets.Count > 0) Report($"attached to the real network as {_outside}, UDP {string.Join(" and ", _sockets.Keys)}");
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        foreach (var s in _sockets.Values) s.Dispose();
        _sockets.Clear();
        _stop.Dispose();
    }

    private static async Task ReceiveLoop(Socket socket, ushort port, IActorRef self, CancellationToken stop)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue; // an ICMP port unreachable for an earlier send: the peer is not listening (yet)
            }
            catch (SocketException e)
            {
                if (!stop.IsCancellationRequested) self.Tell(new ReceiveFailed(port, e.SocketErrorCode.ToString()));
                return;
            }
            self.Tell(new Arrived(port, (IPEndPoint)r.RemoteEndPoint, buffer.AsSpan(0, r.ReceivedBytes).ToArray()));
        }
    }

    // The node speaks: only UDP from port 500 or 4500 can leave through a socket.
    private void OnFrame(Frame frame)
    {
        var datagram = frame.Packet.Span;
        if (!Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _))
        {
            Count("malformed");
            return;
        }
        if (ip.Protocol != IpProtocol.Udp)
        {
            Count(ip.Protocol == IpProtocol.Esp ? "external-raw-esp" : "external-not-udp",
                ip.Protocol == IpProtocol.Esp
                    ? $"raw ESP (IP protocol 50) {ip.Source} → {ip.Destination} cannot leave through UDP sockets; use UDP encapsulation (ESP in UDP 4500)"
                    : $"IP protocol {(byte)ip.Protocol} {ip.Source} → {ip.Destination}: only UDP 500/4500 leaves an external interface");
            return;
        }
        if (ip.MoreFragments || ip.FragmentOffset != 0)
        {
            Count("external-fragment", $"UDP fragment {ip.Source} → {ip.Destination}: fragments cannot be sent through a UDP socket");
            return;
        }
        if (!UdpHeader.TryParse(payload, out var udp, out var udpPayload, out _))
        {
            Count("malformed");
            return;
        }
        if (!_sockets.TryGetValue(udp.SourcePort, out var socket))
        {
            Count("external-no-socket", $"UDP from port {udp.SourcePort} to {ip.Destination}:{udp.DestinationPort}: no socket on {_outside}:{udp.SourcePort}");
            return;
        }
        _lab.Capture?.Record(_name, Context.System.Scheduler.Now, datagram);
        try
        {
            socket.SendTo(udpPayload, SocketFlags.None, new IPEndPoint(ToIp(ip.Destination), udp.DestinationPort));
            _sent++;
        }
        catch (SocketException e)
        {
            Count("external-send-failed", $"to {ip.Destination}:{udp.DestinationPort}: {e.SocketErrorCode}");
        }
    }

    // The real network speaks: wrap the datagram in the IPv4 and UDP headers it had on the wire.
    private void OnArrived(Arrived a)
    {
        if (_nodeActor.IsNobody())
        {
            _early.Add(a); // the socket was faster than the node's creation
            return;
        }
        var from = Ipv4Address.Read(a.From.Address.MapToIPv4().GetAddressBytes());
        var packet = new byte[Ipv4PacketWriter.UdpDatagramLength(a.Payload.Length)];
        Ipv4PacketWriter.WriteUdp(packet, new Ipv4Template(from, _inside, _ipId++, 64), (ushort)a.From.Port, a.LocalPort, a.Payload, UdpChecksumMode.Compute);
        _received++;
        _lab.Capture?.Record(_name, Context.System.Scheduler.Now, packet);
        _nodeActor.Tell(new Frame
        {
            Link = _name,
            Node = _node,
            Interface = _interface,
            Packet = UnsafeByteOperations.UnsafeWrap(packet),
            NextHop = _inside.Value,
        }, Self);
    }

    private void Count(string reason, string? detail = null)
    {
        _drops[reason] = _drops.GetValueOrDefault(reason) + 1;
        if (detail is not null && _drops[reason] == 1) Report($"drop {reason}: {detail}");
    }

    private void Report(string text) =>
        _lab.Events.Tell(new NodeEvent { Node = _node, Kind = "extern", Text = $"{_interface}: {text}", AtUnixMs = Context.System.Scheduler.Now.ToUnixTimeMilliseconds() });

    private static IPAddress ToIp(Ipv4Address a)
    {
        var b = new byte[4];
        a.Write(b);
        return new IPAddress(b);
    }
}
