namespace Nodes.Net.Tcp;

/// <summary>A bounded FIFO of octets on a ring: a TCP send or receive buffer. Not thread-safe.</summary>
internal sealed class ByteQueue(int capacity)
{
    private readonly byte[] _ring = new byte[capacity];
    private int _head;

    public int Capacity => _ring.Length;

    public int Count { get; private set; }

    public int Free => _ring.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the octets taken.</summary>
    public int Enqueue(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, Free);
        for (var i = 0; i < n; i++) _ring[(_head + Count + i) % _ring.Length] = data[i];
        Count += n;
        return n;
    }

    /// <summary>Copies <paramref name="destination"/>.Length octets starting <paramref name="offset"/> octets from the front.</summary>
    public void Peek(int offset, Span<byte> destination)
    {
        if (offset < 0 || offset + destination.Length > Count) throw new ArgumentOutOfRangeException(nameof(offset));
        for (var i = 0; i < destination.Length; i++) destination[i] = _ring[(_head + offset + i) % _ring.Length];
    }

    /// <summary>Removes up to <paramref name="count"/> octets from the front; returns how many were removed.</summary>
    public int Discard(int count)
    {
        var n = Math.Clamp(count, 0, Count);
        _head = (_head + n) % _ring.Length;
        Count -= n;
        return n;
    }

    /// <summary>Moves up to <paramref name="destination"/>.Length octets from the front into it.</summary>
    public int Dequeue(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, Count);
        Peek(0, destination[..n]);
        return Discard(n);
    }
}
