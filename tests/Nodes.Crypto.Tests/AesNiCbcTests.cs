using System.Security.Cryptography;
using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class AesNiCbcTests
{
    private const string Iv = "000102030405060708090a0b0c0d0e0f";
    private const string Plaintext = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

    // NIST SP 800-38A appendix F.2.1, F.2.3 and F.2.5: CBC-AES128, -AES192 and -AES256 encryption of four blocks.
    public static TheoryData<string, string> Sp80038a => new()
    {
        { "2b7e151628aed2a6abf7158809cf4f3c", "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7" },
        { "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd" },
        { "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
    };

    private static void RequireAesNi()
    {
        if (!AesNiCbc.IsSupported) throw new Xunit.SkipException("this processor has no AES instructions; PayloadProtection uses OpenSSL's AES here");
    }

    [SkippableTheory]
    [MemberData(nameof(Sp80038a))]
    public void Matches_SP_800_38A_both_ways(string key, string ciphertext)
    {
        RequireAesNi();
        using var aes = new AesNiCbc(Hex.Decode(key));
        var body = Hex.Decode(Plaintext);
        aes.Encrypt(Hex.Decode(Iv), body);
        Assert.Equal(ciphertext, Hex.Encode(body));
        aes.Decrypt(Hex.Decode(Iv), body);
        Assert.Equal(Plaintext, Hex.Encode(body));
    }

    [SkippableFact]
    public void Every_key_size_and_length_matches_dotnets_AES_CBC()
    {
        RequireAesNi();
        var random = new Random(5);
        foreach (var keyLength in new[] { 16, 24, 32 })
        {
            for (var trial = 0; trial < 20; trial++)
            {
                var key = new byte[keyLength];
                var iv = new byte[16];
                var plain = new byte[16 * random.Next(0, 40)];
                random.NextBytes(key);
                random.NextBytes(iv);
                random.NextBytes(plain);
                using var reference = Aes.Create();
                reference.Key = key;
                var expected = reference.EncryptCbc(plain, iv, PaddingMode.None);
                using var aes = new AesNiCbc(key);
                var body = plain.ToArray();
                aes.Encrypt(iv, body);
                Assert.Equal(Hex.Encode(expected), Hex.Encode(body));
                aes.Decrypt(iv, body);
                Assert.Equal(Hex.Encode(plain), Hex.Encode(body));
            }
        }
    }

    [SkippableFact]
    public void A_partial_block_or_a_short_iv_is_refused()
    {
        RequireAesNi();
        using var aes = new AesNiCbc(new byte[16]);
        Assert.Throws<ArgumentException>(() => aes.Encrypt(new byte[16], new byte[15]));
        Assert.Throws<ArgumentException>(() => aes.Decrypt(new byte[8], new byte[16]));
        Assert.Throws<ArgumentException>(() => new AesNiCbc(new byte[20]));
    }
}
