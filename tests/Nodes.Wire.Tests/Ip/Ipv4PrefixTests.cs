using FsCheck.Xunit;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tests.Ip;

public class Ipv4PrefixTests
{
    [Theory]
    [InlineData("10.0.10.0/24", "10.0.10.0", 24, "255.255.255.0")]
    [InlineData("10.0.10.7/24", "10.0.10.0", 24, "255.255.255.0")]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0, "0.0.0.0")]
    [InlineData("192.168.29.55/32", "192.168.29.55", 32, "255.255.255.255")]
    [InlineData("172.16.0.0/12", "172.16.0.0", 12, "255.240.0.0")]
    public void TryParse_must_yield_the_canonical_network(string text, string network, int length, string netmask)
    {
        Assert.True(Ipv4Prefix.TryParse(text, out var prefix));
        Assert.Equal(Ipv4Address.Parse(network), prefix.Network);
        Assert.Equal(length, prefix.Length);
        Assert.Equal(Ipv4Address.Parse(netmask), prefix.Netmask);
        Assert.Equal($"{network}/{length}", prefix.ToString());
    }

    [Theory]
    [InlineData("no slash", "10.0.10.0")]
    [InlineData("length above 32", "10.0.10.0/33")]
    [InlineData("empty length", "10.0.10.0/")]
    [InlineData("leading zero length", "10.0.10.0/08")]
    [InlineData("negative length", "10.0.10.0/-1")]
    [InlineData("bad address", "10.0.10/24")]
    [InlineData("three digit length", "10.0.10.0/024")]
    [InlineData("trailing space", "10.0.10.0/24 ")]
    public void TryParse_must_refuse_malformed_text(string description, string text)
    {
        Assert.False(Ipv4Prefix.TryParse(text, out _), description);
    }

    [Fact]
    public void TryParseExact_must_refuse_host_bits()
    {
        Assert.True(Ipv4Prefix.TryParseExact("10.0.10.0/24", out _));
        Assert.False(Ipv4Prefix.TryParseExact("10.0.10.7/24", out var prefix));
        Assert.Equal(default, prefix);
    }

    [Theory]
    [InlineData("10.0.10.0/24", "10.0.10.4", true)]
    [InlineData("10.0.10.0/24", "10.0.10.255", true)]
    [InlineData("10.0.10.0/24", "10.0.11.0", false)]
    [InlineData("10.0.10.0/24", "10.0.9.255", false)]
    [InlineData("0.0.0.0/0", "203.0.113.10", true)]
    [InlineData("192.168.29.55/32", "192.168.29.55", true)]
    [InlineData("192.168.29.55/32", "192.168.29.56", false)]
    public void Contains_must_test_membership(string prefix, string address, bool expected)
    {
        Assert.Equal(expected, Ipv4Prefix.Parse(prefix).Contains(Ipv4Address.Parse(address)));
    }

    [Fact]
    public void Contains_must_accept_only_narrower_or_equal_blocks()
    {
        var vnet = Ipv4Prefix.Parse("10.0.0.0/16");
        Assert.True(vnet.Contains(Ipv4Prefix.Parse("10.0.10.0/24")));
        Assert.True(vnet.Contains(vnet));
        Assert.False(vnet.Contains(Ipv4Prefix.Parse("10.0.0.0/8")));
        Assert.False(vnet.Contains(Ipv4Prefix.Parse("10.1.0.0/24")));
    }

    [Fact]
    public void Constructor_must_refuse_a_length_outside_0_to_32()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Prefix(Ipv4Address.Any, 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Prefix(Ipv4Address.Any, -1));
    }

    [Fact]
    public void Equal_blocks_written_differently_must_be_equal()
    {
        Assert.Equal(Ipv4Prefix.Parse("10.0.10.0/24"), Ipv4Prefix.Parse("10.0.10.99/24"));
        Assert.Equal(Ipv4Prefix.Parse("10.0.10.0/24").GetHashCode(), Ipv4Prefix.Parse("10.0.10.99/24").GetHashCode());
    }

    [Property]
    public bool Prefix_must_contain_its_first_and_last_address_and_round_trip(uint value, byte lengthSeed)
    {
        var prefix = new Ipv4Prefix(new Ipv4Address(value), lengthSeed % 33);
        return prefix.Contains(new Ipv4Address(value))
            && prefix.Contains(prefix.Network)
            && prefix.Contains(prefix.Last)
            && Ipv4Prefix.TryParseExact(prefix.ToString(), out var parsed)
            && parsed == prefix;
    }

    [Property]
    public bool Contains_must_agree_with_a_bitwise_reference(uint network, uint address, byte lengthSeed)
    {
        var length = lengthSeed % 33;
        var prefix = new Ipv4Prefix(new Ipv4Address(network), length);
        var expected = length == 0 || (network >> (32 - length)) == (address >> (32 - length));
        return prefix.Contains(new Ipv4Address(address)) == expected;
    }
}
