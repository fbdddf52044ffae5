using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nodes.Crypto;

/// <summary>
/// ECDH over P-256 and P-384 on OpenSSL's EC_POINT functions (libcrypto, which .NET already loads on Linux): the
/// public value d·G and the shared x coordinate of d·Q, with the scalar treated as secret. .NET's ECDiffieHellman goes
/// through a key object, a parameter export and a peer key import per exchange, about five times the cost of the two
/// multiplications themselves; a hub answering thousands of IKE_SA_INIT requests spends most of its time there.
/// Checked once before use against RFC 5903's published exchanges; where the library does not load or does not agree,
/// <see cref="For"/> gives null and callers use .NET.
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

    private static readonly Lazy<NativeEcdh?> P256 = new(() => Checked(NidP256, 32, P256I, P256Gi, P256Gr, P256Gir));
    private static readonly Lazy<NativeEcdh?> P384 = new(() => Checked(NidP384, 48, P384I, P384Gi, P384Gr, P384Gir));

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

    /// <summary>
    /// The curve when it loads and RFC 5903 section 8's exchange comes out as published: the initiator's public value
    /// from its private key, and the shared x from it and the responder's public value (two multiplications, no more).
    /// </summary>
    private static NativeEcdh? Checked(int nid, int size, string i, string gi, string gr, string gir)
    {
        try
        {
            var native = new NativeEcdh(nid, size);
            var publicI = new byte[2 * size];
            native.PublicKey(Convert.FromHexString(i), publicI);
            var z = new byte[size];
            var agreed = native.TrySharedX(Convert.FromHexString(i), Convert.FromHexString(gr), z);
            return agreed && publicI.AsSpan().SequenceEqual(Convert.FromHexString(gi)) && z.AsSpan().SequenceEqual(Convert.FromHexString(gir)) ? native : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return null;
        }
    }

    // RFC 5903 section 8.1 (P-256): i, gix ‖ giy, grx ‖ gry, girx.
    private const string P256I = "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433";
    private const string P256Gi = "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C37725811805271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3";
    private const string P256Gr = "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF6356FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB";
    private const string P256Gir = "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE";
    // RFC 5903 section 8.2 (P-384).
    private const string P384I = "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194";
    private const string P384Gi = "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C";
    private const string P384Gr = "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C";
    private const string P384Gir = "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746";

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
