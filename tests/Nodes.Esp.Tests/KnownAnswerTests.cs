using System.Buffers.Binary;
using System.Security.Cryptography;
using Nodes.Crypto;
using Nodes.Esp;
using Nodes.TestKit;

namespace Nodes.Esp.Tests;

/// <summary>Whole ESP packets published by others, sealed and opened byte for byte.</summary>
public class KnownAnswerTests
{
    // ---- RFC 3602 section 4, cases #5 to #8: AES-128-CBC ESP packets. The RFC gives no ICV, so the SA runs
    // with HMAC-SHA1-96 and a test key: the packet up to the ICV must equal the published one, and the ICV must
    // equal an HMAC-SHA1 computed here, independently, over that published packet (RFC 2404: first 96 bits).
    // Hex as printed in the RFC (also transcribed in RUB-NDS/IPsec-StateMachineExtractor ESPMessageTest.java).

    private static readonly byte[] HmacKey = Hex.Decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");

    public static TheoryData<string, string, uint, ulong, byte, string, string> Rfc3602Cases => new()
    {
        {
            "case #5: transport mode, ICMP echo, 64-byte payload",
            "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1, 1,
            "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
            "202122232425262728292a2b2c2d2e2f3031323334353637",
            "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849" +
            "a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c" +
            "538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"
        },
        {
            "case #6: transport mode, ICMP echo, 28-byte payload",
            "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 8, 1,
            "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
            "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109" +
            "689bb379d2d750c0d915dca346a89f75"
        },
        {
            "case #7: tunnel mode, 192.168.123.3 to 192.168.123.200",
            "0123456789abcdef0123456789abcdef", 0x8765, 2, 4,
            "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b" +
            "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233" +
            "34353637",
            "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c" +
            "237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b" +
            "8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"
        },
        {
            "case #8: tunnel mode, 192.168.123.3 to 192.168.123.200",
            "0123456789abcdef0123456789abcdef", 0x8765, 5, 4,
            "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff" +
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f" +
            "e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de" +
            "435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"
        },
    };

    [Theory]
    [MemberData(nameof(Rfc3602Cases))]
    public void EspOutboundSa_must_seal_the_rfc3602_packets(string description, string key, uint spi, ulong seq, byte nextHeader, string payloadHex, string packetHex)
    {
        var published = Hex.Decode(packetHex);
        var payload = Hex.Decode(payloadHex);
        using var encKey = new SecretKey(Hex.Decode(key));
        using var macKey = new SecretKey(HmacKey);
        var iv = published[8..24];
        using var sa = new EspOutboundSa(spi, Suites.Cbc128Sha1, encKey, macKey, new SequenceCounter(false, seq - 1), new FixedRandomSource(iv));

        var buffer = new byte[sa.SealedLength(payload.Length)];
        Assert.Equal(EspSealStatus.Sealed, sa.Seal(payload, buffer, out var written, nextHeader));

        Assert.Equal(published.Length + 12, written);
        Assert.True(published.AsSpan().SequenceEqual(buffer.AsSpan(0, published.Length)), description);
        Assert.Equal(HMACSHA1.HashData(HmacKey, published)[..12], buffer[published.Length..]);
        Assert.Equal(seq, sa.LastSequence);
    }

    [Theory]
    [MemberData(nameof(Rfc3602Cases))]
    public void EspInboundSa_must_open_the_rfc3602_packets(string description, string key, uint spi, ulong seq, byte nextHeader, string payloadHex, string packetHex)
    {
        var published = Hex.Decode(packetHex);
        var packet = published.Concat(HMACSHA1.HashData(HmacKey, published)[..12]).ToArray();
        using var encKey = new SecretKey(Hex.Decode(key));
        using var macKey = new SecretKey(HmacKey);
        using var sa = new EspInboundSa(spi, Suites.Cbc128Sha1, encKey, macKey, extendedSequenceNumbers: false);

        Assert.True(sa.TryOpen(packet, out var opened, out var reason), $"{description}: {reason}");
        Assert.Equal(Hex.Decode(payloadHex), opened.Slice(packet).ToArray());
        Assert.Equal(nextHeader, opened.NextHeader);
        Assert.Equal(seq, opened.Sequence);
    }

    // ---- draft-mcgrew-gcm-test-01 section 4: AES-GCM ESP packets with 16-byte ICVs. Fields per vector: key,
    // salt, SPI, sequence number (64-bit when the draft's AAD is 12 bytes, i.e. ESN), IV, the plaintext that
    // ends with padding, pad length and next header, then ciphertext and ICV. The published ESP packet is
    // SPI || low 32 bits of the sequence number || IV || ciphertext || ICV. Hex transcribed from the draft's test
    // cases as reproduced in public GCM test tables (11 of them also in snabbco/snabb src/lib/ipsec/aes_gcm.lua).

    public sealed record GcmVector(
        string Name, string Key, string Salt, uint Spi, ulong Seq, bool Esn, string Iv, string Plaintext, string Ciphertext, string Icv)
    {
        public override string ToString() => Name;
    }

    public static readonly GcmVector[] GcmVectors =
    [
        new("128-bit key, ESN 0x87654321_00000000, UDP", "4c80cdefbb5d10da906ac73c3613a634", "2e443b68", 0x00004321, 0x8765432100000000, true,
            "4956ed7e3b244cfe",
            "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970045f756470037369700963796265726369747902646b000021000101020201",
            "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
            "459018148f6cbe722fd04796562dfdb4"),
        new("128-bit key, 32-bit seq 10, DNS", "feffe9928665731c6d6a8f9467308308", "cafebabe", 0x0000a5f8, 0x0a, false,
            "facedbaddecaf888",
            "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265726369747902646b00000100010001",
            "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1",
            "83b70d3aa8bc6ee4c309e9d85a41ad4a"),
        new("256-bit key, 32-bit seq 2, TCP SYN", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344", 0x4a2cbfe3, 2, false,
            "0102030405060708",
            "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
            "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
            "b335f4eecfdbf831824b4c4915956c96"),
        new("128-bit key, ESN 0x10101010_10101010, ICMP", "3de09874b388e6491988d0c3607eae1f", "57690e43", 0x42f67e3f, 0x1010101010101010, true,
            "4e280000a2fca1a3",
            "4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
            "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a",
            "e0d731cc978ecafaeae88f00e80d6e48"),
        new("128-bit key, ESN 0x10101010_10101010, short ICMP", "3de09874b388e6491988d0c3607eae1f", "57690e43", 0x42f67e3f, 0x1010101010101010, true,
            "4e280000a2fca1a3",
            "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
            "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed",
            "369f071f35e034be95f112e4e7d05d35"),
        new("192-bit key, 32-bit seq 10, TCP", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabe", 0x0000a5f8, 0x0a, false,
            "facedbaddecaf888",
            "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
            "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77",
            "95457b9652037f5318027b5b4cd7a636"),
        new("128-bit key, ESN 1, UDP", "abbccddef00112233445566778899aab", "decaf888", 0x00000100, 1, true,
            "cafedebaceface74",
            "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d500004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec959b6266c04722b14923010101",
            "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68",
            "651f57e65f354f75ff17015769623436"),
        new("256-bit key, ESN 0x156f3126_dd0db99b, TCP", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74", 0x17405e67, 0x156f3126dd0db99b, true,
            "616e640169766563",
            "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001",
            "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e",
            "451626c2415771e3b7eebca614c89b35"),
        new("128-bit key, ESN 0x10101010_10101010, UDP", "3de09874b388e6491988d0c3607eae1f", "57690e43", 0x42f67e3f, 0x1010101010101010, true,
            "4e280000a2fca1a3",
            "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b325ae270c03899493915010101",
            "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d54182800cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39ab533163aad4550ee5160975",
            "cdb608c5769189609763b8e18caa81e2"),
        new("256-bit key, ESN 0x156f3126_dd0db99b, text", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74", 0x17405e67, 0x156f3126dd0db99b, true,
            "616e640169766563",
            "636973636f0172756c657301746865016e6574776501646566696e6501746865746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f72726f7701020201",
            "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b012a49363412364f8",
            "c0cac587f249e56b11e24f30e44ccc76"),
        new("128-bit key, 32-bit seq 0xffffffff, empty payload", "7d773d00c144c525ac619d18c84a3f47", "d9664267", 0x335467ae, 0xffffffff, false,
            "43457e9182443bc6",
            "01020201",
            "437f866b",
            "cb3f699fe9b0822bac961c4504bef270"),
        new("128-bit key, ESN 1, text", "abbccddef00112233445566778899aab", "decaf888", 0x00000100, 1, true,
            "cafedebaceface74",
            "746f016265016f72016e6f7401746f0162650001",
            "29c9fc69a197d038ccdd14e2ddfcaa0543332164",
            "412503524303ed3c6c5f283843af8c3e"),
        new("256-bit key, ESN 0xffffffff_ffffffff, ICMP", "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961", "7475726e", 0x796b6963, 0xffffffffffffffff, true,
            "333021696765746d",
            "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
            "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe821dcc63b9",
            "d0937ba2945f669368661a329fb4c053"),
    ];

    public static TheoryData<GcmVector> Gcm => new(GcmVectors);

    private static byte[] PublishedPacket(GcmVector v)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, v.Spi);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)v.Seq);
        return [.. header, .. Hex.Decode(v.Iv), .. Hex.Decode(v.Ciphertext), .. Hex.Decode(v.Icv)];
    }

    private static CipherSuite SuiteOf(GcmVector v) => new(EncryptionAlgorithm.AesGcm16, Hex.Decode(v.Key).Length * 8, IntegrityAlgorithm.None);

    private static SecretKey KeyOf(GcmVector v) => new([.. Hex.Decode(v.Key), .. Hex.Decode(v.Salt)]);

    [Theory]
    [MemberData(nameof(Gcm))]
    public void EspOutboundSa_must_seal_the_draft_mcgrew_gcm_packets(GcmVector v)
    {
        var plaintext = Hex.Decode(v.Plaintext);
        var padLength = plaintext[^2];
        var inner = plaintext[..^(padLength + 2)];
        using var key = KeyOf(v);
        using var sa = new EspOutboundSa(v.Spi, SuiteOf(v), key, null, v.Esn, SystemRandomSource.Instance);

        var buffer = new byte[sa.SealedLength(inner.Length)];
        var written = sa.SealWith(inner, buffer, plaintext[^1], v.Seq, Hex.Decode(v.Iv));

        Assert.Equal(Hex.Encode(PublishedPacket(v)), Hex.Encode(buffer.AsSpan(0, written)));
    }

    [Theory]
    [MemberData(nameof(Gcm))]
    public void EspInboundSa_must_open_the_draft_mcgrew_gcm_packets(GcmVector v)
    {
        var plaintext = Hex.Decode(v.Plaintext);
        var packet = PublishedPacket(v);
        using var key = KeyOf(v);
        using var sa = new EspInboundSa(v.Spi, SuiteOf(v), key, null, v.Esn);
        // An SA that has already received the previous packet, so the window infers the draft's high half.
        if (v.Seq > 1) sa.Window.Commit(v.Seq - 1);

        Assert.True(sa.TryOpen(packet, out var opened, out var reason), reason.ToString());
        Assert.Equal(v.Seq, opened.Sequence);
        Assert.Equal(plaintext[^1], opened.NextHeader);
        Assert.Equal(Hex.Encode(plaintext[..^(plaintext[^2] + 2)]), Hex.Encode(opened.Slice(packet)));
    }

    [Fact]
    public void EspInboundSa_must_refuse_the_draft_mcgrew_vector_with_spi_zero()
    {
        // draft-mcgrew-gcm-test-01 has one vector with an all-zero key, salt, IV and SPI (AAD 00000000 00000001).
        // RFC 4303 section 2.1 forbids SPI 0 on the wire, so a receiver drops it before any cryptography.
        var packet = Hex.Decode(
            "00000000 00000001 0000000000000000" +
            "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3" +
            "f821d496eeb096e98ad2b69e4799c71d");
        using var key = new SecretKey(new byte[20]);
        using var sa = new EspInboundSa(0x100, Suites.Gcm16_128, key, null, false);
        Assert.False(sa.TryOpen(packet, out _, out var reason));
        Assert.Equal(EspDropReason.ReservedSpi, reason);
        Assert.Equal(1, sa.Counters.Drops(EspDropReason.ReservedSpi));
    }
}
