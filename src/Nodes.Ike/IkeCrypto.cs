using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire;
using Nodes.Wire.Ike;

namespace Nodes.Ike;

/// <summary>
/// The keys of one IKE SA and the protection of its SK payloads in both directions (RFC 7296 sections 2.14 and
/// 3.14). "Initiator" here is the original initiator of this IKE SA, whose messages carry the I flag and use SK_ei/SK_ai.
/// Not thread-safe; owned by one IKE SA.
/// </summary>
public sealed class IkeCrypto : IDisposable
{
    private readonly PayloadProtection _outbound;
    private readonly PayloadProtection _inbound;
    private readonly IRandomSource _random;

    public IkeCrypto(IkeSuite suite, IkeSaKeys keys, bool weAreOriginalInitiator, IRandomSource random)
    {
        Suite = suite;
        Keys = keys;
        WeAreOriginalInitiator = weAreOriginalInitiator;
        _random = random;
        // An IKE SA seals and opens a few messages in its life (IKE_AUTH, DPD, rekeys): no long-lived cipher contexts.
        var initiatorOut = suite.Cipher.CreateProtection(keys.SkEi, keys.SkAi, ProtectionUse.Occasional);
        var responderOut = suite.Cipher.CreateProtection(keys.SkEr, keys.SkAr, ProtectionUse.Occasional);
        _outbound = weAreOriginalInitiator ? initiatorOut : responderOut;
        _inbound = weAreOriginalInitiator ? responderOut : initiatorOut;
    }

    public IkeSuite Suite { get; }
    public IkeSaKeys Keys { get; }
    public bool WeAreOriginalInitiator { get; }

    /// <summary>SK_p of this side, for its own AUTH payload.</summary>
    public SecretKey OwnSkP => WeAreOriginalInitiator ? Keys.SkPi : Keys.SkPr;

    /// <summary>SK_p of the peer, for checking the peer's AUTH payload.</summary>
    public SecretKey PeerSkP => WeAreOriginalInitiator ? Keys.SkPr : Keys.SkPi;

    /// <summary>Builds a message whose only outer payload is SK around <paramref name="inner"/>.</summary>
    public byte[] Seal(ulong spiI, ulong spiR, ExchangeType exchange, IkeFlags flags, uint messageId, IReadOnlyList<IkePayload> inner)
    {
        var chain = IkePayloadChain.ToArray(inner);
        var c = Suite.Cipher;
        var total = SkMessage.SealedLength(chain.Length, c.IvLength, c.BlockSize, c.IcvLength);
        var buffer = new byte[total];
        if (!SkMessage.TryLayout(spiI, spiR, exchange, flags, messageId, IkePayloadChain.FirstType(inner), chain,
                c.IvLength, c.BlockSize, c.IcvLength, buffer, out var s, out _, out var error))
            throw new InvalidOperationException($"an IKE message of {chain.Length} payload bytes does not fit an SK payload ({error})");
        _random.Fill(s.Iv);
        _outbound.Seal(s.Aad, s.Iv, s.Body, s.Icv);
        return buffer;
    }

    /// <summary>
    /// Checks and decrypts a received SK message in place. Returns false (with the reason) for anything that does not
    /// authenticate or does not parse after decryption; nothing about the SA changes in that case.
    /// </summary>
    public bool TryOpen(byte[] datagram, out List<IkePayload> payloads, out OpenFailure failure, out IkePayloadType unsupportedCritical)
    {
        payloads = [];
        unsupportedCritical = IkePayloadType.None;
        var c = Suite.Cipher;
        if (!SkMessage.TryLocate(datagram, c.IvLength, c.BlockSize, c.IcvLength, out var s, out _))
        {
            failure = OpenFailure.Malformed;
            return false;
        }
        if (!_inbound.Open(s.Aad, s.Iv, s.Body, s.Icv))
        {
            failure = OpenFailure.Integrity;
            return false;
        }
        if (!SkMessage.TryOpenInner(s.Body, s.FirstInnerType, out payloads, out var error, out unsupportedCritical))
        {
            failure = error == WireError.UnsupportedCriticalPayload ? OpenFailure.UnsupportedCritical : OpenFailure.InnerSyntax;
            return false;
        }
        failure = OpenFailure.None;
        return true;
    }

    public void Dispose()
    {
        _outbound.Dispose();
        _inbound.Dispose();
        Keys.Dispose();
    }
}

public enum OpenFailure
{
    None,
    /// <summary>Not a well-formed SK message: dropped without a word (RFC 7296 section 2.21).</summary>
    Malformed,
    /// <summary>The ICV did not verify: dropped, nothing changes.</summary>
    Integrity,
    /// <summary>Authentic, but the decrypted payloads do not parse: INVALID_SYNTAX.</summary>
    InnerSyntax,
    /// <summary>Authentic, with an unknown critical payload: UNSUPPORTED_CRITICAL_PAYLOAD.</summary>
    UnsupportedCritical,
}
