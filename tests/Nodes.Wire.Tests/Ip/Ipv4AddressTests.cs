using FsCheck.Xunit;
using Nodes.Wire.Ip;

namespace Nodes.Wire.Tests.Ip;

public class Ipv4AddressTests
{
    [Theory]
    [InlineData("0.0.0.0", 0x00000000u)]
    [InlineData("10.0.10.4", 0x0A000A04u)]
    [InlineData("192.168.29.55", 0xC0A81D37u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    public void TryParse_must_read_a_dotted_quad(string text, uint value)
    {
        Assert.True(Ipv4Address.TryParse(text, out var address));
        Assert.Equal(value, address.Value);
        Assert.Equal(text, address.ToString());
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("three octets", "10.0.10")]
    [InlineData("five octets", "10.0.10.4.1")]
    [InlineData("octet above 255", "10.0.10.256")]
    [InlineData("leading zero", "10.0.010.4")]
    [InlineData("trailing dot", "10.0.10.4.")]
    [InlineData("empty octet", "10..10.4")]
    [InlineData("sign", "+10.0.10.4")]
    [InlineData("whitespace", " 10.0.10.4")]
    [InlineData("four digits", "10.0.1000.4")]
    [InlineData("hex", "0x0a.0.10.4")]
    [InlineData("letters", "a.b.c.d")]
    public void TryParse_must_refuse_malformed_text(string description, string text)
    {
        Assert.False(Ipv4Address.TryParse(text, out var address), description);
        Assert.Equal(default, address);
    }

    [Fact]
    public void Read_and_Write_must_use_network_byte_order()
    {
        var bytes = new byte[] { 0xC0, 0xA8, 0x1D, 0x37 };
        var address = Ipv4Address.Read(bytes);
        Assert.Equal(Ipv4Address.FromOctets(192, 168, 29, 55), address);
        var written = new byte[4];
        address.Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void TryFormat_must_refuse_a_short_buffer()
    {
        Span<char> small = stackalloc char[10];
        Assert.False(Ipv4Address.Parse("192.168.29.55").TryFormat(small, out var written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void Comparison_must_follow_address_order()
    {
        Assert.True(Ipv4Address.Parse("10.0.10.4") < Ipv4Address.Parse("10.0.10.5"));
        Assert.True(Ipv4Address.Parse("9.255.255.255") < Ipv4Address.Parse("10.0.0.0"));
    }

    [Property]
    public bool ToString_then_TryParse_must_round_trip(uint value) =>
        Ipv4Address.TryParse(new Ipv4Address(value).ToString(), out var parsed) && parsed.Value == value;

    [Property]
    public bool Write_then_Read_must_round_trip(uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        new Ipv4Address(value).Write(buffer);
        return Ipv4Address.Read(buffer).Value == value;
    }
}
