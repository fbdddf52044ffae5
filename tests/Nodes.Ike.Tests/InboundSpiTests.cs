using System.Buffers.Binary;
using Nodes.Crypto;

namespace Nodes.Ike.Tests;

/// <summary>Inbound ESP SPIs unique at their gateway (RFC 4301 section 4.1), taken while used and given back after.</summary>
public class InboundSpiTests
{
    /// <summary>Gives the 32-bit values it was made with, in turn, over and over.</summary>
    private sealed class Values(params uint[] values) : IRandomSource
    {
        private int _next;

        public void Fill(Span<byte> destination)
        {
            Span<byte> word = stackalloc byte[4];
            for (var i = 0; i < destination.Length; i += 4)
            {
                BinaryPrimitives.WriteUInt32BigEndian(word, values[_next++ % values.Length]);
                word[..Math.Min(4, destination.Length - i)].CopyTo(destination[i..]);
            }
        }
    }

    [Fact]
    public void A_draw_must_skip_what_is_taken_and_what_is_reserved_and_a_released_SPI_must_come_back()
    {
        var spis = new InboundSpis();
        Assert.Equal(0x1234_5678u, spis.Draw(new Values(0x1234_5678)));
        // Taken, then reserved (RFC 4303 section 2.1: 0-255), then free.
        Assert.Equal(0x0bad_cafeu, spis.Draw(new Values(0x1234_5678, 200, 0x0bad_cafe)));
        Assert.True(spis.IsTaken(0x1234_5678));
        Assert.Equal(2, spis.Count);
        spis.Release(0x1234_5678);
        Assert.False(spis.IsTaken(0x1234_5678));
        Assert.Equal(0x1234_5678u, spis.Draw(new Values(0x1234_5678)));
    }

    [Fact]
    public void A_child_SA_must_not_take_an_SPI_another_SA_of_its_gateway_holds()
    {
        // The same seeded exchange twice: the second time, the SPI the responder drew for its Child SA is already
        // another SA's at that gateway, so it draws again, and the tunnel carries traffic on the new one.
        uint first;
        using (var alone = new IkePair(IkePair.Rras(), IkePair.Azure(), seed: 7))
        {
            alone.Start();
            first = alone.Responder!.ChildSas.Single().InboundSpi;
        }
        var spis = new InboundSpis();
        Assert.Equal(first, spis.Draw(new Values(first)));

        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure(), seed: 7, responderSpis: spis);
        pair.Start();
        Assert.Equal(IkeSaState.Established, pair.Responder!.State);
        var child = pair.Responder.ChildSas.Single();
        Assert.NotEqual(first, child.InboundSpi);
        Assert.Equal(child.InboundSpi, pair.Initiator.ChildSas.Single().OutboundSpi);
        Assert.True(spis.IsTaken(first));
        Assert.True(spis.IsTaken(child.InboundSpi));
        pair.PingBothWays();
    }

    [Fact]
    public void SPIs_must_be_given_back_when_their_SAs_go()
    {
        using var pair = new IkePair(IkePair.Rras(), IkePair.Azure(), seed: 3);
        pair.Start();
        Assert.Equal(1, pair.InitiatorEnv.InboundSpis.Count);
        Assert.Equal(1, pair.ResponderEnv.InboundSpis.Count);
        Assert.True(pair.ResponderEnv.InboundSpis.IsTaken(pair.Responder!.ChildSas.Single().InboundSpi));

        pair.Initiator.Delete(pair.Now);
        pair.Pump();
        Assert.Equal(IkeSaState.Closed, pair.Initiator.State);
        Assert.Equal(0, pair.InitiatorEnv.InboundSpis.Count);
        Assert.Equal(0, pair.ResponderEnv.InboundSpis.Count);
    }
}
