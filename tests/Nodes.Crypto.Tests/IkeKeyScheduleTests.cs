using System.Security.Cryptography;
using System.Text;
using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class IkeKeyScheduleTests
{
    // NIST IKEv2 KDF sample chain as carried by Mozilla NSS gtests/common/testvectors/ike-sha{1,256,384,512}-vectors.h
    // (read from Floorp-Projects/Floorp security/nss/...). Entries #1/#6 are ikeGxy (g^ir, Ni, Nr -> SKEYSEED),
    // #7 ikeV2Rekey (SK_d(old), g^ir(new), Ni, Nr -> SKEYSEED), #8 ikePlus (SKEYSEED, Ni|Nr|SPIi|SPIr -> 132-byte DKM).
    public static TheoryData<string, PrfAlgorithm, string, string, string, string> NssSkeyseed => new()
    {
        { "sha1 #1", PrfAlgorithm.HmacSha1, "8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb", "69a62284195f1680", "80c94ba25c8abda5", "707197817fb2d90cf54d1842606bdea59b9f4823" },
        { "sha1 #6", PrfAlgorithm.HmacSha1, "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52", "32b50d5f4a3763f3", "9206a04b26564cb1", "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7" },
        {
            "sha256 #1", PrfAlgorithm.HmacSha256, "a1ff3dc6cf9b4c04709943cb4ca1f1789bcf360b03f1d027de3ae8ee039e9155",
            "b1dee62505b47b223bae14ce7a5b757402ad1587511618d09f94950d47f1d8d4ce86aca12"
            + "d78db9854d86019ad735757ae79d8932ac0c7db842c85060150ca875ea5d47e3cfcb2a059"
            + "22ebb7959d49b9797a2289676ee79a1d9a18b790f87e4771ddaf4be3376057a553162f68f"
            + "e429aca73b07234543801ba2122b1bde82251770d05df813cf556a11ca4dc43ffcb85a97d"
            + "bed16e2fda6985e07e31be6364899e63c507c7c616e5eb7765a53560f76772de43918ba07"
            + "badfe85244dcdcd917cb065afb60e3b7e68b54dd94bfc7c31c8b752892781ed3cc4b7f28f"
            + "bc0ab9af908f5ae1f09f893f80100a7b3135993161b51fbba3bbb24b9f88c6147de82cd6f"
            + "0",
            "f0acfef2ad1f7add0eaafda78c1cf1097d9fc91cb04a7c145069ac426fd164cbe661b1dd2"
            + "df0fb84e19512181f0d8ea50b7860845f332757a8e56d2a3b7be436b5718a2d49baa996a4"
            + "616684a208c2d611cd65e605dca6e3d3f116859b4410fe13679696bb2e23c08a40c7e1316"
            + "d54b4c9c0286701c221151b3642cb4112ca1a53e0e597a7e29c634caed86ca3c31973d37b"
            + "4c346134fd6784cd99913feedf3d29d89a0a02a5a750f02f5738109dcc670bb27701fb59f"
            + "78e83b76860c3fec079a1fc8c937ddb58ae7500422b7e49ce63759c65b6bc439381d56bcc"
            + "159edede894b073841036ebfa050a5b3e7c876a3f18def26b1768a263ac66c9d83b680eb5"
            + "e",
            "750c5c94b9c2ec20b68033e024dadf0fa87e8b48c6561b21c72478451a06583d"
        },
        { "sha256 #6", PrfAlgorithm.HmacSha256, "0f4d257d7a58fc4545c7d7a88119eee5d5c9690c5b4c989171d3abbfd99d1d29", "3f302be1abcb28e1", "8c332ee006064c9b", "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe" },
        { "sha384 #1", PrfAlgorithm.HmacSha384, "1724dbd893523764bfef8c6fa927856fccfb77ae254358cce29c2769a32915c1", "cec89d845add83ef", "cebd43ab71d17db9", "6e4514610bf82d0ab7bf0260096f6146a153c712071abb633ced813c572156c783e36874a" + "65a64690ca701d40d56ea18" },
        { "sha384 #6", PrfAlgorithm.HmacSha384, "d3288cd87565101e88fe3bad918f31939d8dd26ff1071f8b2d7f447524e58d7c", "fd1b572a8e735591", "6013b0ef88dacd3d", "69fe7a1ac94adaeb711295f5fe004b1a8d6a0b65d05692758ce8ad2f7a45f59d7d0b596f5" + "1f7dfcf3330061888f6a94f" },
        { "sha512 #1", PrfAlgorithm.HmacSha512, "b15a9cfce8c8d7eab879d6243029d40188d3b740875a6ac62f56cac4377e2edd", "acadc6314a69cfcd", "4e4ad17718fea7ce", "f05aa036dfce45a558d40418dea98096e519bc7841e3db3dd93658d118c3e83b502f398ec" + "b1361ec77d38a8855efff407f6f772e5d65b58eb1134096e8478d2b" },
        { "sha512 #6", PrfAlgorithm.HmacSha512, "276255c3eaace5c6db32b609aa86c0ef07bba4bf2dc4c262995efd95ca607c3f", "97c41a9b0a03e74c", "a659fd06e1746600", "d6e74966b75fd2afab48be319d63d97c8a5d2ffe2e320763a462c664b36c3a944067d867c" + "3a55fd8a7e5cca64b22e24415987e15549f09a81b455adaa5303df8" },
    };

    [Theory]
    [MemberData(nameof(NssSkeyseed))]
    public void Skeyseed_must_match_NIST_samples_in_NSS(string vector, PrfAlgorithm prf, string gir, string ni, string nr, string expected)
    {
        Assert.NotEmpty(vector);
        using var shared = new SecretKey(Hex.Decode(gir));
        using var skeyseed = IkeKeySchedule.Skeyseed(prf, Hex.Decode(ni), Hex.Decode(nr), shared);
        Assert.Equal(expected, Hex.Encode(skeyseed.Expose()));
    }

    public static TheoryData<string, PrfAlgorithm, string, string, string, string, string> NssRekey => new()
    {
        { "sha1 #7", PrfAlgorithm.HmacSha1, "a14293677cc80ff8f9cc0eee30d895da9d8f4056", "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330", "32b50d5f4a3763f3", "9206a04b26564cb1", "63e81194946ebd05df7df5ebf5d8750056bf1f1d" },
        { "sha256 #7", PrfAlgorithm.HmacSha256, "0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ec", "25f3b12d6f282739256e39bf54eda53b60ffcf379bb7bcc90c27b4c4c578616c", "3f302be1abcb28e1", "8c332ee006064c9b", "2d63f6debc92048b4fef3889c4c99ca67d6496e0fac14a2bca9a2d6566ff2398" },
        {
            "sha384 #7", PrfAlgorithm.HmacSha384,
            "4f904c2025c90c817ea5ff9b662a6fdb445a73b57cdf09eacd379b95e1f03cacb04cd6dee" + "da4f952191dd9bc1f7a9502",
            "3358f620539473aee8d07e779764c4c6a9aabddc79a28e136b3bac021dbde44a", "fd1b572a8e735591", "6013b0ef88dacd3d",
            "e0548c1682e13bce454026b3b1bdf42985b24e4e7408095a7c529de38c3d1fcb04c9fe686" + "8042a34c9614c6c99e3fcea"
        },
        {
            "sha512 #7", PrfAlgorithm.HmacSha512,
            "22259105314717dc73c210919ee9cb3ded774dc087e866aa3960404c0ed7b8e78e79b9938" + "88388e2e5cb238d4bfcb4cdee9da074a26e329d6c2f2f660cc9c711",
            "bb4015f7727b35532021336a9e4a6370ac8729b01fbb8f15d52236820fac4709", "97c41a9b0a03e74c", "a659fd06e1746600",
            "ecdaf3ccb990abc898a453b03fd56f9975275f150e1e571b0560b3cb2ee67289e82b899cd" + "c2129fd821fe8aebea796f190765c25798f5883f923526551f16a4b"
        },
    };

    [Theory]
    [MemberData(nameof(NssRekey))]
    public void RekeySkeyseed_must_match_NIST_samples_in_NSS(string vector, PrfAlgorithm prf, string oldSkD, string newGir, string ni, string nr, string expected)
    {
        Assert.NotEmpty(vector);
        using var skD = new SecretKey(Hex.Decode(oldSkD));
        using var shared = new SecretKey(Hex.Decode(newGir));
        using var skeyseed = IkeKeySchedule.RekeySkeyseed(prf, skD, shared, Hex.Decode(ni), Hex.Decode(nr));
        Assert.Equal(expected, Hex.Encode(skeyseed.Expose()));
    }

    public static TheoryData<string, PrfAlgorithm, string, string, string> NssDkm => new()
    {
        {
            "sha1 #8", PrfAlgorithm.HmacSha1, "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
            "32b50d5f4a3763f3" + "9206a04b26564cb1" + "34c9e7c188868785" + "3ff77d760d2b2199",
            "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e"
            + "514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a5c55b648a194ae587b"
            + "0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384bd275c5f594c"
            + "f266b05ebadca855e4249520a441a81157435a7a56cc4"
        },
        {
            "sha256 #8", PrfAlgorithm.HmacSha256, "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
            "3f302be1abcb28e1" + "8c332ee006064c9b" + "40dac39e1e1a8640" + "8619a1cf9a6e4c07",
            "0b137d669b0947d7d026d593f0305ad401ff0c471357d695778a9c7f4b4869ece98aca531"
            + "188d16041b3bb936d2dbb3b4993a6e768a809160de45d0283f273a6cdf6854379e31be72b"
            + "8d3d1fa990cf9c5b015ca9f918a7df6253c958114a09d4e1c19bdcd4db14b29d98db1a74a"
            + "d405c588662c14a04d0d36aa4ab55e90f8986d12d4aad"
        },
        {
            "sha384 #8", PrfAlgorithm.HmacSha384, "69fe7a1ac94adaeb711295f5fe004b1a8d6a0b65d05692758ce8ad2f7a45f59d7d0b596f5" + "1f7dfcf3330061888f6a94f",
            "fd1b572a8e735591" + "6013b0ef88dacd3d" + "2116ad07ce61f749" + "24880e55f11a65b7",
            "4f904c2025c90c817ea5ff9b662a6fdb445a73b57cdf09eacd379b95e1f03cacb04cd6dee"
            + "da4f952191dd9bc1f7a9502471a648d74dc06d38112de48a42501f6b1a3ad55c2099cd9a6"
            + "48e5f17e5bf3e34bf9b5953decb768a34f875fe2b78dca0c2fcca81ec1a412006dfaed38f"
            + "a06882e61f4c148105fb8e231fdb33c4d484c001721d4"
        },
        {
            "sha512 #8", PrfAlgorithm.HmacSha512, "d6e74966b75fd2afab48be319d63d97c8a5d2ffe2e320763a462c664b36c3a944067d867c" + "3a55fd8a7e5cca64b22e24415987e15549f09a81b455adaa5303df8",
            "97c41a9b0a03e74c" + "a659fd06e1746600" + "ff43c5c689b95481" + "e2ba607f30079bb7",
            "22259105314717dc73c210919ee9cb3ded774dc087e866aa3960404c0ed7b8e78e79b9938"
            + "88388e2e5cb238d4bfcb4cdee9da074a26e329d6c2f2f660cc9c711c941a2fb3d85a2e5d0"
            + "1e579c8f2c9d00fa6fabe76a137b00c7ff1b291899906588c26f073d819063238c4c844f0"
            + "f8d221b65b76dbc9ed6f6368e5dba86b3e81b60eb44a1"
        },
    };

    [Theory]
    [MemberData(nameof(NssDkm))]
    public void PrfPlus_must_match_NIST_DKM_samples_in_NSS(string vector, PrfAlgorithm prf, string skeyseed, string seed, string dkm)
    {
        Assert.NotEmpty(vector);
        var output = new byte[132];
        Prf.Plus(prf, Hex.Decode(skeyseed), Hex.Decode(seed), output);
        Assert.Equal(dkm, Hex.Encode(output));
        // NSS #9 and #10 are the 15-byte and hash-length truncations of the same stream.
        var shortOutput = new byte[15];
        Prf.Plus(prf, Hex.Decode(skeyseed), Hex.Decode(seed), shortOutput);
        Assert.Equal(dkm[..30], Hex.Encode(shortOutput));
    }

    private static (ulong SpiI, ulong SpiR, byte[] Ni, byte[] Nr) SplitSeed(string seed)
    {
        var bytes = Hex.Decode(seed);
        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(16)),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(24)), bytes[..8], bytes[8..16]);
    }

    [Fact]
    public void IkeSaKeys_must_split_the_NIST_SHA1_DKM_in_RFC_7296_order()
    {
        // 3 x 20 (SK_d, SK_pi, SK_pr) + 2 x 20 (HMAC-SHA1-96 keys) + 2 x 16 (AES-128 keys) = the 132-byte DKM of NSS sha1 #8.
        var (spiI, spiR, ni, nr) = SplitSeed("32b50d5f4a3763f3" + "9206a04b26564cb1" + "34c9e7c188868785" + "3ff77d760d2b2199");
        var dkm = Hex.Decode((string)NssDkm.First()[4]);
        using var skeyseed = new SecretKey(Hex.Decode("a9a7b222b59f8f48645f28a1db5b5f5d7479cba7"));
        using var keys = IkeKeySchedule.DeriveIkeSaKeys(PrfAlgorithm.HmacSha1, new CipherSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha1_96), skeyseed, ni, nr, spiI, spiR);
        byte[] joined = [.. keys.SkD.Expose(), .. keys.SkAi!.Expose(), .. keys.SkAr!.Expose(), .. keys.SkEi.Expose(), .. keys.SkEr.Expose(), .. keys.SkPi.Expose(), .. keys.SkPr.Expose()];
        Assert.Equal(dkm, joined);
        Assert.Equal((20, 20, 16, 20), (keys.SkD.Length, keys.SkAi.Length, keys.SkEi.Length, keys.SkPr.Length));
        // ... and its SK_d is the old SK_d of the rekey sample sha1 #7.
        Assert.Equal("a14293677cc80ff8f9cc0eee30d895da9d8f4056", Hex.Encode(keys.SkD.Expose()));
    }

    [Fact]
    public void IkeSaKeys_must_have_no_integrity_keys_for_a_combined_mode()
    {
        var (spiI, spiR, ni, nr) = SplitSeed("3f302be1abcb28e1" + "8c332ee006064c9b" + "40dac39e1e1a8640" + "8619a1cf9a6e4c07");
        var dkm = Hex.Decode((string)NssDkm.Skip(1).First()[4]);
        using var skeyseed = new SecretKey(Hex.Decode("5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe"));
        using var keys = IkeKeySchedule.DeriveIkeSaKeys(PrfAlgorithm.HmacSha256, new CipherSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None), skeyseed, ni, nr, spiI, spiR);
        Assert.Null(keys.SkAi);
        Assert.Null(keys.SkAr);
        Assert.Equal(20, keys.SkEi.Length); // 16-byte key + 4-byte salt, RFC 5282 section 7
        byte[] joined = [.. keys.SkD.Expose(), .. keys.SkEi.Expose(), .. keys.SkEr.Expose(), .. keys.SkPi.Expose(), .. keys.SkPr.Expose()];
        Assert.Equal(136, joined.Length);
        Assert.Equal(dkm, joined[..132]);
    }

    private static byte[] ReferencePrfPlusSha256(byte[] key, byte[] seed, int length)
    {
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
    [InlineData(false)]
    [InlineData(true)]
    public void ChildSaKeys_must_take_initiator_keys_then_responder_keys(bool withPfs)
    {
        var skD = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var ni = Hex.Decode("00112233445566778899aabbccddeeff");
        var nr = Hex.Decode("ffeeddccbbaa99887766554433221100");
        var gir = Enumerable.Repeat((byte)0x5a, 256).ToArray();
        var suite = new CipherSuite(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha256_128);
        using var key = new SecretKey(skD);
        using var pfs = withPfs ? new SecretKey(gir) : null;
        using var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, suite, key, pfs, ni, nr);
        // RFC 7296 section 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr).
        byte[] seed = withPfs ? [.. gir, .. ni, .. nr] : [.. ni, .. nr];
        var keymat = ReferencePrfPlusSha256(skD, seed, 128);
        Assert.Equal(keymat[0..32], keys.InitiatorToResponderEncryption.Expose().ToArray());
        Assert.Equal(keymat[32..64], keys.InitiatorToResponderIntegrity!.Expose().ToArray());
        Assert.Equal(keymat[64..96], keys.ResponderToInitiatorEncryption.Expose().ToArray());
        Assert.Equal(keymat[96..128], keys.ResponderToInitiatorIntegrity!.Expose().ToArray());
    }

    [Fact]
    public void ChildSaKeys_for_GCM_must_be_key_and_salt_per_direction_without_integrity()
    {
        var skD = Enumerable.Range(100, 48).Select(i => (byte)i).ToArray();
        var ni = Hex.Decode("0102030405060708090a0b0c0d0e0f10");
        var nr = Hex.Decode("1112131415161718191a1b1c1d1e1f20");
        var suite = new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None);
        using var key = new SecretKey(skD);
        using var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha384, suite, key, null, ni, nr);
        var keymat = new byte[72];
        Prf.Plus(PrfAlgorithm.HmacSha384, skD, [.. ni, .. nr], keymat);
        Assert.Equal(keymat[..36], keys.InitiatorToResponderEncryption.Expose().ToArray());
        Assert.Equal(keymat[36..], keys.ResponderToInitiatorEncryption.Expose().ToArray());
        Assert.Null(keys.InitiatorToResponderIntegrity);
        Assert.Null(keys.ResponderToInitiatorIntegrity);
    }

    [Fact]
    public void ChildSaKeys_protections_must_pair_initiator_outbound_with_responder_inbound()
    {
        using var skD = new SecretKey(Enumerable.Repeat((byte)7, 32).ToArray());
        using var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None),
            skD, null, new byte[16], new byte[16]);
        using var initiatorOut = keys.CreateOutboundProtection(isInitiator: true);
        using var responderIn = keys.CreateInboundProtection(isInitiator: false);
        using var responderOut = keys.CreateOutboundProtection(isInitiator: false);
        var body = Encoding.ASCII.GetBytes("inner packet");
        var icv = new byte[16];
        var iv = new byte[8];
        initiatorOut.Seal([1, 2, 3, 4, 0, 0, 0, 1], iv, body, icv);
        var copy = body.ToArray();
        Assert.False(responderOut.Open([1, 2, 3, 4, 0, 0, 0, 1], iv, copy, icv));
        Assert.True(responderIn.Open([1, 2, 3, 4, 0, 0, 0, 1], iv, body, icv));
        Assert.Equal("inner packet", Encoding.ASCII.GetString(body));
    }

    [Theory]
    [InlineData(PrfAlgorithm.HmacSha1)]
    [InlineData(PrfAlgorithm.HmacSha256)]
    [InlineData(PrfAlgorithm.HmacSha384)]
    [InlineData(PrfAlgorithm.HmacSha512)]
    public void PskAuthentication_must_follow_RFC_7296_section_2_15(PrfAlgorithm prf)
    {
        var psk = Encoding.ASCII.GetBytes("azure-shared-key");
        var message = Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray();
        var nonce = Hex.Decode("a1a2a3a4a5a6a7a8a9aaabacadaeafb0");
        var skPBytes = Enumerable.Range(0, Prf.OutputLength(prf)).Select(i => (byte)(0x40 + i)).ToArray();
        var idBody = Hex.Decode("01000000 c0a80101"); // ID_IPV4_ADDR, reserved, 192.168.1.1
        using var skP = new SecretKey(skPBytes);

        var hash = prf switch
        {
            PrfAlgorithm.HmacSha1 => HashAlgorithmName.SHA1,
            PrfAlgorithm.HmacSha256 => HashAlgorithmName.SHA256,
            PrfAlgorithm.HmacSha384 => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        byte[] Hmac(byte[] key, byte[] data)
        {
            using var h = IncrementalHash.CreateHMAC(hash, key);
            h.AppendData(data);
            return h.GetHashAndReset();
        }
        var padKey = Hmac(psk, Encoding.ASCII.GetBytes("Key Pad for IKEv2"));
        byte[] signedOctets = [.. message, .. nonce, .. Hmac(skPBytes, idBody)];
        var expected = Hmac(padKey, signedOctets);

        var auth = IkeKeySchedule.PskAuthentication(prf, psk, message, nonce, skP, idBody);
        Assert.Equal(expected, auth);
        Assert.True(IkeKeySchedule.VerifyPskAuthentication(prf, psk, message, nonce, skP, idBody, auth));
        var tampered = auth.ToArray();
        tampered[^1] ^= 0x80;
        Assert.False(IkeKeySchedule.VerifyPskAuthentication(prf, psk, message, nonce, skP, idBody, tampered));
        Assert.False(IkeKeySchedule.VerifyPskAuthentication(prf, psk, message, nonce, skP, idBody, auth[..^1]));
        Assert.False(IkeKeySchedule.VerifyPskAuthentication(prf, Encoding.ASCII.GetBytes("wrong-key"), message, nonce, skP, idBody, auth));
        Assert.False(IkeKeySchedule.VerifyPskAuthentication(prf, psk, message, nonce, skP, idBody, []));
    }

    [Fact]
    public void NatDetectionHash_must_be_SHA1_of_SPIs_address_and_port()
    {
        Span<byte> actual = stackalloc byte[20];
        IkeKeySchedule.NatDetectionHash(0x0123456789abcdef, 0, [192, 168, 1, 10], 500, actual);
        // RFC 7296 section 2.23, built by hand: SPIi | SPIr (zero in the first request) | IPv4 | port, network order.
        var expected = SHA1.HashData(Hex.Decode("0123456789abcdef 0000000000000000 c0a8010a 01f4"));
        Assert.Equal(expected, actual.ToArray());

        IkeKeySchedule.NatDetectionHash(0x0123456789abcdef, 0xfedcba9876543210, [203, 0, 113, 7], 4500, actual);
        Assert.Equal(SHA1.HashData(Hex.Decode("0123456789abcdef fedcba9876543210 cb007107 1194")), actual.ToArray());
    }

    [Fact]
    public void NatDetectionHash_must_refuse_wrong_shapes()
    {
        Assert.Throws<ArgumentException>(() => IkeKeySchedule.NatDetectionHash(1, 2, new byte[16], 500, new byte[20]));
        Assert.Throws<ArgumentException>(() => IkeKeySchedule.NatDetectionHash(1, 2, new byte[4], 500, new byte[32]));
    }

    [Fact]
    public void Key_schedule_must_refuse_an_unusable_suite()
    {
        using var key = new SecretKey(new byte[32]);
        Assert.Throws<ArgumentException>(() => IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256,
            new CipherSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.None), key, null, new byte[16], new byte[16]));
    }
}
