using Nodes.Crypto;

namespace Nodes.Crypto.Tests;

public class NullEncryptionKeyTests
{
    [Fact]
    public void Child_keys_for_null_encryption_must_have_empty_encryption_keys_and_real_integrity_keys()
    {
        var suite = new CipherSuite(EncryptionAlgorithm.Null, 0, IntegrityAlgorithm.HmacSha256_128);
        using var skD = new SecretKey(new byte[32]);
        using var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, suite, skD, null, new byte[16], new byte[16]);
        Assert.Equal(0, keys.InitiatorToResponderEncryption.Length);
        Assert.Equal(0, keys.ResponderToInitiatorEncryption.Length);
        Assert.Equal(32, keys.InitiatorToResponderIntegrity!.Length);
        Assert.NotEqual(keys.InitiatorToResponderIntegrity, keys.ResponderToInitiatorIntegrity);
        using var p = keys.CreateOutboundProtection(isInitiator: true);
        Assert.Equal(16, p.Suite.IcvLength);
    }
}
