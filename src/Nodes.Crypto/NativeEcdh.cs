using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// ECDH over P-256 and P-384 on OpenSSL's EC_POINT functions (libcrypto, which .NET already loads on Linux): the
/// public value d·G and the shared x coordinate of d·Q, with the scalar treated as secret. .NET's ECDiffieHellman goes
/// through a key object, a parameter export and a peer key import per exchange, about five times the cost of the two
/// multiplications themselves; a hub answering thousands of IKE_SA_INIT requests spends most of its time there.
/// Checked once against .NET's ECDH before use; where the library does not load or does not agree, <see cref="For"/>
/// gives null and callers use .NET.
/// </summary>
internal sealed class NativeEcdh
{
    private const string Library = "libcrypto.so.3";
    private const int NidP256 = 415; // NID_X9_62_prime256v1, openssl/obj_mac.h
    private const int NidP384 = 715; // NID_secp384r1
    private const int Uncompressed = 4; // POINT_CONVERSION_UNCOMPRESSED
    private const int BnFlgConstTime = 0x04;

    private readonly IntPtr _group;
    private readonly int _size;

    private static readonly Lazy<NativeEcdh?> P256 = new(() => Checked(NidP256, 32, ECCurve.NamedCurves.nistP256));
    private static readonly Lazy<NativeEcdh?> P384 = new(() => Checked(NidP384, 48, ECCurve.NamedCurves.nistP384));

    private NativeEcdh(int nid, int size)
    {
        _size = size;
        _group = EC_GROUP_new_by_curve_name(nid);
        if (_group == IntPtr.Zero) throw new CryptographicException("OpenSSL does not know the curve");
    }

    /// <summary>The native ECDH of <paramref name="group"/> (P-256 or P-384), or null.</summary>
    public static NativeEcdh? For(DhGroup group) =>
        !OperatingSystem.IsLinux() ? null
        : group == DhGroup.Ecp256 ? P256.Value
        : group == DhGroup.Ecp384 ? P384.Value
        : null;

    /// <summary>d·G as x ‖ y (RFC 5903 section 7) into <paramref name="publicKey"/>; d is in [1, n-1].</summary>
    public void PublicKey(ReadOnlySpan<byte> scalar, Span<byte> publicKey)
    {
        if (publicKey.Length != 2 * _size) throw new ArgumentException($"the public value is {2 * _size} bytes", nameof(publicKey));
        var ctx = NativeModPow.Context();
        var d = IntPtr.Zero;
        var q = IntPtr.Zero;
        try
        {
            d = Scalar(scalar);
            q = NewPoint();
            Check(EC_POINT_mul(_group, q, d, IntPtr.Zero, IntPtr.Zero, ctx), "d·G");
            Coordinates(q, publicKey, ctx);
        }
        finally
        {
            if (d != IntPtr.Zero) BN_clear_free(d);
            if (q != IntPtr.Zero) EC_POINT_clear_free(q);
        }
    }

    /// <summary>
    /// The x coordinate of d·Q into <paramref name="secret"/>, for a peer's x ‖ y; false when (x, y) is not a point of
    /// the curve (the curves' cofactor is 1, so every point of the curve other than infinity is in the group).
    /// </summary>
    public bool TrySharedX(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> peer, Span<byte> secret)
    {
        if (peer.Length != 2 * _size || secret.Length != _size) return false;
        var ctx = NativeModPow.Context();
        Span<byte> encoded = stackalloc byte[1 + 2 * _size];
        encoded[0] = Uncompressed;
        peer.CopyTo(encoded[1..]);
        var d = IntPtr.Zero;
        var q = IntPtr.Zero;
        var r = IntPtr.Zero;
        try
        {
            q = NewPoint();
            if (EC_POINT_oct2point(_group, q, ref MemoryMarshal.GetReference(encoded), (nuint)encoded.Length, ctx) != 1) return false;
            if (EC_POINT_is_at_infinity(_group, q) != 0 || EC_POINT_is_on_curve(_group, q, ctx) != 1) return false;
            d = Scalar(scalar);
            r = NewPoint();
            Check(EC_POINT_mul(_group, r, IntPtr.Zero, q, d, ctx), "d·Q");
            if (EC_POINT_is_at_infinity(_group, r) != 0) return false;
            Span<byte> xy = stackalloc byte[2 * _size];
            Coordinates(r, xy, ctx);
            xy[.._size].CopyTo(secret);
            CryptographicOperations.ZeroMemory(xy);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encoded);
            if (d != IntPtr.Zero) BN_clear_free(d);
            if (q != IntPtr.Zero) EC_POINT_free(q);
            if (r != IntPtr.Zero) EC_POINT_clear_free(r);
        }
    }

    private IntPtr Scalar(ReadOnlySpan<byte> scalar)
    {
        var d = BN_bin2bn(ref MemoryMarshal.GetReference(scalar), scalar.Length, IntPtr.Zero);
        if (d == IntPtr.Zero) throw new CryptographicException("OpenSSL could not allocate a BIGNUM");
        BN_set_flags(d, BnFlgConstTime);
        return d;
    }

    private IntPtr NewPoint()
    {
        var p = EC_POINT_new(_group);
        if (p == IntPtr.Zero) throw new CryptographicException("OpenSSL could not allocate an EC_POINT");
        return p;
    }

    private void Coordinates(IntPtr point, Span<byte> xy, IntPtr ctx)
    {
        Span<byte> encoded = stackalloc byte[1 + 2 * _size];
        var written = EC_POINT_point2oct(_group, point, Uncompressed, ref MemoryMarshal.GetReference(encoded), (nuint)encoded.Length, ctx);
        if (written != (nuint)encoded.Length || encoded[0] != Uncompressed) throw new CryptographicException("OpenSSL gave an unexpected point encoding");
        encoded[1..].CopyTo(xy);
        CryptographicOperations.ZeroMemory(encoded);
    }

    private static void Check(int ok, string what)
    {
        if (ok != 1) throw new CryptographicException($"OpenSSL could not compute {what}");
    }

    /// <summary>The curve when it loads and a fixed exchange gives .NET's public values and shared secret; else null.</summary>
    private static NativeEcdh? Checked(int nid, int size, ECCurve curve)
    {
        try
        {
            var native = new NativeEcdh(nid, size);
            var a = new byte[size];
            var b = new byte[size];
            for (var i = 0; i < size; i++)
            {
                a[i] = (byte)(0x3c ^ (i * 7));
                b[i] = (byte)(0x5a ^ (i * 13));
            }
            a[0] = b[0] = 0x11; // below n
            using var ea = ECDiffieHellman.Create(new ECParameters { Curve = curve, D = a });
            using var eb = ECDiffieHellman.Create(new ECParameters { Curve = curve, D = b });
            var qa = ea.ExportParameters(false).Q;
            var qb = eb.ExportParameters(false).Q;
            var expectedA = new byte[2 * size];
            qa.X!.CopyTo(expectedA, size - qa.X!.Length);
            qa.Y!.CopyTo(expectedA, 2 * size - qa.Y!.Length);
            var expectedB = new byte[2 * size];
            qb.X!.CopyTo(expectedB, size - qb.X!.Length);
            qb.Y!.CopyTo(expectedB, 2 * size - qb.Y!.Length);
            var expectedZ = ea.DeriveRawSecretAgreement(eb.PublicKey);
            var publicA = new byte[2 * size];
            native.PublicKey(a, publicA);
            var z = new byte[size];
            var agreed = native.TrySharedX(a, expectedB, z);
            return agreed && publicA.AsSpan().SequenceEqual(expectedA) && z.AsSpan().SequenceEqual(expectedZ) ? native : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return null;
        }
    }

    [DllImport(Library)] private static extern IntPtr EC_GROUP_new_by_curve_name(int nid);
    [DllImport(Library)] private static extern IntPtr EC_POINT_new(IntPtr group);
    [DllImport(Library)] private static extern void EC_POINT_free(IntPtr point);
    [DllImport(Library)] private static extern void EC_POINT_clear_free(IntPtr point);
    [DllImport(Library)] private static extern int EC_POINT_mul(IntPtr group, IntPtr r, IntPtr gScalar, IntPtr q, IntPtr qScalar, IntPtr ctx);
    [DllImport(Library)] private static extern nuint EC_POINT_point2oct(IntPtr group, IntPtr point, int form, ref byte buffer, nuint length, IntPtr ctx);
    [DllImport(Library)] private static extern int EC_POINT_oct2point(IntPtr group, IntPtr point, ref byte buffer, nuint length, IntPtr ctx);
    [DllImport(Library)] private static extern int EC_POINT_is_on_curve(IntPtr group, IntPtr point, IntPtr ctx);
    [DllImport(Library)] private static extern int EC_POINT_is_at_infinity(IntPtr group, IntPtr point);
    [DllImport(Library)] private static extern IntPtr BN_bin2bn(ref byte s, int length, IntPtr ret);
    [DllImport(Library)] private static extern void BN_clear_free(IntPtr a);
    [DllImport(Library)] private static extern void BN_set_flags(IntPtr a, int flags);
}
