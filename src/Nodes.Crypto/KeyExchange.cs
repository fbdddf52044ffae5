using System.Diagnostics.CodeAnalysis;

namespace Nodes.Crypto;

/// <summary>
/// One side of an IKEv2 Diffie-Hellman exchange: the local private value, the public value that goes into
/// the KE payload (RFC 7296 section 3.4) and the computation of g^ir from the peer's KE data.
/// Not thread-safe: one IKE SA owns an instance and disposes it once g^ir is known.
/// </summary>
public interface IKeyExchange : IDisposable
{
    DhGroup Group { get; }

    /// <summary>The KE payload's key exchange data, exactly <see cref="KeyExchange.PublicKeyLength"/> bytes.</summary>
    ReadOnlySpan<byte> PublicKey { get; }

    /// <summary>
    /// Computes g^ir from the peer's KE data. Returns false, never throws, when the value is unusable: wrong
    /// length, outside the group, on no curve, or yielding a degenerate secret.
    /// </summary>
    bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, [NotNullWhen(true)] out SecretKey? sharedSecret);
}

/// <summary>
/// Creates key exchanges for the groups Nodes speaks. Encodings follow the wire:
/// <list type="bullet">
/// <item>MODP groups 2, 14, 24: the public value and g^ir are big-endian and left-padded with zeros to the
/// prime's length (RFC 7296 sections 2.14 and 3.4).</item>
/// <item>ECP groups 19, 20: KE data is x ‖ y, each padded to the field size; g^ir is the x coordinate alone
/// (RFC 5903 section 7).</item>
/// <item>Curve25519, group 31: KE data is the 32-byte u-coordinate; g^ir is the X25519 output, refused when
/// all zero (RFC 8031 section 2, RFC 7748 section 6.1).</item>
/// </list>
/// </summary>
public static class KeyExchange
{
    public static bool IsSupported(DhGroup group) => group is DhGroup.Modp1024 or DhGroup.Modp2048
        or DhGroup.Modp2048S256 or DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Curve25519;

    /// <summary>Length of the KE payload's key exchange data for <paramref name="group"/>.</summary>
    public static int PublicKeyLength(DhGroup group) => group switch
    {
        DhGroup.Modp1024 => 128,
        DhGroup.Modp2048 or DhGroup.Modp2048S256 => 256,
        DhGroup.Ecp256 => 64,
        DhGroup.Ecp384 => 96,
        DhGroup.Curve25519 => 32,
        _ => throw Unsupported(group),
    };

    /// <summary>A fresh key pair whose private value is drawn from <paramref name="random"/>.</summary>
    public static IKeyExchange Create(DhGroup group, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return group switch
        {
            DhGroup.Modp1024 or DhGroup.Modp2048 or DhGroup.Modp2048S256 => ModpKeyExchange.Create(ModpGroup.Of(group), random),
            DhGroup.Ecp256 or DhGroup.Ecp384 => EcpKeyExchange.Create(group, random),
            DhGroup.Curve25519 => X25519KeyExchange.Create(random),
            _ => throw Unsupported(group),
        };
    }

    /// <summary>
    /// A key pair from a known private value, for published test vectors and replays. The private value is
    /// big-endian for MODP (the exponent) and ECP (the scalar, exactly the field's length); for Curve25519 it
    /// is the 32-byte scalar as RFC 7748 writes it. A value outside the group's range throws: this input is trusted.
    /// </summary>
    public static IKeyExchange FromPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey) => group switch
    {
        DhGroup.Modp1024 or DhGroup.Modp2048 or DhGroup.Modp2048S256 => ModpKeyExchange.FromPrivateKey(ModpGroup.Of(group), privateKey),
        DhGroup.Ecp256 or DhGroup.Ecp384 => EcpKeyExchange.FromPrivateKey(group, privateKey),
        DhGroup.Curve25519 => X25519KeyExchange.FromPrivateKey(privateKey),
        _ => throw Unsupported(group),
    };

    private static NotSupportedException Unsupported(DhGroup group) =>
        new($"key exchange group {(ushort)group} ({Names.Of(group)}) is not supported");
}
