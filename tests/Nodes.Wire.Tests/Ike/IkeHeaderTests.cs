using FsCheck.Xunit;
using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class IkeHeaderTests
{
    private static readonly IkeHeader FixtureHeader = new(
        0x8f54bf6d8b48e6e1, 0, IkePayloadType.SecurityAssociation, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, 336);

    [Fact]
    public void Header_must_deconstruct_published_ike_sa_init()
    {
        var bytes = IkeFixtures.IkeSaInit;
        Assert.True(IkeHeader.TryParse(bytes, out var header, out var error));
        Assert.Equal(WireError.None, error);
        Assert.Equal(0x8f54bf6d8b48e6e1UL, header.InitiatorSpi);
        Assert.Equal(0UL, header.ResponderSpi);
        Assert.Equal(IkePayloadType.SecurityAssociation, header.NextPayload);
        Assert.Equal(ExchangeType.IkeSaInit, header.Exchange);
        Assert.Equal(IkeFlags.Initiator, header.Flags);
        Assert.True(header.IsFromOriginalInitiator);
        Assert.False(header.IsResponse);
        Assert.Equal(0u, header.MessageId);
        Assert.Equal(336u, header.Length);
    }

    [Fact]
    public void Header_must_construct_the_published_bytes()
    {
        var bytes = new byte[IkeHeader.Size];
        Assert.Equal(IkeHeader.Size, FixtureHeader.Encode(bytes));
        Assert.Equal(IkeFixtures.IkeSaInit[..IkeHeader.Size], bytes);
    }

    [Fact]
    public void Header_must_check_length_against_the_datagram()
    {
        var bytes = IkeFixtures.IkeSaInit;
        Assert.False(IkeHeader.TryParse(bytes.AsSpan(0, 27), out _, out var e1));
        Assert.Equal(WireError.Truncated, e1);
        Assert.False(IkeHeader.TryParse(bytes.AsSpan(0, bytes.Length - 1), out _, out var e2));
        Assert.Equal(WireError.Truncated, e2);
        Assert.False(IkeHeader.TryParse([.. bytes, 0], out _, out var e3));
        Assert.Equal(WireError.BadLength, e3);
    }

    [Fact]
    public void Header_must_parse_a_response_from_the_responder()
    {
        Assert.True(IkeHeader.TryParse(IkeFixtures.EmptyInformational, out var header, out _));
        Assert.Equal(ExchangeType.Informational, header.Exchange);
        Assert.Equal(IkeFlags.Initiator | IkeFlags.Response, header.Flags);
        Assert.True(header.IsResponse);
        Assert.Equal(IkePayloadType.Encrypted, header.NextPayload);
        Assert.Equal(0x909232b3d1edcb5cUL, header.ResponderSpi);
    }

    [Fact]
    public void Header_must_emit_version_two_point_zero()
    {
        var bytes = new byte[IkeHeader.Size];
        FixtureHeader.Encode(bytes);
        Assert.Equal(0x20, bytes[IkeHeader.Field.Version]);
        Assert.Throws<ArgumentException>(() => FixtureHeader.Encode(new byte[27]));
    }

    [Fact]
    public void Header_must_report_its_buffer_length()
    {
        Assert.Equal(28, FixtureHeader.EncodedLength);
        Assert.Equal(28, IkeHeader.Size);
    }

    [Fact]
    public void Header_must_ignore_the_minor_version()
    {
        var bytes = IkeFixtures.IkeSaInit;
        bytes[IkeHeader.Field.Version] = 0x2f;
        Assert.True(IkeHeader.TryParse(bytes, out var header, out _));
        Assert.Equal(FixtureHeader, header);
    }

    [Theory]
    [InlineData("empty", "", WireError.Truncated)]
    [InlineData("27 bytes", "0000000000000001 0000000000000000 21 20 22 08 00000000 000000", WireError.Truncated)]
    [InlineData("major version 1", "0000000000000001 0000000000000000 21 10 22 08 00000000 0000001c", WireError.BadVersion)]
    [InlineData("major version 3", "0000000000000001 0000000000000000 21 30 22 08 00000000 0000001c", WireError.BadVersion)]
    [InlineData("length below 28", "0000000000000001 0000000000000000 00 20 22 08 00000000 00000010", WireError.BadLength)]
    [InlineData("length beyond datagram", "0000000000000001 0000000000000000 00 20 22 08 00000000 0000001d", WireError.Truncated)]
    [InlineData("length short of datagram", "0000000000000001 0000000000000000 00 20 22 08 00000000 0000001c 00", WireError.BadLength)]
    public void Header_must_refuse_malformed_input(string description, string hex, WireError expected)
    {
        Assert.False(IkeHeader.TryParse(Hex.Decode(hex), out _, out var error), description);
        Assert.Equal(expected, error);
    }

    [Property]
    public bool Header_must_round_trip(ulong spiI, ulong spiR, byte next, byte exchange, byte flags, uint messageId)
    {
        var header = new IkeHeader(spiI, spiR, (IkePayloadType)next, (ExchangeType)exchange, (IkeFlags)flags, messageId, IkeHeader.Size);
        var bytes = new byte[IkeHeader.Size];
        header.Encode(bytes);
        return IkeHeader.TryParse(bytes, out var parsed, out _) && parsed == header;
    }
}
