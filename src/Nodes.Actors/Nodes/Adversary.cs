using System.Buffers.Binary;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;

namespace Nodes.Actors.Nodes;

/// <summary>
/// The packets of an attacker on the internet, as real bytes: IKE_SA_INIT requests with a forged source (one key
/// exchange made once and reused, as a flooder does, with a fresh SPI and nonce per request) and cleartext ICMP echo
/// requests with any addresses. Pure: randomness is an input. Not thread-safe; one owner.
/// </summary>
public sealed class Adversary(IRandomSource random)
{
    private IkeMessage? _template;

    /// <summary>
    /// An IKE_SA_INIT from <paramref name="from"/>:500 to <paramref name="to"/>:500 that <paramref name="config"/>'s
    /// proposals make acceptable to the gateway, as a whole IPv4 datagram.
    /// </summary>
    public byte[] IkeSaInit(IkeSaConfig config, Ipv4Address from, Ipv4Address to)
    {
        if (_template is null)
        {
            using var sa = IkeSa.CreateInitiator(config with { Name = "adversary" }, new IkeEnvironment(random), new Ipv4Endpoint(from, 500), new Ipv4Endpoint(to, 500));
            sa.Start(DateTimeOffset.UnixEpoch);
            var bytes = sa.TakeOutputs().OfType<IkeSend>().First().Message;
            IkeMessage.TryParse(bytes, out _template, out _);
        }
        Span<byte> spi = stackalloc byte[8];
        random.Fill(spi);
        var nonce = new byte[32];
        random.Fill(nonce);
        var payloads = _template!.Payloads.Select(p => p is NoncePayload ? new NoncePayload(OctetString.Copy(nonce)) : p).ToArray();
        var ike = new IkeMessage(BinaryPrimitives.ReadUInt64BigEndian(spi) | 1, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, payloads).ToArray();
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(ike.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from, to, NextId(), 64), 500, 500, ike, UdpChecksumMode.Compute);
        return datagram;
    }

    /// <summary>An ICMP echo request from <paramref name="source"/> to <paramref name="destination"/>, in clear.</summary>
    public byte[] Echo(Ipv4Address source, Ipv4Address destination, ushort sequence)
    {
        var packet = new byte[Ipv4Header.MinLength + 8 + 32];
        var n = Ipv4PacketWriter.WriteIcmpEcho(packet, new Ipv4Template(source, destination, NextId(), 64), reply: false, 0x6666, sequence, new byte[32]);
        return packet[..n];
    }

    private ushort NextId()
    {
        Span<byte> b = stackalloc byte[2];
        random.Fill(b);
        return BinaryPrimitives.ReadUInt16BigEndian(b);
    }
}
