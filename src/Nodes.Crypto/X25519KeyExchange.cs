using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace Nodes.Crypto;

/// <summary>Curve25519 (group 31, RFC 8031) on BouncyCastle's constant-time X25519.</summary>
internal sealed class X25519KeyExchange : IKeyExchange
{
    private readonly byte[] _scalar;
    private readonly byte[] _publicKey = new byte[X25519.PointSize];
    private bool _disposed;

    private X25519KeyExchange(ReadOnlySpan<byte> scalar)
    {
        _scalar = scalar.ToArray();
        X25519.ScalarMultBase(_scalar, 0, _publicKey, 0);
    }

    public DhGroup Group => DhGroup.Curve25519;

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public static X25519KeyExchange Create(IRandomSource random)
    {
        // Any 32 bytes are a valid scalar: X25519 clamps them (RFC 7748 section 5).
        Span<byte> k = stackalloc byte[X25519.ScalarSize];
        try
        {
            random.Fill(k);
            return new X25519KeyExchange(k);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k);
        }
    }

    public static X25519KeyExchange FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != X25519.ScalarSize)
            throw new ArgumentException($"a Curve25519 private key is {X25519.ScalarSize} bytes, got {privateKey.Length}", nameof(privateKey));
        return new X25519KeyExchange(privateKey);
    }

    public bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, [NotNullWhen(true)] out SecretKey? sharedSecret)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        sharedSecret = null;
        if (peerPublicKey.Length != X25519.PointSize) return false;
        var u = peerPublicKey.ToArray();
        var k = new byte[X25519.PointSize];
        // RFC 7748 section 6.1 / RFC 8031 section 2: a low-order peer value gives all zeros, which is refused.
        if (!X25519.CalculateAgreement(_scalar, 0, u, 0, k, 0))
        {
            CryptographicOperations.ZeroMemory(k);
            return false;
        }
        sharedSecret = SecretKey.Own(k);
        return true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        CryptographicOperations.ZeroMemory(_scalar);
        _disposed = true;
    }

    public override string ToString() => "CURVE25519 key exchange";
}
