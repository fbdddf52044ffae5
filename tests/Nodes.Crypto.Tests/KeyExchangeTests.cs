using System.Numerics;
using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class KeyExchangeTests
{
    public static TheoryData<DhGroup> AllGroups => new()
    {
        DhGroup.Modp1024, DhGroup.Modp2048, DhGroup.Modp2048S256, DhGroup.Ecp256, DhGroup.Ecp384, DhGroup.Curve25519,
    };

    public static TheoryData<DhGroup> ModpGroups => new() { DhGroup.Modp1024, DhGroup.Modp2048, DhGroup.Modp2048S256 };

    private static byte[] Derive(IKeyExchange local, ReadOnlySpan<byte> peer)
    {
        Assert.True(local.TryDeriveSharedSecret(peer, out var secret));
        using (secret)
            return secret.Expose().ToArray();
    }

    [Theory]
    [MemberData(nameof(AllGroups))]
    public void Two_parties_must_agree_on_the_shared_secret(DhGroup group)
    {
        using var initiator = KeyExchange.Create(group, new SeededRandomSource(1, "initiator"));
        using var responder = KeyExchange.Create(group, new SeededRandomSource(1, "responder"));
        Assert.Equal(KeyExchange.PublicKeyLength(group), initiator.PublicKey.Length);
        Assert.Equal(KeyExchange.PublicKeyLength(group), responder.PublicKey.Length);
        Assert.Equal(group, initiator.Group);
        var a = Derive(initiator, responder.PublicKey);
        var b = Derive(responder, initiator.PublicKey);
        Assert.Equal(a, b);
        var expectedSecretLength = group switch { DhGroup.Ecp256 => 32, DhGroup.Ecp384 => 48, _ => KeyExchange.PublicKeyLength(group) };
        Assert.Equal(expectedSecretLength, a.Length);
    }

    [Theory]
    [MemberData(nameof(AllGroups))]
    public void Seeded_random_source_must_give_repeatable_keys(DhGroup group)
    {
        using var first = KeyExchange.Create(group, new SeededRandomSource(42, "ke"));
        using var again = KeyExchange.Create(group, new SeededRandomSource(42, "ke"));
        using var other = KeyExchange.Create(group, new SeededRandomSource(43, "ke"));
        Assert.Equal(first.PublicKey.ToArray(), again.PublicKey.ToArray());
        Assert.NotEqual(first.PublicKey.ToArray(), other.PublicKey.ToArray());
    }

    [Theory]
    [MemberData(nameof(AllGroups))]
    public void System_random_source_must_give_working_keys(DhGroup group)
    {
        using var a = KeyExchange.Create(group, SystemRandomSource.Instance);
        using var b = KeyExchange.Create(group, SystemRandomSource.Instance);
        Assert.NotEqual(a.PublicKey.ToArray(), b.PublicKey.ToArray());
        Assert.Equal(Derive(a, b.PublicKey), Derive(b, a.PublicKey));
    }

    [Fact]
    public void Every_group_of_the_enum_must_be_supported() =>
        Assert.All(Enum.GetValues<DhGroup>(), g => Assert.True(KeyExchange.IsSupported(g)));

    [Fact]
    public void Unknown_group_must_be_refused()
    {
        Assert.False(KeyExchange.IsSupported((DhGroup)5));
        Assert.Throws<NotSupportedException>(() => KeyExchange.Create((DhGroup)5, SystemRandomSource.Instance));
        Assert.Throws<NotSupportedException>(() => KeyExchange.PublicKeyLength((DhGroup)5));
    }

    // ---- MODP ----

    private static BigInteger Big(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    [Theory]
    [MemberData(nameof(ModpGroups))]
    public void Modp_private_exponent_must_be_sized_to_the_group_strength(DhGroup group)
    {
        for (ulong seed = 0; seed < 8; seed++)
        {
            using var ke = (ModpKeyExchange)KeyExchange.Create(group, new SeededRandomSource(seed, "exp"));
            if (group == DhGroup.Modp2048S256) Assert.InRange(ke.PrivateExponentBitLength, 2, 256);
            else Assert.Equal(256, ke.PrivateExponentBitLength);
        }
    }

    [Theory]
    [MemberData(nameof(ModpGroups))]
    public void Modp_prime_must_have_the_published_shape(DhGroup group)
    {
        var g = ModpGroup.Of(group);
        var p = Big(g.P.ToByteArrayUnsigned());
        Assert.Equal(KeyExchange.PublicKeyLength(group), g.Length);
        Assert.Equal(g.Length * 8L, (long)p.GetBitLength());
        // Fermat check with two bases: a transcription error in p fails it with overwhelming probability.
        Assert.Equal(BigInteger.One, BigInteger.ModPow(3, p - 1, p));
        Assert.Equal(BigInteger.One, BigInteger.ModPow(5, p - 1, p));
        if (group == DhGroup.Modp2048S256)
        {
            // RFC 5114 section 2.3: g generates a subgroup of prime order q, q has 256 bits.
            var q = Big(g.Q!.ToByteArrayUnsigned());
            Assert.Equal(256L, (long)q.GetBitLength());
            Assert.Equal(BigInteger.One, BigInteger.ModPow(Big(g.G.ToByteArrayUnsigned()), q, p));
            Assert.Equal(BigInteger.Zero, (p - 1) % q);
            Assert.Equal(BigInteger.One, BigInteger.ModPow(3, q - 1, q));
        }
        else
        {
            // RFC 2409 / RFC 3526: the top and bottom 64 bits are all ones, g = 2, and p is a safe prime.
            var ones = (BigInteger.One << 64) - 1;
            Assert.Equal(ones, p & ones);
            Assert.Equal(ones, p >> (g.Length * 8 - 64));
            Assert.Equal(2, g.G.IntValue);
            var q = (p - 1) / 2;
            Assert.Equal(BigInteger.One, BigInteger.ModPow(3, q - 1, q));
        }
    }

    // RFC 5114 appendix A.3, test data for the 2048-bit MODP group with 256-bit prime order subgroup (group 24).
    private const string A3XA = "0881382C DB87660C 6DC13E61 4938D5B9 C8B2F248 581CC5E3 1B354543 97FCE50E";
    private const string A3YA = """
        2E9380C8 323AF975 45BC4941 DEB0EC37
        42C62FE0 ECE824A6 ABDBE66C 59BEE024 2911BFB9 67235CEB
        A35AE13E 4EC752BE 630B92DC 4BDE2847 A9C62CB8 15274542
        1FB7EB60 A63C0FE9 159FCCE7 26CE7CD8 523D7450 667EF840
        E4919121 EB5F01C8 C9B0D3D6 48A93BFB 75689E82 44AC134A
        F544711C E79A02DC C3422668 4780DDDC B4985941 06C37F5B
        C7985648 7AF5AB02 2A2E5E42 F09897C1 A85A11EA 0212AF04
        D9B4CEBC 937C3C1A 3E15A8A0 342E3376 15C84E7F E3B8B9B8
        7FB1E73A 15AF12A3 0D746E06 DFC34F29 0D797CE5 1AA13AA7
        85BF6658 AFF5E4B0 93003CBE AF665B3C 2E113A3A 4E905269
        341DC071 1426685F 4EF37E86 8A8126FF 3F2279B5 7CA67E29
        """;
    private const string A3XB = "7D62A7E3 EF36DE61 7B13D1AF B82C780D 83A23BD4 EE670564 5121F371 F546A53D";
    private const string A3YB = """
        575F0351 BD2B1B81 7448BDF8 7A6C362C
        1E289D39 03A30B98 32C5741F A250363E 7ACBC7F7 7F3DACBC
        1F131ADD 8E03367E FF8FBBB3 E1C57844 24809B25 AFE4D226
        2A1A6FD2 FAB64105 CA30A674 E07F7809 85208863 2FC04923
        3791AD4E DD083A97 8B883EE6 18BC5E0D D047415F 2D95E683
        CF14826B 5FBE10D3 CE41C6C1 20C78AB2 0008C698 BF7F0BCA
        B9D7F407 BED0F43A FB2970F5 7F8D1204 3963E66D DD320D59
        9AD9936C 8F44137C 08B180EC 5E985CEB E186F3D5 49677E80
        607331EE 17AF3380 A725B078 2317D7DD 43F59D7A F9568A9B
        B63A84D3 65F92244 ED120988 219302F4 2924C7CA 90B89D24
        F71B0AB6 97823D7D EB1AFF5B 0E8E4A45 D49F7F53 757E1913
        """;
    private const string A3Z = """
        86C70BF8 D0BB81BB 01078A17 219CB7D2
        7203DB2A 19C877F1 D1F19FD7 D77EF225 46A68F00 5AD52DC8
        4553B78F C60330BE 51EA7C06 72CAC151 5E4B35C0 47B9A551
        B88F39DC 26DA14A0 9EF74774 D47C762D D177F9ED 5BC2F11E
        52C879BD 95098504 CD9EECD8 A8F9B3EF BD1F008A C5853097
        D9D1837F 2B18F77C D7BE01AF 80A7C7B5 EA3CA54C C02D0C11
        6FEE3F95 BB873993 85875D7E 86747E67 6E728938 ACBFF709
        8E05BE4D CFB24052 B83AEFFB 14783F02 9ADBDE7F 53FAE920
        84224090 E007CEE9 4D4BF2BA CE9FFD4B 57D2AF7C 724D0CAA
        19BF0501 F6F17B4A A10F425E 3EA76080 B4B9D6B3 CEFEA115
        B2CEB878 9BB8A3B0 EA87FEBE 63B6C8F8 46EC6DB0 C26C5D7C
        """;

    [Fact]
    public void Group_24_must_match_RFC_5114_appendix_A3()
    {
        using var a = KeyExchange.FromPrivateKey(DhGroup.Modp2048S256, Hex.Decode(A3XA));
        using var b = KeyExchange.FromPrivateKey(DhGroup.Modp2048S256, Hex.Decode(A3XB));
        Assert.Equal(Hex.Decode(A3YA), a.PublicKey.ToArray());
        Assert.Equal(Hex.Decode(A3YB), b.PublicKey.ToArray());
        Assert.Equal(Hex.Decode(A3Z), Derive(a, Hex.Decode(A3YB)));
        Assert.Equal(Hex.Decode(A3Z), Derive(b, Hex.Decode(A3YA)));
    }

    [Theory]
    [MemberData(nameof(ModpGroups))]
    public void Modp_exchanges_must_run_natively_and_agree_with_an_independent_modpow(DhGroup group)
    {
        if (!OperatingSystem.IsLinux()) throw new Xunit.SkipException("the native exponentiation needs OpenSSL's libcrypto.so.3 (Linux); elsewhere BouncyCastle computes");
        var p = Big(ModpGroup.Of(group).P.ToByteArrayUnsigned());
        var length = ModpGroup.Of(group).Length;
        var random = new SeededRandomSource(7, "native-modpow");
        var bytesA = new byte[31]; // below group 24's q, and a valid exponent of every group
        var bytesB = new byte[31];
        for (var i = 0; i < 20; i++)
        {
            random.Fill(bytesA);
            random.Fill(bytesB);
            bytesA[0] |= 0x40;
            bytesB[0] |= 0x40;
            using var a = (ModpKeyExchange)KeyExchange.FromPrivateKey(group, bytesA);
            using var b = (ModpKeyExchange)KeyExchange.FromPrivateKey(group, bytesB);
            Assert.True(a.IsNative);
            var xa = Big(bytesA);
            var xb = Big(bytesB);
            var g = Big(ModpGroup.Of(group).G.ToByteArrayUnsigned());
            // System.Numerics' ModPow is a third implementation, neither OpenSSL's nor BouncyCastle's.
            Assert.Equal(Padded(BigInteger.ModPow(g, xa, p), length), a.PublicKey.ToArray());
            Assert.Equal(Padded(BigInteger.ModPow(BigInteger.ModPow(g, xb, p), xa, p), length), Derive(a, b.PublicKey));
        }
    }

    private static byte[] Padded(BigInteger value, int length)
    {
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[length];
        raw.CopyTo(padded, length - raw.Length);
        return padded;
    }

    [Theory]
    [MemberData(nameof(ModpGroups))]
    public void Modp_must_refuse_invalid_peer_values(DhGroup group)
    {
        using var ke = KeyExchange.Create(group, new SeededRandomSource(3));
        var length = KeyExchange.PublicKeyLength(group);
        var p = Big(ModpGroup.Of(group).P.ToByteArrayUnsigned());
        byte[][] refused =
        [
            Padded(0, length),
            Padded(1, length),
            Padded(p - 1, length),
            Padded(p, length),
            Enumerable.Repeat((byte)0xff, length).ToArray(),
            [],
            ke.PublicKey[..^1].ToArray(),
            [0, .. ke.PublicKey],
        ];
        foreach (var value in refused)
        {
            Assert.False(ke.TryDeriveSharedSecret(value, out var secret));
            Assert.Null(secret);
        }
    }

    [Fact]
    public void Group_24_must_refuse_a_value_outside_the_prime_order_subgroup()
    {
        using var ke = KeyExchange.Create(DhGroup.Modp2048S256, new SeededRandomSource(5));
        var p = Big(ModpGroup.Modp2048S256.P.ToByteArrayUnsigned());
        var q = Big(ModpGroup.Modp2048S256.Q!.ToByteArrayUnsigned());
        Assert.NotEqual(BigInteger.One, BigInteger.ModPow(2, q, p));
        Assert.False(ke.TryDeriveSharedSecret(Padded(2, 256), out _));
    }

    [Fact]
    public void Modp_public_value_must_be_left_padded_to_the_prime_length()
    {
        // Private exponent 2 gives g^2 = 4: a one-byte value that goes on the wire as 128 bytes.
        using var ke = KeyExchange.FromPrivateKey(DhGroup.Modp1024, [2]);
        var expected = new byte[128];
        expected[^1] = 4;
        Assert.Equal(expected, ke.PublicKey.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 1 })]
    [InlineData(new byte[] { 0 })]
    public void Modp_must_refuse_a_degenerate_private_exponent(byte[] exponent) =>
        Assert.Throws<ArgumentException>(() => KeyExchange.FromPrivateKey(DhGroup.Modp2048, exponent));

    // ---- ECP ----

    // RFC 5903 section 8.1 (group 19) and 8.2 (group 20).
    public static TheoryData<DhGroup, string, string, string, string, string, string, string> Rfc5903 => new()
    {
        {
            DhGroup.Ecp256,
            "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
            "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180",
            "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
            "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
            "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63",
            "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
            "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"
        },
        {
            DhGroup.Ecp384,
            "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 E35B5380 41E649EE 3FAEF896 783AB194",
            "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 DE3AC808 ACB4BDB4 C88732AE E95F41AA",
            "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA E69B4C63 4573A81C",
            "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 E0308312 916B8ED2 960E4BD5 5A7448FC",
            "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D 0D1AC43A 0336DEF9 6FDA41D0 774A3571",
            "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF 5EAAD96D B9E6386C",
            "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 D6031355 69B9E9D0 9CF5D4A2 70F59746"
        },
    };

    [Theory]
    [MemberData(nameof(Rfc5903))]
    public void Ecp_must_match_RFC_5903_section_8(DhGroup group, string i, string gix, string giy, string r, string grx, string gry, string girx)
    {
        using var initiator = KeyExchange.FromPrivateKey(group, Hex.Decode(i));
        using var responder = KeyExchange.FromPrivateKey(group, Hex.Decode(r));
        Assert.Equal(Hex.Decode(gix + giy), initiator.PublicKey.ToArray());
        Assert.Equal(Hex.Decode(grx + gry), responder.PublicKey.ToArray());
        Assert.Equal(Hex.Decode(girx), Derive(initiator, Hex.Decode(grx + gry)));
        Assert.Equal(Hex.Decode(girx), Derive(responder, Hex.Decode(gix + giy)));
    }

    [Theory]
    [InlineData(DhGroup.Ecp256)]
    [InlineData(DhGroup.Ecp384)]
    public void Ecp_exchanges_must_run_natively_and_agree_with_dotnet_ecdh(DhGroup group)
    {
        if (!OperatingSystem.IsLinux()) throw new Xunit.SkipException("the native ECDH needs OpenSSL's libcrypto.so.3 (Linux); elsewhere .NET's ECDH computes");
        var curve = group == DhGroup.Ecp256 ? System.Security.Cryptography.ECCurve.NamedCurves.nistP256 : System.Security.Cryptography.ECCurve.NamedCurves.nistP384;
        var size = group == DhGroup.Ecp256 ? 32 : 48;
        var random = new SeededRandomSource(11, "native-ecdh");
        for (var i = 0; i < 20; i++)
        {
            using var ours = (EcpKeyExchange)KeyExchange.Create(group, random);
            Assert.True(ours.IsNative);
            using var theirs = System.Security.Cryptography.ECDiffieHellman.Create(curve);
            var q = theirs.ExportParameters(false).Q;
            var theirPublic = new byte[2 * size];
            q.X!.CopyTo(theirPublic, size - q.X!.Length);
            q.Y!.CopyTo(theirPublic, 2 * size - q.Y!.Length);
            using var ourKey = System.Security.Cryptography.ECDiffieHellman.Create(new System.Security.Cryptography.ECParameters
            {
                Curve = curve,
                Q = new System.Security.Cryptography.ECPoint { X = ours.PublicKey[..size].ToArray(), Y = ours.PublicKey[size..].ToArray() },
            });
            // .NET derives from its own key and our public value; we derive from ours and its: the same x.
            Assert.Equal(theirs.DeriveRawSecretAgreement(ourKey.PublicKey), Derive(ours, theirPublic));
        }
    }

    [Theory]
    [InlineData(DhGroup.Ecp256)]
    [InlineData(DhGroup.Ecp384)]
    public void Ecp_must_refuse_invalid_peer_values(DhGroup group)
    {
        using var ke = KeyExchange.Create(group, new SeededRandomSource(9));
        using var peer = KeyExchange.Create(group, new SeededRandomSource(10));
        var valid = peer.PublicKey.ToArray();
        var offCurve = valid.ToArray();
        offCurve[^1] ^= 1;
        var xOutOfField = valid.ToArray();
        Array.Fill(xOutOfField, (byte)0xff, 0, valid.Length / 2);
        byte[][] refused =
        [
            offCurve,
            new byte[valid.Length],               // (0, 0): not on the curve, and the only way to spell infinity
            xOutOfField,
            [0x04, .. valid],                     // SEC 1 uncompressed form is not RFC 5903's encoding
            valid[..(valid.Length / 2)],          // x alone
            [],
        ];
        foreach (var value in refused)
        {
            Assert.False(ke.TryDeriveSharedSecret(value, out var secret));
            Assert.Null(secret);
        }
        Assert.True(ke.TryDeriveSharedSecret(valid, out var ok));
        ok.Dispose();
    }

    [Fact]
    public void Ecp_must_refuse_a_private_key_outside_1_to_n_minus_1()
    {
        Assert.Throws<ArgumentException>(() => KeyExchange.FromPrivateKey(DhGroup.Ecp256, new byte[32]));
        Assert.Throws<ArgumentException>(() => KeyExchange.FromPrivateKey(DhGroup.Ecp256, Enumerable.Repeat((byte)0xff, 32).ToArray()));
        Assert.Throws<ArgumentException>(() => KeyExchange.FromPrivateKey(DhGroup.Ecp384, new byte[32]));
    }

    // ---- Curve25519 ----

    // RFC 7748 section 5.2, the two single scalar multiplications.
    [Theory]
    [InlineData("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void X25519_must_match_RFC_7748_section_5_2(string scalar, string u, string expected)
    {
        using var ke = KeyExchange.FromPrivateKey(DhGroup.Curve25519, Hex.Decode(scalar));
        Assert.Equal(expected, Hex.Encode(Derive(ke, Hex.Decode(u))));
    }

    // RFC 7748 section 5.2, iterated: k = u = 9, then repeatedly k, u = X25519(k, u), k.
    [Theory]
    [InlineData(1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")]
    [InlineData(1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")]
    public void X25519_must_match_RFC_7748_iterations(int iterations, string expected)
    {
        var k = new byte[32];
        k[0] = 9;
        var u = k.ToArray();
        for (var i = 0; i < iterations; i++)
        {
            using var ke = KeyExchange.FromPrivateKey(DhGroup.Curve25519, k);
            var result = Derive(ke, u);
            u = k;
            k = result;
        }
        Assert.Equal(expected, Hex.Encode(k));
    }

    // RFC 7748 section 6.1, Alice and Bob.
    [Fact]
    public void X25519_must_match_RFC_7748_section_6_1()
    {
        using var alice = KeyExchange.FromPrivateKey(DhGroup.Curve25519, Hex.Decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        using var bob = KeyExchange.FromPrivateKey(DhGroup.Curve25519, Hex.Decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Hex.Encode(alice.PublicKey));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Hex.Encode(bob.PublicKey));
        const string k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        Assert.Equal(k, Hex.Encode(Derive(alice, bob.PublicKey)));
        Assert.Equal(k, Hex.Encode(Derive(bob, alice.PublicKey)));
    }

    // Points of small order: every clamped scalar maps them to zero, which RFC 7748 section 6.1 says to refuse.
    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // 0
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // 1
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p, reduces to 0
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p + 1, reduces to 1
    [InlineData("00")]
    [InlineData("")]
    public void X25519_must_refuse_low_order_and_malformed_peer_values(string u)
    {
        using var ke = KeyExchange.Create(DhGroup.Curve25519, new SeededRandomSource(11));
        Assert.False(ke.TryDeriveSharedSecret(Hex.Decode(u), out var secret));
        Assert.Null(secret);
    }
}
