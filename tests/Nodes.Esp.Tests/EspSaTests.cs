using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Wire.Esp;

namespace Nodes.Esp.Tests;

public class EspSaTests
{
    public static TheoryData<string> SuiteNames => Suites.Names();

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void EspSa_must_round_trip_every_transform(string suiteName)
    {
        using var pair = new SaPair(Suites.ByName(suiteName));
        foreach (var length in new[] { 20, 21, 22, 23, 60, 1400 })
        {
            var inner = Suites.InnerPacket(length, (byte)length);
            var packet = pair.Seal(inner);
            Assert.Equal(0, (packet.Length - 8 - pair.Suite.IvLength - pair.Suite.IcvLength) % EspTrailer.AlignmentFor(pair.Suite.BlockSize));
            Assert.True(pair.In.TryOpen(packet, out var opened, out var reason), $"{suiteName} {length}: {reason}");
            Assert.Equal(inner, opened.Slice(packet).ToArray());
            Assert.Equal(EspNextHeader.Ipv4, opened.NextHeader);
        }
        Assert.Equal(6, pair.Out.Counters.Packets);
        Assert.Equal(6, pair.In.Counters.Packets);
        Assert.Equal(20 + 21 + 22 + 23 + 60 + 1400, pair.In.Counters.Bytes);
        Assert.Equal(pair.Out.Counters.Bytes, pair.In.Counters.Bytes);
        Assert.Equal(6ul, pair.In.HighestSequence);
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void EspSa_must_round_trip_across_the_32_bit_edge_with_esn(string suiteName)
    {
        using var pair = new SaPair(Suites.ByName(suiteName), esn: true, counter: new SequenceCounter(true, 0xffff_fffd));
        var inner = Suites.InnerPacket(100);
        pair.In.Window.Commit(0xffff_fffd);
        for (var expected = 0xffff_fffeul; expected <= 0x1_0000_0002ul; expected++)
        {
            var packet = pair.Seal(inner);
            Assert.Equal((uint)expected, BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(4)));
            Assert.True(pair.In.TryOpen(packet, out var opened, out var reason), $"{expected:x}: {reason}");
            Assert.Equal(expected, opened.Sequence);
        }
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void EspSa_must_authenticate_the_esn_high_half_that_is_never_sent(string suiteName)
    {
        // Both sides agree on the low 32 bits, but the receiver's window puts the packet in another 2^32 subspace.
        using var pair = new SaPair(Suites.ByName(suiteName), esn: true, counter: new SequenceCounter(true, 0x1_0000_0000));
        var packet = pair.Seal(Suites.InnerPacket(40)); // sequence 0x1_0000_0001, wire value 1
        Assert.False(pair.In.TryOpen(packet, out _, out var reason));
        Assert.Equal(EspDropReason.Integrity, reason);
        Assert.Equal(0ul, pair.In.HighestSequence);
    }

    [Fact]
    public void EspOutboundSa_must_use_the_sequence_number_as_the_gcm_iv()
    {
        using var pair = new SaPair(Suites.Gcm16_256, esn: true, counter: new SequenceCounter(true, 0x1_2345_6788));
        var packet = pair.Seal(Suites.InnerPacket(20));
        Assert.Equal(0x1_2345_6789ul, BinaryPrimitives.ReadUInt64BigEndian(packet.AsSpan(8)));
        Assert.Equal(0x2345_6789u, BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(4)));
        Assert.Equal(SaPair.Spi, BinaryPrimitives.ReadUInt32BigEndian(packet));
    }

    [Fact]
    public void EspOutboundSa_must_draw_a_fresh_cbc_iv_per_packet()
    {
        using var pair = new SaPair(Suites.Cbc256Sha256);
        var a = pair.Seal(Suites.InnerPacket(64));
        var b = pair.Seal(Suites.InnerPacket(64));
        Assert.NotEqual(a[8..24], b[8..24]);
    }

    [Fact]
    public void EspInboundSa_must_drop_replays_and_old_packets()
    {
        using var pair = new SaPair(Suites.Gcm16_128);
        var packets = Enumerable.Range(0, 70).Select(i => pair.Seal(Suites.InnerPacket(30))).ToArray();
        Assert.True(pair.In.TryOpen(packets[0].ToArray(), out _, out _));
        Assert.False(pair.In.TryOpen(packets[0].ToArray(), out _, out var replay));
        Assert.Equal(EspDropReason.Replay, replay);
        Assert.True(pair.In.TryOpen(packets[69].ToArray(), out _, out _)); // seq 70, window [7, 70]
        Assert.True(pair.In.TryOpen(packets[6].ToArray(), out _, out _));  // seq 7, left edge
        Assert.False(pair.In.TryOpen(packets[5].ToArray(), out _, out var old));
        Assert.Equal(EspDropReason.TooOld, old);
        Assert.Equal(1, pair.In.Counters.Drops(EspDropReason.Replay));
        Assert.Equal(1, pair.In.Counters.Drops(EspDropReason.TooOld));
        Assert.Equal(3, pair.In.Counters.Packets);
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void EspInboundSa_must_not_move_the_window_for_a_packet_failing_its_icv(string suiteName)
    {
        using var pair = new SaPair(Suites.ByName(suiteName));
        var first = pair.Seal(Suites.InnerPacket(48));
        Assert.True(pair.In.TryOpen(first, out _, out _));
        var packet = pair.Seal(Suites.InnerPacket(48));
        for (var i = 0; i < packet.Length; i++)
        {
            var forged = packet.ToArray();
            forged[i] ^= 0x01;
            // Bytes 0..3 are the SPI: a flipped SPI is someone else's packet.
            var expected = i < 4 ? EspDropReason.UnknownSpi : EspDropReason.Integrity;
            Assert.False(pair.In.TryOpen(forged, out _, out var reason), $"byte {i}");
            if (i is >= 4 and < 8)
            {
                // A flipped sequence number can land in the window or ahead of it; either way the ICV fails.
                Assert.True(reason is EspDropReason.Integrity or EspDropReason.Replay or EspDropReason.TooOld, $"byte {i}: {reason}");
            }
            else
            {
                Assert.Equal(expected, reason);
            }
            Assert.Equal(1ul, pair.In.HighestSequence);
        }
        // The genuine packet still opens: nothing was committed for its forgeries.
        Assert.True(pair.In.TryOpen(packet, out var opened, out _));
        Assert.Equal(2ul, opened.Sequence);
    }

    [Fact]
    public void EspInboundSa_must_not_commit_a_forged_packet_far_ahead()
    {
        using var pair = new SaPair(Suites.Cbc128Sha1);
        var packet = pair.Seal(Suites.InnerPacket(40));
        var forged = packet.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(4), 1_000_000);
        Assert.False(pair.In.TryOpen(forged, out _, out var reason));
        Assert.Equal(EspDropReason.Integrity, reason);
        Assert.Equal(0ul, pair.In.HighestSequence);
        Assert.True(pair.In.TryOpen(packet, out _, out _));
    }

    [Theory]
    [InlineData("pad length 1, padding byte 0", "aabbccdd 00 01 04", 1)]
    [InlineData("pad length 2, padding 2 1", "aabb 0201 02 04", 2)]
    [InlineData("pad length past the start", "aabbccddeeff 07 04", 3)]
    public void EspInboundSa_must_drop_authentic_packets_with_bad_padding(string description, string plaintextHex, int seq)
    {
        // NULL encryption shows the plaintext; the ICV is computed over the crafted bytes, so only the padding is wrong.
        var suite = Suites.NullSha256;
        var macKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        using var enc = new SecretKey([]);
        using var mac = new SecretKey(macKey);
        using var sa = new EspInboundSa(0x1234, suite, enc, mac, false);
        var header = new byte[8];
        new EspHeader(0x1234, (uint)seq).Encode(header);
        var body = Nodes.TestKit.Hex.Decode(plaintextHex);
        var packet = header.Concat(body).Concat(System.Security.Cryptography.HMACSHA256.HashData(macKey, header.Concat(body).ToArray())[..16]).ToArray();

        Assert.False(sa.TryOpen(packet, out _, out var reason), description);
        Assert.Equal(EspDropReason.BadPadding, reason);
        // Authentic: the sequence number is committed, so a copy is a replay.
        Assert.Equal((ulong)seq, sa.HighestSequence);
        Assert.False(sa.TryOpen(packet.ToArray(), out _, out var again));
        Assert.Equal(EspDropReason.Replay, again);
    }

    [Fact]
    public void EspInboundSa_must_drop_dummy_packets_after_authenticating_them()
    {
        using var pair = new SaPair(Suites.Gcm16_128);
        var dummy = pair.Seal(Suites.InnerPacket(24, 0), EspNextHeader.NoNextHeader);
        Assert.False(pair.In.TryOpen(dummy, out var opened, out var reason));
        Assert.Equal(EspDropReason.Dummy, reason);
        Assert.Equal(default, opened);
        Assert.Equal(1, pair.In.Counters.Drops(EspDropReason.Dummy));
        Assert.Equal(0, pair.In.Counters.Packets);
        Assert.Equal(1ul, pair.In.HighestSequence);
    }

    [Fact]
    public void EspSa_must_carry_another_next_header_for_transport_mode()
    {
        using var pair = new SaPair(Suites.Cbc128Sha256);
        var payload = new byte[] { 8, 0, 0xf7, 0xff, 0, 0, 0, 0 };
        var packet = pair.Seal(payload, nextHeader: 1);
        Assert.True(pair.In.TryOpen(packet, out var opened, out _));
        Assert.Equal(1, opened.NextHeader);
        Assert.Equal(payload, opened.Slice(packet).ToArray());
    }

    [Theory]
    [MemberData(nameof(SuiteNames))]
    public void EspInboundSa_must_drop_truncated_and_misaligned_packets(string suiteName)
    {
        using var pair = new SaPair(Suites.ByName(suiteName));
        var packet = pair.Seal(Suites.InnerPacket(40));
        for (var length = 0; length < packet.Length; length++)
        {
            var cut = packet[..length];
            Assert.False(pair.In.TryOpen(cut, out _, out var reason), $"length {length}");
            var misaligned = (length - 8 - pair.Suite.IvLength - pair.Suite.IcvLength) % pair.Suite.BlockSize != 0;
            var tooShort = length < pair.In.MinimumPacketLength;
            if (tooShort || misaligned) Assert.Equal(EspDropReason.Malformed, reason);
            else Assert.Equal(EspDropReason.Integrity, reason);
        }
        Assert.Equal(0ul, pair.In.HighestSequence);
        Assert.True(pair.In.TryOpen(packet, out _, out _));
    }

    [Fact]
    public void EspInboundSa_must_drop_other_spis_and_reserved_spis()
    {
        using var pair = new SaPair(Suites.Gcm16_128);
        var packet = pair.Seal(Suites.InnerPacket(40));
        var other = packet.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(other, SaPair.Spi + 1);
        Assert.False(pair.In.TryOpen(other, out _, out var unknown));
        Assert.Equal(EspDropReason.UnknownSpi, unknown);
        var reserved = packet.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(reserved, 255);
        Assert.False(pair.In.TryOpen(reserved, out _, out var r));
        Assert.Equal(EspDropReason.ReservedSpi, r);
        Assert.Equal(2, pair.In.Counters.TotalDrops);
    }

    [Fact]
    public void EspOutboundSa_must_refuse_to_seal_once_the_sequence_space_is_used_up()
    {
        using var pair = new SaPair(Suites.Gcm16_128, counter: new SequenceCounter(false, uint.MaxValue - 1));
        var inner = Suites.InnerPacket(40);
        var last = pair.Seal(inner);
        Assert.Equal(uint.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(last.AsSpan(4)));
        Assert.Equal(0ul, pair.Out.RemainingSequences);
        var buffer = new byte[pair.Out.SealedLength(40)];
        Assert.Equal(EspSealStatus.SequenceExhausted, pair.Out.Seal(inner, buffer, out var written));
        Assert.Equal(0, written);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Equal(1, pair.Out.Counters.Packets);
        Assert.True(pair.In.TryOpen(last, out var opened, out _));
        Assert.Equal((ulong)uint.MaxValue, opened.Sequence);
    }

    [Fact]
    public void EspOutboundSa_must_not_consume_a_sequence_number_for_a_short_buffer()
    {
        using var pair = new SaPair(Suites.Cbc128Sha1);
        var inner = Suites.InnerPacket(40);
        Assert.Equal(EspSealStatus.BufferTooSmall, pair.Out.Seal(inner, new byte[pair.Out.SealedLength(40) - 1], out var written));
        Assert.Equal(0, written);
        Assert.Equal(0ul, pair.Out.LastSequence);
    }

    [Theory]
    [InlineData("already at the payload offset", -1)]
    [InlineData("at the start of the buffer, under the header and IV", 0)]
    [InlineData("just behind its place", 3)]
    [InlineData("behind its place, reaching over the trailer and ICV", 30)]
    public void EspOutboundSa_must_seal_an_inner_packet_inside_its_own_buffer(string description, int innerOffset)
    {
        using var pair = new SaPair(Suites.Gcm16_256);
        const int innerLength = 40;
        var inner = Suites.InnerPacket(innerLength, 0x33);
        var offset = innerOffset < 0 ? pair.Out.PayloadOffset : innerOffset;
        var buffer = new byte[Math.Max(pair.Out.SealedLength(innerLength), offset + innerLength)];
        inner.CopyTo(buffer, offset);
        var status = pair.Out.Seal(buffer.AsSpan(offset, innerLength), buffer, out var written);
        Assert.Equal(EspSealStatus.Sealed, status);
        var packet = buffer[..written];
        Assert.True(pair.In.TryOpen(packet, out var opened, out var reason), $"{description}: {reason}");
        Assert.Equal(inner, opened.Slice(packet).ToArray());
    }

    [Fact]
    public void EspSa_must_never_show_key_bytes()
    {
        using var pair = new SaPair(Suites.Cbc256Sha256);
        var text = pair.Out + " " + pair.In;
        Assert.Contains("spi=0xc0ffee01", text);
        Assert.Contains("AES-CBC-256/HMAC-SHA2-256-128", text);
        Assert.DoesNotMatch("[0-9a-f]{16}", text.Replace("c0ffee01", ""));
    }

    [Fact]
    public void EspInboundSa_with_a_disabled_window_must_deliver_duplicates()
    {
        using var pair = new SaPair(Suites.Gcm16_128, window: 0);
        var packet = pair.Seal(Suites.InnerPacket(40));
        Assert.True(pair.In.TryOpen(packet.ToArray(), out _, out _));
        Assert.True(pair.In.TryOpen(packet.ToArray(), out _, out _));
        Assert.Equal(2, pair.In.Counters.Packets);
    }

    [Fact]
    public void EspInboundSa_must_accept_a_large_window_of_reordered_packets()
    {
        using var pair = new SaPair(Suites.Gcm16_128, window: 4096);
        var packets = Enumerable.Range(0, 5000).Select(_ => pair.Seal(Suites.InnerPacket(20))).ToArray();
        Assert.True(pair.In.TryOpen(packets[4999], out _, out _));            // seq 5000
        Assert.True(pair.In.TryOpen(packets[5000 - 4096], out _, out _));     // seq 905: left edge of [905, 5000]
        Assert.False(pair.In.TryOpen(packets[5000 - 4097], out _, out var r)); // seq 904
        Assert.Equal(EspDropReason.TooOld, r);
    }

    [Fact]
    public void EspSa_must_seal_and_open_gcm_without_allocating()
    {
        using var pair = new SaPair(Suites.Gcm16_256);
        var inner = Suites.InnerPacket(1400);
        var buffer = new byte[pair.Out.SealedLength(inner.Length)];
        long sink = 0;
        for (var i = 0; i < 50; i++) sink += RoundTrip(pair, inner, buffer);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++) sink += RoundTrip(pair, inner, buffer);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(2050L * 1400, sink);

        static int RoundTrip(SaPair pair, byte[] inner, byte[] buffer)
        {
            pair.Out.Seal(inner, buffer, out var written);
            return pair.In.TryOpen(buffer.AsSpan(0, written), out var opened, out _) ? opened.Length : -1;
        }
    }

    private static readonly Gen<CipherSuite> AnySuite = Gen.Elements(Suites.All);

    [Property(MaxTest = 200)]
    public Property EspSa_must_round_trip_random_inner_packets_under_random_suites() =>
        Prop.ForAll(
            Arb.From(AnySuite),
            Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))),
            Arb.From(Gen.Elements(false, true)),
            (suite, inner, esn) =>
            {
                using var pair = new SaPair(suite, esn, seed: (ulong)inner.Length);
                var packet = pair.Seal(inner);
                var ok = pair.In.TryOpen(packet, out var opened, out _);
                return ok && opened.Slice(packet).SequenceEqual(inner) && opened.Sequence == 1 && opened.NextHeader == 4;
            });

    [Property(MaxTest = 300)]
    public bool EspInboundSa_must_never_throw_on_arbitrary_bytes(byte[] bytes, bool esn, byte suiteChoice)
    {
        bytes ??= [];
        using var pair = new SaPair(Suites.All[suiteChoice % Suites.All.Length], esn);
        // Give the garbage this SA's SPI half the time, so it reaches the replay window and the cipher.
        if (bytes.Length >= 4 && (suiteChoice & 1) == 0) BinaryPrimitives.WriteUInt32BigEndian(bytes, SaPair.Spi);
        var ok = pair.In.TryOpen(bytes, out _, out var reason);
        return !ok && reason != EspDropReason.None && pair.In.Counters.TotalDrops == 1;
    }
}
