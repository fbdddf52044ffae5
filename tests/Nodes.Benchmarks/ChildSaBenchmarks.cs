using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Nodes.Crypto;
using Nodes.Gateway;
using Nodes.Ike;
using Nodes.Ike.Proposals;
using Nodes.Wire.Ip;

namespace Nodes.Benchmarks;

/// <summary>
/// ESP through the gateway engine's Child SA data plane, 1400-byte inner packets, AES-GCM-16-256: one side's SA
/// seals (with room for the outer headers), the other side's opens through its anti-replay window. The baseline is
/// the raw .NET AesGcm encrypt and decrypt of the same bytes in a loop, measured in the same run.
/// </summary>
[QuickJob]
[MemoryDiagnoser]
public class ChildSaBenchmarks
{
    private const int Batch = 1_000;
    private const int Size = 1400;

    private ChildSa _sealer = null!;
    private ChildSa _opener = null!;
    private AesGcm _raw = null!;
    private readonly byte[] _packet = new byte[Size];
    private readonly byte[] _cipher = new byte[Size];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _aad = new byte[8];

    [GlobalSetup]
    public void Setup()
    {
        var suite = new ChildSuite(new CipherSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None), null, false);
        var random = new SeededRandomSource(3, "child-sa");
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
        _sealer = new ChildSa(initiator, random, long.MaxValue);
        _opener = new ChildSa(responder, new SeededRandomSource(4, "child-sa"), long.MaxValue);
        var ip = new Ipv4Template(Ipv4Address.Parse("192.168.29.55"), Ipv4Address.Parse("10.0.10.4"), 1, 128);
        Ipv4PacketWriter.WriteIcmpEcho(_packet, ip, false, 1, 1, new byte[Size - Ipv4PacketWriter.IcmpDataOffset]);
        var key = new byte[32];
        random.Fill(key);
        _raw = new AesGcm(key, 16);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "raw AesGcm encrypt + decrypt, 1400 B")]
    public void RawAead()
    {
        Span<byte> nonce = stackalloc byte[12];
        for (var i = 0; i < Batch; i++)
        {
            nonce[11] = (byte)i;
            nonce[10] = (byte)(i >> 8);
            _raw.Encrypt(nonce, _packet, _cipher, _tag, _aad);
            _raw.Decrypt(nonce, _cipher, _tag, _packet, _aad);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "seal and open on the gateway's Child SAs, 1400 B")]
    public int SealAndOpen()
    {
        var opened = 0;
        for (var i = 0; i < Batch; i++)
        {
            _sealer.Seal(_packet, out var esp);
            if (_opener.TryOpen(esp, out _, out _, out var reason)) opened++;
            else throw new InvalidOperationException($"ESP dropped: {reason}");
        }
        return opened;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _sealer.Dispose();
        _opener.Dispose();
    }
}
