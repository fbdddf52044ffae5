using BenchmarkDotNet.Attributes;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.TestKit;
using Nodes.Wire.Ip;

namespace Nodes.Benchmarks;

/// <summary>
/// The seed lab's two gateway engines without actors (<see cref="GatewayLab"/>: RRAS, the home NAT, the Azure
/// gateway): one tunnel set up per operation, from the client's first ping (demand-dial) through IKE_SA_INIT and
/// IKE_AUTH to the ping coming out at the VNet, every IKE byte encoded, routed, NATed and parsed. The baseline is
/// the bound Diffie-Hellman alone sets for the group the lab negotiates: two key pairs and two agreements through
/// the same <see cref="KeyExchange"/> the engines use.
/// </summary>
[MemoryDiagnoser]
[QuickJob(iterationCount: 15)]
public class GatewayEngineBenchmarks
{
    private DhGroup _group;
    private ulong _seed;

    [GlobalSetup]
    public void Setup()
    {
        using var lab = new GatewayLab();
        if (Establish(lab) != 1) throw new InvalidOperationException("the gateway engines did not bring the tunnel up");
        _group = lab.Rras.Tunnels.Single().CurrentSa!.Suite!.Group;
    }

    [Benchmark(Baseline = true, Description = "key-exchange bound: 2 keygen + 2 agree (the seed lab's group)")]
    public int KeyExchangeBound() => NodesKeyExchange.OneSaWorth(_group, SystemRandomSource.Instance);

    [Benchmark(Description = "tunnel up through the gateway engines: demand-dial, IKE_SA_INIT, IKE_AUTH, first ping delivered")]
    public int TunnelUp()
    {
        using var lab = new GatewayLab(seed: ++_seed);
        return Establish(lab);
    }

    private static int Establish(GatewayLab lab)
    {
        lab.FromClient(GatewayLab.Echo(GatewayLab.Client, GatewayLab.Vm, 1));
        while (lab.Step()) { }
        return lab.ToVnet.Count;
    }
}

/// <summary>
/// What answering one IKE_SA_INIT costs the responder with cookies (RFC 7296 section 2.6: a stateless COOKIE
/// notify, no key exchange, no state kept) against without (a half-open SA with its key pair and the shared
/// secret). A fresh responder per request keeps the half-open table from growing across operations; building it is
/// part of both sides.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
public class CookieBenchmarks
{
    private IkeSaConfig _config = null!;
    private byte[] _request = [];
    private static readonly Ipv4Endpoint From = new(Ipv4Address.Parse("198.51.100.66"), 500);
    private static readonly Ipv4Endpoint To = new(Ipv4Address.Parse("52.172.171.0"), 500);
    private readonly DateTimeOffset _now = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

    [GlobalSetup]
    public void Setup()
    {
        var handshake = new IkeHandshake("aes256-sha256-modp1024", "aes256-sha256", IkeEnvironment.System);
        _config = handshake.Responder;
        using var initiator = IkeSa.CreateInitiator(handshake.Initiator, IkeEnvironment.System, From, To);
        initiator.Start(_now);
        _request = initiator.TakeOutputs().OfType<IkeSend>().First().Message;
        if (Answer(cookies: true) is not IkeDropped { Reason: IkeDropReason.CookieRequired }) throw new InvalidOperationException("no cookie challenge");
        if (Answer(cookies: false) is not IkeSend) throw new InvalidOperationException("no IKE_SA_INIT response");
    }

    [Benchmark(Baseline = true, Description = "IKE_SA_INIT answered without cookies (half-open SA, key exchange)")]
    public object? WithoutCookies() => Answer(cookies: false);

    [Benchmark(Description = "IKE_SA_INIT answered with a cookie challenge (stateless)")]
    public object? WithCookies() => Answer(cookies: true);

    private IkeOutput? Answer(bool cookies)
    {
        using var responder = new IkeResponder(IkeEnvironment.System, [new IkeConnection(_config, From.Address)],
            new IkeResponderOptions { CookieThreshold = cookies ? 0 : null });
        responder.Receive(_request, From, To, _now);
        var outputs = responder.TakeOutputs();
        return outputs.Select(o => o.Output).FirstOrDefault(o => o is IkeDropped or IkeSend);
    }
}
