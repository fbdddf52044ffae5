using Nodes.Net.Hosts;
using Nodes.Net.Tcp;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using Nodes.Wire.Tcp;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests.Tcp;

public class HostTcpTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(15);

    private static (HostStack Client, HostStack Server) Hosts(int serverMtu = 1500) => (
        new HostStack(new HostOptions { Interfaces = [IpInterface.Parse("eth0", "192.168.29.55/24")], Seed = 7 }),
        new HostStack(new HostOptions { Interfaces = [new IpInterface("eth0", A("192.168.29.60"), 24, serverMtu)], Seed = 8 }));

    /// <summary>Moves datagrams between the two hosts (delay 15 ms) and runs their timers until <paramref name="done"/> or the limit.</summary>
    private static TimeSpan Run(HostStack client, HostStack server, IEnumerable<Transmission> first, Func<bool> done, TimeSpan limit,
        Func<byte[], bool>? pass = null, TimeSpan start = default)
    {
        var wire = first.Select(t => (At: start + Delay, ToServer: true, t.Datagram)).ToList();
        var now = start;
        while (!done())
        {
            var next = wire.Count == 0 ? (TimeSpan?)null : wire.Min(w => w.At);
            foreach (var d in new[] { client.NextTcpDeadline, server.NextTcpDeadline })
            {
                if (d is { } x && (next is null || x < next)) next = x;
            }

            if (next is null || next > limit) break;
            now = next.Value > now ? next.Value : now;
            var due = wire.Where(w => w.At <= now).ToList();
            wire.RemoveAll(w => w.At <= now);
            var outputs = new List<(bool ToServer, HostOutput Output)>();
            foreach (var (_, toServer, datagram) in due)
            {
                if (pass?.Invoke(datagram) == false) continue;
                var target = toServer ? server : client;
                outputs.Add((!toServer, target.Receive(datagram, "eth0", now)));
            }

            outputs.Add((true, client.Tick(now)));
            outputs.Add((false, server.Tick(now)));
            foreach (var (toServer, output) in outputs)
            {
                foreach (var t in output.Transmissions) wire.Add((now + Delay, toServer, t.Datagram));
            }
        }

        return now;
    }

    [Fact]
    public void Hosts_must_carry_a_bulk_transfer_with_df_set_and_report_its_throughput()
    {
        var (client, server) = Hosts();
        server.ListenTcp(new TcpListenOptions(5001));
        var flow = client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 5001), TcpFlowKind.Bulk, Bytes: 500_000), TimeSpan.Zero, out var syn);
        var datagram = Assert.Single(syn.Transmissions).Datagram;
        Assert.True(Ipv4Header.TryParse(datagram, out var ip, out _));
        Assert.True(ip.DontFragment);
        Assert.Equal(IpProtocol.Tcp, ip.Protocol);

        Run(client, server, syn.Transmissions, () => flow.Done, TimeSpan.FromSeconds(60));
        Assert.Equal(TcpFlowOutcome.Completed, flow.Outcome);
        Assert.Equal(500_000, flow.BytesAcknowledged);
        Assert.Equal(500_000, Assert.Single(server.TcpSessions).BytesRead);
        Assert.True(flow.Throughput(TimeSpan.Zero) > 100_000);
        Assert.Equal(0, flow.Connection!.Retransmissions);
    }

    [Fact]
    public void Hosts_must_answer_requests_with_responses()
    {
        var (client, server) = Hosts();
        server.ListenTcp(new TcpListenOptions(8080, RequestSize: 200, ResponseSize: 5000));
        var flow = client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 8080), TcpFlowKind.RequestResponse, Requests: 5, RequestSize: 200, ResponseSize: 5000),
            TimeSpan.Zero, out var syn);
        Run(client, server, syn.Transmissions, () => flow.Done, TimeSpan.FromSeconds(60));
        Assert.Equal(TcpFlowOutcome.Completed, flow.Outcome);
        Assert.Equal(5, flow.Exchanges);
        Assert.Equal(25_000, flow.BytesReceived);

        // One round trip (30 ms) for the request and the first window of the response.
        Assert.All(flow.ExchangeTimes, t => Assert.InRange(t.TotalMilliseconds, 30, 100));
    }

    [Fact]
    public void A_closed_port_must_refuse_the_syn_with_a_reset()
    {
        var (client, server) = Hosts();
        var flow = client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 9), TcpFlowKind.Bulk, Bytes: 10), TimeSpan.Zero, out var syn);
        Run(client, server, syn.Transmissions, () => flow.Done, TimeSpan.FromSeconds(5));
        Assert.Equal(TcpFlowOutcome.Refused, flow.Outcome);
        Assert.Equal(1, server.Drops[DropReason.NoListener]);
        Assert.Equal(0, client.TcpConnections);
    }

    [Fact]
    public void A_segment_with_a_bad_checksum_must_be_dropped_and_counted()
    {
        var (client, server) = Hosts();
        server.ListenTcp(new TcpListenOptions(5001));
        client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 5001), TcpFlowKind.Bulk, Bytes: 10), TimeSpan.Zero, out var syn);
        var damaged = Assert.Single(syn.Transmissions).Datagram.ToArray();
        damaged[^1] ^= 0x40; // a bit of the last option octet; the IPv4 header checksum still holds
        var output = server.Receive(damaged, "eth0", Delay);
        Assert.Equal(DropReason.TcpChecksum, output.Drop);
        Assert.Empty(output.Transmissions);
        Assert.Equal(1, server.Drops[DropReason.TcpChecksum]);
        Assert.Empty(server.TcpSessions);
    }

    [Fact]
    public void Fragmentation_needed_quoting_a_segment_in_flight_must_lower_the_mss_and_a_blind_one_must_not()
    {
        var (client, server) = Hosts();
        server.ListenTcp(new TcpListenOptions(5001));
        var flow = client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 5001), TcpFlowKind.Bulk, Bytes: 100_000), TimeSpan.Zero, out var syn);

        // Handshake only: stop as soon as the client sends data.
        byte[]? firstData = null;
        Run(client, server, syn.Transmissions, () => firstData is not null, TimeSpan.FromSeconds(1), pass: d =>
        {
            if (d.Length <= 100 || !TcpHeader.TryParse(d.AsSpan(20), out var h, out _, out _) || h.SourcePort == 5001) return true;
            firstData ??= d;
            return false;
        });
        Assert.NotNull(firstData);
        var c = flow.Connection!;
        Assert.Equal(1460, c.EffectiveMss);

        // A blind error quoting a sequence number outside the flight changes nothing (RFC 5927 §4.1).
        var blind = firstData.ToArray();
        blind[24] ^= 0x80;
        Assert.Empty(client.Receive(FragmentationNeeded(blind, 1400), "eth0", TimeSpan.FromSeconds(1)).Transmissions);
        Assert.Equal(1460, c.EffectiveMss);

        // The real error about the segment lowers the MSS to 1310 and resends at that size, DF set.
        var resent = client.Receive(FragmentationNeeded(firstData, 1350), "eth0", TimeSpan.FromSeconds(1)).Transmissions;
        Assert.Equal(1310, c.EffectiveMss);
        Assert.NotEmpty(resent);
        Assert.All(resent, t => Assert.True(t.Datagram.Length <= 1350));
    }

    /// <summary>An ICMP fragmentation-needed from the server's router 192.168.29.1 about <paramref name="offending"/>.</summary>
    private static byte[] FragmentationNeeded(byte[] offending, ushort mtu)
    {
        var template = new Ipv4Template(A("192.168.29.1"), A("192.168.29.55"), 1, 255);
        var buffer = new byte[Ipv4PacketWriter.IcmpDatagramLength(28)];
        var length = Ipv4PacketWriter.WriteIcmpError(buffer, template, Icmpv4Header.FragmentationNeeded(mtu), offending);
        return buffer[..length];
    }

    [Fact]
    public void Seeded_hosts_must_choose_the_same_initial_sequence_numbers()
    {
        uint Isn()
        {
            var (client, _) = Hosts();
            client.StartTcp(new TcpFlowOptions(new Ipv4Endpoint(A("192.168.29.60"), 5001), TcpFlowKind.Bulk, Bytes: 1), TimeSpan.Zero, out var syn);
            Assert.True(TcpHeader.TryParse(Assert.Single(syn.Transmissions).Datagram.AsSpan(20), out var h, out _, out _));
            return h.SequenceNumber;
        }

        Assert.Equal(Isn(), Isn());
    }
}
