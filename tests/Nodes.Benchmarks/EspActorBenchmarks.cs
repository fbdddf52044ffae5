using System.Security.Cryptography;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Nodes.Actors.Nodes;
using Nodes.Crypto;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ip;

namespace Nodes.Benchmarks;

/// <summary>
/// ESP through the Child SA actors, 1400-byte inner packets, AES-GCM-16-256: a driver hands packets to one side's
/// Child SA actor to seal and the sealed packets to the other side's actor to open, 1000 in flight. The baseline is
/// the raw .NET AesGcm encrypt and decrypt of the same bytes in a loop, measured in the same run.
/// </summary>
[QuickJob]
[MemoryDiagnoser]
public class EspActorBenchmarks
{
    private const int InFlight = 1_000;
    private const int Size = 1400;

    private ActorSystem _system = null!;
    private IActorRef _driver = null!;
    private AesGcm _raw = null!;
    private readonly byte[] _packet = new byte[Size];
    private readonly byte[] _cipher = new byte[Size];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _aad = new byte[8];

    [GlobalSetup]
    public void Setup()
    {
        var suite = new ChildSuite(new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None), null, false);
        var random = new SeededRandomSource(3, "esp-actor");
        var skD = new byte[32];
        random.Fill(skD);
        var ni = new byte[32];
        var nr = new byte[32];
        random.Fill(ni);
        random.Fill(nr);
        var keys = IkeKeySchedule.DeriveChildSaKeys(PrfAlgorithm.HmacSha256, suite.Cipher, new SecretKey(skD), null, ni, nr);
        var any = System.Collections.Immutable.ImmutableArray.Create(TsRange.Any);
        var endpoint = new Ipv4Endpoint(Ipv4Address.Parse("198.51.100.1"), 4500);
        var initiator = new ChildSaInfo("bench", 0x1111_0000, 0x2222_0000, suite, keys, true, any, any, true, endpoint, endpoint, null, 64, DateTimeOffset.UnixEpoch);
        var responder = initiator with { InboundSpi = 0x2222_0000, OutboundSpi = 0x1111_0000, WeInitiatedExchange = false };
        _system = ActorSystem.Create("esp-actor", Host.LabRunner.AkkaConfig(serializeAll: false));
        var sealer = _system.ActorOf(ChildSaActor.Props(initiator, random, long.MaxValue), "sealer");
        var opener = _system.ActorOf(ChildSaActor.Props(responder, new SeededRandomSource(4, "esp-actor"), long.MaxValue), "opener");
        _driver = _system.ActorOf(Props.Create(() => new Driver(sealer, opener)), "driver");
        var ip = new Ipv4Template(Ipv4Address.Parse("192.168.29.55"), Ipv4Address.Parse("10.0.10.4"), 1, 128);
        Ipv4PacketWriter.WriteIcmpEcho(_packet, ip, false, 1, 1, new byte[Size - Ipv4PacketWriter.IcmpDataOffset]);
        var key = new byte[32];
        random.Fill(key);
        _raw = new AesGcm(key, 16);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "raw AesGcm encrypt + decrypt, 1400 B")]
    public void RawAead()
    {
        Span<byte> nonce = stackalloc byte[12];
        for (var i = 0; i < InFlight; i++)
        {
            nonce[11] = (byte)i;
            nonce[10] = (byte)(i >> 8);
            _raw.Encrypt(nonce, _packet, _cipher, _tag, _aad);
            _raw.Decrypt(nonce, _cipher, _tag, _packet, _aad);
        }
    }

    [Benchmark(OperationsPerInvoke = InFlight, Description = "seal and open through the Child SA actors, 1400 B")]
    public int ThroughActors() => _driver.Ask<int>(new Driver.Run(_packet, InFlight), TimeSpan.FromSeconds(60)).Result;

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _system.Terminate().Wait();
    }

    private sealed class Driver : ReceiveActor
    {
        public sealed record Run(byte[] Packet, int Count);

        private IActorRef? _replyTo;
        private int _remaining;

        public Driver(IActorRef sealer, IActorRef opener)
        {
            Receive<Run>(r =>
            {
                _replyTo = Sender;
                _remaining = r.Count;
                for (var i = 0; i < r.Count; i++) sealer.Tell(new SealInner(r.Packet, ""));
            });
            Receive<Sealed>(s => opener.Tell(new OpenEsp(s.Esp, default, "")));
            Receive<Opened>(_ =>
            {
                if (--_remaining == 0) _replyTo!.Tell(0);
            });
            Receive<EspDropped>(d => throw new InvalidOperationException($"ESP dropped: {d.Reason}"));
        }
    }
}
