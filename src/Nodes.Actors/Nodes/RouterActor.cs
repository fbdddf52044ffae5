using System.Diagnostics;
using Akka.Actor;
using Nodes.Gateway;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Net.Fragmentation;
using Nodes.Net.Nat;
using Nodes.Telemetry;
using Nodes.Topology.Model;
using Nodes.Wire;

namespace Nodes.Actors.Nodes;

/// <summary>
/// A router, and with a NAT spec the ISP's home router: forwards by longest prefix, sends ICMP errors, fragments,
/// clamps MSS; translates addresses and ports (NAPT) between its inside interfaces and the outside one. Like Linux
/// with connection tracking, the NAT router reassembles fragments before it translates (only the first fragment
/// carries the ports), translates outbound datagrams before they are fragmented for the egress link, and fragments
/// again on the way out.
/// </summary>
public sealed class RouterActor : NodeActor
{
    private readonly Router _router;
    private readonly NatTable? _nat;
    private readonly NatSpec? _natSpec;
    private readonly Ipv4Reassembler? _defrag;

    private sealed record NatTick : INoSerializationVerificationNeeded;

    /// <summary>The end of a nat-expire fault's "for": the NAT's own timeouts again.</summary>
    private sealed record RestoreTimeouts(TimeSpan Udp, TimeSpan Icmp) : INoSerializationVerificationNeeded;

    private readonly TimeSpan _natTick;

    public RouterActor(NodeSpec spec, IEnumerable<Attachment> attachments, LabContext lab)
        : base(spec.Name, spec is NatRouterSpec ? "nat-router" : "router", attachments, lab)
    {
        var interfaces = SpecNetwork.Interfaces(spec);
        _router = new Router(interfaces, SpecNetwork.Routes(spec, interfaces), new RouterOptions
        {
            ClampMss = spec is RouterSpec { MssClamp: { } mss } ? (ushort)mss : null,
        });
        if (spec is NatRouterSpec n)
        {
            _natSpec = n.Nat;
            _nat = new NatTable(new NatOptions
            {
                OutsideAddress = n.Nat.OutsideAddress,
                Mapping = n.Nat.Mapping == NatMapping.EndpointIndependent ? NatMappingBehavior.EndpointIndependent : NatMappingBehavior.AddressDependent,
                PortAllocation = n.Nat.Ports == Topology.Model.NatPortAllocation.Preserve ? Net.Nat.NatPortAllocation.Preserve : Net.Nat.NatPortAllocation.Random,
                PortRangeStart = n.Nat.PortRange.First,
                PortRangeEnd = n.Nat.PortRange.Last,
                UdpTimeout = lab.Scaled(n.Nat.UdpTimeout),
                IcmpTimeout = lab.Scaled(n.Nat.IcmpTimeout),
                Seed = DeterministicRandom.Derive(lab.Seed, spec.Name + "/nat"),
            });
            _defrag = new Ipv4Reassembler();
            _natTick = lab.Scaled(TimeSpan.FromSeconds(5));
            StartNatTimer();
        }
    }

    protected override bool OnMessage(object message)
    {
        switch (message)
        {
            case Frame frame:
                OnFrame(frame);
                return true;
            case NatTick:
                _nat!.ExpireIdle(LabNow);
                ReportNatEvents();
                foreach (var expired in _defrag!.Expire(LabNow)) Drop(DropReason.ReassemblyTimeout);
                return true;
            case RestoreTimeouts m:
                _nat?.SetTimeouts(m.Udp, m.Icmp);
                Report("fault", $"nat-expire over: UDP idle timeout {m.Udp.TotalSeconds:0.###} s, ICMP {m.Icmp.TotalSeconds:0.###} s again");
                StartNatTimer();
                return true;
            default:
                return false;
        }
    }

    private void StartNatTimer()
    {
        // Idle mappings are swept at least as often as the shortest timeout, so an expiry shows up on time.
        var o = _nat!.Options;
        var tick = new[] { _natTick, o.UdpTimeout / 4, o.IcmpTimeout / 4 }.Where(t => t > TimeSpan.Zero).Min();
        Timers.StartPeriodicTimer("nat", new NatTick(), tick < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : tick);
    }

    protected override FaultOutcome OnFault(FaultKind kind, InjectFault f)
    {
        if (_nat is null || kind is not (FaultKind.NatRebind or FaultKind.NatExpire)) return base.OnFault(kind, f);
        if (kind == FaultKind.NatRebind)
        {
            var before = _nat.Mappings;
            var address = FaultValues.Get(f.Params, kind, "address") is { } a ? Wire.Ip.Ipv4Address.Parse(a) : (Wire.Ip.Ipv4Address?)null;
            var oldAddress = _nat.Options.OutsideAddress;
            _nat.Rebind(LabNow, address);
            ReportNatEvents();
            var shown = string.Join(", ", before.Take(4).Select(m => $"{NatEvent.ProtocolName(m.Protocol)} {m.Inside} was {m.Outside}"));
            return FaultOutcome.Applied($"{before.Count} mapping(s) forgotten{(before.Count > 0 ? $" ({shown}{(before.Count > 4 ? ", ..." : "")})" : "")}; "
                + (address is { } na && na != oldAddress ? $"outside address {oldAddress} → {na}" : $"outside address {oldAddress} kept")
                + "; each flow gets a new external endpoint with its next outbound packet");
        }
        var o = _nat.Options;
        // Timeouts are protocol time, shrunk by the time scale like the NAT's own timeouts and the keepalives they race.
        var udp = DurationParam(f, kind, "udp-timeout") is { } u ? Lab.Scaled(u) : (TimeSpan?)null;
        var icmp = f.Params.ContainsKey("icmp-timeout") && DurationParam(f, kind, "icmp-timeout") is { } i ? Lab.Scaled(i) : (TimeSpan?)null;
        _nat.SetTimeouts(udp, icmp);
        StartNatTimer();
        if (DurationParam(f, kind, "for") is { } length) Timers.StartSingleTimer("nat-restore", new RestoreTimeouts(o.UdpTimeout, o.IcmpTimeout), length);
        return FaultOutcome.Applied($"UDP idle timeout {o.UdpTimeout.TotalSeconds:0.###} s → {_nat.Options.UdpTimeout.TotalSeconds:0.###} s, ICMP {o.IcmpTimeout.TotalSeconds:0.###} s → {_nat.Options.IcmpTimeout.TotalSeconds:0.###} s; {_nat.Mappings.Count} live mapping(s) expire once idle that long");
    }

    public static Props Props(NodeSpec spec, IEnumerable<Attachment> attachments, LabContext lab) =>
        Akka.Actor.Props.Create(() => new RouterActor(spec, attachments, lab));

    private void OnFrame(Frame frame)
    {
        CountIn();
        using var span = ForwardSpan(frame);
        var traceparent = Spans.Context(span, frame.Traceparent);
        var datagram = frame.TakePacket();
        if (_defrag is not null && Wire.Ip.Ipv4Header.TryParse(datagram, out var fragment, out _) && fragment.IsFragment)
        {
            var whole = _defrag.Accept(datagram, LabNow);
            if (whole.Status == ReassemblyStatus.Dropped) Drop(whole.Reason);
            if (whole.Datagram is null) return; // held until its datagram is complete
            datagram = whole.Datagram;
            span?.AddEvent(new ActivityEvent("reassembled"));
        }
        var translatedOut = false;
        if (_nat is not null && frame.Interface != _natSpec!.Outside
            && Wire.Ip.Ipv4Header.TryParse(datagram, out var ipOut, out _) && !_router.IsLocalAddress(ipOut.Destination)
            && _router.Routes.TryLookup(ipOut.Destination, out var routeOut) && routeOut.Interface == _natSpec.Outside)
        {
            // Source NAT comes before fragmentation on the way out (POSTROUTING before the output's fragmenting).
            using var natSpan = Spans.Child(span, Name, SpanNames.Nat);
            var before = natSpan is null ? null : Endpoint(datagram, source: true);
            var outbound = _nat.TranslateOutbound(datagram, LabNow);
            ReportNatEvents(natSpan);
            if (!outbound.Translated)
            {
                Drop(outbound.Reason);
                return;
            }
            translatedOut = true;
            if (natSpan is not null)
            {
                TagNat(natSpan, "outbound", before, Endpoint(datagram, source: true));
                traceparent = Spans.Context(natSpan, traceparent);
            }
        }
        if (_nat is not null && frame.Interface == _natSpec!.Outside)
        {
            using var natSpan = Spans.Child(span, Name, SpanNames.Nat);
            var before = natSpan is null ? null : Endpoint(datagram, source: false);
            var inbound = _nat.TranslateInbound(datagram, LabNow);
            ReportNatEvents(natSpan);
            if (!inbound.Translated)
            {
                Drop(inbound.Reason);
                return;
            }
            if (natSpan is not null)
            {
                TagNat(natSpan, "inbound", before, Endpoint(datagram, source: false));
                traceparent = Spans.Context(natSpan, traceparent);
            }
        }
        var result = _router.ForwardInPlace(datagram, frame.Interface);
        if (result.Disposition == ForwardDisposition.Dropped)
        {
            Drop(result.Reason);
            Send(result.Transmissions, traceparent); // the ICMP error, if any
            return;
        }
        if (result.Disposition == ForwardDisposition.Local)
        {
            Drop(DropReason.NotForThisHost);
            return;
        }
        if (span is not null && result.Transmissions.Count > 0)
        {
            span.SetTag(Attr.EgressInterface, result.Transmissions[0].Interface);
            span.SetTag(Attr.NextHop, TagValues.Address(result.Transmissions[0].NextHop.Value));
            if (result.Transmissions.Count > 1)
            {
                using var frag = Spans.Child(span, Name, SpanNames.Fragmentation);
                frag?.SetTag(Attr.FragmentCount, result.Transmissions.Count);
                frag?.SetTag(Attr.Mtu, _router.Interfaces[result.Transmissions[0].Interface].Mtu);
            }
        }
        for (var i = 0; i < result.Transmissions.Count; i++)
        {
            var t = result.Transmissions[i];
            var sendContext = traceparent;
            if (_nat is not null && !translatedOut && t.Interface == _natSpec!.Outside && frame.Interface != _natSpec.Outside)
            {
                using var natSpan = Spans.Child(span, Name, SpanNames.Nat);
                var before = natSpan is null ? null : Endpoint(t.Datagram, source: true);
                var outbound = _nat.TranslateOutbound(t.Datagram, LabNow);
                ReportNatEvents(natSpan);
                if (!outbound.Translated)
                {
                    Drop(outbound.Reason);
                    continue;
                }
                if (natSpan is not null)
                {
                    TagNat(natSpan, "outbound", before, Endpoint(t.Datagram, source: true));
                    sendContext = Spans.Context(natSpan, traceparent);
                }
            }
            Send(t, sendContext);
        }
    }

    private static void TagNat(Activity span, string direction, string? before, string after)
    {
        span.SetTag(Attr.NatDirection, direction);
        span.SetTag(Attr.NatOriginal, before);
        span.SetTag(Attr.NatTranslated, after);
    }

    /// <summary>"address:port" of a datagram's source or destination (ICMP: the echo identifier as the port, as NAPT maps it).</summary>
    private static string Endpoint(byte[] datagram, bool source)
    {
        if (!Wire.Ip.Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _)) return "?";
        var address = source ? ip.Source : ip.Destination;
        var port = ip.Protocol switch
        {
            Wire.Ip.IpProtocol.Udp or Wire.Ip.IpProtocol.Tcp when payload.Length >= 4 => source ? payload[0] << 8 | payload[1] : payload[2] << 8 | payload[3],
            Wire.Ip.IpProtocol.Icmp when payload.Length >= 6 => payload[4] << 8 | payload[5],
            _ => -1,
        };
        return TagValues.Endpoint(address.Value, port);
    }

    private void ReportNatEvents(Activity? span = null)
    {
        if (_nat is null) return;
        foreach (var e in _nat.TakeEvents())
        {
            if (NodesTelemetry.NatMappings.Enabled)
            {
                var delta = e.Kind switch { NatEventKind.Created => 1, NatEventKind.Expired or NatEventKind.Removed => -1, _ => 0 };
                if (delta != 0) NodesTelemetry.NatMappings.Add(delta, NodeTag);
            }
            span?.AddEvent(new ActivityEvent("nat mapping " + e.Kind.ToString().ToLowerInvariant(), tags: new ActivityTagsCollection
            {
                [Attr.NatEventKind] = e.Kind.ToString().ToLowerInvariant(),
                [Attr.NatProtocol] = NatEvent.ProtocolName(e.Protocol),
                [Attr.NatOriginal] = e.Inside.ToString(),
                [Attr.NatTranslated] = e.Outside.ToString(),
            }));
            Report("nat", e.ToString());
        }
    }
}
