using System.Runtime.CompilerServices;

namespace Nodes.Fuzz.Tests;

/// <summary>
/// Every corpus file through every fuzz target, without afl-fuzz: the targets keep compiling and returning as the
/// code under them changes, each target's own seeds get past its first check, and an input afl-fuzz once found
/// (tests/Nodes.Fuzz/regressions/TARGET/) stays fixed.
/// </summary>
public class CorpusReplayTests
{
    private static string Fuzz([CallerFilePath] string here = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "Nodes.Fuzz"));

    private static IEnumerable<string> Inputs(string folder) =>
        Directory.Exists(Path.Combine(Fuzz(), folder))
            ? Directory.GetFiles(Path.Combine(Fuzz(), folder), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [];

    public static TheoryData<string> Targets
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var t in FuzzTargets.All) data.Add(t.Name);
            return data;
        }
    }

    [Fact]
    public void Every_target_must_have_seeds_and_every_seed_folder_a_target()
    {
        var folders = Directory.GetDirectories(Path.Combine(Fuzz(), "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(FuzzTargets.All.Select(t => t.Name).Order(StringComparer.Ordinal), folders);
        Assert.All(FuzzTargets.All, t => Assert.NotEmpty(Directory.GetFiles(Path.Combine(Fuzz(), "corpus", t.Name))));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_and_regression_file_must_return_from_the_target(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var inputs = Inputs("corpus").Concat(Inputs("regressions")).ToList();
        Assert.NotEmpty(inputs);
        foreach (var file in inputs)
        {
            var bytes = File.ReadAllBytes(file);
            var e = Record.Exception(() => target.Run(bytes));
            Assert.True(e is null, $"{name} threw on {Path.GetRelativePath(Fuzz(), file)}: {e}");
        }
    }

    [Fact]
    public void The_seeds_must_reach_past_the_parsers_first_check()
    {
        // A seed that the target rejects at its first byte teaches afl-fuzz nothing; these must parse as what they are.
        foreach (var file in Directory.GetFiles(Path.Combine(Fuzz(), "corpus", "ike-parse")))
            Assert.True(Wire.Ike.IkeMessage.TryParse(File.ReadAllBytes(file), out _, out var error), $"{file}: {error}");
        foreach (var file in Directory.GetFiles(Path.Combine(Fuzz(), "corpus", "ipv4-parse")))
            Assert.True(Wire.Ip.Ipv4Packet.TryParse(File.ReadAllBytes(file), out _, out var error), $"{file}: {error}");
        foreach (var file in Directory.GetFiles(Path.Combine(Fuzz(), "corpus", "topology-load")))
            Assert.Empty(Topology.Loading.TopologyLoader.LoadFromString(File.ReadAllText(file), Path.GetFileName(file)).Diagnostics);
        GatewayTarget.Outcome Gateway(string seed) => GatewayTarget.Play(File.ReadAllBytes(Path.Combine(Fuzz(), "corpus", "gateway-engine", seed)));
        // Sealed frames get past authentication: answered, or delivered; raw ones are dropped with their reason.
        Assert.Equal(1, Gateway("liveness-check").AnsweredByAzure);
        Assert.Equal(1, Gateway("liveness-check-to-rras").AnsweredByRras);
        var delete = Gateway("delete-unknown-child");
        Assert.Equal(1, delete.AnsweredByAzure);
        Assert.Equal(1, delete.AzureDrops.GetValueOrDefault("ike-delete-unknown-sa"));
        Assert.Equal(1, Gateway("esp-ping").IntoVnet);
        Assert.Equal(1, Gateway("client-ping").IntoVnet);
        Assert.Equal(1, Gateway("vnet-reply").ToClient);
        var cleartext = Gateway("cleartext-to-vm");
        Assert.Equal(0, cleartext.IntoVnet);
        Assert.NotEmpty(cleartext.AzureDrops);
        Assert.Equal(0, Gateway("udp4500-forged").IntoVnet);
        var idle = Gateway("idle-then-ping");
        Assert.Equal((2, 1), (idle.IntoVnet, idle.ToClient));
        var frames = Frames.Split(File.ReadAllBytes(Path.Combine(Fuzz(), "corpus", "ipv4-reassembly", "two-fragments")));
        var reassembler = new Net.Fragmentation.Ipv4Reassembler();
        Assert.Equal(Net.Fragmentation.ReassemblyStatus.Pending, reassembler.Accept(frames[0].Bytes, TimeSpan.Zero).Status);
        Assert.Equal(Net.Fragmentation.ReassemblyStatus.Complete, reassembler.Accept(frames[1].Bytes, TimeSpan.Zero).Status);
    }

    [Fact]
    public void The_bgp_seeds_must_parse_and_reach_the_established_session()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Fuzz(), "corpus", "bgp-parse")))
        {
            var bytes = File.ReadAllBytes(file);
            var stream = bytes.AsSpan(1);
            var messages = 0;
            while (stream.Length > 0)
            {
                Assert.True(Wire.Bgp.BgpCodec.TryFrame(stream, out var length, out var error), $"{file}: {error}");
                Assert.True(Wire.Bgp.BgpCodec.TryParse(stream[..length], (bytes[0] & 1) == 1, out _, out error), $"{file}: {error}");
                stream = stream[length..];
                messages++;
            }
            Assert.True(messages > 0, file);
        }
        BgpTarget.Outcome Session(string seed) => BgpTarget.Play(File.ReadAllBytes(Path.Combine(Fuzz(), "corpus", "bgp-session", seed)));
        Assert.Equal((Net.Bgp.BgpState.Established, 0, 0), (Session("established-update-withdraw").State, Session("established-update-withdraw").Routes, Session("established-update-withdraw").NotificationsReceived));
        var open = Session("open-from-the-start");
        Assert.Equal((Net.Bgp.BgpState.Established, 1), (open.State, open.Routes));
        var ended = Session("established-notification");
        Assert.NotEqual(Net.Bgp.BgpState.Established, ended.State);
        Assert.Equal(0, ended.Routes);
    }
}
