using System.Buffers.Binary;
using Nodes.Crypto;
using Nodes.Wire;
using Nodes.Wire.Esp;

namespace Nodes.Esp;

/// <summary>Where the inner packet of an opened ESP packet lies in the caller's buffer, and what it is.</summary>
/// <param name="Offset">Start of the inner packet in the buffer passed to <see cref="EspInboundSa.TryOpen"/>.</param>
/// <param name="Length">Length of the inner packet.</param>
/// <param name="NextHeader">The protocol of the inner packet (4 for IPv4 in tunnel mode).</param>
/// <param name="Sequence">The full sequence number, with its inferred high half under ESN.</param>
public readonly record struct EspOpened(int Offset, int Length, byte NextHeader, ulong Sequence)
{
    /// <summary>The inner packet inside <paramref name="packet"/>, the buffer that was opened.</summary>
    public Span<byte> Slice(Span<byte> packet) => packet.Slice(Offset, Length);
}

/// <summary>
/// The receiving half of one Child SA's data plane (RFC 4303 section 3.4): checks the header, asks the replay
/// window, verifies the ICV and decrypts in place in the caller's buffer, commits the sequence number, then
/// checks the trailer. Untrusted bytes never throw: each refusal is an <see cref="EspDropReason"/>, counted in
/// <see cref="Counters"/>. No allocation per packet. Keys are copied on construction.
/// Not thread-safe: owned by one Child SA of a gateway engine.
/// </summary>
public sealed class EspInboundSa : IDisposable
{
    private readonly PayloadProtection _protection;

    /// <param name="spi">The SPI this side chose for this direction; 256 or more (RFC 4303 section 2.1).</param>
    /// <param name="suite">The negotiated transforms.</param>
    /// <param name="encryptionKey">Encryption key material (with the 4-byte salt for GCM).</param>
    /// <param name="integrityKey">Integrity key material, null for GCM.</param>
    /// <param name="extendedSequenceNumbers">Whether ESN was negotiated (RFC 4303 section 2.2.1).</param>
    /// <param name="replayWindowSize">Anti-replay window, 64 by default (RFC 4303 section 3.4.3); 0 disables the check.</param>
    public EspInboundSa(uint spi, CipherSuite suite, SecretKey encryptionKey, SecretKey? integrityKey, bool extendedSequenceNumbers, int replayWindowSize = ReplayWindow.DefaultSize)
    {
        if (!EspHeader.IsUsableSpi(spi)) throw new ArgumentOutOfRangeException(nameof(spi), spi, "SPIs 0..255 are never used (RFC 4303 section 2.1)");
        Spi = spi;
        Suite = suite;
        Window = new ReplayWindow(replayWindowSize, extendedSequenceNumbers);
        _protection = suite.CreateProtection(encryptionKey, integrityKey);
    }

    public uint Spi { get; }

    public CipherSuite Suite { get; }

    public bool ExtendedSequenceNumbers => Window.ExtendedSequenceNumbers;

    /// <summary>The highest authenticated sequence number so far.</summary>
    public ulong HighestSequence => Window.Highest;

    /// <summary>Packets and inner bytes delivered, and drops by reason.</summary>
    public EspCounters Counters { get; } = new();

    internal ReplayWindow Window { get; }

    /// <summary>The least bytes a packet can have: header, IV, the two trailer bytes padded to a block, ICV.</summary>
    public int MinimumPacketLength => EspHeader.Length + Suite.IvLength + Math.Max(EspTrailer.FixedLength, Suite.BlockSize) + Suite.IcvLength;

    /// <summary>
    /// Authenticates and decrypts <paramref name="packet"/> in place. On success <paramref name="opened"/> says
    /// where the inner packet lies in <paramref name="packet"/>. On failure the reason is returned and counted,
    /// and the buffer's contents are unspecified.
    /// </summary>
    public bool TryOpen(Span<byte> packet, out EspOpened opened, out EspDropReason reason)
    {
        opened = default;
        reason = Open(packet, ref opened);
        if (reason == EspDropReason.None) return true;
        Counters.Drop(reason);
        return false;
    }

    private EspDropReason Open(Span<byte> packet, ref EspOpened opened)
    {
        if (!EspPacket.TryCreate(packet, out var view, out var error))
            return error == WireError.ReservedSpi ? EspDropReason.ReservedSpi : EspDropReason.Malformed;
        if (view.Spi != Spi) return EspDropReason.UnknownSpi;

        var ivLength = Suite.IvLength;
        var icvLength = Suite.IcvLength;
        var bodyLength = packet.Length - EspHeader.Length - ivLength - icvLength;
        if (bodyLength < EspTrailer.FixedLength || bodyLength % Suite.BlockSize != 0) return EspDropReason.Malformed;

        // RFC 4303 section 3.4.3: the replay check comes before the ICV, the window update after it.
        if (!Window.TryInferSequence(view.SequenceNumber, out var sequence)) return EspDropReason.TooOld;
        switch (Window.Check(sequence))
        {
            case ReplayVerdict.Replay: return EspDropReason.Replay;
            case ReplayVerdict.TooOld: return EspDropReason.TooOld;
        }

        var header = packet[..EspHeader.Length];
        var iv = packet.Slice(EspHeader.Length, ivLength);
        var body = packet.Slice(EspHeader.Length + ivLength, bodyLength);
        var icv = packet[^icvLength..];
        bool authentic;
        if (Suite.IsAead)
        {
            if (ExtendedSequenceNumbers)
            {
                // RFC 4106 section 5: the AAD carries the inferred high half; a wrong guess fails the ICV.
                Span<byte> aad = stackalloc byte[12];
                EspOutboundSa.WriteEsnAad(aad, Spi, sequence);
                authentic = _protection.Open(aad, iv, body, icv);
            }
            else
            {
                authentic = _protection.Open(header, iv, body, icv);
            }
        }
        else
        {
            // RFC 4303 section 3.3.2.1: the high half of an ESN is appended to the integrity input.
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(trailer, (uint)(sequence >> 32));
            authentic = _protection.Open(header, iv, body, icv, ExtendedSequenceNumbers ? trailer : default);
        }
        if (!authentic) return EspDropReason.Integrity;
        Window.Commit(sequence);

        if (!EspTrailer.TryParse(body, out var trailerFields, out var innerLength, out _)) return EspDropReason.BadPadding;
        // RFC 4303 section 2.6: a dummy packet is discarded without notice.
        if (trailerFields.NextHeader == EspNextHeader.NoNextHeader) return EspDropReason.Dummy;

        opened = new EspOpened(EspHeader.Length + ivLength, innerLength, trailerFields.NextHeader, sequence);
        Counters.Count(innerLength);
        return EspDropReason.None;
    }

    public void Dispose() => _protection.Dispose();

    public override string ToString() => $"ESP in spi=0x{Spi:x8} {Suite}{(ExtendedSequenceNumbers ? " ESN" : "")} {Window}";
}
