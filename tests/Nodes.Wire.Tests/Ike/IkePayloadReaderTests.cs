using Nodes.TestKit;
using Nodes.Wire.Ike;

namespace Nodes.Wire.Tests.Ike;

public class IkePayloadReaderTests
{
    private static (List<(IkePayloadType Type, int Length)> Payloads, WireError Error, IkePayloadType Unsupported) Walk(ReadOnlySpan<byte> chain, IkePayloadType first, IkeChainOptions options = IkeChainOptions.None)
    {
        var seen = new List<(IkePayloadType, int)>();
        var reader = new IkePayloadReader(chain, first, options);
        while (reader.TryRead(out var payload)) seen.Add((payload.Type, payload.Body.Length));
        return (seen, reader.Error, reader.UnsupportedCriticalType);
    }

    [Fact]
    public void Reader_must_walk_published_ike_sa_init()
    {
        var bytes = IkeFixtures.IkeSaInit;
        var (payloads, error, _) = Walk(bytes.AsSpan(IkeHeader.Size), IkePayloadType.SecurityAssociation);
        Assert.Equal(WireError.None, error);
        Assert.Equal(
            [
                (IkePayloadType.SecurityAssociation, 44), (IkePayloadType.KeyExchange, 132), (IkePayloadType.Nonce, 32),
                (IkePayloadType.Notify, 24), (IkePayloadType.Notify, 24), (IkePayloadType.VendorId, 28),
            ],
            payloads);
    }

    [Fact]
    public void Reader_must_expose_offsets_and_next_payload_fields()
    {
        var bytes = IkeFixtures.IkeSaInit;
        var reader = new IkePayloadReader(bytes.AsSpan(IkeHeader.Size), IkePayloadType.SecurityAssociation);
        Assert.True(reader.TryRead(out var sa));
        Assert.Equal(0, sa.Offset);
        Assert.Equal(IkePayloadType.KeyExchange, sa.Header.NextPayload);
        Assert.Equal(48, sa.Payload.Length);
        Assert.True(reader.TryRead(out var ke));
        Assert.Equal(48, ke.Offset);
        Assert.Equal(IkePayloadType.Nonce, ke.Header.NextPayload);
    }

    [Fact]
    public void Reader_must_report_the_type_of_an_unknown_critical_payload()
    {
        // RFC 7296 section 2.5: the first payload turned into unknown type 0xff with the critical bit set.
        var bytes = IkeFixtures.IkeSaInit;
        bytes[IkeHeader.Field.NextPayload] = 0xff;
        bytes[IkeHeader.Size + 1] = 0x80;
        var (_, error, unsupported) = Walk(bytes.AsSpan(IkeHeader.Size), (IkePayloadType)0xff);
        Assert.Equal(WireError.UnsupportedCriticalPayload, error);
        Assert.Equal((IkePayloadType)0xff, unsupported);
    }

    [Fact]
    public void Reader_must_skip_an_unknown_payload_without_critical_bit()
    {
        var bytes = IkeFixtures.IkeSaInit;
        var (payloads, error, _) = Walk(bytes.AsSpan(IkeHeader.Size), (IkePayloadType)0xff);
        Assert.Equal(WireError.None, error);
        Assert.Equal(5, payloads.Count);
        Assert.Equal(IkePayloadType.KeyExchange, payloads[0].Type);
        var (all, _, _) = Walk(bytes.AsSpan(IkeHeader.Size), (IkePayloadType)0xff, IkeChainOptions.YieldUnknown);
        Assert.Equal(6, all.Count);
    }

    [Fact]
    public void Reader_must_ignore_the_critical_bit_on_known_types()
    {
        var bytes = IkeFixtures.IkeSaInit;
        bytes[IkeHeader.Size + 1] = 0x80;
        var (payloads, error, _) = Walk(bytes.AsSpan(IkeHeader.Size), IkePayloadType.SecurityAssociation);
        Assert.Equal(WireError.None, error);
        Assert.Equal(6, payloads.Count);
    }

    [Fact]
    public void Reader_must_accept_sk_as_last_payload_and_not_follow_its_next_payload()
    {
        var bytes = IkeFixtures.IkeAuth;
        var (payloads, error, _) = Walk(bytes.AsSpan(IkeHeader.Size), IkePayloadType.Encrypted);
        Assert.Equal(WireError.None, error);
        Assert.Equal([(IkePayloadType.Encrypted, 204)], payloads);
    }

    [Theory]
    [InlineData("payload length 0", 33, "00000000", WireError.BadLength)]
    [InlineData("payload length 3", 33, "00000003", WireError.BadLength)]
    [InlineData("generic header cut short", 33, "000000", WireError.Truncated)]
    [InlineData("payload length overruns the chain", 40, "00000014 0001020304050607", WireError.BadPayloadChain)]
    [InlineData("second payload overruns the chain", 43, "2b000005 aa 00000008 01", WireError.BadPayloadChain)]
    [InlineData("next payload announced but no bytes left", 43, "2b000005 aa", WireError.BadPayloadChain)]
    [InlineData("bytes after the last payload", 43, "00000005 aa 00", WireError.BadPayloadChain)]
    [InlineData("SK followed by another payload", 46, "29000008 00000000 00000008 00004000", WireError.BadPayloadChain)]
    [InlineData("SKF followed by another payload", 53, "00000008 00010001 00000004", WireError.BadPayloadChain)]
    [InlineData("unknown critical payload", 200, "00800004", WireError.UnsupportedCriticalPayload)]
    [InlineData("unknown critical payload after a known one", 43, "c8000005 aa 00800004", WireError.UnsupportedCriticalPayload)]
    public void Reader_must_refuse_malformed_chains(string description, byte firstType, string hex, WireError expected)
    {
        var (_, error, _) = Walk(Hex.Decode(hex), (IkePayloadType)firstType);
        Assert.True(expected == error, $"{description}: {error}");
    }

    [Fact]
    public void Reader_must_refuse_sk_inside_a_decrypted_chain()
    {
        var (_, error, _) = Walk(Hex.Decode("00000008 00000000"), IkePayloadType.Encrypted, IkeChainOptions.Inner);
        Assert.Equal(WireError.BadPayloadChain, error);
    }

    [Fact]
    public void Reader_must_accept_an_empty_chain_with_no_first_payload()
    {
        Assert.True(IkePayloadReader.Validate([], IkePayloadType.None, out var error, out _));
        Assert.Equal(WireError.None, error);
        Assert.False(IkePayloadReader.Validate([0], IkePayloadType.None, out error, out _));
        Assert.Equal(WireError.BadPayloadChain, error);
    }
}
