using Nodes.TestKit;

namespace Nodes.Crypto.Tests;

public class RedactionTests
{
    private static void AssertNoKeyBytes(object holder, params SecretKey?[] keys)
    {
        var text = holder.ToString() ?? "";
        foreach (var key in keys)
        {
            if (key is null) continue;
            var bytes = key.Expose();
            // Any 4-byte window of the key, in either case, would be a leak.
            for (var i = 0; i + 4 <= bytes.Length; i++)
            {
                var window = Hex.Encode(bytes.Slice(i, 4));
                Assert.DoesNotContain(window, text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public void SecretKey_ToString_must_redact()
    {
        using var key = new SecretKey(Hex.Decode("00112233445566778899aabbccddeeff"));
        Assert.Equal("[redacted 16-byte key]", key.ToString());
        AssertNoKeyBytes(key, key);
    }

    [Fact]
    public void Key_holding_types_must_not_show_key_bytes()
    {
        var ni = Enumerable.Range(0, 16).Select(i => (byte)(0xa0 + i)).ToArray();
        var nr = Enumerable.Range(0, 16).Select(i => (byte)(0xb0 + i)).ToArray();
        using var initiator = KeyExchange.Create(DhGroup.Ecp256, new SeededRandomSource(1, "i"));
        using var responder = KeyExchange.Create(DhGroup.Ecp256, new SeededRandomSource(1, "r"));
        Assert.True(initiator.TryDeriveSharedSecret(responder.PublicKey, out var shared));
        using (shared)
        {
            AssertNoKeyBytes(initiator, shared);
            using var skeyseed = IkeKeySchedule.Skeyseed(PrfAlgorithm.HmacSha256, ni, nr, shared);
            foreach (var suite in new[] { new CipherSuite(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha256_128), new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None) })
            {
                using var ike = IkeKeySchedule.DeriveIkeSaKeys(PrfAlgorithm.HmacSha256, suite, skeyseed, ni, nr, 1, 2);
                AssertNoKeyBytes(ike, skeyseed, ike.SkD, ike.SkAi, ike.SkAr, ike.SkEi, ike.SkEr, ike.SkPi, ike.SkPr);
                using var child = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, suite, ike.SkD, shared, ni, nr);
                AssertNoKeyBytes(child, child.InitiatorToResponderEncryption, child.InitiatorToResponderIntegrity,
                    child.ResponderToInitiatorEncryption, child.ResponderToInitiatorIntegrity);
                using var protection = child.CreateOutboundProtection(true);
                AssertNoKeyBytes(protection, child.InitiatorToResponderEncryption, child.InitiatorToResponderIntegrity);
            }
        }
    }

    [Fact]
    public void Disposed_key_must_refuse_to_expose()
    {
        var key = new SecretKey([1, 2, 3]);
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.Expose().Length);
    }
}
