using System.Collections.Immutable;
using Akka.Actor;
using Nodes.Actors.Lab;
using Nodes.Messages;
using Nodes.Net;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Tests;

public class LinkShortcutSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("192.0.2.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("192.0.2.2");
    private static readonly Ipv4Address C = Ipv4Address.Parse("192.0.2.3");

    private static LinkSpec Spec(string? segment, int? mtu, ImpairmentSpec impairments, params string[] ends) =>
        new("lan", segment, ends.Select(e => new EndpointSpec(e, "eth0", default)).ToImmutableArray(), mtu, impairments, default);

    private (IActorRef Link, LinkShortcut Shortcut, Akka.TestKit.TestProbe[] Nodes) Start(LinkSpec spec, CaptureSink? capture = null)
    {
        var shortcut = new LinkShortcut(spec.Name);
        var lab = new LabContext(Sys.Scheduler.Now, 1, 1, CreateTestProbe().Ref, capture);
        var link = Sys.ActorOf(LinkActor.Props(spec, lab, shortcut));
        var probes = spec.Endpoints.Select(_ => CreateTestProbe()).ToArray();
        Ipv4Address[] addresses = [A, B, C];
        link.Tell(new LinkActor.Connect(spec.Endpoints.Select((e, i) =>
            new LinkActor.End(LinkActor.AttachmentName(e.Node, e.Interface), e.Node, e.Interface, addresses[i], probes[i].Ref)).ToList()));
        return (link, shortcut, probes);
    }

    private ulong Carried(IActorRef link)
    {
        link.Tell(new QueryStatus { Requester = "spec" }, TestActor);
        return ExpectMsg<NodeStatus>().FramesIn;
    }

    private static Transmission Datagram(Ipv4Address nextHop, int length = 60) => new("eth0", nextHop, new byte[length]);

    [Fact]
    public void An_unimpaired_link_must_hand_frames_to_the_far_node_as_the_link_would_and_count_them()
    {
        var (link, shortcut, nodes) = Start(Spec(null, null, ImpairmentSpec.None, "a", "b"));
        AwaitCondition(() => shortcut.IsOpen);
        Assert.True(shortcut.TrySend("a", Datagram(B), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 7));
        var frame = nodes[1].ExpectMsg<Frame>();
        Assert.Equal(("lan", "b", "eth0", 7UL, B.Value), (frame.Link, frame.Node, frame.Interface, frame.Sequence, frame.NextHop));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", frame.Traceparent);
        Assert.Equal(link, nodes[1].LastSender);
        nodes[0].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1UL, Carried(link));
    }

    [Fact]
    public void A_segment_must_hand_a_frame_only_to_the_owner_of_its_next_hop()
    {
        var (_, shortcut, nodes) = Start(Spec("lan", null, ImpairmentSpec.None, "a", "b", "c"));
        AwaitCondition(() => shortcut.IsOpen);
        Assert.True(shortcut.TrySend("a", Datagram(C), "", 1));
        Assert.Equal("c", nodes[2].ExpectMsg<Frame>().Node);
        // A broadcast, or a next hop nobody here owns, is the link actor's business.
        Assert.False(shortcut.TrySend("a", Datagram(Ipv4Address.Broadcast), "", 2));
        Assert.False(shortcut.TrySend("a", Datagram(Ipv4Address.Parse("192.0.2.9")), "", 3));
        nodes[1].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_frame_over_the_MTU_must_be_left_to_the_link_which_drops_it()
    {
        var (link, shortcut, nodes) = Start(Spec(null, 1500, ImpairmentSpec.None, "a", "b"));
        AwaitCondition(() => shortcut.IsOpen);
        Assert.False(shortcut.TrySend("a", Datagram(B, 1501), "", 1));
        link.Tell(new Frame { Link = "lan", Node = "a", Interface = "eth0", Packet = Google.Protobuf.ByteString.CopyFrom(new byte[1501]), NextHop = B.Value });
        link.Tell(new QueryStatus { Requester = "spec" }, TestActor);
        Assert.Contains(ExpectMsg<NodeStatus>().Drops, d => d.Reason == "link-mtu" && d.Count == 1);
        nodes[1].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_link_that_goes_down_must_close_the_shortcut_until_it_comes_back()
    {
        var (link, shortcut, nodes) = Start(Spec(null, null, ImpairmentSpec.None, "a", "b"));
        AwaitCondition(() => shortcut.IsOpen);
        link.Tell(new LinkActor.SetLinkUp(false));
        Carried(link); // the link has handled the fault
        Assert.False(shortcut.IsOpen);
        Assert.False(shortcut.TrySend("a", Datagram(B), "", 1));
        link.Tell(new LinkActor.SetLinkUp(true));
        AwaitCondition(() => shortcut.IsOpen);
        Assert.True(shortcut.TrySend("a", Datagram(B), "", 2));
        Assert.Equal(2UL, nodes[1].ExpectMsg<Frame>().Sequence);
    }

    [Fact]
    public void Impaired_or_captured_links_must_never_open_the_shortcut()
    {
        var delayed = ImpairmentSpec.None with { Delay = new NetemTime(TimeSpan.FromMilliseconds(5), "5ms") };
        var (impairedLink, impaired, _) = Start(Spec(null, null, delayed, "a", "b"));
        var dir = Path.Combine(Path.GetTempPath(), "nodes-shortcut-" + Guid.NewGuid().ToString("n"));
        var capture = new CaptureSink(dir);
        try
        {
            var (capturedLink, captured, _) = Start(Spec(null, null, ImpairmentSpec.None, "a", "b"), capture);
            Carried(impairedLink);
            Carried(capturedLink);
            Carried(impairedLink); // the links have handled their Connect and what it sent them
            Carried(capturedLink);
            Assert.False(impaired.IsOpen);
            Assert.False(captured.IsOpen);
        }
        finally
        {
            capture.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
