using BenchmarkDotNet.Attributes;
using Nodes.Crypto;
using Nodes.Ike;

namespace Nodes.Benchmarks;

/// <summary>
/// IKE SAs established per second with both ends in one process: IKE_SA_INIT and IKE_AUTH (PSK, one Child SA
/// with AES-GCM-16-256, no PFS) from the initiator's first datagram to both ends holding the Child SA
/// (<see cref="IkeHandshake.Establish"/>). The baseline is the bound that Diffie-Hellman alone sets: the two key
/// pairs and two agreements of the same group, through the same <see cref="KeyExchange"/> the engines use. A
/// ratio of 2 means the engine spends as much time on everything else (PRF, key schedule, AUTH, encoding,
/// parsing, encryption of IKE_AUTH) as on the key exchange.
/// </summary>
[MemoryDiagnoser]
[QuickJob(iterationCount: 15)]
public class IkeEstablishBenchmarks
{
    [Params(DhGroup.Modp2048, DhGroup.Ecp256, DhGroup.Curve25519)]
    public DhGroup Group { get; set; }

    private IkeHandshake _handshake = null!;

    [GlobalSetup]
    public void Setup()
    {
        var group = Group switch
        {
            DhGroup.Modp2048 => "modp2048",
            DhGroup.Ecp256 => "ecp256",
            DhGroup.Curve25519 => "curve25519",
            _ => throw new NotSupportedException(Group.ToString()),
        };
        _handshake = new IkeHandshake($"aes256-sha256-{group}", "aes256gcm16", IkeEnvironment.System);
        _handshake.Establish();
    }

    [Benchmark(Baseline = true, Description = "key-exchange bound: 2 keygen + 2 agree")]
    public int KeyExchangeBound() => NodesKeyExchange.OneSaWorth(Group, _handshake.Environment.Random);

    [Benchmark(Description = "IKE_SA_INIT + IKE_AUTH with Child SA")]
    public uint Establish() => _handshake.Establish();
}
