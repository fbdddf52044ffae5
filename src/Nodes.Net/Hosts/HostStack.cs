using System.Buffers.Binary;
using Nodes.Net.Forwarding;
using Nodes.Net.Fragmentation;
using Nodes.Net.Routing;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Net.Hosts;

/// <summary>Configuration of a <see cref="HostStack"/>.</summary>
public sealed record HostOptions
{
    /// <summary>The host's interfaces; their connected routes are installed.</summary>
    public required IReadOnlyList<IpInterface> Interfaces { get; init; }

    /// <summary>Default gateway, reached through the interface whose subnet holds it.</summary>
    public Ipv4Address? DefaultGateway { get; init; }

    /// <summary>TTL of datagrams the host originates.</summary>
    public byte TimeToLive { get; init; } = DefaultTimeToLive.Windows;

    /// <summary>Answer echo requests (RFC 1122 §3.2.2.6: every host MUST).</summary>
    public bool AnswerEcho { get; init; } = true;

    /// <summary>Answer UDP to a closed port with port unreachable (RFC 1122 §4.1.3.1).</summary>
    public bool SendPortUnreachable { get; init; } = true;

    /// <summary>First Identification value; it then counts up by one per datagram.</summary>
    public ushort InitialIdentification { get; init; }

    /// <summary>Reassembly limits.</summary>
    public ReassemblyOptions? Reassembly { get; init; }

    /// <summary>Seed of the host's random choices (TCP initial sequence numbers), so a seeded run repeats them.</summary>
    public ulong Seed { get; init; }
}

/// <summary>
/// The IPv4 stack of an end host (client, VM) as a pure model: interfaces and routes, fragment
/// reassembly, echo replies, a ping generator with RTT and loss accounting, a UDP flow generator
/// and receivers, and a path MTU cache learnt from fragmentation-needed messages (RFC 1191 §3).
/// Every call takes the caller's time and returns what to send and what happened. Datagrams of
/// protocols it does not handle are handed out as <see cref="DatagramDelivered"/>. Not thread-safe.
/// </summary>
public sealed partial class HostStack
{
    private static readonly byte[] EchoPattern = "abcdefghijklmnopqrstuvw"u8.ToArray();
    private readonly InterfaceSet _set = new();
    private readonly Dictionary<ushort, PingSession> _pings = new();
    // Made at first use: most hosts of a big lab never listen for UDP or learn a path MTU.
    private Dictionary<ushort, UdpReceiver>? _udp;
    private Dictionary<Ipv4Address, int>? _pathMtu;
    private readonly Ipv4Reassembler _reassembler;
    private ushort _identification;

    /// <summary>Creates the stack, installing connected routes and the default route.</summary>
    public HostStack(HostOptions options)
    {
        Options = options;
        _identification = options.InitialIdentification;
        _reassembler = new Ipv4Reassembler(options.Reassembly);
        foreach (var iface in options.Interfaces)
        {
            _set.Add(iface);
            Routes.AddConnected(iface);
        }

        if (options.DefaultGateway is { } gateway)
        {
            var via = options.Interfaces.FirstOrDefault(i => i.Prefix.Contains(gateway))
                ?? throw new ArgumentException($"no interface is on the subnet of the gateway {gateway}", nameof(options));
            Routes.AddDefault(gateway, via.Name);
        }
    }

    /// <summary>The configuration.</summary>
    public HostOptions Options { get; }

    /// <summary>The routing table; add static routes here (e.g. 10.0.10.0/24 via the RRAS server).</summary>
    public RoutingTable Routes { get; } = new();

    /// <summary>Drops by reason (the reassembler's are in its own counters, also reported here per call).</summary>
    public DropCounters Drops { get; } = new();

    /// <summary>The path MTU learnt for <paramref name="destination"/>, or null when none was reported.</summary>
    public int? PathMtu(Ipv4Address destination) => _pathMtu is not null && _pathMtu.TryGetValue(destination, out var mtu) ? mtu : null;

    /// <summary>True when <paramref name="address"/> is one of the host's addresses.</summary>
    public bool IsLocalAddress(Ipv4Address address) => _set.HasAddress(address);

    private bool IsDirectedBroadcast(Ipv4Address address) => _set.HasDirectedBroadcast(address);

    /// <summary>Registers a ping run; its identifier must not be in use.</summary>
    public PingSession StartPing(PingOptions options, int expected = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.DataLength);
        var session = new PingSession(options);
        // A flood has every request outstanding at once: the tables are sized once instead of doubling their way up.
        if (expected > 0) session.Reserve(Math.Min(expected, ushort.MaxValue + 1));
        _pings.Add(options.Identifier, session);
        return session;
    }

    /// <summary>Forgets a finished ping run, so that its identifier may be used again; late replies are then unmatched.</summary>
    public bool StopPing(ushort identifier) => _pings.Remove(identifier);

    /// <summary>True while a ping run uses <paramref name="identifier"/>.</summary>
    public bool PingInUse(ushort identifier) => _pings.ContainsKey(identifier);

    /// <summary>Starts counting UDP datagrams to <paramref name="port"/>.</summary>
    public UdpReceiver ListenUdp(ushort port)
    {
        var receiver = new UdpReceiver(port);
        (_udp ??= []).Add(port, receiver);
        return receiver;
    }

    /// <summary>Prepares a UDP flow; send it with <see cref="SendUdp"/>.</summary>
    public static UdpFlow CreateUdpFlow(UdpFlowOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(options.PayloadLength);
        return new UdpFlow(options);
    }

    /// <summary>Sends the next echo request of <paramref name="session"/>.</summary>
    public HostOutput SendPing(PingSession session, TimeSpan now)
    {
        var options = session.Options;
        var sequence = session.NextSequence++;
        Span<byte> data = options.DataLength <= 1024 ? stackalloc byte[options.DataLength] : new byte[options.DataLength];
        for (var i = 0; i < data.Length; i++) data[i] = EchoPattern[i % EchoPattern.Length];

        if (!TryRoute(options.Destination, out var route, out var egress))
        {
            session.Failed++;
            Drops.Add(DropReason.NoRoute);
            return new HostOutput([], [new PingFailed(options.Identifier, sequence, Icmpv4Type.DestinationUnreachable,
                (byte)DestinationUnreachableCode.NetUnreachable, egress?.Address ?? default, null, DropReason.NoRoute, now)], DropReason.NoRoute);
        }

        var template = new Ipv4Template(egress.Address, options.Destination, _identification++, Options.TimeToLive, options.DontFragment);
        var bytes = new byte[Ipv4PacketWriter.IcmpDatagramLength(data.Length)];
        Ipv4PacketWriter.WriteIcmpEcho(bytes, template, reply: false, options.Identifier, sequence, data);
        var sent = Emit(bytes, route, egress, out var reason);
        if (reason != DropReason.None)
        {
            session.Failed++;
            var mtu = (ushort)Math.Min(egress.Mtu, PathMtu(options.Destination) ?? egress.Mtu);
            return new HostOutput([], [new PingFailed(options.Identifier, sequence, Icmpv4Type.DestinationUnreachable,
                (byte)DestinationUnreachableCode.FragmentationNeeded, egress.Address, mtu, reason, now)], reason);
        }

        session.Sent++;
        session.Pending[sequence] = now;
        return new HostOutput(sent, [], DropReason.None);
    }

    /// <summary>Sends up to <paramref name="count"/> further datagrams of <paramref name="flow"/>.</summary>
    public HostOutput SendUdp(UdpFlow flow, int count, TimeSpan now)
    {
        var options = flow.Options;
        var transmissions = new List<Transmission>();
        if (!TryRoute(options.Destination.Address, out var route, out var egress))
        {
            Drops.Add(DropReason.NoRoute);
            return new HostOutput([], [], DropReason.NoRoute);
        }

        var drop = DropReason.None;
        for (var n = 0; n < count && flow.Remaining > 0; n++)
        {
            var payload = new byte[options.PayloadLength];
            if (payload.Length >= 4) BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)flow.Sent);
            var template = new Ipv4Template(egress.Address, options.Destination.Address, _identification++, Options.TimeToLive, options.DontFragment);
            var bytes = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
            Ipv4PacketWriter.WriteUdp(bytes, template, options.SourcePort, options.Destination.Port, payload);
            flow.Sent++;
            transmissions.AddRange(Emit(bytes, route, egress, out var reason));
            if (reason != DropReason.None) drop = reason;
        }

        return new HostOutput(transmissions, [], drop);
    }

    /// <summary>
    /// Sends an application's datagram (built elsewhere, e.g. by an IKE or ESP engine): routed,
    /// fragmented when it exceeds the egress MTU without DF, refused with fragmentation-needed with DF.
    /// </summary>
    public HostOutput SendDatagram(byte[] datagram)
    {
        if (!Ipv4Header.TryParse(datagram, out var header, out _))
        {
            Drops.Add(DropReason.Malformed);
            return new HostOutput([], [], DropReason.Malformed);
        }

        if (!TryRoute(header.Destination, out var route, out var egress))
        {
            Drops.Add(DropReason.NoRoute);
            return new HostOutput([], [], DropReason.NoRoute);
        }

        var sent = Emit(datagram, route, egress, out var reason);
        return new HostOutput(sent, [], reason);
    }

    /// <summary>Times out pings and gives up incomplete reassemblies (answering time exceeded, code 1, when the first fragment was held).</summary>
    public HostOutput Tick(TimeSpan now)
    {
        var events = new List<HostEvent>();
        foreach (var session in _pings.Values)
        {
            foreach (var (sequence, sentAt) in session.Pending.Where(p => now - p.Value >= session.Options.EffectiveTimeout).ToList())
            {
                session.Pending.Remove(sequence);
                session.TimedOut++;
                events.Add(new PingTimedOut(session.Options.Identifier, sequence, now));
            }
        }

        var transmissions = new List<Transmission>();
        foreach (var timeout in _reassembler.Expire(now))
        {
            Drops.Add(DropReason.ReassemblyTimeout);

            // RFC 792 / RFC 1122 §3.3.2: time exceeded code 1 only if fragment zero is available.
            if (timeout.FirstFragment is { } first
                && BuildIcmpError(Icmpv4Header.TimeExceeded(TimeExceededCode.FragmentReassemblyTimeExceeded), first) is { } error)
            {
                transmissions.Add(error);
            }
        }

        transmissions.AddRange(TickTcp(now));
        return new HostOutput(transmissions, events, DropReason.None);
    }

    /// <summary>Takes a datagram received on <paramref name="ingress"/>. Never throws on any input bytes.</summary>
    public HostOutput Receive(ReadOnlySpan<byte> received, string ingress, TimeSpan now)
    {
        if (!_set.ByName.ContainsKey(ingress)) return Drop(DropReason.UnknownInterface);
        if (!Ipv4Packet.TryParse(received, out var packet, out _)) return Drop(DropReason.Malformed);
        var destination = packet.Header.Destination;
        var broadcast = AddressClass.IsLimitedBroadcast(destination) || IsDirectedBroadcast(destination);
        if (!IsLocalAddress(destination) && !broadcast) return Drop(DropReason.NotForThisHost);

        // ICMP is answered from the received bytes; everything else keeps a copy of its own.
        if (!packet.Header.IsFragment && packet.Header.Protocol == IpProtocol.Icmp) return ReceiveIcmp(packet.Header, packet.Payload, broadcast, now);
        var datagram = packet.Datagram.ToArray();
        if (packet.Header.IsFragment)
        {
            var result = _reassembler.Accept(datagram, now);
            if (result.Status == ReassemblyStatus.Dropped) return Drop(result.Reason);
            if (result.Status == ReassemblyStatus.Pending) return HostOutput.Empty;
            datagram = result.Datagram!;
        }

        Ipv4Header.TryParse(datagram, out var header, out _, out var payloadSpan, out _);
        var payload = payloadSpan.ToArray();
        return header.Protocol switch
        {
            IpProtocol.Icmp => ReceiveIcmp(header, payload, broadcast, now),
            IpProtocol.Udp => ReceiveUdp(header, payload, datagram, broadcast, now),
            IpProtocol.Tcp when !broadcast => ReceiveTcp(header, payload, now),
            _ => new HostOutput([], [new DatagramDelivered(header.Protocol, datagram, ingress, now)], DropReason.None),
        };
    }

    private HostOutput ReceiveIcmp(Ipv4Header header, ReadOnlySpan<byte> message, bool broadcast, TimeSpan now)
    {
        if (!Icmpv4Header.TryParse(message, out var icmp, out var data, out _)) return Drop(DropReason.Malformed);
        switch (icmp.Type)
        {
            case Icmpv4Type.EchoRequest when Options.AnswerEcho && !broadcast:
                // RFC 792: the reply carries the request's identifier, sequence number and data.
                if (!TryRoute(header.Source, out var route, out var egress)) return Drop(DropReason.NoRoute);
                var template = new Ipv4Template(header.Destination, header.Source, _identification++, Options.TimeToLive);
                var reply = new byte[Ipv4PacketWriter.IcmpDatagramLength(data.Length)];
                Ipv4PacketWriter.WriteIcmpEcho(reply, template, reply: true, icmp.Identifier, icmp.SequenceNumber, data);
                var sent = Emit(reply, route, egress, out var reason);
                return new HostOutput(sent, [], reason);
            case Icmpv4Type.EchoReply
                when _pings.TryGetValue(icmp.Identifier, out var session) && session.Pending.Remove(icmp.SequenceNumber, out var sentAt):
                var roundTrip = now - sentAt;
                session.Matched(roundTrip);
                return new HostOutput([], [new PingReplied(icmp.Identifier, icmp.SequenceNumber, header.Source, roundTrip, header.TimeToLive, data.Length, now)], DropReason.None);
            case var type when Icmpv4Header.IsErrorType(type):
                return ReceiveIcmpError(header, icmp, data, now);
            default:
                return Drop(DropReason.UnmatchedIcmp);
        }
    }

    private HostOutput ReceiveIcmpError(Ipv4Header header, Icmpv4Header icmp, ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (!Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var quotedPayload, out _)) return Drop(DropReason.Malformed);
        if (!IsLocalAddress(quoted.Source)) return Drop(DropReason.UnmatchedIcmp);

        ushort? nextHopMtu = null;
        if (icmp.Type == Icmpv4Type.DestinationUnreachable && icmp.Code == (byte)DestinationUnreachableCode.FragmentationNeeded)
        {
            nextHopMtu = icmp.NextHopMtu;

            // RFC 1191 §3: lower the PMTU estimate to the reported MTU, never below 68.
            if (icmp.NextHopMtu >= IpInterface.MinimumMtu
                && (_pathMtu is null || !_pathMtu.TryGetValue(quoted.Destination, out var known) || icmp.NextHopMtu < known))
            {
                (_pathMtu ??= [])[quoted.Destination] = icmp.NextHopMtu;
            }
        }

        if (quoted.Protocol == IpProtocol.Icmp && quotedPayload.Length >= Icmpv4Header.Length
            && (Icmpv4Type)quotedPayload[0] == Icmpv4Type.EchoRequest)
        {
            var identifier = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[Icmpv4Header.Field.Identifier..]);
            var sequence = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[Icmpv4Header.Field.SequenceNumber..]);
            if (_pings.TryGetValue(identifier, out var session) && session.Pending.Remove(sequence))
            {
                session.Failed++;
                return new HostOutput([], [new PingFailed(identifier, sequence, icmp.Type, icmp.Code, header.Source, nextHopMtu, DropReason.None, now)], DropReason.None);
            }

            return Drop(DropReason.UnmatchedIcmp);
        }

        var resent = quoted.Protocol == IpProtocol.Tcp && nextHopMtu is not null ? TcpPathMtuChanged(quoted, quotedPayload, now) : [];
        return new HostOutput(resent, [new IcmpErrorReceived(icmp.Type, icmp.Code, header.Source, quoted.Protocol, quoted.Destination, nextHopMtu, now)], DropReason.None);
    }

    private HostOutput ReceiveUdp(Ipv4Header header, byte[] message, byte[] datagram, bool broadcast, TimeSpan now)
    {
        if (!UdpHeader.TryParse(message, header.Source, header.Destination, out var udp, out var payload, out _)) return Drop(DropReason.Malformed);
        if (_udp is not null && _udp.TryGetValue(udp.DestinationPort, out var receiver))
        {
            receiver.Count(payload);
            return new HostOutput([], [new UdpReceived(new Ipv4Endpoint(header.Source, udp.SourcePort),
                new Ipv4Endpoint(header.Destination, udp.DestinationPort), payload.Length, datagram, now)], DropReason.None);
        }

        // RFC 1122 §4.1.3.1: port unreachable for a closed port, never for a broadcast.
        var error = Options.SendPortUnreachable && !broadcast
            ? BuildIcmpError(Icmpv4Header.DestinationUnreachable(DestinationUnreachableCode.PortUnreachable), datagram)
            : null;
        Drops.Add(DropReason.NoListener);
        return new HostOutput(error is null ? [] : [error.Value], [], DropReason.NoListener);
    }

    private Transmission? BuildIcmpError(Icmpv4Header error, byte[] offending)
    {
        if (!IcmpErrorPolicy.MaySendErrorAbout(offending, IsDirectedBroadcast)) return null;
        var source = Ipv4Address.Read(offending.AsSpan(Ipv4Header.Field.Source));
        if (!TryRoute(source, out var route, out var egress)) return null;
        var template = new Ipv4Template(egress.Address, source, _identification++, Options.TimeToLive);
        var buffer = new byte[Ipv4PacketWriter.IcmpDatagramLength(Ipv4Header.MaxLength + Icmpv4Header.QuotedDataLength)];
        var length = Ipv4PacketWriter.WriteIcmpError(buffer, template, error, offending);
        return new Transmission(egress.Name, route.NextHopFor(source), buffer[..length]);
    }

    private bool TryRoute(Ipv4Address destination, out Route route, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IpInterface? egress) =>
        Egress.TryRoute(Routes, _set.ByName, destination, out route, out egress);

    private IReadOnlyList<Transmission> Emit(byte[] datagram, Route route, IpInterface egress, out DropReason reason)
    {
        Ipv4Header.TryParse(datagram, out var header, out _);
        // A DF datagram is held to the path MTU learned from ICMP; fragments are cut to the interface's.
        var limit = header.DontFragment ? Math.Min(egress.Mtu, PathMtu(header.Destination) ?? egress.Mtu) : egress.Mtu;
        reason = DropReason.None;
        if (datagram.Length <= limit) return new[] { new Transmission(egress.Name, route.NextHopFor(header.Destination), datagram) };
        var sent = new List<Transmission>();
        reason = Egress.Emit(datagram, header.DontFragment, route.NextHopFor(header.Destination), egress, sent, limit);
        if (reason != DropReason.None) Drops.Add(reason);
        return sent;
    }

    private HostOutput Drop(DropReason reason)
    {
        Drops.Add(reason);
        return new HostOutput([], [], reason);
    }
}
