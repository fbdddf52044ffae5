using System.Security.Cryptography;
using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class PrekeyedHmacTests
{
    private static HashAlgorithmName HashOf(PrfAlgorithm prf) => prf switch
    {
        PrfAlgorithm.HmacSha1 => HashAlgorithmName.SHA1,
        PrfAlgorithm.HmacSha256 => HashAlgorithmName.SHA256,
        PrfAlgorithm.HmacSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    /// <summary>The MAC of <paramref name="data"/> in two appends, asked three times of one instance (the states are reused).</summary>
    private static string Mac(HashAlgorithmName hash, byte[] key, byte[] data)
    {
        using var mac = new PrekeyedHmac(hash, key);
        var output = new byte[mac.OutputLength];
        var first = "";
        for (var round = 0; round < 3; round++)
        {
            var work = new byte[PrekeyedHmac.WorkBytes];
            mac.Begin(work);
            mac.Append(work, data.AsSpan(0, data.Length / 3));
            mac.Append(work, data.AsSpan(data.Length / 3));
            mac.Finish(work, output);
            Assert.All(work, b => Assert.Equal(0, b)); // no state of the message is left behind
            var text = Hex.Encode(output);
            if (round == 0) first = text;
            else Assert.Equal(first, text);
        }
        return first;
    }

    [Theory]
    [MemberData(nameof(PrfTests.Rfc2202), MemberType = typeof(PrfTests))]
    public void HmacSha1_matches_RFC_2202(int testCase, byte[] key, byte[] data, string expected)
    {
        Assert.True(testCase > 0);
        Assert.Equal(expected, Mac(HashAlgorithmName.SHA1, key, data));
    }

    [Theory]
    [MemberData(nameof(PrfTests.Rfc4231), MemberType = typeof(PrfTests))]
    public void HmacSha2_matches_RFC_4231(int testCase, PrfAlgorithm prf, byte[] key, byte[] data, string expected)
    {
        var full = Mac(HashOf(prf), key, data);
        if (testCase == 5) Assert.StartsWith(expected, full);
        else Assert.Equal(expected, full);
    }

    [SkippableFact]
    public void On_Linux_the_prekeyed_states_are_used_for_every_hash()
    {
        if (!OperatingSystem.IsLinux()) throw new Xunit.SkipException("the prekeyed states need OpenSSL's libcrypto.so.3 (Linux); elsewhere .NET's HMAC is used");
        foreach (var hash in new[] { HashAlgorithmName.SHA1, HashAlgorithmName.SHA256, HashAlgorithmName.SHA384, HashAlgorithmName.SHA512 })
        {
            using var mac = new PrekeyedHmac(hash, [1, 2, 3]);
            Assert.True(mac.Prekeyed, $"{hash} fell back to IncrementalHash");
        }
    }

    [Fact]
    public void Every_key_and_message_length_matches_dotnets_HMAC()
    {
        var random = new Random(7);
        foreach (var hash in new[] { HashAlgorithmName.SHA1, HashAlgorithmName.SHA256, HashAlgorithmName.SHA384, HashAlgorithmName.SHA512 })
        {
            foreach (var keyLength in new[] { 0, 1, 20, 63, 64, 65, 127, 128, 129, 200 })
            {
                var key = new byte[keyLength];
                random.NextBytes(key);
                using var mac = new PrekeyedHmac(hash, key);
                var output = new byte[mac.OutputLength];
                for (var length = 0; length < 300; length += 7)
                {
                    var data = new byte[length];
                    random.NextBytes(data);
                    var work = new byte[PrekeyedHmac.WorkBytes];
                    mac.Begin(work);
                    mac.Append(work, data);
                    mac.Finish(work, output);
                    Assert.Equal(Hex.Encode(CryptographicOperations.HmacData(hash, key, data)), Hex.Encode(output));
                }
            }
        }
    }

    [Fact]
    public void The_native_sha256_one_shot_is_sha256()
    {
        var random = new Random(11);
        for (var length = 0; length < 300; length += 13)
        {
            var data = new byte[length];
            random.NextBytes(data);
            var output = new byte[32];
            NativeDigests.HashSha256(data, output);
            Assert.Equal(Hex.Encode(SHA256.HashData(data)), Hex.Encode(output));
        }
    }
}
