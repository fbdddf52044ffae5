using System.Collections.Immutable;
using System.Net;
using System.Text;
using Nodes.Crypto;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ike;
using Nodes.Wire.Ip;
using Proposal = Nodes.Ike.Proposals.Proposal;

namespace Nodes.Ike;

/// <summary>An IKE identity (RFC 7296 section 3.5): what IDi/IDr carry and what AUTH signs.</summary>
public sealed record IkeIdentity(IdType Type, ImmutableArray<byte> Data)
{
    public static IkeIdentity Address(Ipv4Address address)
    {
        Span<byte> b = stackalloc byte[4];
        address.Write(b);
        return new IkeIdentity(IdType.Ipv4Address, [.. b]);
    }

    public static IkeIdentity Fqdn(string name) => new(IdType.Fqdn, [.. Encoding.ASCII.GetBytes(name)]);

    public static IkeIdentity Email(string name) => new(IdType.Rfc822Address, [.. Encoding.ASCII.GetBytes(name)]);

    public static IkeIdentity KeyId(ReadOnlySpan<byte> id) => new(IdType.KeyId, [.. id]);

    /// <summary>Parses an address ("52.172.171.0"), an e-mail style name ("left@sswan.test") or an FQDN.</summary>
    public static IkeIdentity Parse(string text) =>
        Ipv4Address.TryParse(text, out var a) ? Address(a)
        : text.Contains('@', StringComparison.Ordinal) ? Email(text)
        : Fqdn(text);

    internal IdentificationPayload ToPayload(IkePayloadType type) => new(type, Type, OctetString.Copy(Data.AsSpan()));

    internal static IkeIdentity From(IdentificationPayload p) => new(p.IdType, [.. p.Data.Span]);

    public bool Equals(IkeIdentity? other) => other is not null && Type == other.Type && Data.AsSpan().SequenceEqual(other.Data.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Type, Data.Length);

    public override string ToString() => Type switch
    {
        IdType.Ipv4Address when Data.Length == 4 => new IPAddress(Data.AsSpan()).ToString(),
        IdType.Fqdn or IdType.Rfc822Address => Encoding.ASCII.GetString(Data.AsSpan()),
        _ => $"{Type}:{Convert.ToHexStringLower(Data.AsSpan())}",
    };
}

/// <summary>An IPv4 traffic selector range (RFC 7296 section 3.13.1).</summary>
public readonly record struct TsRange(Ipv4Address Start, Ipv4Address End, byte Protocol = 0, ushort StartPort = 0, ushort EndPort = ushort.MaxValue)
{
    /// <summary>Every IPv4 address, protocol and port: the any-to-any selector of a route-based tunnel.</summary>
    public static TsRange Any => new(Ipv4Address.Any, Ipv4Address.Broadcast);

    public static TsRange FromPrefix(Ipv4Prefix prefix) => new(prefix.Network, prefix.Last);

    public bool Contains(Ipv4Address a) => a.Value >= Start.Value && a.Value <= End.Value;

    /// <summary>The overlap of two ranges, or null (RFC 7296 section 2.9 narrowing).</summary>
    public TsRange? Intersect(TsRange other)
    {
        var start = Math.Max(Start.Value, other.Start.Value);
        var end = Math.Min(End.Value, other.End.Value);
        if (start > end) return null;
        if (Protocol != 0 && other.Protocol != 0 && Protocol != other.Protocol) return null;
        var sp = Math.Max(StartPort, other.StartPort);
        var ep = Math.Min(EndPort, other.EndPort);
        if (sp > ep) return null;
        return new TsRange(new Ipv4Address(start), new Ipv4Address(end), Protocol != 0 ? Protocol : other.Protocol, sp, ep);
    }

    internal TrafficSelector ToWire() => new(TrafficSelectorType.Ipv4AddressRange, Protocol, StartPort, EndPort, new IPAddress(Bytes(Start)), new IPAddress(Bytes(End)));

    internal static TsRange? FromWire(TrafficSelector s)
    {
        if (s.SelectorType != TrafficSelectorType.Ipv4AddressRange) return null;
        var start = Ipv4Address.Read(s.StartAddress.GetAddressBytes());
        var end = Ipv4Address.Read(s.EndAddress.GetAddressBytes());
        return new TsRange(start, end, s.IpProtocol, s.StartPort, s.EndPort);
    }

    private static byte[] Bytes(Ipv4Address a)
    {
        var b = new byte[4];
        a.Write(b);
        return b;
    }

    public override string ToString()
    {
        var range = Start == Ipv4Address.Any && End == Ipv4Address.Broadcast ? "0.0.0.0/0" : PrefixText() ?? $"{Start}-{End}";
        var proto = Protocol == 0 ? string.Empty : $" proto {Protocol}";
        var ports = StartPort == 0 && EndPort == ushort.MaxValue ? string.Empty : $" ports {StartPort}-{EndPort}";
        return range + proto + ports;
    }

    private string? PrefixText()
    {
        var size = (ulong)End.Value - Start.Value + 1;
        if ((size & (size - 1)) != 0 || (Start.Value & (uint)(size - 1)) != 0) return null;
        var length = 32 - System.Numerics.BitOperations.Log2(size);
        return $"{Start}/{length}";
    }
}

/// <summary>Retransmission of requests (RFC 7296 section 2.4), strongSwan's defaults: 4 s, factor 1.8, 5 tries.</summary>
public sealed record RetransmitPolicy(TimeSpan Timeout, double Base, int Tries)
{
    public static RetransmitPolicy Default { get; } = new(TimeSpan.FromSeconds(4), 1.8, 5);

    /// <summary>Delay before retransmission number <paramref name="attempt"/> (0 = after the first send).</summary>
    public TimeSpan Delay(int attempt) => TimeSpan.FromTicks((long)(Timeout.Ticks * Math.Pow(Base, attempt)));

    /// <summary>Time from the first send until the exchange is given up.</summary>
    public TimeSpan GiveUpAfter => Enumerable.Range(0, Tries + 1).Aggregate(TimeSpan.Zero, (t, i) => t + Delay(i));
}

/// <summary>Soft (rekey) and hard (expire) lifetimes; the soft one is drawn with jitter below the configured value.</summary>
public sealed record Lifetimes(TimeSpan IkeRekey, TimeSpan ChildRekey, long ChildRekeyBytes, double Jitter = 0.1)
{
    /// <summary>How long after the soft lifetime an SA that failed to rekey is torn down.</summary>
    public TimeSpan HardMargin { get; init; } = TimeSpan.FromSeconds(540);

    /// <summary>Azure route-based gateway: IKE 28,800 s, Child 27,000 s and 102,400,000 KB.</summary>
    public static Lifetimes Azure { get; } = new(DeviceDefaults.AzureIkeLifetime, DeviceDefaults.AzureChildLifetime, DeviceDefaults.AzureChildLifetimeBytes);

    /// <summary>Windows RRAS: main mode 28,800 s, quick mode 3,600 s and 100 MB (<see cref="DeviceDefaults.RrasChildLifetimeBytes"/>).</summary>
    public static Lifetimes Rras { get; } = new(DeviceDefaults.RrasIkeLifetime, DeviceDefaults.RrasChildLifetime, DeviceDefaults.RrasChildLifetimeBytes);
}

/// <summary>
/// Everything one side of an IKE SA needs to know: who it is, whom it talks to, its proposals, its traffic
/// selectors and its timers. One configuration can serve many IKE SAs (a responder's connection).
/// </summary>
public sealed record IkeSaConfig
{
    public required string Name { get; init; }
    public required IkeIdentity LocalId { get; init; }
    /// <summary>The identity expected from the peer, or null to accept any identity whose AUTH verifies.</summary>
    public IkeIdentity? RemoteId { get; init; }
    /// <summary>The pre-shared key. Kept as a key so that it never prints.</summary>
    public required SecretKey SharedKey { get; init; }
    public required IReadOnlyList<Proposal> IkeProposals { get; init; }
    public required IReadOnlyList<Proposal> EspProposals { get; init; }
    public ImmutableArray<TsRange> LocalTs { get; init; } = [TsRange.Any];
    public ImmutableArray<TsRange> RemoteTs { get; init; } = [TsRange.Any];
    public Lifetimes Lifetimes { get; init; } = Lifetimes.Azure;
    public RetransmitPolicy Retransmit { get; init; } = RetransmitPolicy.Default;
    /// <summary>Idle time after which a liveness check is sent; null turns dead peer detection off.</summary>
    public TimeSpan? DpdDelay { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a liveness check may go unanswered before the peer is declared dead (Azure: 45 s).</summary>
    public TimeSpan DpdTimeout { get; init; } = DeviceDefaults.AzureDpdTimeout;
    /// <summary>Pretend a NAT is present so ESP travels in UDP even without one (strongSwan's "encap").</summary>
    public bool ForceEncapsulation { get; init; }
    /// <summary>NAT keepalive interval when this side is behind a NAT (RFC 3948 section 4: 20 s).</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Use PFS (a new key exchange) when rekeying Child SAs: the group of the first ESP proposal that names one.</summary>
    public bool RekeyWithPfs => EspProposals.Any(p => !p.Groups.IsDefaultOrEmpty);
    public int ReplayWindow { get; init; } = 64;
    /// <summary>
    /// Follow the peer to a new address/port on an authenticated packet when it is behind a NAT (RFC 7296 section 2.23),
    /// and answer each request where it came from (section 2.11). False models a device that pins the peer to the endpoint
    /// learned at setup for everything it sends.
    /// </summary>
    public bool FollowPeerEndpoint { get; init; } = true;
    /// <summary>Send INITIAL_CONTACT in IKE_AUTH.</summary>
    public bool InitialContact { get; init; } = true;
}
