using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// Key material. It never shows its bytes in <see cref="ToString"/>, so a key cannot leak into a log line,
/// a trace attribute or an exception message by accident; its bytes are zeroed on dispose. Code that
/// must hand the bytes to a cipher, or write them to a Wireshark key file on the user's request, calls
/// <see cref="Expose"/>, which is easy to find in a review.
/// </summary>
public sealed class SecretKey : IDisposable, IEquatable<SecretKey>
{
    private readonly byte[] _bytes;
    private bool _disposed;

    public SecretKey(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    private SecretKey(byte[] owned) => _bytes = owned;

    /// <summary>Takes ownership of <paramref name="bytes"/> without copying.</summary>
    public static SecretKey Own(byte[] bytes) => new(bytes);

    public int Length => _bytes.Length;

    /// <summary>The key bytes, for a cipher or a key-log file only.</summary>
    public ReadOnlySpan<byte> Expose()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _bytes;
    }

    /// <summary>A new key holding bytes [start, start+length) of this one.</summary>
    public SecretKey Slice(int start, int length) => new(Expose().Slice(start, length));

    public bool Equals(SecretKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(Expose(), other.Expose());

    public override bool Equals(object? obj) => obj is SecretKey k && Equals(k);

    public override int GetHashCode() => _bytes.Length;

    public override string ToString() => $"[redacted {_bytes.Length}-byte key]";

    public void Dispose()
    {
        if (_disposed) return;
        CryptographicOperations.ZeroMemory(_bytes);
        _disposed = true;
    }
}
