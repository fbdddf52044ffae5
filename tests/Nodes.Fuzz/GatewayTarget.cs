using Nodes.Crypto;
using Nodes.Gateway;
using Nodes.Ike;
using Nodes.TestKit;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Nodes.Wire.Udp;

namespace Nodes.Fuzz;

/// <summary>
/// The gateway-engine target: the seed lab's two gateway engines (RRAS behind the ISP's NAT, the Azure gateway) with
/// the tunnel up, then a sequence of frames from the input. Most frames are sealed with the keys of the established
/// SAs before they are delivered, so that what lies behind authentication is fuzzed: the IKE state machines of an
/// authenticated peer (INFORMATIONAL and CREATE_CHILD_SA requests and responses in both directions), and the ESP
/// inbound path with its selectors and the inner packet's forwarding. The others are bytes from anyone: on Azure's
/// internet interface, from the VNet and from the client's LAN.
/// <para>
/// Frame tag: bits 0-2 the kind (<see cref="Kind"/>), bits 3-7 the seconds to let pass after the frame (timers fire:
/// retransmissions, DPD, rekeys, expiries). Two invariants are checked besides "returns": a frame nobody holding
/// keys could send never brings a datagram into the VNet, and never changes the Azure tunnel's current IKE SA.
/// </para>
/// </summary>
public static class GatewayTarget
{
    /// <summary>What a frame is.</summary>
    private enum Kind
    {
        /// <summary>An IKE request from RRAS's IKE SA to Azure: byte 0 bit 0 CREATE_CHILD_SA (else INFORMATIONAL), byte 1 the first inner payload type, the rest the inner payload chain; sealed, next message ID.</summary>
        IkeRequestToAzure,
        /// <summary>The same as a response (message ID in byte 0's upper bits): answers to requests Azure may or may not have sent.</summary>
        IkeResponseToAzure,
        /// <summary>An inner IPv4 datagram sealed by RRAS's outbound Child SA, in UDP 4500 to Azure.</summary>
        EspToAzure,
        /// <summary>A raw datagram on Azure's internet interface (header checksum fixed).</summary>
        RawToAzure,
        /// <summary>A raw datagram from the VNet into the Azure gateway (header checksum fixed).</summary>
        FromVnet,
        /// <summary>A raw datagram from the client's LAN into RRAS (header checksum fixed).</summary>
        FromClient,
        /// <summary>A UDP 4500 payload from RRAS's NAT mapping to Azure, unsealed (markers, keepalives, forged ESP).</summary>
        Udp4500ToAzure,
        /// <summary>An IKE request from Azure's IKE SA to RRAS through the NAT, built like <see cref="IkeRequestToAzure"/>.</summary>
        IkeRequestToRras,
    }

    /// <summary>What one input did: requests answered on each side, datagrams out of each gateway, Azure's drops by reason.</summary>
    public sealed record Outcome(int AnsweredByAzure, int AnsweredByRras, int IntoVnet, int ToClient, IReadOnlyDictionary<string, int> AzureDrops);

    public static void Run(byte[] input) => Play(input);

    public static Outcome Play(byte[] input)
    {
        using var lab = new GatewayLab(seed: 29);
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        lab.Run(TimeSpan.FromMilliseconds(100));
        var rrasSa = lab.Rras.Tunnels.Single().CurrentSa;
        var azureTunnel = lab.Azure.Tunnels.Single();
        if (rrasSa is not { State: IkeSaState.Established } || azureTunnel.CurrentSa is not { } azureSa || lab.ToVnet.Count != 1)
            throw new InvalidOperationException("the seed lab's tunnel did not come up: the target tests nothing");
        using var peer = new PeerKeys(rrasSa);
        var nat = azureSa.Remote; // RRAS's NAT mapping, as Azure sees it
        var azure = new Ipv4Endpoint(GatewayLab.AzurePublic, UdpPorts.IkeNatTraversal);
        uint toAzure = 2, toRras = 0;
        int vnetBefore = lab.ToVnet.Count, homeBefore = lab.ToHomeLan.Count;
        ushort ident = 1;

        foreach (var (tag, bytes) in Frames.Split(input))
        {
            var spis = (azureTunnel.CurrentSa?.InitiatorSpi, azureTunnel.CurrentSa?.ResponderSpi);
            var delivered = lab.ToVnet.Count;
            var watched = lab.OnInternet.Count;
            var unauthenticated = false;
            switch ((Kind)(tag & 7))
            {
                case Kind.IkeRequestToAzure when bytes.Length >= 2:
                    lab.AtAzureFromInternet(Udp(nat, azure, Marked(peer.Seal(fromInitiator: true, Exchange(bytes[0]), response: false, toAzure, bytes)), ident++));
                    lab.Run();
                    if (Answered(lab, watched, toAzure, toRras: true)) toAzure++;
                    break;
                case Kind.IkeResponseToAzure when bytes.Length >= 2:
                    lab.AtAzureFromInternet(Udp(nat, azure, Marked(peer.Seal(fromInitiator: true, Exchange(bytes[0]), response: true, (uint)(bytes[0] >> 1), bytes)), ident++));
                    break;
                case Kind.EspToAzure:
                    // RRAS's current outbound SA: the one the input began with may have been rekeyed or deleted since.
                    if (lab.Rras.ChildrenOf(lab.Rras.Tunnels.Single()).FirstOrDefault(c => c.OutboundActive) is { } child
                        && child.Seal(bytes, out var esp) == Esp.EspSealStatus.Sealed)
                        lab.AtAzureFromInternet(Udp(nat, azure, esp, ident++));
                    break;
                case Kind.RawToAzure:
                    Frames.FixIpv4Checksum(bytes);
                    lab.AtAzureFromInternet(bytes);
                    unauthenticated = true;
                    break;
                case Kind.FromVnet:
                    Frames.FixIpv4Checksum(bytes);
                    lab.FromVnet(bytes);
                    break;
                case Kind.FromClient:
                    Frames.FixIpv4Checksum(bytes);
                    lab.FromClient(bytes);
                    break;
                case Kind.Udp4500ToAzure:
                    lab.AtAzureFromInternet(Udp(nat, azure, bytes, ident++));
                    unauthenticated = true;
                    break;
                case Kind.IkeRequestToRras when bytes.Length >= 2:
                    lab.AtRrasFromInternet(Udp(azure, nat, Marked(peer.Seal(fromInitiator: false, Exchange(bytes[0]), response: false, toRras, bytes)), ident++));
                    lab.Run();
                    if (Answered(lab, watched, toRras, toRras: false)) toRras++;
                    break;
            }
            lab.Run();
            if (unauthenticated && lab.ToVnet.Count != delivered)
                throw new InvalidOperationException($"a frame without keys ({(Kind)(tag & 7)}) brought a datagram into the VNet");
            if (unauthenticated && (azureTunnel.CurrentSa?.InitiatorSpi, azureTunnel.CurrentSa?.ResponderSpi) != spis)
                throw new InvalidOperationException($"a frame without keys ({(Kind)(tag & 7)}) changed the tunnel's IKE SA");
            lab.Run(TimeSpan.FromSeconds(tag >> 3));
        }
        return new Outcome((int)toAzure - 2, (int)toRras, lab.ToVnet.Count - vnetBefore, lab.ToHomeLan.Count - homeBefore, new Dictionary<string, int>(lab.AzurePort.Drops));
    }

    private static ExchangeType Exchange(byte b) => (b & 1) == 0 ? ExchangeType.Informational : ExchangeType.CreateChildSa;

    /// <summary>True when an IKE response with <paramref name="messageId"/> left the gateway the request went to since <paramref name="from"/>.</summary>
    private static bool Answered(GatewayLab lab, int from, uint messageId, bool toRras)
    {
        foreach (var d in lab.OnInternet.Skip(from))
        {
            if (!Ipv4Header.TryParse(d, out var h, out _) || h.Protocol != IpProtocol.Udp) continue;
            if ((h.Destination == GatewayLab.HomePublic) != toRras) continue;
            var ike = d.AsSpan(Ipv4PacketWriter.UdpPayloadOffset);
            if (ike.Length < 4 + IkeHeader.Size || ike[0] != 0 || ike[1] != 0 || ike[2] != 0 || ike[3] != 0) continue;
            if (IkeHeader.TryParse(ike[4..], out var header, out _) && header.IsResponse && header.MessageId == messageId) return true;
        }
        return false;
    }

    private static byte[] Marked(byte[] ike)
    {
        var marked = new byte[4 + ike.Length];
        ike.CopyTo(marked, 4);
        return marked;
    }

    /// <summary>The payload in IPv4 and UDP; a payload too long for one datagram (a frame near 64 KiB, sealed) is cut to fit.</summary>
    private static byte[] Udp(Ipv4Endpoint from, Ipv4Endpoint to, ReadOnlySpan<byte> payload, ushort ident)
    {
        payload = payload[..Math.Min(payload.Length, ushort.MaxValue - Ipv4PacketWriter.UdpPayloadOffset)];
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from.Address, to.Address, ident, 64), from.Port, to.Port, payload);
        return datagram;
    }

    /// <summary>Both directions' SK keys of the established IKE SA, copied: the lab may close the SA and dispose its own.</summary>
    private sealed class PeerKeys : IDisposable
    {
        private readonly CipherSuite _cipher;
        private readonly PayloadProtection _initiator;
        private readonly PayloadProtection _responder;
        private readonly ulong _spiI;
        private readonly ulong _spiR;

        public PeerKeys(IkeSa sa)
        {
            var (suite, keys) = sa.ExportKeysForCapture() ?? throw new InvalidOperationException("an established IKE SA has keys");
            _cipher = suite.Cipher;
            _initiator = _cipher.CreateProtection(Copy(keys.SkEi)!, Copy(keys.SkAi));
            _responder = _cipher.CreateProtection(Copy(keys.SkEr)!, Copy(keys.SkAr));
            _spiI = sa.InitiatorSpi;
            _spiR = sa.ResponderSpi;
        }

        private static SecretKey? Copy(SecretKey? key) => key is null ? null : new SecretKey(key.Expose());

        /// <summary>An SK message around <paramref name="frame"/>[2..] with first inner payload <paramref name="frame"/>[1], authentic whatever it holds.</summary>
        public byte[] Seal(bool fromInitiator, ExchangeType exchange, bool response, uint messageId, byte[] frame)
        {
            var inner = frame.AsSpan(2);
            var flags = (fromInitiator ? IkeFlags.Initiator : 0) | (response ? IkeFlags.Response : 0);
            var buffer = new byte[SkMessage.SealedLength(inner.Length, _cipher.IvLength, _cipher.BlockSize, _cipher.IcvLength)];
            if (!SkMessage.TryLayout(_spiI, _spiR, exchange, flags, messageId, (IkePayloadType)frame[1], inner,
                    _cipher.IvLength, _cipher.BlockSize, _cipher.IcvLength, buffer, out var s, out var written, out _))
                return [];
            (fromInitiator ? _initiator : _responder).Seal(s.Aad, s.Iv, s.Body, s.Icv);
            return buffer.AsSpan(0, written).ToArray();
        }

        public void Dispose()
        {
            _initiator.Dispose();
            _responder.Dispose();
        }
    }
}
