using System.Buffers.Binary;
using Nodes.Wire;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Net.Nat;

/// <summary>
/// A NAPT (RFC 3022 §2.2) for UDP, TCP and ICMP echo (the echo identifier standing in for the
/// port, RFC 5508 §3), with RFC 4787 mapping and filtering behaviours, port preservation or seeded
/// random ports, per-protocol idle timeouts on the caller's clock, and translation of inbound ICMP
/// errors whose quoted datagram matches a mapping (RFC 5508 §4), so that a fragmentation needed
/// reaches the inside host. Datagrams are rewritten in place with incremental checksums
/// (<see cref="Ipv4Rewrite"/>). Fragments other than the first cannot be translated (no ports):
/// reassemble before the NAT, as Linux conntrack does. Not thread-safe; one instance per NAT router.
/// </summary>
public sealed class NatTable
{
    private readonly Dictionary<MappingKey, Mapping> _byKey = new();
    private readonly Dictionary<(IpProtocol Protocol, ushort Port), Mapping> _byOutside = new();
    private readonly Dictionary<MappingKey, Ipv4Endpoint> _rebound = new();
    private readonly List<NatEvent> _events = [];
    private readonly DeterministicRandom _random;

    /// <summary>Creates an empty table.</summary>
    public NatTable(NatOptions options)
    {
        if (options.PortRangeStart > options.PortRangeEnd)
        {
            throw new ArgumentException("the port range is empty", nameof(options));
        }

        Options = options;
        _random = new DeterministicRandom(options.Seed);
    }

    /// <summary>Current configuration (the outside address changes with <see cref="Rebind"/>).</summary>
    public NatOptions Options { get; private set; }

    /// <summary>Drops by reason.</summary>
    public DropCounters Drops { get; } = new();

    /// <summary>Datagrams translated outbound.</summary>
    public long TranslatedOutbound { get; private set; }

    /// <summary>Datagrams translated inbound (ICMP errors included).</summary>
    public long TranslatedInbound { get; private set; }

    /// <summary>Live mappings (some may be past their timeout until the next <see cref="ExpireIdle"/>).</summary>
    public IReadOnlyList<NatMappingInfo> Mappings =>
        _byKey.Values.Select(m => new NatMappingInfo(m.Key.Protocol, m.Key.Inside, m.Outside, m.LastActivity)).ToList();

    /// <summary>Returns and clears the mapping events collected since the last call, oldest first.</summary>
    public IReadOnlyList<NatEvent> TakeEvents()
    {
        if (_events.Count == 0) return [];
        var events = _events.ToList();
        _events.Clear();
        return events;
    }

    /// <summary>
    /// Translates a datagram going from the inside to the outside: its source becomes the outside
    /// endpoint of the (possibly new) mapping, which is refreshed. Never throws on any input.
    /// </summary>
    public NatResult TranslateOutbound(Span<byte> datagram, TimeSpan now)
    {
        if (!Ipv4Header.TryParse(datagram, out var header, out _, out var payload, out _)) return Drop(DropReason.Malformed);
        if (header.FragmentOffset != 0) return Drop(DropReason.NatFragment);
        if (!TryReadPorts(header.Protocol, payload, outbound: true, out var insidePort, out var remotePort, out var reason)) return Drop(reason);

        var inside = new Ipv4Endpoint(header.Source, insidePort);
        var remote = new Ipv4Endpoint(header.Destination, remotePort);
        var key = KeyFor(header.Protocol, inside, remote);
        if (_byKey.TryGetValue(key, out var mapping) && IsExpired(mapping, now))
        {
            Remove(mapping, NatEventKind.Expired, now);
            mapping = null;
        }

        if (mapping is null)
        {
            var previous = _rebound.TryGetValue(key, out var old) ? old : (Ipv4Endpoint?)null;
            ushort? avoid = previous is { } p && p.Address == Options.OutsideAddress ? p.Port : null;
            if (!TryAllocatePort(header.Protocol, insidePort, avoid, out var port)) return Drop(DropReason.NatPortsExhausted);
            mapping = new Mapping(key, new Ipv4Endpoint(Options.OutsideAddress, port));
            _byKey.Add(key, mapping);
            _byOutside.Add((header.Protocol, port), mapping);
            _rebound.Remove(key);
            _events.Add(new NatEvent(previous is null ? NatEventKind.Created : NatEventKind.Rebound, header.Protocol, inside, mapping.Outside, previous, now));
        }

        mapping.LastActivity = now;
        mapping.Remotes.Add(remote);
        Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Source, mapping.Outside.Address, mapping.Outside.Port);
        TranslatedOutbound++;
        return NatResult.Ok;
    }

    /// <summary>
    /// Translates a datagram arriving from the outside for the outside address: UDP, TCP and echo
    /// replies by their destination port, ICMP errors by the datagram they quote. Drops with
    /// no-nat-mapping when nothing live matches and nat-filtered when the filtering behaviour
    /// refuses the remote endpoint. Never throws on any input.
    /// </summary>
    public NatResult TranslateInbound(Span<byte> datagram, TimeSpan now)
    {
        if (!Ipv4Header.TryParse(datagram, out var header, out _, out var payload, out _)) return Drop(DropReason.Malformed);
        if (header.Destination != Options.OutsideAddress) return Drop(DropReason.NoNatMapping);
        if (header.FragmentOffset != 0) return Drop(DropReason.NatFragment);
        if (header.Protocol == IpProtocol.Icmp && payload.Length >= Icmpv4Header.Length
            && Icmpv4Header.IsErrorType((Icmpv4Type)payload[Icmpv4Header.Field.Type]))
        {
            return TranslateInboundIcmpError(datagram, header, now);
        }

        if (!TryReadPorts(header.Protocol, payload, outbound: false, out var outsidePort, out var remotePort, out var reason)) return Drop(reason);
        var remote = new Ipv4Endpoint(header.Source, remotePort);
        if (!TryFindLive(header.Protocol, outsidePort, now, out var mapping)) return Drop(DropReason.NoNatMapping);
        if (!Admits(mapping, remote)) return Drop(DropReason.NatFiltered);
        if (Options.RefreshOnInbound) mapping.LastActivity = now;
        Ipv4Rewrite.TryRewriteEndpoint(datagram, RewriteSide.Destination, mapping.Key.Inside.Address, mapping.Key.Inside.Port);
        TranslatedInbound++;
        return NatResult.Ok;
    }

    /// <summary>Removes every mapping idle for its timeout at <paramref name="now"/>, with an expired event each.</summary>
    public int ExpireIdle(TimeSpan now)
    {
        var expired = _byKey.Values.Where(m => IsExpired(m, now)).ToList();
        foreach (var mapping in expired) Remove(mapping, NatEventKind.Expired, now);
        return expired.Count;
    }

    /// <summary>
    /// Forgets every mapping, as a NAT reboot or conntrack flush does, optionally moving to a new
    /// outside address. The next outbound datagram of each forgotten inside endpoint gets a new
    /// outside endpoint (a different port when the address stays) and a rebound event naming the
    /// old one; inbound traffic to the old endpoints is dropped with no-nat-mapping.
    /// </summary>
    public void Rebind(TimeSpan now, Ipv4Address? newOutsideAddress = null)
    {
        foreach (var mapping in _byKey.Values.ToList())
        {
            _rebound[mapping.Key] = mapping.Outside;
            Remove(mapping, NatEventKind.Removed, now);
        }

        if (newOutsideAddress is { } address) Options = Options with { OutsideAddress = address };
    }

    /// <summary>
    /// Changes the idle timeouts from now on (a NAT reconfigured, or one whose timeouts are shorter than the lab
    /// assumed): mappings idle for longer than the new timeout expire at the next <see cref="ExpireIdle"/>.
    /// </summary>
    public void SetTimeouts(TimeSpan? udp, TimeSpan? icmp)
    {
        if (udp is { } u) Options = Options with { UdpTimeout = u };
        if (icmp is { } i) Options = Options with { IcmpTimeout = i };
    }

    /// <summary>Removes every mapping (and the memory of earlier rebinds) with a removed event each.</summary>
    public void Flush(TimeSpan now)
    {
        foreach (var mapping in _byKey.Values.ToList()) Remove(mapping, NatEventKind.Removed, now);
        _rebound.Clear();
    }

    private NatResult TranslateInboundIcmpError(Span<byte> datagram, Ipv4Header header, TimeSpan now)
    {
        var icmpStart = header.HeaderLength;
        var icmp = datagram[icmpStart..header.TotalLength];
        if (!Icmpv4Header.TryParse(icmp, out _, out var data, out _)) return Drop(DropReason.Malformed);
        if (!Icmpv4Header.TryParseQuotedDatagram(data, out var quoted, out var quotedPayload, out _)) return Drop(DropReason.Malformed);
        if (quoted.Source != Options.OutsideAddress) return Drop(DropReason.NoNatMapping);

        ushort outsidePort;
        ushort remotePort = 0;
        int portOffset;
        switch (quoted.Protocol)
        {
            case IpProtocol.Udp or IpProtocol.Tcp when quotedPayload.Length >= 4:
                outsidePort = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload);
                remotePort = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[2..]);
                portOffset = 0;
                break;
            case IpProtocol.Icmp when quotedPayload.Length >= Icmpv4Header.Length
                && (Icmpv4Type)quotedPayload[Icmpv4Header.Field.Type] == Icmpv4Type.EchoRequest:
                outsidePort = BinaryPrimitives.ReadUInt16BigEndian(quotedPayload[Icmpv4Header.Field.Identifier..]);
                portOffset = Icmpv4Header.Field.Identifier;
                break;
            default:
                return Drop(DropReason.NatUnsupported);
        }

        if (!TryFindLive(quoted.Protocol, outsidePort, now, out var mapping)) return Drop(DropReason.NoNatMapping);
        if (!Admits(mapping, new Ipv4Endpoint(quoted.Destination, remotePort))) return Drop(DropReason.NatFiltered);

        var inside = mapping.Key.Inside;
        var quotedStart = icmpStart + Icmpv4Header.Field.Data;
        var quotedHeader = datagram[quotedStart..];
        var quotedTransport = datagram[(quotedStart + quoted.HeaderLength)..header.TotalLength];

        // The quoted header's source and checksum (RFC 5508 §4.2: the embedded packet is translated too).
        WriteAddress(quotedHeader, Ipv4Header.Field.Source, Ipv4Header.Field.Checksum, inside.Address);

        // The quoted port or echo identifier, and the quoted transport checksum when it was quoted.
        var oldPort = BinaryPrimitives.ReadUInt16BigEndian(quotedTransport[portOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(quotedTransport[portOffset..], inside.Port);
        var checksumOffset = quoted.Protocol switch
        {
            IpProtocol.Udp => UdpHeader.Field.Checksum,
            IpProtocol.Tcp => 16,
            _ => Icmpv4Header.Field.Checksum,
        };
        if (quotedTransport.Length >= checksumOffset + 2)
        {
            var checksum = BinaryPrimitives.ReadUInt16BigEndian(quotedTransport[checksumOffset..]);
            var noChecksum = quoted.Protocol == IpProtocol.Udp && checksum == UdpHeader.NoChecksum;
            if (!noChecksum)
            {
                if (quoted.Protocol != IpProtocol.Icmp) checksum = InternetChecksum.Update(checksum, Options.OutsideAddress.Value, inside.Address.Value);
                checksum = InternetChecksum.Update(checksum, oldPort, inside.Port);
                BinaryPrimitives.WriteUInt16BigEndian(quotedTransport[checksumOffset..], checksum);
            }
        }

        // The outer destination, then the ICMP checksum over the whole (changed) message.
        WriteAddress(datagram, Ipv4Header.Field.Destination, Ipv4Header.Field.Checksum, inside.Address);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[Icmpv4Header.Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[Icmpv4Header.Field.Checksum..], InternetChecksum.Compute(icmp));
        TranslatedInbound++;
        return NatResult.Ok;
    }

    private static void WriteAddress(Span<byte> header, int addressOffset, int checksumOffset, Ipv4Address address)
    {
        var old = Ipv4Address.Read(header[addressOffset..]);
        address.Write(header[addressOffset..]);
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(header[checksumOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(header[checksumOffset..], InternetChecksum.Update(checksum, old.Value, address.Value));
    }

    private static bool TryReadPorts(IpProtocol protocol, ReadOnlySpan<byte> payload, bool outbound, out ushort localPort, out ushort remotePort, out DropReason reason)
    {
        localPort = 0;
        remotePort = 0;
        reason = DropReason.None;
        switch (protocol)
        {
            case IpProtocol.Udp or IpProtocol.Tcp:
                if (payload.Length < (protocol == IpProtocol.Udp ? UdpHeader.HeaderLength : 20))
                {
                    reason = DropReason.Malformed;
                    return false;
                }

                var source = BinaryPrimitives.ReadUInt16BigEndian(payload);
                var destination = BinaryPrimitives.ReadUInt16BigEndian(payload[2..]);
                (localPort, remotePort) = outbound ? (source, destination) : (destination, source);
                return true;
            case IpProtocol.Icmp:
                if (payload.Length < Icmpv4Header.Length)
                {
                    reason = DropReason.Malformed;
                    return false;
                }

                // RFC 5508 §3.1: only echo queries create mappings; the replies use them.
                var expected = outbound ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
                if ((Icmpv4Type)payload[Icmpv4Header.Field.Type] != expected)
                {
                    reason = DropReason.NatUnsupported;
                    return false;
                }

                localPort = BinaryPrimitives.ReadUInt16BigEndian(payload[Icmpv4Header.Field.Identifier..]);
                return true;
            default:
                reason = DropReason.NatUnsupported;
                return false;
        }
    }

    private MappingKey KeyFor(IpProtocol protocol, Ipv4Endpoint inside, Ipv4Endpoint remote) => Options.Mapping switch
    {
        NatMappingBehavior.EndpointIndependent => new MappingKey(protocol, inside, default),
        NatMappingBehavior.AddressDependent => new MappingKey(protocol, inside, new Ipv4Endpoint(remote.Address, 0)),
        _ => new MappingKey(protocol, inside, remote),
    };

    private bool Admits(Mapping mapping, Ipv4Endpoint remote) => Options.Filtering switch
    {
        NatFilteringBehavior.EndpointIndependent => true,
        NatFilteringBehavior.AddressDependent => HasRemoteAddress(mapping, remote.Address),
        _ => mapping.Remotes.Contains(remote),
    };

    private bool TryFindLive(IpProtocol protocol, ushort outsidePort, TimeSpan now, out Mapping mapping)
    {
        if (!_byOutside.TryGetValue((protocol, outsidePort), out mapping!)) return false;
        if (!IsExpired(mapping, now)) return true;
        Remove(mapping, NatEventKind.Expired, now);
        return false;
    }

    private static bool HasRemoteAddress(Mapping mapping, Ipv4Address address)
    {
        foreach (var r in mapping.Remotes)
            if (r.Address == address) return true;
        return false;
    }

    private bool IsExpired(Mapping mapping, TimeSpan now) => now - mapping.LastActivity >= Options.TimeoutFor(mapping.Key.Protocol);

    private bool TryAllocatePort(IpProtocol protocol, ushort insidePort, ushort? avoid, out ushort port)
    {
        bool Free(ushort candidate) => candidate != avoid && !_byOutside.ContainsKey((protocol, candidate));

        if (Options.PortAllocation == NatPortAllocation.Preserve && Free(insidePort))
        {
            port = insidePort;
            return true;
        }

        var start = Options.PortRangeStart;
        var size = Options.PortRangeEnd - start + 1;

        // A few random draws, then a scan from a random point so a nearly full range still terminates.
        for (var attempt = 0; attempt < 32; attempt++)
        {
            var candidate = (ushort)(start + _random.NextInt(size));
            if (Free(candidate))
            {
                port = candidate;
                return true;
            }
        }

        var origin = _random.NextInt(size);
        for (var i = 0; i < size; i++)
        {
            var candidate = (ushort)(start + ((origin + i) % size));
            if (Free(candidate))
            {
                port = candidate;
                return true;
            }
        }

        port = 0;
        return false;
    }

    private void Remove(Mapping mapping, NatEventKind kind, TimeSpan now)
    {
        _byKey.Remove(mapping.Key);
        _byOutside.Remove((mapping.Key.Protocol, mapping.Outside.Port));
        _events.Add(new NatEvent(kind, mapping.Key.Protocol, mapping.Key.Inside, mapping.Outside, null, now));
    }

    private NatResult Drop(DropReason reason)
    {
        Drops.Add(reason);
        return NatResult.Dropped(reason);
    }

    private readonly record struct MappingKey(IpProtocol Protocol, Ipv4Endpoint Inside, Ipv4Endpoint Remote);

    private sealed class Mapping(MappingKey key, Ipv4Endpoint outside)
    {
        public MappingKey Key { get; } = key;

        public Ipv4Endpoint Outside { get; } = outside;

        public TimeSpan LastActivity { get; set; }

        public HashSet<Ipv4Endpoint> Remotes { get; } = [];
    }
}
