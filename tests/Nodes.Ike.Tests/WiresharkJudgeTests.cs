using Nodes.TestKit;

namespace Nodes.Ike.Tests;

/// <summary>
/// tshark, an implementation Nodes did not write, reads what the engines put on the wire: IKE_SA_INIT, the
/// encrypted IKE_AUTH, ESP in UDP carrying a ping, and NAT keepalives. Nothing may be malformed or carry a bad
/// checksum; IKE_AUTH must decrypt with its integrity checksum correct; every ESP packet must decrypt to the inner
/// ICMP with a good ICV. Run for every IKE and ESP transform Nodes offers.
/// </summary>
public class WiresharkJudgeTests
{
    public static TheoryData<string, string> Suites() => new()
    {
        // IKE protection × ESP transform; every IKE transform and every ESP transform appears at least once.
        { "aes128-sha1-modp1024", "aes128gcm16" },
        { "aes256-sha1-modp1024", "aes256gcm16" },
        { "aes256-sha256-modp2048", "aes256-sha256" },
        { "aes128-sha256-ecp256", "aes128-sha1" },
        { "3des-sha1-modp1024", "3des-sha1" },
        { "aes256-sha384-ecp384", "aes256-sha1" },
        { "aes256-sha512-curve25519", "aes128-sha256" },
        { "aes128gcm16-prfsha256-ecp256", "null-sha1" },
        { "aes256gcm16-prfsha256-modp2048s256", "null-sha256" },
    };

    [SkippableTheory]
    [MemberData(nameof(Suites))]
    public void Tshark_must_decode_and_decrypt_every_packet_of_a_tunnel(string ike, string esp)
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-judge-").FullName;
        try
        {
            var ikeP = new[] { IkePair.IkeP(ike) };
            var espP = new[] { IkePair.EspP(esp) };
            using var pair = new IkePair(IkePair.Rras(ike: ikeP, esp: espP) with { DpdDelay = null }, IkePair.Azure(ike: ikeP, esp: espP) with { DpdDelay = null });
            pair.Start();
            pair.Advance(TimeSpan.FromSeconds(21)); // one NAT keepalive
            using (var capture = new CaptureBuilder(dir))
            {
                capture.AddIke(pair);
                capture.AddPing(pair, 1, pair.Now);
                capture.AddPing(pair, 2, pair.Now + TimeSpan.FromSeconds(1));
            }
            var file = Path.Combine(dir, "internet.pcapng");

            Assert.Equal(0, tshark.Count(file, dir, "_ws.malformed || _ws.expert.severity == \"Error\""));
            Assert.Equal(0, tshark.Count(file, dir, "ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0"));
            Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 34"));
            Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 35 && isakmp.enc.decrypted"));
            var auth = tshark.Verbose(file, dir, "isakmp.exchangetype == 35");
            var checksums = auth.Split('\n').Where(l => l.Contains("Integrity Checksum Data", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, checksums.Count);
            Assert.All(checksums, l => Assert.EndsWith("[correct]", l.TrimEnd()));
            Assert.Contains("IdentificationData:192.168.29.52", auth.Replace(" ", ""));
            Assert.Equal(4, tshark.Count(file, dir, "esp"));
            Assert.Equal(4, tshark.Count(file, dir, "esp && icmp && esp.icv_good == 1"));
            Assert.Equal(2, tshark.Count(file, dir, "icmp.type == 8 && ip.dst == 10.0.10.4"));
            Assert.Equal(1, tshark.Count(file, dir, "udpencap && udp.length == 9 && !esp && !isakmp"));
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("NODES_KEEP_CAPTURES") is null) Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string> LifecycleSuites() => new()
    {
        { "3des-sha1-modp1024", "aes256-sha1" },
        { "aes128gcm16-prfsha256-ecp256", "aes128gcm16" },
        { "aes256-sha256-modp2048", "aes256-sha256-modp2048" },
    };

    // After IKE_SA_INIT and IKE_AUTH:
    // CREATE_CHILD_SA SK { N(REKEY_SA), SA, Ni, [KEi], TSi, TSr } <->   INFORMATIONAL SK { D(ESP) } <->   (Child rekey)
    // INFORMATIONAL SK { }                                        <->                                  (liveness check)
    // CREATE_CHILD_SA SK { SA(IKE), Ni, KEi }                     <->   INFORMATIONAL (old SPIs) SK { D(IKE) } <->
    // INFORMATIONAL SK { } on the new IKE SA                      <->
    // INFORMATIONAL SK { D(ESP) }                                 <->                                  (Child delete)
    [SkippableTheory]
    [MemberData(nameof(LifecycleSuites))]
    public void Tshark_must_decrypt_every_create_child_sa_and_informational_exchange_of_a_tunnels_life(string ike, string esp)
    {
        var tshark = Tshark.Require();
        var dir = Directory.CreateTempSubdirectory("nodes-judge-life-").FullName;
        try
        {
            var ikeP = new[] { IkePair.IkeP(ike) };
            var espP = new[] { IkePair.EspP(esp) };
            using var pair = new IkePair(IkePair.Rras(ike: ikeP, esp: espP) with { DpdDelay = null }, IkePair.Azure(ike: ikeP, esp: espP) with { DpdDelay = null });
            using (var capture = new CaptureBuilder(dir))
            {
                pair.Start();
                pair.Advance(TimeSpan.FromSeconds(1));
                pair.Initiator.RekeyChild(pair.Initiator.ChildSas.Single().InboundSpi, pair.Now);
                pair.Advance(TimeSpan.FromSeconds(1));
                pair.Initiator.CheckLiveness(pair.Now);
                pair.Advance(TimeSpan.FromSeconds(1));
                capture.AddIkeKeys(pair.Initiator);
                pair.Initiator.RekeyIke(pair.Now);
                pair.Advance(TimeSpan.FromSeconds(1));
                capture.AddIkeKeys(pair.Initiator);
                pair.Responder!.CheckLiveness(pair.Now);
                pair.Advance(TimeSpan.FromSeconds(1));
                pair.Responder.DeleteChild(pair.Responder.ChildSas.Single().InboundSpi, pair.Now);
                pair.Advance(TimeSpan.FromSeconds(1));
                Assert.Equal(1, pair.Initiator.IkeRekeys);
                Assert.Empty(pair.Initiator.ChildSas);
                capture.AddIke(pair);
            }
            var file = Path.Combine(dir, "internet.pcapng");

            Assert.Equal(0, tshark.Count(file, dir, "_ws.malformed || _ws.expert.severity == \"Error\""));
            Assert.Equal(0, tshark.Count(file, dir, "ip.checksum.status == 0 || udp.checksum.status == 0"));
            // Child rekey (2) and IKE rekey (2); every INFORMATIONAL: two deletes of Child SAs, two liveness checks and
            // the old IKE SA's delete, each a request and a response.
            Assert.Equal(4, tshark.Count(file, dir, "isakmp.exchangetype == 36 && isakmp.enc.decrypted"));
            Assert.Equal(4, tshark.Count(file, dir, "isakmp.exchangetype == 36"));
            var informational = tshark.Count(file, dir, "isakmp.exchangetype == 37");
            Assert.Equal(10, informational);
            Assert.Equal(informational, tshark.Count(file, dir, "isakmp.exchangetype == 37 && isakmp.enc.decrypted"));
            // What decrypts: REKEY_SA, the IKE proposal, the Delete payloads (ESP and IKE).
            Assert.Equal(1, tshark.Count(file, dir, "isakmp.exchangetype == 36 && isakmp.notify.msgtype == 16393"));
            Assert.Equal(2, tshark.Count(file, dir, "isakmp.exchangetype == 36 && isakmp.prop.protoid == 1"));
            Assert.True(tshark.Count(file, dir, "isakmp.exchangetype == 37 && isakmp.delete.protoid == 3") >= 2);
            Assert.Equal(1, tshark.Count(file, dir, "isakmp.exchangetype == 37 && isakmp.delete.protoid == 1"));
            var verbose = tshark.Verbose(file, dir, "isakmp.exchangetype == 36 || isakmp.exchangetype == 37");
            var checksums = verbose.Split('\n').Where(l => l.Contains("Integrity Checksum Data", StringComparison.Ordinal)).ToList();
            if (!ike.Contains("gcm", StringComparison.Ordinal))
            {
                Assert.Equal(4 + informational, checksums.Count);
                Assert.All(checksums, l => Assert.EndsWith("[correct]", l.TrimEnd()));
            }
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("NODES_KEEP_CAPTURES") is null) Directory.Delete(dir, recursive: true);
        }
    }
}
