using System.Collections;

namespace Nodes.Wire.Ike;

/// <summary>
/// An immutable copy of bytes with value equality, used for the variable-length fields of IKE payload
/// records (nonces, SPIs, notification data). <see cref="ToString"/> prints only the length, so that
/// no field content ever reaches a log line.
/// </summary>
public readonly struct OctetString : IEquatable<OctetString>
{
    private readonly byte[]? _bytes;

    private OctetString(byte[] bytes) => _bytes = bytes;

    /// <summary>The empty string; also the value of <c>default</c>.</summary>
    public static OctetString Empty => default;

    /// <summary>Copies <paramref name="bytes"/>; later changes to the source do not show through.</summary>
    public static OctetString Copy(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? default : new OctetString(bytes.ToArray());

    public int Length => _bytes?.Length ?? 0;

    public ReadOnlySpan<byte> Span => _bytes;

    public bool Equals(OctetString other) => Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is OctetString other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{Length} octets";

    public static bool operator ==(OctetString left, OctetString right) => left.Equals(right);

    public static bool operator !=(OctetString left, OctetString right) => !left.Equals(right);
}

/// <summary>An immutable list with element-wise equality, so that records holding lists compare by content.</summary>
public readonly struct EquatableList<T> : IReadOnlyList<T>, IEquatable<EquatableList<T>>
{
    private readonly T[]? _items;

    private EquatableList(T[] items) => _items = items;

    /// <summary>Copies <paramref name="items"/>.</summary>
    public static EquatableList<T> Of(IEnumerable<T> items)
    {
        var array = items.ToArray();
        return array.Length == 0 ? default : new EquatableList<T>(array);
    }

    public static implicit operator EquatableList<T>(T[] items) => Of(items);

    public static implicit operator EquatableList<T>(List<T> items) => Of(items);

    public int Count => _items?.Length ?? 0;

    public T this[int index] => (_items ?? [])[index];

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(EquatableList<T> other) =>
        Count == other.Count && (_items ?? []).AsSpan().SequenceEqual(other._items ?? [], EqualityComparer<T>.Default);

    public override bool Equals(object? obj) => obj is EquatableList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items ?? []) hash.Add(item);
        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", _items ?? [])}]";

    public static bool operator ==(EquatableList<T> left, EquatableList<T> right) => left.Equals(right);

    public static bool operator !=(EquatableList<T> left, EquatableList<T> right) => !left.Equals(right);
}
