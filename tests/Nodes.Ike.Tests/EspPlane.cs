using Nodes.Crypto;
using Nodes.Esp;

namespace Nodes.Ike.Tests;

/// <summary>
/// The ESP data plane of one side, driven only by what its IKE engine says: <see cref="ChildSaUp"/> creates the
/// inbound and outbound SAs from the negotiated keys, <see cref="ChildSaOutboundActive"/> moves sending to that SA,
/// <see cref="ChildSaDown"/> removes both. Packets are sealed and opened for real, so a wrong key, a wrong SPI or a
/// switch-over at the wrong moment shows up as a lost packet.
/// </summary>
public sealed class EspPlane(string name) : IDisposable
{
    private readonly Dictionary<uint, Entry> _byInbound = [];
    private readonly List<uint> _activeOrder = [];
    private readonly SeededRandomSource _random = new(7, name);
    private ulong _packetNumber;

    public string Name { get; } = name;
    public long Delivered { get; private set; }
    public long Lost { get; private set; }
    public List<string> Losses { get; } = [];

    /// <summary>Inbound SPIs of the Child SAs that exist now.</summary>
    public IReadOnlyCollection<uint> InboundSpis => _byInbound.Keys;

    /// <summary>The inbound SPI of the Child SA this side sends on now, or null.</summary>
    public uint? Sending => _activeOrder.Count == 0 ? null : _activeOrder[^1];

    /// <summary>Packets opened per inbound SPI.</summary>
    public long ReceivedOn(uint inboundSpi) => _byInbound.TryGetValue(inboundSpi, out var e) ? e.In.Counters.Packets : 0;

    private sealed class Entry(ChildSaInfo info, EspInboundSa @in, EspOutboundSa @out) : IDisposable
    {
        public ChildSaInfo Info { get; } = info;
        public EspInboundSa In { get; } = @in;
        public EspOutboundSa Out { get; } = @out;
        public long BytesOut { get; set; }
        public bool SoftSignalled { get; set; }

        public void Dispose()
        {
            In.Dispose();
            Out.Dispose();
        }
    }

    public void Follow(IkeOutput o)
    {
        switch (o)
        {
            case ChildSaUp up:
                var i = up.Sa;
                var inbound = new EspInboundSa(i.InboundSpi, i.Suite.Cipher, i.InboundEncryptionKey, i.InboundIntegrityKey, i.Suite.Esn, i.ReplayWindow);
                var outbound = new EspOutboundSa(i.OutboundSpi, i.Suite.Cipher, i.OutboundEncryptionKey, i.OutboundIntegrityKey, i.Suite.Esn, _random);
                _byInbound[i.InboundSpi] = new Entry(i, inbound, outbound);
                break;
            case ChildSaOutboundActive a:
                _activeOrder.Remove(a.InboundSpi);
                _activeOrder.Add(a.InboundSpi);
                break;
            case ChildSaDown d:
                _activeOrder.Remove(d.InboundSpi);
                if (_byInbound.Remove(d.InboundSpi, out var gone)) gone.Dispose();
                break;
        }
    }

    /// <summary>Seals one packet on the current outbound SA and opens it on <paramref name="peer"/>.</summary>
    public bool Transfer(EspPlane peer, int size, out uint? softLimitInbound)
    {
        softLimitInbound = null;
        var n = ++_packetNumber;
        if (Sending is not { } spi || !_byInbound.TryGetValue(spi, out var e))
        {
            Lose($"{Name} packet {n}: no Child SA to send on");
            return false;
        }
        var inner = new byte[Math.Max(size, 8)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(inner, n);
        var esp = new byte[e.Out.SealedLength(inner.Length)];
        if (e.Out.Seal(inner, esp, out var written) != EspSealStatus.Sealed)
        {
            Lose($"{Name} packet {n}: seal failed on 0x{e.Out.Spi:x8}");
            return false;
        }
        e.BytesOut += size;
        if (e.Info.SoftLimitBytes > 0 && e.BytesOut >= e.Info.SoftLimitBytes && !e.SoftSignalled)
        {
            e.SoftSignalled = true;
            softLimitInbound = spi;
        }
        if (!peer.Open(esp.AsSpan(0, written), e.Out.Spi, inner))
        {
            Lose($"{Name} packet {n}: peer {peer.Name} could not open it on 0x{e.Out.Spi:x8}");
            return false;
        }
        return true;
    }

    private bool Open(Span<byte> esp, uint spi, byte[] expected)
    {
        if (!_byInbound.TryGetValue(spi, out var e)) return false;
        if (!e.In.TryOpen(esp, out var opened, out _)) return false;
        if (!opened.Slice(esp).SequenceEqual(expected)) return false;
        Delivered++;
        return true;
    }

    private void Lose(string why)
    {
        Lost++;
        Losses.Add(why);
    }

    public void Dispose()
    {
        foreach (var e in _byInbound.Values) e.Dispose();
        _byInbound.Clear();
    }
}
