using System.CommandLine;
using Nodes.Host;
using Nodes.Messages;

namespace Nodes.Cli.Tests;

/// <summary>
/// Bad flags and paths, as a new user types them: each ends before anything starts, with exit code 2 and one
/// sentence naming the flag and the fix, never a stack trace.
/// </summary>
public sealed class EdgeTests : IDisposable
{
    private static readonly string Lab = Path.Combine(AppContext.BaseDirectory, "topology", "azure-s2s-rras.yaml");

    private readonly string _scratch = Directory.CreateTempSubdirectory("nodes-edges-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static async Task<(int Code, string Out, string Err)> Nodes(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await NodesCommand.InvokeAsync(args, new InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    private static void Refused((int Code, string Out, string Err) r, string flag, string fix)
    {
        Assert.True(r.Code == 2, $"exit code {r.Code}: {r.Err}{r.Out}");
        Assert.Contains(flag, r.Err, StringComparison.Ordinal);
        Assert.Contains(fix, r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Running ", r.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("2000000")]
    public async Task A_count_outside_the_file_formats_bounds_must_be_refused(string count) =>
        Refused(await Nodes("run", Lab, "--count", count), $"--count {count}", "from 1 to 1000000");

    [Fact]
    public async Task A_count_that_would_make_the_run_last_over_a_day_must_be_refused_with_the_most_it_takes() =>
        Refused(await Nodes("run", Lab, "--count", "1000000"), "--count 1000000", "give --count 86400 or less");

    [Fact]
    public async Task A_count_that_is_not_a_number_must_be_exit_code_2() =>
        Refused(await Nodes("run", Lab, "--count", "many"), "many", "--count");

    [Theory]
    [InlineData(new[] { "hub-scale", "0" }, "0 branches", "from 1 to 196608")]
    [InlineData(new[] { "hub-scale", "10", "--members", "12" }, "--members 12", "from 1 to 11")]
    [InlineData(new[] { "hub-scale", "10", "--proposal", "aes128-md7-x25519" }, "--proposal aes128-md7-x25519", "strongSwan syntax")]
    public async Task A_bad_hub_scale_flag_must_be_refused_before_anything_starts(string[] args, string flag, string fix) =>
        Refused(await Nodes(args), flag, fix);

    [Fact]
    public async Task Hub_scale_in_one_process_must_print_its_figures_as_json()
    {
        var r = await Nodes("hub-scale", "3", "--json");
        Assert.True(r.Code == 0, r.Err + r.Out);
        using var json = System.Text.Json.JsonDocument.Parse(r.Out);
        Assert.Equal(3, json.RootElement.GetProperty("tunnelsUp").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("pingsAnswered").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("members").GetInt32());
        Assert.True(json.RootElement.GetProperty("managedBytesPerTunnel").GetDouble() > 0);
    }

    [Fact]
    public async Task A_host_port_beyond_65535_must_be_refused() =>
        Refused(await Nodes("host", Lab, "--node", "client", "--port", "70000"), "--port 70000", "from 0 to 65535");

    [Fact]
    public async Task A_capture_folder_under_a_file_must_be_refused_before_the_run()
    {
        var file = Path.Combine(_scratch, "a-file");
        await File.WriteAllTextAsync(file, "x");
        Refused(await Nodes("run", Lab, "--capture", Path.Combine(file, "captures")), "--capture", "give a folder you can write to");
        Refused(await Nodes("run", Lab, "--capture", file), "--capture", "this is a file");
    }

    [Fact]
    public async Task A_capture_folder_that_cannot_be_created_must_be_refused_before_the_run()
    {
        if (!Directory.Exists("/proc/self")) return; // no procfs here: the folder-under-a-file case covers the refusal
        Refused(await Nodes("run", Lab, "--capture", "/proc/self/nodes-captures"), "--capture /proc/self/nodes-captures", "give a folder you can write to");
    }

    [Fact]
    public async Task A_trace_file_that_cannot_be_written_must_be_refused_before_the_run_and_leave_nothing_behind()
    {
        Refused(await Nodes("run", Lab, "--trace-file", Path.Combine(_scratch, "missing", "spans.json")), "--trace-file", "cannot write this file");
        Refused(await Nodes("run", Lab, "--trace-file", _scratch), "--trace-file", "this is a folder");
        Assert.Empty(Directory.GetFileSystemEntries(_scratch));
    }

    [Fact]
    public async Task Validating_a_device_that_never_ends_must_be_refused_by_size()
    {
        if (!File.Exists("/dev/zero")) return; // no /dev/zero on this system; the loader's own test covers the limit
        var r = await Nodes("validate", "/dev/zero");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("/dev/zero:1:1: error: the file is larger than 1024 KB", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_a_file_nested_too_deep_must_be_exit_code_2_with_the_place()
    {
        var deep = Path.Combine(_scratch, "deep.yaml");
        await File.WriteAllTextAsync(deep, "name: x\ntopology: " + new string('[', 8000) + new string(']', 8000) + "\n");
        var r = await Nodes("run", deep);
        Refused(r, $"{deep}:2:", "nested deeper than 64 levels");
    }

    [Fact]
    public void A_live_fault_with_a_shared_key_must_print_it_redacted()
    {
        var request = new LiveFaultRequest
        {
            ClusterAddress = "akka.tcp://nodes@127.0.0.1:4053",
            Fault = "psk-mismatch",
            Node = "azure-gw",
            Params = new Dictionary<string, string> { ["shared-key"] = "Hunter2LiveKey", ["for"] = "5s" },
        };
        var answer = new FaultApplied { Id = "f1", Fault = "psk-mismatch", Target = "azure-gw", Ok = true, Detail = "shared key of home-rras changed (14 characters)", Params = { ["shared-key"] = "Hunter2LiveKey", ["for"] = "5s" } };
        var result = new LiveFaultResult("f1", LiveFaultOutcome.Applied, "applied on every target", [answer], ["member"], [], []);
        var o = new StringWriter();
        var e = new StringWriter();
        FaultCommands.Print(result, request, o, e);
        var text = o.ToString() + e;
        Assert.DoesNotContain("Hunter2LiveKey", text, StringComparison.Ordinal);
        Assert.Contains("for=5s shared-key=[redacted]", text, StringComparison.Ordinal);
    }
}
