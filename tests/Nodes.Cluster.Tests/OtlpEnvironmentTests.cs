using System.Text.Json;
using Nodes.Telemetry;
using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// Export as a user configures it: a <c>nodes run</c> process with nothing but the standard OTEL_* variables, over
/// OTLP/HTTP with protobuf, into a real receiver (the Aspire dashboard from the restored package).
/// </summary>
public class OtlpEnvironmentTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Nodes_run_must_export_over_OTLP_HTTP_protobuf_where_the_OTEL_variables_say()
    {
        var exe = ExternalTool.RequireFound(AspireDashboard.FindExecutable(),
            $"the Aspire dashboard package {AspireDashboard.PackageId} {AspireDashboard.PackageVersion} is not in the package cache (dotnet restore src/Nodes.Telemetry)");
        using var dashboard = await AspireDashboard.StartAsync(exe);
        using var run = new NodesProcess("run", ["run", LabCommandLine.Topology, "--count", "2", "--json"], environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = dashboard.OtlpHttp.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_TRACES_SAMPLER"] = "parentbased_always_on",
            ["OTEL_METRICS_EXPORTER"] = "none",
        });
        var code = run.WaitForExit(TimeSpan.FromSeconds(90));
        output.WriteLine(run.StdErr);
        Assert.Equal(0, code);
        var summary = JsonDocument.Parse(run.StdOut[run.StdOut.IndexOf('{')..]).RootElement;
        var traces = summary.GetProperty("traces");
        Assert.Equal(0, traces.GetProperty("droppedSpans").GetInt64());
        var traceId = traces.GetProperty("journeys")[1].GetString()!;

        IReadOnlyList<string> seen = [];
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            seen = Ladder.Visits(OtlpJson.Read(await dashboard.TracesJsonAsync()), traceId).Select(v => v.Node).ToArray();
            if (seen.SequenceEqual(SeedLab.PingVisits)) break;
            await Task.Delay(500);
        }
        Assert.Equal(SeedLab.PingVisits, seen);
    }
}
