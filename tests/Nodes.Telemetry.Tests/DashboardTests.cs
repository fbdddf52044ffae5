using Nodes.TestKit;

namespace Nodes.Telemetry.Tests;

/// <summary>
/// A real OTLP receiver: the standalone Aspire dashboard from the restored package. The seed scenario exports to it over
/// OTLP/gRPC, and its API must return the ping's trace with spans from every service in hop order.
/// </summary>
public class DashboardTests
{
    [SkippableFact]
    public async Task The_seed_scenario_must_reach_the_Aspire_dashboard_as_one_trace_per_ping_through_every_service()
    {
        var exe = ExternalTool.RequireFound(AspireDashboard.FindExecutable(),
            $"the Aspire dashboard package {AspireDashboard.PackageId} {AspireDashboard.PackageVersion} is not in the package cache (dotnet restore src/Nodes.Telemetry)");
        using var dashboard = await AspireDashboard.StartAsync(exe);
        var summary = await Lab.Run(new TelemetrySettings { Otlp = true, OtlpEndpoint = dashboard.OtlpGrpc }, count: 2);
        Assert.True(summary.Ok, summary.ToJson());
        var traceId = summary.Traces!.Journeys[1];

        IReadOnlyList<string> seen = [];
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var spans = OtlpJson.Read(await dashboard.TracesJsonAsync());
            seen = Ladder.Visits(spans, traceId).Select(v => v.Node).ToArray();
            if (seen.SequenceEqual(SeedLab.PingVisits)) break;
            await Task.Delay(500);
        }
        Assert.Equal(SeedLab.PingVisits, seen);
        Assert.Superset(new HashSet<string> { "client", "rras", "isp-router", "azure-gw", "vm" }, seen.ToHashSet());
        Assert.Equal($"{dashboard.Ui}traces/detail/{traceId}", dashboard.TraceUrl(traceId));
    }
}
