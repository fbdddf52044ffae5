using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Net.Forwarding;
using Nodes.Net.Nat;
using Nodes.Topology.Model;

namespace Nodes.Actors.Nodes;

/// <summary>
/// A router, and with a NAT spec the ISP's home router: forwards by longest prefix, sends ICMP errors, fragments,
/// clamps MSS; translates addresses and ports (NAPT) between its inside interfaces and the outside one.
/// </summary>
public sealed class RouterActor : NodeActor
{
    private readonly Router _router;
    private readonly NatTable? _nat;
    private readonly NatSpec? _natSpec;

    private sealed record NatTick : INoSerializationVerificationNeeded;

    /// <summary>A NAT fault: forget every mapping, optionally moving to a new outside address.</summary>
    public sealed record RebindNat(Wire.Ip.Ipv4Address? NewAddress) : INoSerializationVerificationNeeded;

    public RouterActor(NodeSpec spec, IEnumerable<Attachment> attachments, LabContext lab)
        : base(spec.Name, spec is NatRouterSpec ? "nat-router" : "router", attachments, lab)
    {
        var interfaces = Conversions.Interfaces(spec);
        _router = new Router(interfaces, Conversions.Routes(spec, interfaces), new RouterOptions
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
            Timers.StartPeriodicTimer("nat", new NatTick(), lab.Scaled(TimeSpan.FromSeconds(5)));
        }
        Receive<Frame>(OnFrame);
        Receive<NatTick>(_ =>
        {
            _nat!.ExpireIdle(LabNow);
            ReportNatEvents();
        });
        Receive<RebindNat>(m =>
        {
            _nat?.Rebind(LabNow, m.NewAddress);
            ReportNatEvents();
        });
    }

    public static Props Props(NodeSpec spec, IEnumerable<Attachment> attachments, LabContext lab) =>
        Akka.Actor.Props.Create(() => new RouterActor(spec, attachments, lab));

    private void OnFrame(Frame frame)
    {
        FramesIn++;
        var datagram = frame.Packet.ToByteArray();
        if (_nat is not null && frame.Interface == _natSpec!.Outside)
        {
            var inbound = _nat.TranslateInbound(datagram, LabNow);
            ReportNatEvents();
            if (!inbound.Translated)
            {
                Drop(inbound.Reason);
                return;
            }
        }
        var result = _router.Forward(datagram, frame.Interface);
        if (result.Disposition == ForwardDisposition.Dropped)
        {
            Drop(result.Reason);
            Send(result.Transmissions, frame.Traceparent); // the ICMP error, if any
            return;
        }
        if (result.Disposition == ForwardDisposition.Local)
        {
            Drop(DropReason.NotForThisHost);
            return;
        }
        foreach (var t in result.Transmissions)
        {
            if (_nat is not null && t.Interface == _natSpec!.Outside && frame.Interface != _natSpec.Outside)
            {
                var outbound = _nat.TranslateOutbound(t.Datagram, LabNow);
                ReportNatEvents();
                if (!outbound.Translated)
                {
                    Drop(outbound.Reason);
                    continue;
                }
            }
            Send(t, frame.Traceparent);
        }
    }

    private void ReportNatEvents()
    {
        if (_nat is null) return;
        foreach (var e in _nat.TakeEvents()) Report("nat", e.ToString());
    }
}
