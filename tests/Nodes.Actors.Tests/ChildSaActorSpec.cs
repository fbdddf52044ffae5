using System.Collections.Immutable;
using Nodes.Actors.Nodes;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Tests;

public class ChildSaActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private static (ChildSaInfo Initiator, ChildSaInfo Responder) Pair(bool encapsulated)
    {
        var suite = new ChildSuite(new CipherSuite(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha1_96), null, false);
        var random = new SeededRandomSource(5, "child-sa-spec");
        var skD = new byte[32];
        var ni = new byte[32];
        var nr = new byte[32];
        random.Fill(skD);
        random.Fill(ni);
        random.Fill(nr);
        var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, suite.Cipher, new SecretKey(skD), null, ni, nr);
        var any = ImmutableArray.Create(TsRange.Any);
        var endpoint = new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.1"), encapsulated ? (ushort)4500 : (ushort)0);
        var initiator = new ChildSaInfo("spec", 0x1111_0000, 0x2222_0000, suite, keys, true, any, any, encapsulated, endpoint, endpoint, null, 64, DateTimeOffset.UnixEpoch);
        return (initiator, initiator with { InboundSpi = 0x2222_0000, OutboundSpi = 0x1111_0000, WeInitiatedExchange = false });
    }

    // The gateway writes the outer IPv4 header (and the UDP header of RFC 3948) in front of the ESP packet in place:
    // the Child SA leaves exactly that room, and the peer opens the packet to the same inner datagram.
    [Theory]
    [InlineData(true, 28)]
    [InlineData(false, 20)]
    public void A_sealed_packet_must_end_its_buffer_after_room_for_the_outer_headers(bool encapsulated, int headroom)
    {
        var (initiator, responder) = Pair(encapsulated);
        var sealer = Sys.ActorOf(ChildSaActor.Props(initiator, new SeededRandomSource(6, "sealer"), long.MaxValue));
        var opener = Sys.ActorOf(ChildSaActor.Props(responder, new SeededRandomSource(7, "opener"), long.MaxValue));
        var inner = new byte[92];
        Ipv4PacketWriter.WriteIcmpEcho(inner, new Ipv4Template(Ipv4Address.Parse("192.168.29.55"), Ipv4Address.Parse("10.0.10.4"), 1, 128), false, 1, 1, new byte[64]);

        sealer.Tell(new SealInner(inner.ToArray(), ""), TestActor);
        var sealedEsp = ExpectMsg<Sealed>().Esp;
        Assert.Equal(headroom, sealedEsp.Offset);
        Assert.Equal(sealedEsp.Array!.Length, sealedEsp.Offset + sealedEsp.Count);

        opener.Tell(new OpenEsp(sealedEsp, initiator.Local, ""), TestActor);
        Assert.Equal(Convert.ToHexString(inner), Convert.ToHexString(ExpectMsg<Opened>().Inner));
    }
}
