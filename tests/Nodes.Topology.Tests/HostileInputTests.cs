using Nodes.Topology.Loading;
using Nodes.Topology.Model;

namespace Nodes.Topology.Tests;

/// <summary>
/// Files a new user or an attacker might hand the loader: every one ends in diagnostics naming the place and the
/// fix, never in an exception or a crash, and nothing the loader accepts is beyond what a run can do.
/// </summary>
public class HostileInputTests
{
    private static string Shipped => File.ReadAllText(Path.Combine(Labs.Folder, "azure-s2s-rras.yaml"));

    private static TopologyLoadResult Load(string text) => TopologyLoader.LoadFromString(text, "lab.yaml");

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("- ", "")]
    public void Nesting_deeper_than_the_limit_must_be_one_diagnostic_not_a_stack_overflow(string open, string close)
    {
        // 100,000 levels in 300 KB: recursing into them would overflow the stack, which no catch survives.
        var deep = string.Concat(Enumerable.Repeat(open, 100_000)) + "x" + string.Concat(Enumerable.Repeat(close, 100_000));
        var r = Load($"name: x\ntopology:\n{deep}\n");
        var d = Assert.Single(r.Diagnostics);
        Assert.Null(r.Topology);
        Assert.Contains($"nested deeper than {TopologyLimits.MaxDepth} levels", d.Message, StringComparison.Ordinal);
        Assert.Equal(3, d.Line);
    }

    [Theory]
    [InlineData("!!!!=[!5!!!!!!!!!!!!!!!!!")] // found by afl-fuzz (tests/Nodes.Fuzz/regressions/topology-load/invalid-global-tag)
    [InlineData("name: !<not a uri> x\n")]
    public void A_tag_yaml_cannot_read_must_be_a_syntax_error_at_its_place(string text)
    {
        var d = Assert.Single(Load(text).Diagnostics);
        Assert.StartsWith("YAML syntax error", d.Message, StringComparison.Ordinal);
        Assert.Equal(1, d.Line);
        Assert.NotNull(d.Hint);
    }

    [Fact]
    public void Text_larger_than_the_limit_must_be_refused_before_it_is_parsed()
    {
        var r = Load("name: x\n# " + new string('a', TopologyLimits.MaxFileBytes) + "\n");
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal((1, 1), (d.Line, d.Column));
        Assert.Contains("larger than", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_never_ends_must_be_refused_by_size()
    {
        if (!File.Exists("/dev/zero")) return; // Windows has no /dev/zero; the string test above covers the limit
        var r = TopologyLoader.Load("/dev/zero");
        var d = Assert.Single(r.Diagnostics);
        Assert.Contains("larger than", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("duration: 30s", "duration: 2000h", "duration")]
    [InlineData("- ping: { from: client, to: 10.0.10.4, count: 4, interval: 1s, df: false }", "- ping: { from: client, to: 10.0.10.4, count: 1000000, interval: 2000000h, df: false }", "interval")]
    [InlineData("- ping: { from: client, to: 10.0.10.4, count: 4, interval: 1s, df: false }", "- ping: { from: client, to: 10.0.10.4, count: 1000000, interval: 1s, df: false }", "the pings")]
    [InlineData("- ping: { from: client, to: 10.0.10.4, count: 4, interval: 1s, df: false }", "- ping: { from: client, to: 10.0.10.4, count: 4, interval: 100us, df: false }", "interval")]
    [InlineData("- udp: { from: client, to: 10.0.10.4, port: 5001, packets: 500, size: 1200, rate: 200, start: 2s }",
        "- udp: { from: client, to: 10.0.10.4, port: 5001, packets: 100000000, size: 65507, rate: 10000000, start: 2s }", "rate")]
    [InlineData("- udp: { from: client, to: 10.0.10.4, port: 5001, packets: 500, size: 1200, rate: 200, start: 2s }",
        "- udp: { from: client, to: 10.0.10.4, port: 5001, packets: 100000000, size: 10, rate: 1, start: 2s }", "the datagrams")]
    [InlineData("- { at: 6s, fault: nat-rebind, node: isp-router }", "- { at: 6s, fault: partition, node: isp-router, params: { for: 2000000h } }", "for")]
    public void Values_a_run_cannot_carry_out_must_be_refused_by_the_loader(string original, string hostile, string named)
    {
        var text = Shipped;
        var at = text.IndexOf(original, StringComparison.Ordinal);
        Assert.True(at >= 0, original);
        var r = Load(text[..at] + hostile + text[(at + original.Length)..]);
        Assert.Null(r.Topology);
        var d = Assert.Single(r.Diagnostics);
        Assert.Contains(named, d.Message, StringComparison.Ordinal);
        Assert.NotNull(d.Hint);
        Assert.Equal(text[..at].Count(c => c == '\n') + 1, d.Line);
    }

    [Fact]
    public void A_duplicate_address_must_be_reported_once_with_a_free_address_as_the_hint()
    {
        var r = Load(Shipped.Replace("lan: { address: 192.168.29.52/24 }", "lan: { address: 192.168.29.55/24 }", StringComparison.Ordinal));
        var d = Assert.Single(r.Diagnostics);
        Assert.Contains("192.168.29.55, already used by 'client:eth0'", d.Message, StringComparison.Ordinal);
        Assert.Equal("use another address, e.g. 192.168.29.2", d.Hint);
    }

    [Fact]
    public void An_interface_on_the_whole_internet_must_be_told_to_use_its_subnet_and_nothing_else_reported()
    {
        var r = Load(Shipped.Replace("eth0: { address: 192.168.29.55/24 }", "eth0: { address: 0.0.0.0/0 }", StringComparison.Ordinal));
        var d = Assert.Single(r.Diagnostics);
        Assert.DoesNotContain("0.0.0.1", d.ToString(), StringComparison.Ordinal);
        Assert.Contains("/0", d.Message, StringComparison.Ordinal);
        Assert.Contains("/24", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_root_error_must_be_reported_once_and_its_consequences_not_at_all()
    {
        var text = Shipped
            .Replace("lan: { address: 192.168.29.52/24 }", "lan: { address: 192.168.29.55/24 }", StringComparison.Ordinal)
            .Replace("wan: { address: 203.0.113.10/31 }", "wan: { address: 203.0.113.300/31 }", StringComparison.Ordinal);
        var r = Load(text);
        Assert.Equal(2, r.Diagnostics.Length);
        // The ISP router failed to load, but the client's default gateway still says that 192.168.29.1 is taken.
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("already used by", StringComparison.Ordinal) && d.Hint == "use another address, e.g. 192.168.29.2");
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("203.0.113.300/31", StringComparison.Ordinal));
    }

    [Fact]
    public void An_error_only_an_override_makes_must_be_reported_once_naming_every_scenario_it_is_in()
    {
        // Every fault scenario overrides the client's gateway with the same line of YAML, each at its own place;
        // one override pointing nowhere is one diagnostic at its own line.
        var text = Shipped;
        var first = text.IndexOf("client: { default-gateway: 192.168.29.52 }", StringComparison.Ordinal);
        text = text[..first] + "client: { default-gateway: 192.168.29.77 }" + text[(first + "client: { default-gateway: 192.168.29.77 }".Length)..];
        var r = Load(text);
        var d = Assert.Single(r.Diagnostics);
        Assert.Contains("(in scenario 'default-gateway')", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shared_key_must_be_a_secret_parameter_and_redacted_by_the_catalog()
    {
        var psk = FaultCatalog.Of(FaultKind.PskMismatch).Parameters.Single(p => p.Name == "shared-key");
        Assert.True(psk.Secret);
        Assert.Equal(FaultParameterType.Secret, psk.Type);
        Assert.DoesNotContain(FaultCatalog.All.SelectMany(f => f.Parameters), p => p.Secret && p.Name != "shared-key");
        var shown = FaultValues.Redact(FaultKind.PskMismatch, new Dictionary<string, string> { ["shared-key"] = "Hunter2Secret", ["for"] = "5s" });
        Assert.Equal("[redacted]", shown["shared-key"]);
        Assert.Equal("5s", shown["for"]);
        Assert.Empty(FaultValues.Check(FaultKind.PskMismatch, new Dictionary<string, string> { ["shared-key"] = "Hunter2Secret" }));
        Assert.NotEmpty(FaultValues.Check(FaultKind.PskMismatch, new Dictionary<string, string> { ["shared-key"] = " " }));
    }
}
