using System.Buffers.Binary;
using System.Net;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Actors.Nodes;

/// <summary>
/// An attacker on the path between two gateways, as a link sees it: it reads every frame the link carries and answers
/// IKE_SA_INIT requests before the real responder can, since it is closer. Two behaviours:
/// <list type="bullet">
/// <item>Man in the middle without the shared key (<see cref="ManInTheMiddle"/>): it answers the initiator's
/// IKE_SA_INIT itself, with its own key exchange and nonce, so the initiator derives keys with it and goes on to
/// IKE_AUTH; it answers that IKE_AUTH too, under those keys, with its own IDr, SA and traffic selectors and an AUTH
/// made with a shared key it can only guess. The initiator must find that AUTH wrong and never install a Child SA.</item>
/// <item>Forged refusal (<see cref="ForgedInitError"/>): it answers the initiator's IKE_SA_INIT with an unprotected
/// NO_PROPOSAL_CHOSEN or INVALID_SYNTAX, which the initiator must record and outlive (RFC 7296 section 2.21.1).</item>
/// </list>
/// Why on a link rather than in a gateway: an attacker needs no help from either device to see an IKE_SA_INIT go by;
/// on the link its answers cross the NAT back as the peer's would (the mapping the request made lets them in), the real
/// responder's answer still arrives and loses the race, and neither gateway carries a hook that real devices lack.
/// The requests themselves pass on unchanged. Pure: no actors, randomness is an input. Not thread-safe; one owner.
/// </summary>
public sealed class PathAdversary : IDisposable
{
    private readonly IRandomSource _random;
    private readonly NotifyType? _refusal;
    private int _left;
    // Each hijacked SA by the initiator's SPI: what the adversary agreed with the initiator, and its answers so far.
    private readonly Dictionary<ulong, Session> _sessions = [];
    private ushort _ipId = 0x6600;

    private PathAdversary(IRandomSource random, NotifyType? refusal, int count)
    {
        _random = random;
        _refusal = refusal;
        _left = count;
    }

    /// <summary>An adversary that hijacks the next <paramref name="count"/> IKE_SA_INIT exchanges it sees.</summary>
    public static PathAdversary ManInTheMiddle(IRandomSource random, int count) => new(random, null, count);

    /// <summary>An adversary that answers the next <paramref name="count"/> IKE_SA_INIT requests with an unprotected <paramref name="notify"/>.</summary>
    public static PathAdversary ForgedInitError(IRandomSource random, NotifyType notify, int count) => new(random, notify, count);

    /// <summary>Forged answers sent so far.</summary>
    public int Answers { get; private set; }

    /// <summary>Hijacked exchanges whose IKE_AUTH the adversary answered.</summary>
    public int AuthAnswers { get; private set; }

    /// <summary>True when it has nothing left to do: every answer given, every hijacked IKE_AUTH answered.</summary>
    public bool Done => _left == 0 && _sessions.Values.All(s => s.AuthResponse is not null);

    /// <summary>
    /// Looks at one IPv4 datagram on the link and returns what the adversary sends back toward its sender at once
    /// (whole IPv4 datagrams, claiming to come from the datagram's destination). Empty for anything it lets be.
    /// </summary>
    public IReadOnlyList<byte[]> Observe(ReadOnlySpan<byte> datagram)
    {
        if (!Ipv4Header.TryParse(datagram, out var ip, out _, out var payload, out _) || ip.Protocol != IpProtocol.Udp || ip.IsFragment) return [];
        if (!UdpHeader.TryParse(payload, out var udp, out var udpPayload, out _)) return [];
        var marker = udp.DestinationPort == UdpPorts.IkeNatTraversal;
        if (!marker && udp.DestinationPort != UdpPorts.Ike) return [];
        // RFC 3948 section 2.2: IKE on 4500 follows four zero bytes (the non-ESP marker); anything else there is ESP.
        if (marker && (udpPayload.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(udpPayload) != 0)) return [];
        var message = (marker ? udpPayload[4..] : udpPayload).ToArray();
        if (!IkeHeader.TryParse(message, out var header, out _) || header.IsResponse) return [];
        var from = new Ipv4Endpoint(ip.Source, udp.SourcePort);
        var to = new Ipv4Endpoint(ip.Destination, udp.DestinationPort);
        byte[]? answer = header.Exchange switch
        {
            ExchangeType.IkeSaInit when header.ResponderSpi == 0 => AnswerInit(header, message, from, to),
            ExchangeType.IkeAuth when _sessions.TryGetValue(header.InitiatorSpi, out var s) && s.ResponderSpi == header.ResponderSpi => AnswerAuth(s, header, message, to),
            _ => null,
        };
        if (answer is null) return [];
        Answers++;
        return [Datagram(to, from, answer, marker)];
    }

    private byte[]? AnswerInit(IkeHeader header, byte[] message, Ipv4Endpoint from, Ipv4Endpoint to)
    {
        // A retransmission of a request already answered gets the same answer (a real responder would do the same).
        if (_sessions.TryGetValue(header.InitiatorSpi, out var known)) return known.InitResponse;
        if (_left == 0) return null;
        if (_refusal is { } notify)
        {
            _left--;
            return new IkeMessage(header.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0, new IkePayload[] { NotifyPayload.Status(notify) }).ToArray();
        }
        if (!IkeMessage.TryParse(message, out var request, out _)) return null;
        var ke = request!.PayloadsOf<KeyExchangePayload>().FirstOrDefault();
        var ni = request.PayloadsOf<NoncePayload>().FirstOrDefault();
        var sa = request.PayloadsOf<SecurityAssociationPayload>().FirstOrDefault();
        if (ke is null || ni is null || sa is null || !KeyExchange.IsSupported((DhGroup)ke.Group)) return null;
        // Whatever the initiator offers with the group it guessed: the adversary accepts it all, as long as it gets in.
        var wire = sa.Proposals.Where(p => p.Protocol == IkeProtocolId.Ike).ToList();
        var offered = wire.Select(ProposalWire.FromWire).ToList();
        var acceptable = offered.Where(p => p.Groups.Contains((DhGroup)ke.Group)).Select(p => p with { Groups = [(DhGroup)ke.Group] }).ToList();
        if (ProposalSelection.SelectIke(offered, acceptable) is not { } choice) return null;
        using var exchange = KeyExchange.Create((DhGroup)ke.Group, _random);
        if (!exchange.TryDeriveSharedSecret(ke.Data.Span, out var shared)) return null;
        _left--;
        var spiR = Spi64();
        var nr = new byte[32];
        _random.Fill(nr);
        var suite = choice.Suite;
        var payloads = new List<IkePayload>
        {
            ProposalWire.Chosen(suite, wire[choice.ProposalIndex].Number, default),
            new KeyExchangePayload(ke.Group, OctetString.Copy(exchange.PublicKey)),
            new NoncePayload(OctetString.Copy(nr)),
            // RFC 7296 section 2.23, as the real responder computes them: its own address and the source it saw.
            NotifyPayload.NatDetection(NotifyType.NatDetectionSourceIp, NatHash(header.InitiatorSpi, spiR, to)),
            NotifyPayload.NatDetection(NotifyType.NatDetectionDestinationIp, NatHash(header.InitiatorSpi, spiR, from)),
        };
        var response = new IkeMessage(header.InitiatorSpi, spiR, ExchangeType.IkeSaInit, IkeFlags.Response, 0, payloads).ToArray();
        IkeSaKeys keys;
        using (shared)
        using (var skeyseed = IkeKeySchedule.Skeyseed(suite.Prf, ni.Nonce.Span, nr, shared))
            keys = IkeKeySchedule.DeriveIkeSaKeys(suite.Prf, suite.Cipher, skeyseed, ni.Nonce.Span, nr, header.InitiatorSpi, spiR);
        _sessions[header.InitiatorSpi] = new Session(spiR, suite, new IkeCrypto(suite, keys, weAreOriginalInitiator: false, _random), ni.Nonce.Span.ToArray(), response);
        return response;
    }

    private byte[]? AnswerAuth(Session s, IkeHeader header, byte[] message, Ipv4Endpoint responder)
    {
        if (s.AuthResponse is not null) return s.AuthResponse;
        // Opened in place: the link's frame stays as it was (this is a copy).
        if (!s.Crypto.TryOpen(message, out var request, out _, out _)) return null;
        var idr = request.OfType<IdentificationPayload>().FirstOrDefault(p => p.PayloadType == IkePayloadType.IdentificationResponder)
            ?? IdentificationPayload.Address(IkePayloadType.IdentificationResponder, new IPAddress(Octets(responder.Address)));
        // Without the shared key the adversary can only guess one: the AUTH below is well formed, and wrong.
        var guess = new byte[16];
        _random.Fill(guess);
        var auth = IkeKeySchedule.PskAuthentication(s.Suite.Prf, guess, s.InitResponse, s.Ni, s.Crypto.OwnSkP, idr.SignedOctets());
        var inner = new List<IkePayload> { idr, new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, OctetString.Copy(auth)) };
        var esp = request.OfType<SecurityAssociationPayload>().FirstOrDefault()?.Proposals.Where(p => p.Protocol == IkeProtocolId.Esp).ToList() ?? [];
        var offered = esp.Select(ProposalWire.FromWire).ToList();
        if (ProposalSelection.SelectEsp(offered, offered, keyExchangePresent: false) is { } child)
            inner.Add(ProposalWire.Chosen(child.Suite, esp[child.ProposalIndex].Number, Spi32()));
        inner.AddRange(request.OfType<TrafficSelectorPayload>());
        s.AuthResponse = s.Crypto.Seal(header.InitiatorSpi, s.ResponderSpi, ExchangeType.IkeAuth, IkeFlags.Response, header.MessageId, inner);
        AuthAnswers++;
        return s.AuthResponse;
    }

    private byte[] Datagram(Ipv4Endpoint from, Ipv4Endpoint to, byte[] ike, bool marker)
    {
        var payload = marker ? new byte[4 + ike.Length] : ike;
        if (marker) ike.CopyTo(payload, 4);
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from.Address, to.Address, _ipId++, 64), from.Port, to.Port, payload, UdpChecksumMode.Compute);
        return datagram;
    }

    private static byte[] NatHash(ulong spiI, ulong spiR, Ipv4Endpoint endpoint)
    {
        var hash = new byte[20];
        IkeKeySchedule.NatDetectionHash(spiI, spiR, Octets(endpoint.Address), endpoint.Port, hash);
        return hash;
    }

    private static byte[] Octets(Ipv4Address address)
    {
        var b = new byte[4];
        address.Write(b);
        return b;
    }

    private ulong Spi64()
    {
        Span<byte> b = stackalloc byte[8];
        _random.Fill(b);
        return BinaryPrimitives.ReadUInt64BigEndian(b) | 1;
    }

    private uint Spi32()
    {
        Span<byte> b = stackalloc byte[4];
        _random.Fill(b);
        return BinaryPrimitives.ReadUInt32BigEndian(b) | 0x100; // RFC 4303 section 2.1: never 0-255
    }

    public void Dispose()
    {
        foreach (var s in _sessions.Values) s.Crypto.Dispose();
        _sessions.Clear();
    }

    private sealed class Session(ulong responderSpi, IkeSuite suite, IkeCrypto crypto, byte[] ni, byte[] initResponse)
    {
        public ulong ResponderSpi { get; } = responderSpi;
        public IkeSuite Suite { get; } = suite;
        public IkeCrypto Crypto { get; } = crypto;
        public byte[] Ni { get; } = ni;
        public byte[] InitResponse { get; } = initResponse;
        public byte[]? AuthResponse { get; set; }
    }
}
