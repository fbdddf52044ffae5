using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// ECDH over NIST P-256 (group 19) and P-384 (group 20) with RFC 5903's encodings, on .NET's platform
/// implementation (OpenSSL on Linux), which is about three times faster here than BouncyCastle's.
/// </summary>
internal sealed class EcpKeyExchange : IKeyExchange
{
    // .NET's key where the native path (NativeEcdh) is missing; else the scalar's bytes, zeroed on dispose.
    private readonly ECDiffieHellman? _key;
    private readonly byte[]? _scalar;
    private readonly NativeEcdh? _native;
    private readonly byte[] _publicKey;
    private readonly ECCurve _curve;
    private bool _disposed;

    // Group orders, RFC 5114 sections 2.6 and 2.7 (the same curves as RFC 5903 sections 3.1 and 3.2).
    private static readonly byte[] OrderP256 = Convert.FromHexString(
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    private static readonly byte[] OrderP384 = Convert.FromHexString(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973");

    private EcpKeyExchange(DhGroup group, ReadOnlySpan<byte> scalar)
    {
        Group = group;
        _curve = CurveOf(group);
        var size = FieldLength(group);
        _publicKey = new byte[2 * size];
        _native = NativeEcdh.For(group);
        if (_native is not null)
        {
            _scalar = scalar.ToArray();
            _native.PublicKey(_scalar, _publicKey);
            return;
        }
        var d = scalar.ToArray();
        try
        {
            // With D alone the platform computes Q = d·G.
            _key = ECDiffieHellman.Create(new ECParameters { Curve = _curve, D = d });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
        var q = _key.ExportParameters(includePrivateParameters: false).Q;
        q.X!.CopyTo(_publicKey.AsSpan(size - q.X!.Length));
        q.Y!.CopyTo(_publicKey.AsSpan(2 * size - q.Y!.Length));
    }

    public DhGroup Group { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    private static int FieldLength(DhGroup group) => group == DhGroup.Ecp256 ? 32 : 48;

    private static ReadOnlySpan<byte> Order(DhGroup group) => group == DhGroup.Ecp256 ? OrderP256 : OrderP384;

    private static ECCurve CurveOf(DhGroup group) => group == DhGroup.Ecp256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384;

    public static EcpKeyExchange Create(DhGroup group, IRandomSource random)
    {
        Span<byte> d = stackalloc byte[FieldLength(group)];
        try
        {
            // Uniform in [1, n-1] by rejection; n is within 2^-32 of 2^bits, so a retry is rare.
            do random.Fill(d);
            while (!InRange(d, Order(group)));
            return new EcpKeyExchange(group, d);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    public static EcpKeyExchange FromPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != FieldLength(group))
            throw new ArgumentException($"a {Names.Of(group)} private key is {FieldLength(group)} bytes, got {privateKey.Length}", nameof(privateKey));
        if (!InRange(privateKey, Order(group)))
            throw new ArgumentException($"a {Names.Of(group)} private key must lie in [1, n-1]", nameof(privateKey));
        return new EcpKeyExchange(group, privateKey);
    }

    private static bool InRange(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> order) =>
        scalar.IndexOfAnyExcept((byte)0) >= 0 && scalar.SequenceCompareTo(order) < 0;

    public bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, [NotNullWhen(true)] out SecretKey? sharedSecret)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        sharedSecret = null;
        var size = FieldLength(Group);
        // RFC 5903 section 7: x ‖ y and nothing else (no SEC 1 0x04 tag, no compressed form).
        if (peerPublicKey.Length != 2 * size) return false;
        if (_native is not null)
        {
            var z = new byte[size];
            if (!_native.TrySharedX(_scalar, peerPublicKey, z))
            {
                CryptographicOperations.ZeroMemory(z);
                return false;
            }
            sharedSecret = SecretKey.Own(z);
            return true;
        }
        ECDiffieHellman peer;
        try
        {
            // The import checks that (x, y) lies on the curve; x ‖ y cannot encode the point at infinity.
            peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = _curve,
                Q = new ECPoint { X = peerPublicKey[..size].ToArray(), Y = peerPublicKey[size..].ToArray() },
            });
        }
        catch (CryptographicException)
        {
            return false;
        }
        using (peer)
        {
            try
            {
                // RFC 5903 section 7: the shared secret is the x coordinate of d·Q alone.
                var x = _key!.DeriveRawSecretAgreement(peer.PublicKey);
                if (x.Length != size)
                {
                    CryptographicOperations.ZeroMemory(x);
                    return false;
                }
                sharedSecret = SecretKey.Own(x);
                return true;
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _key?.Dispose();
        if (_scalar is not null) CryptographicOperations.ZeroMemory(_scalar);
        _disposed = true;
    }

    /// <summary>True when the multiplications run on OpenSSL's EC_POINT functions (<see cref="NativeEcdh"/>).</summary>
    internal bool IsNative => _native is not null;

    public override string ToString() => $"{Names.Of(Group)} key exchange";
}
