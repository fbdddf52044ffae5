namespace Nodes.Ike.Proposals;

/// <summary>
/// The proposal lists of the two devices Nodes imitates, from Microsoft's documentation as summarised in the
/// project's fact sheet (Azure: "About VPN devices and IPsec/IKE parameters", route-based gateway; Windows
/// RRAS: observed defaults). Entries using DES or DH group 1 (768-bit MODP), which Azure still lists as a
/// responder, are left out: Nodes does not implement those transforms, and no current peer should offer them.
/// </summary>
public static class DeviceDefaults
{
    /// <summary>Azure route-based gateway, IKEv2 phase 1 offers in preference order (all DH group 2).</summary>
    public static readonly IReadOnlyList<Proposal> AzureIke = Ike(
        "aes256-sha1-modp1024",
        "aes256-sha256-modp1024",
        "aes128-sha1-modp1024",
        "aes128-sha256-modp1024",
        "3des-sha1-modp1024",
        "3des-sha256-modp1024");

    /// <summary>Azure route-based gateway as initiator: Child SA offers in order, none with PFS.</summary>
    public static readonly IReadOnlyList<Proposal> AzureEspInitiator = Esp(
        "aes256gcm16",
        "aes256-sha1",
        "3des-sha1",
        "aes256-sha256",
        "aes128-sha1",
        "3des-sha256");

    /// <summary>
    /// Azure route-based gateway as responder: the documented 26 offers, in order, less the DES and PFS1
    /// entries (numbers 7, 8, 11, 14, 17 and 23 of the list).
    /// </summary>
    public static readonly IReadOnlyList<Proposal> AzureEspResponder = Esp(
        "aes256gcm16",
        "aes256-sha1",
        "3des-sha1",
        "aes256-sha256",
        "aes128-sha1",
        "3des-sha256",
        "aes256-sha1-modp1024",
        "aes256-sha1-modp2048",
        "aes128-sha1-modp1024",
        "aes128-sha1-modp2048",
        "3des-sha1-modp1024",
        "3des-sha256-modp1024",
        "aes256-sha256-modp1024",
        "aes256-sha256-modp2048",
        "aes256-sha1-modp2048s256",
        "aes256-sha256-modp2048s256",
        "aes128-sha256",
        "aes128-sha256-modp1024",
        "aes128-sha256-modp2048",
        "3des-sha1-modp2048");

    /// <summary>
    /// Windows Server RRAS as an IKEv2 initiator with its default (non-custom) policy. Windows is documented to
    /// settle on 3DES/SHA1/DH2 against its own clients; the order below (3DES first) follows that observation and
    /// is an assumption, not a published list.
    /// </summary>
    public static readonly IReadOnlyList<Proposal> WindowsIke = Ike(
        "3des-sha1-modp1024",
        "aes256-sha1-modp1024",
        "3des-sha256-modp1024",
        "aes256-sha256-modp1024");

    /// <summary>Windows Server RRAS Child SA offers with its default policy (same caveat as <see cref="WindowsIke"/>).</summary>
    public static readonly IReadOnlyList<Proposal> WindowsEsp = Esp(
        "aes256-sha1",
        "3des-sha1");

    /// <summary>Azure's IKE SA lifetime, fixed even with a custom policy.</summary>
    public static readonly TimeSpan AzureIkeLifetime = TimeSpan.FromSeconds(28_800);

    /// <summary>Azure route-based Child SA lifetime by time.</summary>
    public static readonly TimeSpan AzureChildLifetime = TimeSpan.FromSeconds(27_000);

    /// <summary>Azure Child SA lifetime by volume: 102,400,000 KB.</summary>
    public const long AzureChildLifetimeBytes = 102_400_000L * 1024;

    /// <summary>Windows RRAS main mode (IKE SA) lifetime, as Set-VpnS2SInterface reports MMSALifeTime.</summary>
    public static readonly TimeSpan RrasIkeLifetime = TimeSpan.FromSeconds(28_800);

    /// <summary>Windows RRAS quick mode (Child SA) lifetime, as Set-VpnS2SInterface reports SALifeTime.</summary>
    public static readonly TimeSpan RrasChildLifetime = TimeSpan.FromSeconds(3_600);

    /// <summary>Windows RRAS Child SA volume before renegotiation: 100 MB, the Windows Server 2012 default Azure's script raises.</summary>
    public const long RrasChildLifetimeBytes = 100L * 1024 * 1024;

    /// <summary>Azure's default dead peer detection timeout.</summary>
    public static readonly TimeSpan AzureDpdTimeout = TimeSpan.FromSeconds(45);

    private static IReadOnlyList<Proposal> Ike(params string[] texts) => texts.Select(t => ProposalText.Parse(t, forIke: true)).ToArray();

    private static IReadOnlyList<Proposal> Esp(params string[] texts) => texts.Select(t => ProposalText.Parse(t, forIke: false)).ToArray();
}
