using FsCheck;
using FsCheck.Fluent;
using Nodes.Net.Fragmentation;
using Nodes.Wire.Ip;
using static Nodes.Net.Tests.Packets;

namespace Nodes.Net.Tests;

public class FragmentationTests
{
    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Fragments_must_reassemble_to_the_original_for_any_datagram_and_mtu()
    {
        var gen =
            from payload in Gen.Choose(0, 4000)
            from mtu in Gen.Choose(68, 1500)
            from seed in Gen.Choose(0, int.MaxValue)
            from withOptions in Gen.Elements(false, true)
            select (payload, mtu, seed, withOptions);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var original = Datagram(t.payload, t.seed, t.withOptions);
            Assert.True(Ipv4Fragmenter.TryFragment(original, t.mtu, out var fragments));
            var reassembler = new Ipv4Reassembler();
            ReassemblyResult result = default;

            // Deliver in a seeded shuffled order: reassembly must not depend on arrival order.
            var random = new DeterministicRandom((ulong)t.seed);
            foreach (var fragment in fragments.OrderBy(_ => random.NextUInt64()))
            {
                Assert.True(fragment.Length <= t.mtu);
                result = reassembler.Accept(fragment, TimeSpan.Zero);
            }

            return result.Status == ReassemblyStatus.Complete && result.Datagram!.AsSpan().SequenceEqual(original)
                && reassembler.PendingDatagrams == 0 && reassembler.PendingBytes == 0;
        });
    }

    [Fact]
    public void Fragmenter_must_copy_only_options_with_the_copied_flag_into_later_fragments()
    {
        var original = Datagram(200, 1, withOptions: true);
        Assert.True(Ipv4Fragmenter.TryFragment(original, 100, out var fragments));
        Assert.Equal(32, (fragments[0][0] & 0xF) * 4);
        Assert.All(fragments.Skip(1), f => Assert.Equal(24, (f[0] & 0xF) * 4));
        Assert.Equal(new byte[] { 0x82, 4, 0xAA, 0xBB }, fragments[1].AsSpan(20, 4).ToArray());
        Assert.All(fragments.SkipLast(1), f => Assert.Equal(0x20, f[6] & 0x20));
        Assert.Equal(0, fragments[^1][6] & 0x20);
    }

    [Fact]
    public void Reassembler_must_refuse_an_overlapping_fragment_and_discard_the_datagram()
    {
        var original = Packets.Udp("10.0.0.1", 1, "10.0.0.2", 2, payloadLength: 400);
        Ipv4Fragmenter.TryFragment(original, 200, out var fragments);
        var reassembler = new Ipv4Reassembler();
        Assert.Equal(ReassemblyStatus.Pending, reassembler.Accept(fragments[0], TimeSpan.Zero).Status);

        // Same offset as the first fragment, half its length, different bytes: an overlap.
        var overlapping = (byte[])fragments[1].Clone();
        overlapping[6] = 0x20;
        overlapping[7] = 0x02;
        RouterTests.RefreshChecksum(overlapping);
        var result = reassembler.Accept(overlapping, TimeSpan.Zero);
        Assert.Equal(DropReason.ReassemblyOverlap, result.Reason);
        Assert.Equal(0, reassembler.PendingDatagrams);
        Assert.Equal(0, reassembler.PendingBytes);
    }

    [Fact]
    public void Reassembler_must_drop_an_exact_duplicate_alone()
    {
        var original = Packets.Udp("10.0.0.1", 1, "10.0.0.2", 2, payloadLength: 400);
        Ipv4Fragmenter.TryFragment(original, 200, out var fragments);
        var reassembler = new Ipv4Reassembler();
        reassembler.Accept(fragments[0], TimeSpan.Zero);
        Assert.Equal(DropReason.ReassemblyDuplicate, reassembler.Accept(fragments[0], TimeSpan.Zero).Reason);
        reassembler.Accept(fragments[1], TimeSpan.Zero);
        Assert.Equal(original, reassembler.Accept(fragments[2], TimeSpan.Zero).Datagram);
    }

    [Fact]
    public void Reassembler_must_time_out_on_the_callers_clock()
    {
        var original = Packets.Udp("10.0.0.1", 1, "10.0.0.2", 2, payloadLength: 400);
        Ipv4Fragmenter.TryFragment(original, 200, out var fragments);
        var reassembler = new Ipv4Reassembler(new ReassemblyOptions { Timeout = TimeSpan.FromSeconds(30) });
        reassembler.Accept(fragments[0], TimeSpan.FromSeconds(1));
        Assert.Empty(reassembler.Expire(TimeSpan.FromSeconds(30.9)));
        var expired = Assert.Single(reassembler.Expire(TimeSpan.FromSeconds(31)));
        Assert.Equal(fragments[0], expired.FirstFragment);
        Assert.Equal(1, reassembler.Drops[DropReason.ReassemblyTimeout]);

        // Late fragments start a new, incomplete datagram.
        Assert.Equal(ReassemblyStatus.Pending, reassembler.Accept(fragments[1], TimeSpan.FromSeconds(32)).Status);
    }

    [Fact]
    public void Reassembler_must_bound_the_datagrams_it_holds()
    {
        var reassembler = new Ipv4Reassembler(new ReassemblyOptions { MaxDatagrams = 2 });
        for (ushort id = 1; id <= 3; id++)
        {
            Ipv4Fragmenter.TryFragment(Packets.Udp("10.0.0.1", 1, "10.0.0.2", 2, payloadLength: 400, id: id), 200, out var fragments);
            var result = reassembler.Accept(fragments[0], TimeSpan.Zero);
            Assert.Equal(id <= 2 ? ReassemblyStatus.Pending : ReassemblyStatus.Dropped, result.Status);
        }

        Assert.Equal(1, reassembler.Drops[DropReason.ReassemblyLimit]);
    }

    private static byte[] Datagram(int payloadLength, int seed, bool withOptions)
    {
        // Options: a copied option (type 0x82, length 4) and a non-copied one (type 0x07 record route, length 7) plus padding.
        byte[] options = withOptions ? [0x82, 4, 0xAA, 0xBB, 0x07, 7, 4, 0, 0, 0, 0, 0] : [];
        var total = 20 + options.Length + payloadLength;
        var bytes = new byte[total];
        new Ipv4Header
        {
            TotalLength = (ushort)total, Identification = (ushort)seed, TimeToLive = 64, Protocol = IpProtocol.Udp,
            Source = A("192.168.29.52"), Destination = A("52.172.171.0"), OptionsLength = options.Length,
        }.Encode(bytes, options);
        var random = new DeterministicRandom((ulong)seed);
        for (var i = 20 + options.Length; i < total; i++) bytes[i] = (byte)random.NextUInt64();
        return bytes;
    }
}
