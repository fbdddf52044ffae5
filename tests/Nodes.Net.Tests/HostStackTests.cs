using Nodes.Net.Forwarding;
using Nodes.Net.Hosts;
using Nodes.Wire.Icmp;
using Nodes.Wire.Ip;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests;

public class HostStackTests
{
    private static HostStack Client() => new(new HostOptions
    {
        Interfaces = [IpInterface.Parse("eth0", "192.168.29.55/24")],
        DefaultGateway = A("192.168.29.52"),
    });

    private static HostStack Vm() => new(new HostOptions
    {
        Interfaces = [IpInterface.Parse("eth0", "10.0.10.4/24")],
        DefaultGateway = A("10.0.10.1"),
        TimeToLive = DefaultTimeToLive.Linux,
    });

    [Fact]
    public void HostStack_must_measure_rtt_from_the_time_inputs_and_count_losses()
    {
        var client = Client();
        var vm = Vm();
        var ping = client.StartPing(new PingOptions(A("10.0.10.4")));
        for (var i = 0; i < 4; i++)
        {
            var now = TimeSpan.FromSeconds(i);
            var request = Assert.Single(client.SendPing(ping, now).Transmissions);
            Assert.Equal(A("192.168.29.52"), request.NextHop);
            Assert.Equal(128, request.Datagram[8]);
            if (i == 2) continue; // lost on the way
            var reply = Assert.Single(vm.Receive(request.Datagram, "eth0", now + TimeSpan.FromMilliseconds(20)).Transmissions);
            Assert.Equal(64, reply.Datagram[8]);
            var evt = Assert.IsType<PingReplied>(Assert.Single(client.Receive(reply.Datagram, "eth0", now + TimeSpan.FromMilliseconds(40 + i)).Events));
            Assert.Equal(TimeSpan.FromMilliseconds(40 + i), evt.RoundTrip);
            Assert.Equal(32, evt.DataLength);
        }

        Assert.Empty(client.Tick(TimeSpan.FromSeconds(5.9)).Events);
        Assert.IsType<PingTimedOut>(Assert.Single(client.Tick(TimeSpan.FromSeconds(6)).Events));
        Assert.Equal((4, 3, 1), (ping.Sent, ping.Received, ping.Lost));
        Assert.Equal(TimeSpan.FromMilliseconds(40), ping.Minimum);
        Assert.Equal(TimeSpan.FromMilliseconds(43), ping.Maximum);
    }

    [Fact]
    public void HostStack_must_report_fragmentation_needed_about_its_ping_and_learn_the_path_mtu()
    {
        var client = Client();
        var router = new Router([IpInterface.Parse("lan", "192.168.29.52/24"), IpInterface.Parse("tunnel", "172.16.0.1/30", 1400)]);
        router.Routes.Add(new Routing.Route(Ipv4Prefix.Parse("10.0.10.0/24"), null, "tunnel"));
        var ping = client.StartPing(new PingOptions(A("10.0.10.4"), DataLength: 1472, DontFragment: true));

        var request = Assert.Single(client.SendPing(ping, TimeSpan.Zero).Transmissions);
        var error = router.Forward(request.Datagram, "lan").IcmpError!.Value;
        var failed = Assert.IsType<PingFailed>(Assert.Single(client.Receive(error.Datagram, "eth0", TimeSpan.FromMilliseconds(1)).Events));
        Assert.Equal((ushort?)1400, failed.NextHopMtu);
        Assert.Equal(A("192.168.29.52"), failed.ReportedBy);
        Assert.Equal(1400, client.PathMtu(A("10.0.10.4")));
        Assert.Equal(1, ping.Failed);

        // The next DF ping of the same size fails locally, as Windows reports "needs to be fragmented but DF set".
        var local = client.SendPing(ping, TimeSpan.FromSeconds(1));
        Assert.Equal(DropReason.FragmentationNeeded, local.Drop);
        Assert.Empty(local.Transmissions);
    }

    [Fact]
    public void HostStack_must_count_a_udp_flow_and_answer_closed_ports_with_port_unreachable()
    {
        var client = Client();
        var vm = Vm();
        var receiver = vm.ListenUdp(5001);
        var flow = HostStack.CreateUdpFlow(new UdpFlowOptions(new Ipv4Endpoint(A("10.0.10.4"), 5001), 40000, 10, 2000));
        var sent = client.SendUdp(flow, 10, TimeSpan.Zero).Transmissions;
        Assert.Equal(20, sent.Count); // 2028-octet datagrams leave as two fragments each
        foreach (var t in sent.Reverse()) vm.Receive(t.Datagram, "eth0", TimeSpan.Zero);
        Assert.Equal((10L, 20000L, 10), (receiver.Packets, receiver.Bytes, receiver.Distinct));
        Assert.Equal(9, receiver.OutOfOrder);

        var closed = vm.Receive(Packets.Udp("192.168.29.55", 1, "10.0.10.4", 9), "eth0", TimeSpan.Zero);
        Assert.Equal(DropReason.NoListener, closed.Drop);
        var unreachable = Assert.Single(closed.Transmissions).Datagram;
        Assert.Equal((byte)Icmpv4Type.DestinationUnreachable, unreachable[20]);
        Assert.Equal((byte)DestinationUnreachableCode.PortUnreachable, unreachable[21]);
    }

    [Fact]
    public void HostStack_must_drop_datagrams_for_other_addresses_and_garbage()
    {
        var client = Client();
        Assert.Equal(DropReason.NotForThisHost, client.Receive(Echo("10.0.10.4", "192.168.29.99", 1, 1), "eth0", TimeSpan.Zero).Drop);
        Assert.Equal(DropReason.Malformed, client.Receive(new byte[] { 1, 2, 3 }, "eth0", TimeSpan.Zero).Drop);
        Assert.Equal(DropReason.UnmatchedIcmp, client.Receive(Echo("10.0.10.4", "192.168.29.55", 9, 9, reply: true), "eth0", TimeSpan.Zero).Drop);
    }
}
