using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Nodes.Crypto;

/// <summary>
/// The IKEv2 key schedule of RFC 7296: SKEYSEED and the seven IKE SA keys (section 2.14), Child SA KEYMAT
/// (section 2.17), IKE SA rekeying (section 2.18), shared-key AUTH (section 2.15) and the NAT detection hash
/// (section 2.23). Keys go in and come out as <see cref="SecretKey"/>. Stateless and thread-safe.
/// </summary>
public static class IkeKeySchedule
{
    // RFC 7296 section 2.15: the 17 ASCII octets, no terminator.
    private static ReadOnlySpan<byte> KeyPad => "Key Pad for IKEv2"u8;

    /// <summary>SKEYSEED = prf(Ni | Nr, g^ir) (section 2.14).</summary>
    public static SecretKey Skeyseed(PrfAlgorithm prf, ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr, SecretKey sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(sharedSecret);
        var key = Concat(ni, nr);
        try
        {
            var output = new byte[Prf.OutputLength(prf)];
            Prf.Compute(prf, key, sharedSecret.Expose(), output);
            return SecretKey.Own(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (section 2.14).
    /// SK_d and SK_p* take the PRF's key length, SK_a* the integrity key length (none for a combined mode) and
    /// SK_e* the cipher key plus, for AES-GCM, its 4-byte salt (RFC 5282 section 7).
    /// </summary>
    public static IkeSaKeys DeriveIkeSaKeys(PrfAlgorithm prf, CipherSuite ikeSuite, SecretKey skeyseed,
        ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr, ulong spiI, ulong spiR)
    {
        ArgumentNullException.ThrowIfNull(skeyseed);
        if (ikeSuite.Problem is { } problem) throw new ArgumentException(problem, nameof(ikeSuite));
        var prfKey = Prf.OutputLength(prf);
        var integ = ikeSuite.IntegrityKeyLength;
        var enc = ikeSuite.EncryptionKeyLength;
        var seed = new byte[ni.Length + nr.Length + 16];
        ni.CopyTo(seed);
        nr.CopyTo(seed.AsSpan(ni.Length));
        BinaryPrimitives.WriteUInt64BigEndian(seed.AsSpan(ni.Length + nr.Length), spiI);
        BinaryPrimitives.WriteUInt64BigEndian(seed.AsSpan(ni.Length + nr.Length + 8), spiR);
        var keymat = new byte[3 * prfKey + 2 * integ + 2 * enc];
        try
        {
            Prf.Plus(prf, skeyseed.Expose(), seed, keymat);
            var reader = new KeymatReader(keymat);
            return new IkeSaKeys(
                skD: reader.Take(prfKey)!,
                skAi: reader.Take(integ),
                skAr: reader.Take(integ),
                skEi: reader.Take(enc)!,
                skEr: reader.Take(enc)!,
                skPi: reader.Take(prfKey)!,
                skPr: reader.Take(prfKey)!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keymat);
        }
    }

    /// <summary>SKEYSEED for a rekeyed IKE SA = prf(SK_d(old), g^ir(new) | Ni | Nr) (section 2.18).</summary>
    public static SecretKey RekeySkeyseed(PrfAlgorithm prf, SecretKey oldSkD, SecretKey newSharedSecret, ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr)
    {
        ArgumentNullException.ThrowIfNull(oldSkD);
        ArgumentNullException.ThrowIfNull(newSharedSecret);
        var data = Concat(newSharedSecret.Expose(), ni, nr);
        try
        {
            var output = new byte[Prf.OutputLength(prf)];
            Prf.Compute(prf, oldSkD.Expose(), data, output);
            return SecretKey.Own(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    /// <summary>
    /// KEYMAT = prf+(SK_d, [g^ir(new) |] Ni | Nr), taken as initiator→responder encryption and integrity keys,
    /// then responder→initiator (section 2.17). Ni and Nr are the nonces of the exchange that creates the Child
    /// SA (IKE_AUTH reuses IKE_SA_INIT's). <paramref name="pfsSharedSecret"/> is null unless CREATE_CHILD_SA carried KE payloads.
    /// </summary>
    public static ChildSaKeys DeriveChildSaKeys(PrfAlgorithm prf, CipherSuite espSuite, SecretKey skD, SecretKey? pfsSharedSecret,
        ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr)
    {
        ArgumentNullException.ThrowIfNull(skD);
        if (espSuite.Problem is { } problem) throw new ArgumentException(problem, nameof(espSuite));
        var seed = Concat(pfsSharedSecret is null ? [] : pfsSharedSecret.Expose(), ni, nr);
        var enc = espSuite.EncryptionKeyLength;
        var integ = espSuite.IntegrityKeyLength;
        var keymat = new byte[2 * (enc + integ)];
        try
        {
            Prf.Plus(prf, skD.Expose(), seed, keymat);
            var reader = new KeymatReader(keymat);
            // NULL encryption (RFC 2410) has no key: an empty one keeps the encryption keys non-null.
            var ei = reader.Take(enc) ?? new SecretKey([]);
            var ai = reader.Take(integ);
            var er = reader.Take(enc) ?? new SecretKey([]);
            var ar = reader.Take(integ);
            return new ChildSaKeys(espSuite, ei, ai, er, ar);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(keymat);
        }
    }

    /// <summary>
    /// Shared-key AUTH payload data (section 2.15): prf(prf(PSK, "Key Pad for IKEv2"), message | nonce | prf(SK_p, ID)).
    /// For the initiator: its whole IKE_SA_INIT request, Nr's data, SK_pi and the IDi payload body; for the
    /// responder: its IKE_SA_INIT response, Ni's data, SK_pr and the IDr body. The ID body is the payload
    /// after its generic header (ID type, three reserved octets, identification data).
    /// </summary>
    public static byte[] PskAuthentication(PrfAlgorithm prf, ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> messageOctets,
        ReadOnlySpan<byte> peerNonce, SecretKey skP, ReadOnlySpan<byte> idPayloadBody)
    {
        ArgumentNullException.ThrowIfNull(skP);
        var length = Prf.OutputLength(prf);
        Span<byte> padKey = stackalloc byte[length];
        Span<byte> macedId = stackalloc byte[length];
        try
        {
            Prf.Compute(prf, sharedKey, KeyPad, padKey);
            Prf.Compute(prf, skP.Expose(), idPayloadBody, macedId);
            using var mac = IncrementalHash.CreateHMAC(Prf.HashOf(prf), padKey);
            mac.AppendData(messageOctets);
            mac.AppendData(peerNonce);
            mac.AppendData(macedId);
            return mac.GetHashAndReset();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padKey);
            CryptographicOperations.ZeroMemory(macedId);
        }
    }

    /// <summary>
    /// Checks a peer's shared-key AUTH data in constant time. The arguments are the peer's view: its own
    /// message, this side's nonce, the peer's SK_p and the peer's ID body. False for a wrong value or length.
    /// </summary>
    public static bool VerifyPskAuthentication(PrfAlgorithm prf, ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> messageOctets,
        ReadOnlySpan<byte> peerNonce, SecretKey skP, ReadOnlySpan<byte> idPayloadBody, ReadOnlySpan<byte> receivedAuthentication)
    {
        var expected = PskAuthentication(prf, sharedKey, messageOctets, peerNonce, skP, idPayloadBody);
        try
        {
            return receivedAuthentication.Length == expected.Length
                && CryptographicOperations.FixedTimeEquals(expected, receivedAuthentication);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>
    /// NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP data = SHA-1(SPIi | SPIr | IP | port) (section 2.23),
    /// SPIs in header order (SPIr is zero in the first IKE_SA_INIT request), IPv4 address and port in network order.
    /// </summary>
    public static void NatDetectionHash(ulong spiI, ulong spiR, ReadOnlySpan<byte> ipv4Address4Bytes, ushort port, Span<byte> sha1Out20)
    {
        if (ipv4Address4Bytes.Length != 4) throw new ArgumentException($"an IPv4 address is 4 bytes, got {ipv4Address4Bytes.Length}", nameof(ipv4Address4Bytes));
        if (sha1Out20.Length != 20) throw new ArgumentException($"SHA-1 writes 20 bytes, the output span has {sha1Out20.Length}", nameof(sha1Out20));
        Span<byte> input = stackalloc byte[22];
        BinaryPrimitives.WriteUInt64BigEndian(input, spiI);
        BinaryPrimitives.WriteUInt64BigEndian(input[8..], spiR);
        ipv4Address4Bytes.CopyTo(input[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[20..], port);
        SHA1.HashData(input, sha1Out20);
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default)
    {
        var result = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        c.CopyTo(result.AsSpan(a.Length + b.Length));
        return result;
    }

    private ref struct KeymatReader(ReadOnlySpan<byte> keymat)
    {
        private ReadOnlySpan<byte> _rest = keymat;

        /// <summary>The next <paramref name="length"/> bytes as a key, or null for a zero-length key.</summary>
        public SecretKey? Take(int length)
        {
            if (length == 0) return null;
            var key = new SecretKey(_rest[..length]);
            _rest = _rest[length..];
            return key;
        }
    }
}

/// <summary>
/// The seven keys of an IKE SA (RFC 7296 section 2.14). SK_ai and SK_ar are null for a combined-mode
/// (AES-GCM) suite. Disposing zeroes all of them; <see cref="ToString"/> shows lengths only.
/// </summary>
public sealed class IkeSaKeys : IDisposable
{
    internal IkeSaKeys(SecretKey skD, SecretKey? skAi, SecretKey? skAr, SecretKey skEi, SecretKey skEr, SecretKey skPi, SecretKey skPr)
    {
        SkD = skD;
        SkAi = skAi;
        SkAr = skAr;
        SkEi = skEi;
        SkEr = skEr;
        SkPi = skPi;
        SkPr = skPr;
    }

    /// <summary>Derives Child SA keys and the next IKE SA's SKEYSEED.</summary>
    public SecretKey SkD { get; }
    /// <summary>Integrity key for messages from the original initiator; null for combined modes.</summary>
    public SecretKey? SkAi { get; }
    /// <summary>Integrity key for messages from the original responder; null for combined modes.</summary>
    public SecretKey? SkAr { get; }
    /// <summary>Encryption key (plus GCM salt) for messages from the original initiator.</summary>
    public SecretKey SkEi { get; }
    /// <summary>Encryption key (plus GCM salt) for messages from the original responder.</summary>
    public SecretKey SkEr { get; }
    /// <summary>Authenticates the initiator's ID in its AUTH payload.</summary>
    public SecretKey SkPi { get; }
    /// <summary>Authenticates the responder's ID in its AUTH payload.</summary>
    public SecretKey SkPr { get; }

    public override string ToString() =>
        $"IkeSaKeys(SK_d {SkD.Length} B, SK_a {SkAi?.Length ?? 0} B, SK_e {SkEi.Length} B, SK_p {SkPi.Length} B)";

    public void Dispose()
    {
        SkD.Dispose();
        SkAi?.Dispose();
        SkAr?.Dispose();
        SkEi.Dispose();
        SkEr.Dispose();
        SkPi.Dispose();
        SkPr.Dispose();
    }
}

/// <summary>
/// The keys of one Child SA pair (RFC 7296 section 2.17): one set per direction. Integrity keys are null for
/// combined-mode suites. Disposing zeroes them; <see cref="ToString"/> shows the suite and lengths only.
/// </summary>
public sealed class ChildSaKeys : IDisposable
{
    internal ChildSaKeys(CipherSuite suite, SecretKey initiatorToResponderEncryption, SecretKey? initiatorToResponderIntegrity,
        SecretKey responderToInitiatorEncryption, SecretKey? responderToInitiatorIntegrity)
    {
        Suite = suite;
        InitiatorToResponderEncryption = initiatorToResponderEncryption;
        InitiatorToResponderIntegrity = initiatorToResponderIntegrity;
        ResponderToInitiatorEncryption = responderToInitiatorEncryption;
        ResponderToInitiatorIntegrity = responderToInitiatorIntegrity;
    }

    public CipherSuite Suite { get; }
    public SecretKey InitiatorToResponderEncryption { get; }
    public SecretKey? InitiatorToResponderIntegrity { get; }
    public SecretKey ResponderToInitiatorEncryption { get; }
    public SecretKey? ResponderToInitiatorIntegrity { get; }

    /// <summary>Protection for packets this side sends; <paramref name="isInitiator"/> is the role in the exchange that created the SA.</summary>
    public PayloadProtection CreateOutboundProtection(bool isInitiator) => isInitiator
        ? Suite.CreateProtection(InitiatorToResponderEncryption, InitiatorToResponderIntegrity)
        : Suite.CreateProtection(ResponderToInitiatorEncryption, ResponderToInitiatorIntegrity);

    /// <summary>Protection for packets this side receives; <paramref name="isInitiator"/> is the role in the exchange that created the SA.</summary>
    public PayloadProtection CreateInboundProtection(bool isInitiator) => CreateOutboundProtection(!isInitiator);

    public override string ToString() =>
        $"ChildSaKeys({Suite}, encryption {InitiatorToResponderEncryption.Length} B, integrity {InitiatorToResponderIntegrity?.Length ?? 0} B per direction)";

    public void Dispose()
    {
        InitiatorToResponderEncryption.Dispose();
        InitiatorToResponderIntegrity?.Dispose();
        ResponderToInitiatorEncryption.Dispose();
        ResponderToInitiatorIntegrity?.Dispose();
    }
}
