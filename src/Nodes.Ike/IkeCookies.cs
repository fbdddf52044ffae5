using System.Buffers.Binary;
using System.Security.Cryptography;
using Nodes.Crypto;
using Nodes.Wire.Ip;

namespace Nodes.Ike;

/// <summary>
/// Stateless cookies of a responder under load (RFC 7296 section 2.6):
/// <c>Cookie = &lt;VersionIDofSecret&gt; | Hash(Ni | IPi | SPIi | &lt;secret&gt;)</c>, here one version byte followed by
/// HMAC-SHA-256 keyed with the secret over Ni, the initiator's IPv4 address and SPIi. The secret is replaced after
/// <see cref="SecretLifetime"/>; a cookie made with the previous secret is still accepted, so an initiator that got its
/// cookie just before a change is not turned away (the section's "generate a new secret ... and accept cookies
/// generated with either the old or the new one" advice).
/// Time and randomness are inputs. Not thread-safe; owned by one <see cref="IkeResponder"/>.
/// </summary>
public sealed class IkeCookies : IDisposable
{
    /// <summary>Version byte plus a SHA-256 sized tag: 33 bytes, within the 64 a cookie may have.</summary>
    public const int Length = 1 + 32;

    private readonly IRandomSource _random;
    private SecretKey? _current;
    private SecretKey? _previous;
    private byte _version;
    private DateTimeOffset _currentSince;

    public IkeCookies(IRandomSource random, TimeSpan secretLifetime)
    {
        if (secretLifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(secretLifetime), "a cookie secret must live for some time");
        _random = random;
        SecretLifetime = secretLifetime;
    }

    public TimeSpan SecretLifetime { get; }

    /// <summary>How many secrets have been generated so far.</summary>
    public int SecretsGenerated { get; private set; }

    /// <summary>The cookie the initiator must echo.</summary>
    public byte[] Make(ReadOnlySpan<byte> ni, Ipv4Address initiator, ulong spiI, DateTimeOffset now)
    {
        Rotate(now);
        var cookie = new byte[Length];
        cookie[0] = _version;
        Tag(_current!, ni, initiator, spiI, cookie.AsSpan(1));
        return cookie;
    }

    /// <summary>True when <paramref name="cookie"/> was made by this responder for this Ni, address and SPIi with the current or previous secret.</summary>
    public bool Verify(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> ni, Ipv4Address initiator, ulong spiI, DateTimeOffset now)
    {
        Rotate(now);
        if (cookie.Length != Length || _current is null) return false;
        var secret = cookie[0] == _version ? _current : cookie[0] == unchecked((byte)(_version - 1)) ? _previous : null;
        if (secret is null) return false;
        Span<byte> expected = stackalloc byte[Length - 1];
        Tag(secret, ni, initiator, spiI, expected);
        return CryptographicOperations.FixedTimeEquals(expected, cookie[1..]);
    }

    private void Rotate(DateTimeOffset now)
    {
        if (_current is not null && now < _currentSince + SecretLifetime) return;
        if (_current is not null && now >= _currentSince + SecretLifetime + SecretLifetime)
        {
            // Two lifetimes without use: the previous secret is as stale as the current one.
            _previous?.Dispose();
            _previous = null;
        }
        else
        {
            _previous?.Dispose();
            _previous = _current;
        }
        var bytes = new byte[32];
        _random.Fill(bytes);
        _current = SecretKey.Own(bytes);
        if (SecretsGenerated > 0) _version++;
        if (_previous is null && SecretsGenerated > 0) _version++; // a gap: no cookie of the version before may match
        SecretsGenerated++;
        _currentSince = now;
    }

    private static void Tag(SecretKey secret, ReadOnlySpan<byte> ni, Ipv4Address initiator, ulong spiI, Span<byte> output)
    {
        var data = new byte[ni.Length + 4 + 8];
        ni.CopyTo(data);
        initiator.Write(data.AsSpan(ni.Length, 4));
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(ni.Length + 4), spiI);
        Prf.Compute(PrfAlgorithm.HmacSha256, secret.Expose(), data, output);
    }

    public void Dispose()
    {
        _current?.Dispose();
        _previous?.Dispose();
    }
}
