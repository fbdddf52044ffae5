namespace Nodes.Esp;

/// <summary>What the replay window says about a received sequence number.</summary>
public enum ReplayVerdict : byte
{
    /// <summary>Not seen and inside or ahead of the window.</summary>
    Accept,
    /// <summary>Already received.</summary>
    Replay,
    /// <summary>Left of the window (or 0, which is never sent), so it cannot be told from a replay.</summary>
    TooOld,
}

/// <summary>
/// ESP anti-replay (RFC 4303 section 3.4.3) as the RFC 6479 ring of 64-bit blocks: sliding the window clears
/// whole blocks instead of shifting bits. Usage is check, authenticate, commit: <see cref="Check"/> is pure,
/// and <see cref="Commit"/> is called only after the ICV verified, so a forged packet never moves the window.
/// With extended sequence numbers, <see cref="TryInferSequence"/> rebuilds the 64-bit number from the low 32 bits
/// on the wire (RFC 4303 appendix A2). A window of size 0 disables replay checks but still tracks the highest
/// number for that inference.
/// Not thread-safe: owned by one Child SA of a gateway engine.
/// </summary>
public sealed class ReplayWindow
{
    /// <summary>RFC 4303 section 3.4.3: 64 is the preferred and default size.</summary>
    public const int DefaultSize = 64;

    /// <summary>The largest window this type builds.</summary>
    public const int MaxSize = 1 << 16;

    private const int BlockBits = 64;
    private const int BlockShift = 6;

    private readonly ulong[] _blocks;
    private readonly int _blockMask;
    private ulong _top;

    /// <param name="size">Packets the window spans, rounded up to a multiple of 64; 0 disables replay checks.</param>
    /// <param name="extendedSequenceNumbers">Whether the SA negotiated ESN (RFC 4303 section 2.2.1).</param>
    public ReplayWindow(int size = DefaultSize, bool extendedSequenceNumbers = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        ExtendedSequenceNumbers = extendedSequenceNumbers;
        Size = (size + BlockBits - 1) / BlockBits * BlockBits;
        // RFC 6479: one block more than the window so the block being refilled never holds live bits.
        var blocks = Size == 0 ? 1 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(Size / BlockBits + 1));
        _blocks = new ulong[blocks];
        _blockMask = blocks - 1;
    }

    /// <summary>Packets the window spans (a multiple of 64), 0 when disabled.</summary>
    public int Size { get; }

    public bool Enabled => Size != 0;

    public bool ExtendedSequenceNumbers { get; }

    /// <summary>The highest authenticated sequence number so far, 0 before the first.</summary>
    public ulong Highest => _top;

    /// <summary>
    /// The full sequence number of a packet whose header carries <paramref name="low"/>. Without ESN that is
    /// <paramref name="low"/> itself. With ESN the high 32 bits are guessed from the window (RFC 4303
    /// appendix A2.2); false when the guess would fall before 0 or after 2^64-1, which no valid packet can be.
    /// </summary>
    public bool TryInferSequence(uint low, out ulong sequence)
    {
        if (!ExtendedSequenceNumbers)
        {
            sequence = low;
            return true;
        }
        // With checks disabled the receiver still needs a window to place the high bits: half the space.
        var w = Enabled ? (uint)Size : 1u << 31;
        var tl = (uint)_top;
        var th = (uint)(_top >> 32);
        uint high;
        if (tl >= w - 1)
        {
            // Case A: the window sits inside one 2^32 subspace.
            if (low >= tl - w + 1) high = th;
            else if (th == uint.MaxValue) { sequence = 0; return false; }
            else high = th + 1;
        }
        else
        {
            // Case B: the window spans the boundary into the previous subspace.
            if (low >= unchecked(tl - w + 1))
            {
                if (th == 0) { sequence = 0; return false; }
                high = th - 1;
            }
            else high = th;
        }
        sequence = (ulong)high << 32 | low;
        return true;
    }

    /// <summary>Whether a packet with this full sequence number may be processed. Changes nothing.</summary>
    public ReplayVerdict Check(ulong sequence)
    {
        // RFC 4303 section 3.3.3: the first packet carries 1, so 0 is never valid.
        if (sequence == 0) return ReplayVerdict.TooOld;
        if (!Enabled || sequence > _top) return ReplayVerdict.Accept;
        // RFC 4303 section 3.4.3: left of the window means rejected.
        if (_top - sequence >= (ulong)Size) return ReplayVerdict.TooOld;
        var block = _blocks[(int)(sequence >> BlockShift) & _blockMask];
        return (block & (1UL << (int)(sequence & (BlockBits - 1)))) != 0 ? ReplayVerdict.Replay : ReplayVerdict.Accept;
    }

    /// <summary><see cref="Check"/> == <see cref="ReplayVerdict.Accept"/>.</summary>
    public bool CanAccept(ulong sequence) => Check(sequence) == ReplayVerdict.Accept;

    /// <summary>
    /// Records an authenticated sequence number, sliding the window when it is the new highest. Call only after
    /// the ICV verified and <see cref="Check"/> accepted; a number <see cref="Check"/> refuses changes nothing.
    /// </summary>
    public void Commit(ulong sequence)
    {
        if (Check(sequence) != ReplayVerdict.Accept) return;
        if (!Enabled)
        {
            if (sequence > _top) _top = sequence;
            return;
        }
        var index = sequence >> BlockShift;
        if (sequence > _top)
        {
            var topIndex = _top >> BlockShift;
            // Clear every block the window slides over; a jump past the whole ring clears it all once.
            var diff = Math.Min(index - topIndex, (ulong)_blocks.Length);
            for (ulong i = 1; i <= diff; i++) _blocks[(int)((topIndex + i) & (ulong)_blockMask)] = 0;
            _top = sequence;
        }
        _blocks[(int)(index & (ulong)_blockMask)] |= 1UL << (int)(sequence & (BlockBits - 1));
    }

    public override string ToString() => Enabled ? $"replay window {Size}, highest {_top}" : $"replay window off, highest {_top}";
}
