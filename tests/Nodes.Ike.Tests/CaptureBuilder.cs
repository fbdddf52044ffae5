using Nodes.Capture;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.Wire.Ip;
using Nodes.Wire.NatT;

namespace Nodes.Ike.Tests;

/// <summary>
/// Turns what an <see cref="IkePair"/> put on the wire into a pcapng of whole IPv4/UDP datagrams (as seen between the
/// NAT and the gateway), adds ESP-in-UDP pings sealed with the negotiated Child SA keys, and writes the Wireshark
/// key files for all of it.
/// </summary>
public sealed class CaptureBuilder : IDisposable
{
    public static readonly Ipv4Address Client = Ipv4Address.Parse("192.168.29.55");
    public static readonly Ipv4Address Vm = Ipv4Address.Parse("10.0.10.4");

    private readonly PcapngWriter _writer;
    private readonly int _link;
    private readonly WiresharkKeys _keys = new();
    private readonly string _directory;
    private ushort _ipId = 1;

    public CaptureBuilder(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        CapturePath = Path.Combine(directory, "internet.pcapng");
        _writer = new PcapngWriter(File.Create(CapturePath));
        _link = _writer.AddInterface("isp-router:wan -- azure-gw:eth0", "the internet between the home NAT and Azure");
    }

    public string CapturePath { get; }
    public string KeysDirectory => _directory;
    public int EspPackets { get; private set; }

    public void AddIke(IkePair pair)
    {
        foreach (var w in pair.Wire) AddUdp(w.At, w.From, w.To, w.Keepalive ? [0xff] : w.Marker ? WithMarker(w.Payload) : w.Payload);
        AddIkeKeys(pair.Initiator);
    }

    /// <summary>
    /// Adds the current keys of an IKE SA to ikev2_decryption_table, copied, so that they outlive an IKE SA rekey
    /// (call it before and after one: each generation of the IKE SA is one line).
    /// </summary>
    public void AddIkeKeys(IkeSa sa)
    {
        if (sa.ExportKeysForCapture() is not { } k) return;
        if (_keys.IkeSas.Any(e => e.InitiatorSpi == sa.InitiatorSpi && e.ResponderSpi == sa.ResponderSpi)) return;
        static SecretKey Copy(SecretKey key) => new(key.Expose());
        _keys.Add(new IkeSaKeyEntry(sa.InitiatorSpi, sa.ResponderSpi, k.Suite.Cipher, Copy(k.Keys.SkEi), Copy(k.Keys.SkEr),
            k.Keys.SkAi is { } ai ? Copy(ai) : null, k.Keys.SkAr is { } ar ? Copy(ar) : null));
    }

    private static byte[] WithMarker(byte[] ike)
    {
        var b = new byte[ike.Length + UdpEncapsulation.NonEspMarkerLength];
        UdpEncapsulation.WriteIke(b, ike);
        return b;
    }

    /// <summary>A ping from the client to the VM and its reply, through the tunnel as ESP in UDP 4500.</summary>
    public void AddPing(IkePair pair, ushort sequence, DateTimeOffset at)
    {
        var i = pair.Initiator.ChildSas.Single();
        var r = pair.Responder!.ChildSas.Single();
        var random = new SeededRandomSource(sequence, "capture-iv");
        using var iOut = new EspOutboundSa(i.OutboundSpi, i.Suite.Cipher, i.OutboundEncryptionKey, i.OutboundIntegrityKey, i.Suite.Esn, random);
        using var rOut = new EspOutboundSa(r.OutboundSpi, r.Suite.Cipher, r.OutboundEncryptionKey, r.OutboundIntegrityKey, r.Suite.Esn, random);
        var data = Enumerable.Range(0, 32).Select(x => (byte)x).ToArray();
        var request = new byte[Ipv4PacketWriter.IcmpDatagramLength(data.Length)];
        Ipv4PacketWriter.WriteIcmpEcho(request, new Ipv4Template(Client, Vm, (ushort)(0x100 + sequence), 127), reply: false, 0x1234, sequence, data);
        var reply = new byte[request.Length];
        Ipv4PacketWriter.WriteIcmpEcho(reply, new Ipv4Template(Vm, Client, (ushort)(0x200 + sequence), 64), reply: true, 0x1234, sequence, data);
        // Outer endpoints as the internet sees them: the NAT's public address and Azure's.
        var rrasOutside = pair.Responder.Remote;
        var azure = pair.Responder.Local;
        AddEsp(iOut, request, at, rrasOutside, azure);
        AddEsp(rOut, reply, at + TimeSpan.FromMilliseconds(20), azure, rrasOutside);
        if (EspPackets == 2)
        {
            _keys.Add(new EspSaKeyEntry(rrasOutside.Address.ToString(), azure.Address.ToString(), i.OutboundSpi, i.Suite.Cipher, i.OutboundEncryptionKey, i.OutboundIntegrityKey));
            _keys.Add(new EspSaKeyEntry(azure.Address.ToString(), rrasOutside.Address.ToString(), r.OutboundSpi, r.Suite.Cipher, r.OutboundEncryptionKey, r.OutboundIntegrityKey));
        }
    }

    private void AddEsp(EspOutboundSa sa, byte[] inner, DateTimeOffset at, Ipv4Endpoint from, Ipv4Endpoint to)
    {
        var esp = new byte[sa.SealedLength(inner.Length)];
        if (sa.Seal(inner, esp, out var written) != EspSealStatus.Sealed) throw new InvalidOperationException("seal failed");
        AddUdp(at, from, to, esp.AsSpan(0, written), UdpChecksumMode.Zero);
        EspPackets++;
    }

    public void AddUdp(DateTimeOffset at, Ipv4Endpoint from, Ipv4Endpoint to, ReadOnlySpan<byte> payload, UdpChecksumMode checksum = UdpChecksumMode.Compute)
    {
        var datagram = new byte[Ipv4PacketWriter.UdpDatagramLength(payload.Length)];
        Ipv4PacketWriter.WriteUdp(datagram, new Ipv4Template(from.Address, to.Address, _ipId++, 64), from.Port, to.Port, payload, checksum);
        _writer.WritePacket(_link, at, datagram);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _keys.WriteTo(_directory);
    }
}
