using System.Buffers.Binary;
using Nodes.Crypto;
using Nodes.Wire.Esp;

namespace Nodes.Esp;

/// <summary>Result of sealing one packet.</summary>
public enum EspSealStatus : byte
{
    Sealed,
    /// <summary>The destination cannot hold <see cref="EspOutboundSa.SealedLength"/> bytes; nothing was consumed.</summary>
    BufferTooSmall,
    /// <summary>The sequence space is used up (RFC 4303 section 3.3.3): the Child SA must be rekeyed.</summary>
    SequenceExhausted,
}

/// <summary>
/// The sending half of one Child SA's data plane: wraps whole inner packets into ESP (tunnel mode, next
/// header 4, unless told otherwise) as RFC 4303 section 3.3 describes. The packet is built in the caller's
/// buffer, <c>[SPI][seq][IV][inner][padding 1,2,3...][pad length][next header][ICV]</c>, and encrypted in place:
/// no allocation per packet. For AES-GCM the 8-byte IV is the 64-bit sequence number, unique per key
/// (RFC 4106 section 3.1); for CBC it comes from the random source. Keys are copied on construction.
/// Not thread-safe: owned by one Child SA of a gateway engine.
/// </summary>
public sealed class EspOutboundSa : IDisposable
{
    private readonly PayloadProtection _protection;
    private readonly IRandomSource _random;
    private readonly SequenceCounter _sequence;
    private readonly int _alignment;

    /// <param name="spi">The SPI the peer chose for this direction; 256 or more (RFC 4303 section 2.1).</param>
    /// <param name="suite">The negotiated transforms.</param>
    /// <param name="encryptionKey">Encryption key material (with the 4-byte salt for GCM).</param>
    /// <param name="integrityKey">Integrity key material, null for GCM.</param>
    /// <param name="extendedSequenceNumbers">Whether ESN was negotiated (RFC 4303 section 2.2.1).</param>
    /// <param name="random">Source of CBC IVs.</param>
    public EspOutboundSa(uint spi, CipherSuite suite, SecretKey encryptionKey, SecretKey? integrityKey, bool extendedSequenceNumbers, IRandomSource random)
        : this(spi, suite, encryptionKey, integrityKey, new SequenceCounter(extendedSequenceNumbers), random)
    {
    }

    /// <summary>An SA whose counter continues from <paramref name="sequence"/> (for example one close to exhaustion).</summary>
    public EspOutboundSa(uint spi, CipherSuite suite, SecretKey encryptionKey, SecretKey? integrityKey, SequenceCounter sequence, IRandomSource random)
    {
        if (!EspHeader.IsUsableSpi(spi)) throw new ArgumentOutOfRangeException(nameof(spi), spi, "SPIs 0..255 are never sent (RFC 4303 section 2.1)");
        Spi = spi;
        Suite = suite;
        _sequence = sequence;
        _random = random;
        _alignment = EspTrailer.AlignmentFor(suite.BlockSize);
        _protection = suite.CreateProtection(encryptionKey, integrityKey);
    }

    public uint Spi { get; }

    public CipherSuite Suite { get; }

    public bool ExtendedSequenceNumbers => _sequence.ExtendedSequenceNumbers;

    /// <summary>The last sequence number sent, 0 before the first packet.</summary>
    public ulong LastSequence => _sequence.Last;

    /// <summary>Sequence numbers left before the SA must be replaced.</summary>
    public ulong RemainingSequences => _sequence.Remaining;

    /// <summary>Packets and inner bytes sealed.</summary>
    public EspCounters Counters { get; } = new();

    /// <summary>
    /// Where the inner packet starts in a sealed packet. A caller that writes the inner packet at this offset of
    /// its buffer and passes that slice as the inner packet saves the one copy <see cref="Seal"/> makes.
    /// </summary>
    public int PayloadOffset => EspHeader.Length + Suite.IvLength;

    /// <summary>Bytes of the ESP packet that seals an inner packet of <paramref name="innerLength"/> bytes.</summary>
    public int SealedLength(int innerLength) =>
        PayloadOffset + innerLength + EspTrailer.PaddingLength(innerLength, _alignment) + EspTrailer.FixedLength + Suite.IcvLength;

    /// <summary>
    /// Seals <paramref name="inner"/> into <paramref name="destination"/> with the next sequence number.
    /// <paramref name="nextHeader"/> is 4 (IPv4) in tunnel mode; another protocol number gives transport mode.
    /// </summary>
    public EspSealStatus Seal(ReadOnlySpan<byte> inner, Span<byte> destination, out int written, byte nextHeader = EspNextHeader.Ipv4)
    {
        written = 0;
        var length = SealedLength(inner.Length);
        if (destination.Length < length) return EspSealStatus.BufferTooSmall;
        if (!_sequence.TryNext(out var sequence)) return EspSealStatus.SequenceExhausted;
        written = SealAt(inner, destination[..length], nextHeader, sequence, default);
        return EspSealStatus.Sealed;
    }

    /// <summary>
    /// Seals with a given sequence number and IV, leaving the counter alone: only for known-answer tests,
    /// whose published packets pin both.
    /// </summary>
    internal int SealWith(ReadOnlySpan<byte> inner, Span<byte> destination, byte nextHeader, ulong sequence, ReadOnlySpan<byte> iv)
    {
        if (iv.Length != Suite.IvLength) throw new ArgumentException($"{Suite} takes a {Suite.IvLength}-byte IV", nameof(iv));
        return SealAt(inner, destination[..SealedLength(inner.Length)], nextHeader, sequence, iv);
    }

    /// <param name="fixedIv">The IV to use; empty to take the sequence number (GCM) or random bytes (CBC).</param>
    private int SealAt(ReadOnlySpan<byte> inner, Span<byte> packet, byte nextHeader, ulong sequence, ReadOnlySpan<byte> fixedIv)
    {
        var ivLength = Suite.IvLength;
        var icvLength = Suite.IcvLength;
        var body = packet[PayloadOffset..^icvLength];
        // Move the inner packet first: it may overlap the header or IV of the buffer it is sealed into. When it
        // already sits at its place there is nothing to move.
        if (!(inner.Overlaps(body, out var offset) && offset == 0)) inner.CopyTo(body);
        var innerLength = inner.Length;
        new EspHeader(Spi, (uint)sequence).Encode(packet);
        var iv = packet.Slice(EspHeader.Length, ivLength);
        if (!fixedIv.IsEmpty) fixedIv.CopyTo(iv);
        // RFC 4106 section 3.1: the IV must never repeat under a key; the sequence number never does.
        else if (Suite.IsAead) BinaryPrimitives.WriteUInt64BigEndian(iv, sequence);
        else _random.Fill(iv);
        var padLength = body.Length - innerLength - EspTrailer.FixedLength;
        new EspTrailer((byte)padLength, nextHeader).Encode(body[innerLength..]);

        var icv = packet[^icvLength..];
        var high = (uint)(sequence >> 32);
        if (Suite.IsAead)
        {
            if (ExtendedSequenceNumbers)
            {
                // RFC 4106 section 5: AAD = SPI || high 32 bits || low 32 bits.
                Span<byte> aad = stackalloc byte[12];
                WriteEsnAad(aad, Spi, sequence);
                _protection.Seal(aad, iv, body, icv);
            }
            else
            {
                _protection.Seal(packet[..EspHeader.Length], iv, body, icv);
            }
        }
        else
        {
            // RFC 4303 section 3.3.2.1: with ESN the high 32 bits are appended to the integrity input, not sent.
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(trailer, high);
            _protection.Seal(packet[..EspHeader.Length], iv, body, icv, ExtendedSequenceNumbers ? trailer : default);
        }
        Counters.Count(innerLength);
        return packet.Length;
    }

    internal static void WriteEsnAad(Span<byte> aad, uint spi, ulong sequence)
    {
        BinaryPrimitives.WriteUInt32BigEndian(aad, spi);
        BinaryPrimitives.WriteUInt64BigEndian(aad[4..], sequence);
    }

    public void Dispose() => _protection.Dispose();

    public override string ToString() => $"ESP out spi=0x{Spi:x8} {Suite}{(ExtendedSequenceNumbers ? " ESN" : "")} {_sequence}";
}
