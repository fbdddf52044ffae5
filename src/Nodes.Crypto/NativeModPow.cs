using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Nodes.Crypto;

/// <summary>
/// Modular exponentiation for the MODP groups on OpenSSL's BIGNUM functions (libcrypto, which .NET already loads on
/// Linux): Montgomery arithmetic in constant time for the secret exponent, with each prime's Montgomery context made
/// once. BouncyCastle's ModPow of a 1024-bit value by a 256-bit exponent costs several times as much, and a hub that
/// answers thousands of IKE_SA_INIT requests spends most of its time there. Checked once before use against RFC 5114's
/// published exchange; where the library does not load or does not agree, <see cref="For"/> gives null and callers
/// use BouncyCastle.
/// </summary>
internal sealed class NativeModPow : IDisposable
{
    private const string Library = "libcrypto.so.3";
    private readonly IntPtr _modulus;
    private readonly IntPtr _mont;
    private readonly int _length;

    [ThreadStatic] private static IntPtr t_context;

    private static readonly Lazy<bool> Works = new(SelfCheck);
    private static readonly Dictionary<DhGroup, NativeModPow?> ByGroup = [];
    private static readonly Lock Gate = new();

    private NativeModPow(BigInteger modulus, int length)
    {
        _length = length;
        var p = modulus.ToByteArrayUnsigned();
        _modulus = BN_bin2bn(ref p[0], p.Length, IntPtr.Zero);
        _mont = BN_MONT_CTX_new();
        if (_modulus == IntPtr.Zero || _mont == IntPtr.Zero || BN_MONT_CTX_set(_mont, _modulus, Context()) != 1)
            throw new CryptographicException("OpenSSL could not set up the Montgomery context of a MODP prime");
    }

    /// <summary>The native exponentiation for <paramref name="group"/>, or null where libcrypto is missing or disagrees with BouncyCastle.</summary>
    public static NativeModPow? For(ModpGroup group)
    {
        if (!OperatingSystem.IsLinux() || !Works.Value) return null;
        lock (Gate)
        {
            if (!ByGroup.TryGetValue(group.Id, out var native))
            {
                native = TryCreate(group.P, group.Length);
                ByGroup[group.Id] = native;
            }
            return native;
        }
    }

    /// <summary>
    /// <paramref name="value"/>^<paramref name="exponent"/> mod p, big-endian, into <paramref name="output"/> left-padded to the
    /// prime's length. The exponent is treated as secret (constant-time ladder); the value must be below p.
    /// </summary>
    public void ModPow(ReadOnlySpan<byte> value, ReadOnlySpan<byte> exponent, Span<byte> output)
    {
        if (output.Length != _length) throw new ArgumentException($"the result is {_length} bytes", nameof(output));
        if (value.IsEmpty || exponent.IsEmpty) throw new ArgumentException("a value and an exponent are needed");
        var ctx = Context();
        var a = IntPtr.Zero;
        var e = IntPtr.Zero;
        var r = IntPtr.Zero;
        try
        {
            a = BN_bin2bn(ref MemoryMarshal.GetReference(value), value.Length, IntPtr.Zero);
            e = BN_bin2bn(ref MemoryMarshal.GetReference(exponent), exponent.Length, IntPtr.Zero);
            r = BN_new();
            if (a == IntPtr.Zero || e == IntPtr.Zero || r == IntPtr.Zero)
                throw new CryptographicException("OpenSSL could not allocate a BIGNUM");
            BN_set_flags(e, BnFlgConstTime);
            if (BN_mod_exp_mont_consttime(r, a, e, _modulus, ctx, _mont) != 1)
                throw new CryptographicException("OpenSSL's modular exponentiation failed");
            if (BN_bn2binpad(r, ref MemoryMarshal.GetReference(output), output.Length) != output.Length)
                throw new CryptographicException("a modular exponentiation's result does not fit the prime's length");
        }
        finally
        {
            if (a != IntPtr.Zero) BN_free(a);
            if (e != IntPtr.Zero) BN_clear_free(e);
            if (r != IntPtr.Zero) BN_clear_free(r);
        }
    }

    public void Dispose()
    {
        BN_MONT_CTX_free(_mont);
        BN_free(_modulus);
    }

    /// <summary>This thread's BN_CTX (also the native ECDH's).</summary>
    internal static IntPtr Context()
    {
        if (t_context == IntPtr.Zero)
        {
            // One per thread for the thread's life: a BN_CTX is scratch space, not shareable, and cheap to keep.
            t_context = BN_CTX_new();
            if (t_context == IntPtr.Zero) throw new CryptographicException("OpenSSL could not allocate a BN_CTX");
        }
        return t_context;
    }

    private static NativeModPow? TryCreate(BigInteger p, int length)
    {
        try
        {
            return new NativeModPow(p, length);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// RFC 5114 appendix A.3's first party: g^xA mod p of group 24 (a 2048-bit prime, a 256-bit exponent) must be its
    /// yA. A published answer, so that the check costs one native exponentiation and nothing else at first use.
    /// </summary>
    private static bool SelfCheck()
    {
        try
        {
            var group = ModpGroup.Modp2048S256;
            using var native = new NativeModPow(group.P, group.Length);
            var actual = new byte[group.Length];
            native.ModPow(group.GBytes, Convert.FromHexString(Rfc5114A3XA), actual);
            return actual.AsSpan().SequenceEqual(Convert.FromHexString(Rfc5114A3YA));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return false;
        }
    }

    private const string Rfc5114A3XA = "0881382CDB87660C6DC13E614938D5B9C8B2F248581CC5E31B35454397FCE50E";
    private const string Rfc5114A3YA =
        "2E9380C8323AF97545BC4941DEB0EC3742C62FE0ECE824A6ABDBE66C59BEE0242911BFB967235CEBA35AE13E4EC752BE630B92DC4BDE2847" +
        "A9C62CB8152745421FB7EB60A63C0FE9159FCCE726CE7CD8523D7450667EF840E4919121EB5F01C8C9B0D3D648A93BFB75689E8244AC134A" +
        "F544711CE79A02DCC34226684780DDDCB498594106C37F5BC79856487AF5AB022A2E5E42F09897C1A85A11EA0212AF04D9B4CEBC937C3C1A" +
        "3E15A8A0342E337615C84E7FE3B8B9B87FB1E73A15AF12A30D746E06DFC34F290D797CE51AA13AA785BF6658AFF5E4B093003CBEAF665B3C" +
        "2E113A3A4E905269341DC0711426685F4EF37E868A8126FF3F2279B57CA67E29";

    private const int BnFlgConstTime = 0x04; // BN_FLG_CONSTTIME, openssl/bn.h

    [DllImport(Library)] private static extern IntPtr BN_CTX_new();
    [DllImport(Library)] private static extern IntPtr BN_new();
    [DllImport(Library)] private static extern void BN_free(IntPtr a);
    [DllImport(Library)] private static extern void BN_clear_free(IntPtr a);
    [DllImport(Library)] private static extern void BN_set_flags(IntPtr a, int flags);
    [DllImport(Library)] private static extern IntPtr BN_bin2bn(ref byte s, int length, IntPtr ret);
    [DllImport(Library)] private static extern int BN_bn2binpad(IntPtr a, ref byte to, int toLength);
    [DllImport(Library)] private static extern IntPtr BN_MONT_CTX_new();
    [DllImport(Library)] private static extern void BN_MONT_CTX_free(IntPtr mont);
    [DllImport(Library)] private static extern int BN_MONT_CTX_set(IntPtr mont, IntPtr modulus, IntPtr ctx);
    [DllImport(Library)] private static extern int BN_mod_exp_mont_consttime(IntPtr r, IntPtr a, IntPtr p, IntPtr m, IntPtr ctx, IntPtr mont);
}
