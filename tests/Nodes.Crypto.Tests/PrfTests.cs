using System.Security.Cryptography;
using System.Text;
using FsCheck.Xunit;
using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class PrfTests
{
    private static byte[] Repeat(byte value, int count) => Enumerable.Repeat(value, count).ToArray();

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Range(int first, int last) => Enumerable.Range(first, last - first + 1).Select(i => (byte)i).ToArray();

    private static byte[] Compute(PrfAlgorithm prf, byte[] key, byte[] data)
    {
        var output = new byte[Prf.OutputLength(prf)];
        Prf.Compute(prf, key, data, output);
        return output;
    }

    private const string LargerKeyHashFirst = "Test Using Larger Than Block-Size Key - Hash Key First";

    // RFC 2202 section 3, HMAC-SHA-1 test cases 1-7 (case 5's full 160-bit output).
    public static TheoryData<int, byte[], byte[], string> Rfc2202 => new()
    {
        { 1, Repeat(0x0b, 20), Ascii("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00" },
        { 2, Ascii("Jefe"), Ascii("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
        { 3, Repeat(0xaa, 20), Repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
        { 4, Range(0x01, 0x19), Repeat(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
        { 5, Repeat(0x0c, 20), Ascii("Test With Truncation"), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
        { 6, Repeat(0xaa, 80), Ascii(LargerKeyHashFirst), "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
        { 7, Repeat(0xaa, 80), Ascii("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"), "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
    };

    [Theory]
    [MemberData(nameof(Rfc2202))]
    public void HmacSha1_must_match_RFC_2202(int testCase, byte[] key, byte[] data, string expected)
    {
        Assert.True(testCase > 0);
        Assert.Equal(expected, Hex.Encode(Compute(PrfAlgorithm.HmacSha1, key, data)));
    }

    private const string Rfc4231Case7Data = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

    // RFC 4231 sections 4.2-4.8, HMAC-SHA-256/384/512 test cases 1-7. Case 5 (section 4.6) is truncated to 128 bits.
    public static TheoryData<int, PrfAlgorithm, byte[], byte[], string> Rfc4231 => new()
    {
        { 1, PrfAlgorithm.HmacSha256, Repeat(0x0b, 20), Ascii("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { 1, PrfAlgorithm.HmacSha384, Repeat(0x0b, 20), Ascii("Hi There"), "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
        { 1, PrfAlgorithm.HmacSha512, Repeat(0x0b, 20), Ascii("Hi There"), "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
        { 2, PrfAlgorithm.HmacSha256, Ascii("Jefe"), Ascii("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { 2, PrfAlgorithm.HmacSha384, Ascii("Jefe"), Ascii("what do ya want for nothing?"), "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
        { 2, PrfAlgorithm.HmacSha512, Ascii("Jefe"), Ascii("what do ya want for nothing?"), "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
        { 3, PrfAlgorithm.HmacSha256, Repeat(0xaa, 20), Repeat(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { 3, PrfAlgorithm.HmacSha384, Repeat(0xaa, 20), Repeat(0xdd, 50), "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27" },
        { 3, PrfAlgorithm.HmacSha512, Repeat(0xaa, 20), Repeat(0xdd, 50), "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
        { 4, PrfAlgorithm.HmacSha256, Range(0x01, 0x19), Repeat(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { 4, PrfAlgorithm.HmacSha384, Range(0x01, 0x19), Repeat(0xcd, 50), "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb" },
        { 4, PrfAlgorithm.HmacSha512, Range(0x01, 0x19), Repeat(0xcd, 50), "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
        { 5, PrfAlgorithm.HmacSha256, Repeat(0x0c, 20), Ascii("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b" },
        { 5, PrfAlgorithm.HmacSha384, Repeat(0x0c, 20), Ascii("Test With Truncation"), "3abf34c3503b2a23a46efc619baef897" },
        { 5, PrfAlgorithm.HmacSha512, Repeat(0x0c, 20), Ascii("Test With Truncation"), "415fad6271580a531d4179bc891d87a6" },
        { 6, PrfAlgorithm.HmacSha256, Repeat(0xaa, 131), Ascii(LargerKeyHashFirst), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { 6, PrfAlgorithm.HmacSha384, Repeat(0xaa, 131), Ascii(LargerKeyHashFirst), "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
        { 6, PrfAlgorithm.HmacSha512, Repeat(0xaa, 131), Ascii(LargerKeyHashFirst), "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
        { 7, PrfAlgorithm.HmacSha256, Repeat(0xaa, 131), Ascii(Rfc4231Case7Data), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
        { 7, PrfAlgorithm.HmacSha384, Repeat(0xaa, 131), Ascii(Rfc4231Case7Data), "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e" },
        { 7, PrfAlgorithm.HmacSha512, Repeat(0xaa, 131), Ascii(Rfc4231Case7Data), "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
    };

    [Theory]
    [MemberData(nameof(Rfc4231))]
    public void HmacSha2_must_match_RFC_4231(int testCase, PrfAlgorithm prf, byte[] key, byte[] data, string expected)
    {
        var full = Hex.Encode(Compute(prf, key, data));
        if (testCase == 5) Assert.StartsWith(expected, full);
        else Assert.Equal(expected, full);
    }

    // RFC 4868 section 2.7.1 (PRF-HMAC-SHA-256/384/512, test cases 1-4, keys as long as the hash output).
    // Transcribed from the RFC by chipsalliance/caliptra-rtl hmac_ctrl_tb.sv and Meta's openssl HmacSha256 tests.
    public static TheoryData<PrfAlgorithm, byte[], byte[], string> Rfc4868Prf => new()
    {
        { PrfAlgorithm.HmacSha256, Repeat(0x0b, 32), Ascii("Hi There"), "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7" },
        { PrfAlgorithm.HmacSha256, Repeat8("Jefe", 8), Ascii("what do ya want for nothing?"), "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6" },
        { PrfAlgorithm.HmacSha256, Repeat(0xaa, 32), Repeat(0xdd, 50), "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0" },
        { PrfAlgorithm.HmacSha256, Range(0x01, 0x20), Repeat(0xcd, 50), "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f" },
        { PrfAlgorithm.HmacSha384, Repeat(0x0b, 48), Ascii("Hi There"), "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2" },
        { PrfAlgorithm.HmacSha384, Repeat8("Jefe", 12), Ascii("what do ya want for nothing?"), "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5349524ca4e82400cbde0686d403371c9" },
        { PrfAlgorithm.HmacSha384, Repeat(0xaa, 48), Repeat(0xdd, 50), "809f439be00274321d4a538652164b53554a508184a0c3160353e3428597003d35914a18770f9443987054944b7c4b4a" },
        { PrfAlgorithm.HmacSha384, [.. Range(0x01, 0x20), .. Range(0x0a, 0x19)], Repeat(0xcd, 50), "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c2ebf182c83cc7428707fb92eab2536a5812258228bc96687" },
        { PrfAlgorithm.HmacSha512, Repeat(0x0b, 64), Ascii("Hi There"), "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b" },
        { PrfAlgorithm.HmacSha512, Repeat8("Jefe", 16), Ascii("what do ya want for nothing?"), "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b154546aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcceaae38c833b7dba38" },
        { PrfAlgorithm.HmacSha512, Repeat(0xaa, 64), Repeat(0xdd, 50), "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8623c7b55cebefccf02d5581acc1c9d5fb1ff68a1de45509fbe4da9a433922655" },
        { PrfAlgorithm.HmacSha512, Range(0x01, 0x40), Repeat(0xcd, 50), "5e6688e5a3daec826ca32eaea224eff5e700628947470e13ad01302561bab108b8c48cbc6b807dcfbd850521a685babc7eae4a2a2e660dc0e86b931d65503fd2" },
    };

    private static byte[] Repeat8(string s, int times) => Ascii(string.Concat(Enumerable.Repeat(s, times)));

    [Theory]
    [MemberData(nameof(Rfc4868Prf))]
    public void Prf_must_match_RFC_4868_PRF_vectors(PrfAlgorithm prf, byte[] key, byte[] data, string expected) =>
        Assert.Equal(expected, Hex.Encode(Compute(prf, key, data)));

    // RFC 4868 section 2.7.2: the AUTH-HMAC-SHA2 vectors are the same keys and data truncated to half the
    // output. Checked through the ICV path that ESP and IKE use: NULL encryption, the data as authenticated header.
    [Theory]
    [MemberData(nameof(Rfc4868Prf))]
    public void Truncated_icv_must_match_RFC_4868_AUTH_vectors(PrfAlgorithm prf, byte[] key, byte[] data, string expected)
    {
        var integrity = prf switch
        {
            PrfAlgorithm.HmacSha256 => IntegrityAlgorithm.HmacSha256_128,
            PrfAlgorithm.HmacSha384 => IntegrityAlgorithm.HmacSha384_192,
            _ => IntegrityAlgorithm.HmacSha512_256,
        };
        var suite = new CipherSuite(EncryptionAlgorithm.Null, 0, integrity);
        using var protection = suite.CreateProtection(new SecretKey([]), new SecretKey(key));
        var icv = new byte[suite.IcvLength];
        protection.Seal(data, [], [], icv);
        Assert.Equal(expected[..(suite.IcvLength * 2)], Hex.Encode(icv));
        Assert.True(protection.Open(data, [], [], icv));
        icv[0] ^= 1;
        Assert.False(protection.Open(data, [], [], icv));
    }

    // RFC 2404 section 5 / RFC 2202 case 5: HMAC-SHA-1-96 is the first 96 bits.
    [Fact]
    public void HmacSha1_96_icv_must_match_RFC_2202_truncated_case()
    {
        var suite = new CipherSuite(EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.HmacSha1_96);
        using var protection = suite.CreateProtection(new SecretKey([]), new SecretKey(Repeat(0x0c, 20)));
        var icv = new byte[12];
        protection.Seal(Ascii("Test With Truncation"), [], [], icv);
        Assert.Equal("4c1a03424b55e07fe7f27be1", Hex.Encode(icv));
    }

    private static byte[] ReferencePrfPlus(byte[] key, byte[] seed, int length)
    {
        // RFC 7296 section 2.13, written out block by block with HMAC-SHA-256.
        var output = new List<byte>();
        byte[] previous = [];
        for (byte n = 1; output.Count < length; n++)
        {
            byte[] input = [.. previous, .. seed, n];
            previous = HMACSHA256.HashData(key, input);
            output.AddRange(previous);
        }
        return output.Take(length).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(200)]
    [InlineData(255 * 32)]
    public void Plus_must_chain_blocks_as_RFC_7296_section_2_13(int length)
    {
        var key = Range(0x10, 0x2f);
        var seed = Ascii("seed for prf+ chaining");
        var output = new byte[length];
        Prf.Plus(PrfAlgorithm.HmacSha256, key, seed, output);
        Assert.Equal(ReferencePrfPlus(key, seed, length), output);
    }

    [Fact]
    public void Plus_must_refuse_more_than_255_blocks() =>
        Assert.Throws<ArgumentException>(() => Prf.Plus(PrfAlgorithm.HmacSha1, [1], [2], new byte[255 * 20 + 1]));

    [Fact]
    public void Compute_must_refuse_an_output_of_the_wrong_length() =>
        Assert.Throws<ArgumentException>(() => Prf.Compute(PrfAlgorithm.HmacSha256, [1], [2], new byte[31]));

    [Property]
    public bool Plus_must_give_prefixes_of_longer_outputs(byte[] key, byte[] seed, byte shortLength)
    {
        key ??= [];
        seed ??= [];
        var longer = new byte[300];
        var shorter = new byte[shortLength];
        Prf.Plus(PrfAlgorithm.HmacSha384, key, seed, longer);
        Prf.Plus(PrfAlgorithm.HmacSha384, key, seed, shorter);
        return longer.AsSpan(0, shortLength).SequenceEqual(shorter);
    }
}
