using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace Nodes.Crypto;

/// <summary>A finite-field Diffie-Hellman group: prime p, generator g and, when published, the subgroup order q.</summary>
internal sealed class ModpGroup
{
    private ModpGroup(DhGroup id, string p, string g, string? q)
    {
        Id = id;
        P = new BigInteger(Strip(p), 16);
        G = new BigInteger(Strip(g), 16);
        Q = q is null ? null : new BigInteger(Strip(q), 16);
        PMinusOne = P.Subtract(BigInteger.One);
        Length = (P.BitLength + 7) / 8;
        GBytes = G.ToByteArrayUnsigned();
    }

    /// <summary>The generator, big-endian, for the native exponentiation.</summary>
    public byte[] GBytes { get; }

    public DhGroup Id { get; }
    public BigInteger P { get; }
    public BigInteger G { get; }
    public BigInteger? Q { get; }
    public BigInteger PMinusOne { get; }
    /// <summary>Bytes of p: the length of every public value and shared secret in this group.</summary>
    public int Length { get; }

    /// <summary>
    /// Private exponents are 256 bits in every group: twice the 80- and 112-bit strength of 1024- and 2048-bit
    /// MODP (NIST SP 800-57 part 1, table 2), and the size of group 24's q. A full-length exponent would cost
    /// about eight times as much per exchange without adding strength.
    /// </summary>
    public const int ExponentBits = 256;

    // RFC 2409 section 6.2 (repeated in RFC 7296 appendix B.2), generator 2.
    public static readonly ModpGroup Modp1024 = new(DhGroup.Modp1024, """
        FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
        020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
        4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
        EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381 FFFFFFFF FFFFFFFF
        """, "2", null);

    // RFC 3526 section 3, generator 2.
    public static readonly ModpGroup Modp2048 = new(DhGroup.Modp2048, """
        FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74
        020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437
        4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9 A637ED6B 0BFF5CB6 F406B7ED
        EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D C2007CB8 A163BF05
        98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
        9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B
        E39E772C 180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718
        3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AACAA68 FFFFFFFF FFFFFFFF
        """, "2", null);

    // RFC 5114 section 2.3.
    public static readonly ModpGroup Modp2048S256 = new(DhGroup.Modp2048S256, """
        87A8E61D B4B6663C FFBBD19C 65195999 8CEEF608 660DD0F2
        5D2CEED4 435E3B00 E00DF8F1 D61957D4 FAF7DF45 61B2AA30
        16C3D911 34096FAA 3BF4296D 830E9A7C 209E0C64 97517ABD
        5A8A9D30 6BCF67ED 91F9E672 5B4758C0 22E0B1EF 4275BF7B
        6C5BFC11 D45F9088 B941F54E B1E59BB8 BC39A0BF 12307F5C
        4FDB70C5 81B23F76 B63ACAE1 CAA6B790 2D525267 35488A0E
        F13C6D9A 51BFA4AB 3AD83477 96524D8E F6A167B5 A41825D9
        67E144E5 14056425 1CCACB83 E6B486F6 B3CA3F79 71506026
        C0B857F6 89962856 DED4010A BD0BE621 C3A3960A 54E710C3
        75F26375 D7014103 A4B54330 C198AF12 6116D227 6E11715F
        693877FA D7EF09CA DB094AE9 1E1A1597
        """, """
        3FB32C9B 73134D0B 2E775066 60EDBD48 4CA7B18F 21EF2054
        07F4793A 1A0BA125 10DBC150 77BE463F FF4FED4A AC0BB555
        BE3A6C1B 0C6B47B1 BC3773BF 7E8C6F62 901228F8 C28CBB18
        A55AE313 41000A65 0196F931 C77A57F2 DDF463E5 E9EC144B
        777DE62A AAB8A862 8AC376D2 82D6ED38 64E67982 428EBC83
        1D14348F 6F2F9193 B5045AF2 767164E1 DFC967C1 FB3F2E55
        A4BD1BFF E83B9C80 D052B985 D182EA0A DB2A3B73 13D3FE14
        C8484B1E 052588B9 B7D2BBD2 DF016199 ECD06E15 57CD0915
        B3353BBB 64E0EC37 7FD02837 0DF92B52 C7891428 CDC67EB6
        184B523D 1DB246C3 2F630784 90F00EF8 D647D148 D4795451
        5E2327CF EF98C582 664B4C0F 6CC41659
        """, "8CF83642 A709A097 B4479976 40129DA2 99B1A47D 1EB3750B A308B0FE 64F5FBD3");

    public static ModpGroup Of(DhGroup group) => group switch
    {
        DhGroup.Modp1024 => Modp1024,
        DhGroup.Modp2048 => Modp2048,
        DhGroup.Modp2048S256 => Modp2048S256,
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, "not a MODP group"),
    };

    /// <summary>Big-endian, left-padded with zeros to the prime's length.</summary>
    public byte[] Encode(BigInteger value)
    {
        var raw = value.ToByteArrayUnsigned();
        if (raw.Length == Length) return raw;
        var padded = new byte[Length];
        raw.CopyTo(padded, Length - raw.Length);
        CryptographicOperations.ZeroMemory(raw);
        return padded;
    }

    private static string Strip(string hex) => string.Concat(hex.Where(Uri.IsHexDigit));
}

/// <summary>Finite-field Diffie-Hellman over <see cref="ModpGroup"/> (RFC 7296 section 2.14, appendix B).</summary>
internal sealed class ModpKeyExchange : IKeyExchange
{
    private readonly ModpGroup _group;
    private BigInteger? _x;
    // The exponent's bytes for the native path (NativeModPow), zeroed on dispose; null when BouncyCastle computes.
    private byte[]? _xBytes;
    private readonly NativeModPow? _native;
    private readonly byte[] _publicKey;

    private ModpKeyExchange(ModpGroup group, BigInteger x)
    {
        _group = group;
        _x = x;
        _native = NativeModPow.For(group);
        if (_native is null)
        {
            _publicKey = group.Encode(group.G.ModPow(x, group.P));
            return;
        }
        _xBytes = x.ToByteArrayUnsigned();
        _publicKey = new byte[group.Length];
        _native.ModPow(group.GBytes, _xBytes, _publicKey);
    }

    public DhGroup Group => _group.Id;

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>Bit length of the private exponent in use.</summary>
    internal int PrivateExponentBitLength => Exponent.BitLength;

    private BigInteger Exponent => _x ?? throw new ObjectDisposedException(nameof(ModpKeyExchange));

    public static ModpKeyExchange Create(ModpGroup group, IRandomSource random)
    {
        Span<byte> buffer = stackalloc byte[ModpGroup.ExponentBits / 8];
        try
        {
            while (true)
            {
                random.Fill(buffer);
                if (group.Q is { } q)
                {
                    // Uniform in [1, q-1] by rejection: q has exactly 256 bits, so about half the draws are kept.
                    var candidate = new BigInteger(1, buffer);
                    if (candidate.SignValue > 0 && candidate.CompareTo(q) < 0) return new ModpKeyExchange(group, candidate);
                }
                else
                {
                    // Top bit set: every exponent is exactly ExponentBits long, so every exchange costs the same.
                    buffer[0] |= 0x80;
                    return new ModpKeyExchange(group, new BigInteger(1, buffer));
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    public static ModpKeyExchange FromPrivateKey(ModpGroup group, ReadOnlySpan<byte> privateKey)
    {
        var x = new BigInteger(1, privateKey);
        var upper = group.Q ?? group.PMinusOne;
        if (x.CompareTo(BigInteger.One) <= 0 || x.CompareTo(upper) >= 0)
            throw new ArgumentException($"a {Names.Of(group.Id)} private exponent must lie in (1, {(group.Q is null ? "p-1" : "q")})", nameof(privateKey));
        return new ModpKeyExchange(group, x);
    }

    public bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, [NotNullWhen(true)] out SecretKey? sharedSecret)
    {
        var x = Exponent;
        sharedSecret = null;
        // RFC 7296 section 3.4: the KE data is exactly as long as the prime.
        if (peerPublicKey.Length != _group.Length) return false;
        var y = new BigInteger(1, peerPublicKey);
        // 1 and p-1 generate subgroups of order 1 and 2; p and above are not group elements at all.
        if (y.CompareTo(BigInteger.One) <= 0 || y.CompareTo(_group.PMinusOne) >= 0) return false;
        // RFC 5114 groups are not safe primes: a peer value must lie in the order-q subgroup (NIST SP 800-56A 5.6.2.3.1).
        if (_group.Q is { } q && !y.ModPow(q, _group.P).Equals(BigInteger.One)) return false;
        if (_native is not null && _xBytes is not null)
        {
            var secret = new byte[_group.Length];
            _native.ModPow(peerPublicKey, _xBytes, secret);
            // z = 1 only for y of order dividing x: refused like the BouncyCastle path does.
            if (secret.AsSpan(0, secret.Length - 1).IndexOfAnyExcept((byte)0) < 0 && secret[^1] == 1)
            {
                CryptographicOperations.ZeroMemory(secret);
                return false;
            }
            sharedSecret = SecretKey.Own(secret);
            return true;
        }
        var z = y.ModPow(x, _group.P);
        if (z.Equals(BigInteger.One)) return false;
        sharedSecret = SecretKey.Own(_group.Encode(z));
        return true;
    }

    /// <summary>True when the exponentiations run on OpenSSL's BIGNUM functions (<see cref="NativeModPow"/>).</summary>
    internal bool IsNative => _native is not null;

    public void Dispose()
    {
        _x = null;
        if (_xBytes is not null) CryptographicOperations.ZeroMemory(_xBytes);
        _xBytes = null;
    }

    public override string ToString() => $"{Names.Of(Group)} key exchange";
}
