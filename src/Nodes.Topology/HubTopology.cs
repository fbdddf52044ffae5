using System.Collections.Immutable;
using Nodes.Ike.Proposals;
using Nodes.Topology.Model;
using Nodes.Wire.Ip;

namespace Nodes.Topology;

/// <summary>
/// Builds a hub-and-spoke lab of any size for scale runs: one Azure VPN gateway with a VM, and N branch sites,
/// each a client, an RRAS server and a NAT router on the branch LAN, all joined by one "internet" router.
/// Addressing, for branch i = 1..N:
/// LAN the (i-1)-th /26 from 10.64.0.0 (client .55, RRAS .52, NAT .1 of the /26), clear of the VNet 10.0.0.0/16;
/// WAN the (i-1)-th /31 of the RFC 2544 benchmarking block 198.18.0.0/15, then of 100.64.0.0/10, NAT side odd.
/// That allows up to <see cref="MaxBranches"/> branches. A file can ask for one with a <c>hub:</c> block.
/// </summary>
public static class HubTopology
{
    /// <summary>Limited by the LAN scheme: a /26 a branch from 10.64.0.0 to 10.255.255.192.</summary>
    public const int MaxBranches = 192 * 256 * 4;

    /// <summary>Branch WAN links take /31s of 198.18.0.0/15 (RFC 2544's benchmarking range) first, then of 100.64.0.0/10.</summary>
    private const int BenchmarkingPairs = 1 << 16;

    private static readonly Ipv4Address AzurePublic = Ipv4Address.Parse("52.172.171.0");

    /// <summary>The most members a generated hub may be spread over: the hub's own and one per share of the branches.</summary>
    public const int MaxMembers = 64;

    /// <summary>The placement process hosting the hub's nodes (the internet router, the Azure gateway, its VNet and VM).</summary>
    public const string HubProcess = "hub";

    /// <summary>The placement process hosting the <paramref name="share"/>-th share of the branches (1-based).</summary>
    public static string BranchProcess(int share) => $"branches-{share}";

    /// <summary>The placement process of branch <paramref name="branch"/> (1-based) in a hub of <paramref name="branches"/> spread over <paramref name="members"/>.</summary>
    public static string ProcessOfBranch(int branch, int branches, int members)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(branch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(branch, branches);
        var shares = members - 1;
        for (var s = 0; s < shares; s++)
            if (branch <= ShareEnd(branches, shares, s)) return BranchProcess(s + 1);
        return BranchProcess(shares);
    }

    /// <summary>The last branch of share <paramref name="s"/> (0-based) of <paramref name="shares"/>; share s starts after share s - 1 ends.</summary>
    private static int ShareEnd(int branches, int shares, int s) => (int)((long)branches * (s + 1) / shares);

    /// <summary>
    /// The hub with <paramref name="branches"/> sites; shared keys derive from <paramref name="seed"/>. With
    /// <paramref name="ike"/>, every RRAS and every Azure connection proposes exactly that IKE proposal (strongSwan
    /// syntax, "aes128-sha256-x25519"); without, each side uses its device defaults. With <paramref name="members"/>
    /// above 1 the topology carries a placement: the hub's nodes in process <see cref="HubProcess"/>, the branches in
    /// <c>members - 1</c> equal shares of consecutive branches, processes <c>branches-1</c>, <c>branches-2</c>, ...
    /// Every node, link and connection is located at <paramref name="at"/> (the file's <c>hub:</c> key when loaded).
    /// </summary>
    public static TopologySpec Generate(int branches, ulong seed = 1, Proposal? ike = null, int members = 1, SourceLocation? at = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(branches, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(branches, MaxBranches);
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(members, Math.Min(MaxMembers, branches + 1));
        return Build(branches, seed, ike, members, at ?? new SourceLocation($"<hub with {branches} branches>", 0, 0));
    }

    private static TopologySpec Build(int branches, ulong seed, Proposal? ike, int members, SourceLocation at)
    {
        var nodes = ImmutableArray.CreateBuilder<NodeSpec>();
        var links = ImmutableArray.CreateBuilder<LinkSpec>();
        var connections = ImmutableArray.CreateBuilder<AzureConnectionSpec>();
        var traffic = ImmutableArray.CreateBuilder<TrafficSpec>();
        var internetIfs = ImmutableArray.CreateBuilder<InterfaceSpec>();
        var vnet = Ipv4Prefix.Parse("10.0.0.0/16");
        var gatewaySubnet = Ipv4Prefix.Parse("10.0.255.0/27");
        var vm = Ipv4Address.Parse("10.0.10.4");
        var random = seed;

        internetIfs.Add(Interface("azure", "52.172.171.1/31", at));
        var vnetRoutes = ImmutableArray.CreateBuilder<RouteSpec>();
        for (var i = 1; i <= branches; i++)
        {
            var n = i - 1;
            var lan = new Ipv4Prefix(new Ipv4Address(Ipv4Address.Parse("10.64.0.0").Value + (uint)(64 * n)), 26);
            var wanBase = n < BenchmarkingPairs
                ? Ipv4Address.Parse("198.18.0.0").Value + (uint)(2 * n)
                : Ipv4Address.Parse("100.64.0.0").Value + (uint)(2 * (n - BenchmarkingPairs));
            var internetSide = new Ipv4Address(wanBase);
            var natSide = new Ipv4Address(wanBase + 1);
            string Host(uint last) => $"{new Ipv4Address(lan.Network.Value + last)}/26";
            var prefix = $"branch{i}";
            var key = SharedKey(ref random);

            nodes.Add(new HostSpec($"{prefix}-client", [Interface("eth0", Host(55), at)], [], Next(lan, 52), at, HostOs.Windows));
            nodes.Add(new RrasSpec($"{prefix}-rras", [Interface("lan", Host(52), at)], [], Next(lan, 1), at, "lan", "lan",
                new RrasVpnSpec(AzurePublic.ToString(), AzurePublic, [new RrasSubnet(vnet, 100, at)], key, false, 0, 3, 60,
                    RrasVpnSpec.DefaultNatKeepalive, [], [], ike is null ? PolicySource.DeviceDefaults : PolicySource.Proposals, ike is null ? [.. DeviceDefaults.WindowsIke] : [ike], [.. DeviceDefaults.WindowsEsp],
                    RrasVpnSpec.DefaultIkeLifetime, RrasVpnSpec.DefaultChildLifetime, RrasVpnSpec.DefaultChildLifetimeKilobytes, at)));
            nodes.Add(new NatRouterSpec($"{prefix}-nat", [Interface("lan", Host(1), at), Interface("wan", $"{natSide}/31", at)], [], internetSide, at,
                new NatSpec(["lan"], "wan", natSide, NatMapping.EndpointIndependent, NatPortAllocation.Preserve, NatSpec.DefaultPortRange,
                    NatSpec.DefaultUdpTimeout, NatSpec.DefaultIcmpTimeout, at)));
            internetIfs.Add(Interface(prefix, $"{internetSide}/31", at));
            links.Add(Link($"{prefix}-lan", [($"{prefix}-client", "eth0"), ($"{prefix}-rras", "lan"), ($"{prefix}-nat", "lan")], at));
            links.Add(Link(null, [($"{prefix}-nat", "wan"), ("internet", prefix)], at));
            connections.Add(new AzureConnectionSpec(prefix, new LocalNetworkGatewaySpec(prefix, natSide, null, [lan], at), key, ConnectionMode.Default,
                AzureConnectionSpec.DefaultDpdTimeoutSeconds, false, [], ike is null ? PolicySource.DeviceDefaults : PolicySource.Proposals, ike is null ? [.. DeviceDefaults.AzureIke] : [ike],
                [.. DeviceDefaults.AzureEspInitiator], [.. DeviceDefaults.AzureEspResponder], DeviceDefaults.AzureIkeLifetime,
                DeviceDefaults.AzureChildLifetime, AzureConnectionSpec.DefaultChildLifetimeKilobytes, at));
            vnetRoutes.Add(new RouteSpec(lan, Ipv4Address.Parse("10.0.255.4"), 1, at));
            traffic.Add(new PingSpec($"{prefix}-client", vm, vm.ToString(), TimeSpan.Zero, at, 4, TimeSpan.FromSeconds(1), 32, false));
        }
        nodes.Add(new RouterSpec("internet", internetIfs.ToImmutable(), [], null, at, null));
        nodes.Add(new AzureVpnGatewaySpec("azure-gw", [Interface("internet", "52.172.171.0/31", at), Interface("gateway-subnet", "10.0.255.4/27", at)], [],
            Ipv4Address.Parse("52.172.171.1"), at, AzurePublic, [vnet], gatewaySubnet, AzureVpnType.RouteBased, connections.ToImmutable()));
        nodes.Add(new RouterSpec("vnet-router", [Interface("gateway-subnet", "10.0.255.1/27", at), Interface("workload", "10.0.10.1/24", at)],
            vnetRoutes.ToImmutable(), null, at, null));
        nodes.Add(new HostSpec("vm", [Interface("eth0", "10.0.10.4/24", at)], [], Ipv4Address.Parse("10.0.10.1"), at, HostOs.Linux));
        links.Add(Link(null, [("internet", "azure"), ("azure-gw", "internet")], at));
        links.Add(Link(null, [("azure-gw", "gateway-subnet"), ("vnet-router", "gateway-subnet")], at));
        links.Add(Link(null, [("vnet-router", "workload"), ("vm", "eth0")], at));

        var scenario = new ScenarioSpec("all-branches-ping", "Every branch client pings the VM four times through its own NATed RRAS tunnel.", true,
            traffic.ToImmutable(),
            new ExpectationSpec(new CountExpectation(CountComparison.All, 0, "all", at), null,
                [new TunnelExpectation(null, TunnelState.Connected, true, at)], ImmutableDictionary<string, int>.Empty, at),
            [], TimeSpan.FromSeconds(60), 1, [], at);
        return new TopologySpec($"hub-{branches}-branches", seed, DefaultsSpec.Standard, nodes.ToImmutable(), links.ToImmutable(),
            members > 1 ? Placement(branches, members, at) : null, [scenario], at);
    }

    /// <summary>The hub's nodes in one process, the branches in equal shares of consecutive sites in the others.</summary>
    private static PlacementSpec Placement(int branches, int members, SourceLocation at)
    {
        var processes = ImmutableArray.CreateBuilder<ProcessPlacement>(members);
        processes.Add(new ProcessPlacement(HubProcess, ["internet", "azure-gw", "vnet-router", "vm"], at));
        var shares = members - 1;
        for (var s = 0; s < shares; s++)
        {
            var first = s == 0 ? 1 : ShareEnd(branches, shares, s - 1) + 1;
            var last = ShareEnd(branches, shares, s);
            var names = ImmutableArray.CreateBuilder<string>(3 * (last - first + 1));
            for (var i = first; i <= last; i++)
            {
                names.Add($"branch{i}-client");
                names.Add($"branch{i}-rras");
                names.Add($"branch{i}-nat");
            }
            processes.Add(new ProcessPlacement(BranchProcess(s + 1), names.MoveToImmutable(), at));
        }
        return new PlacementSpec(processes.MoveToImmutable(), at);
    }

    private static Ipv4Address Next(Ipv4Prefix lan, uint last) => new(lan.Network.Value + last);

    private static InterfaceSpec Interface(string name, string cidr, SourceLocation at)
    {
        var slash = cidr.IndexOf('/');
        return new InterfaceSpec(name, Ipv4Address.Parse(cidr[..slash]), Ipv4Prefix.Parse(cidr), 1500, null, at);
    }

    private static LinkSpec Link(string? segment, (string Node, string Interface)[] ends, SourceLocation at)
    {
        var endpoints = ends.Select(e => new EndpointSpec(e.Node, e.Interface, at)).ToImmutableArray();
        return new LinkSpec(segment ?? string.Join("--", endpoints), segment, endpoints, null, ImpairmentSpec.None, at);
    }

    /// <summary>20 letters and digits from SplitMix64, within Azure's allowed shared-key characters.</summary>
    private static string SharedKey(ref ulong state)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        Span<char> chars = stackalloc char[20];
        for (var i = 0; i < chars.Length; i++)
        {
            state += 0x9E3779B97F4A7C15;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            chars[i] = alphabet[(int)(z % (ulong)alphabet.Length)];
        }
        return new string(chars);
    }
}
