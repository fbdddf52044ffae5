using Nodes.TestKit;

namespace Nodes.Telemetry.Tests;

/// <summary>
/// A real OTLP receiver: the standalone Aspire dashboard from the restored package. The seed scenario exports to it over
/// OTLP/gRPC, and its API must return the ping's trace with spans from every service in hop order.
/// </summary>
public class DashboardTests
{
    private static readonly string[] Visits =
        ["client", "rras", "isp-router", "internet", "azure-gw", "vnet-router", "vm", "vnet-router", "azure-gw", "internet", "isp-router", "rras", "client"];

    [SkippableFact]
    public async Task The_seed_scenario_must_reach_the_Aspire_dashboard_as_one_trace_per_ping_through_every_service()
    {
        var exe = AspireDashboard.FindExecutable();
        if (exe is null)
        {
            var reason = $"the Aspire dashboard package {AspireDashboard.PackageId} {AspireDashboard.PackageVersion} is not in the package cache (dotnet restore src/Nodes.Telemetry)";
            if (ExternalTool.InCi) throw new InvalidOperationException("CI is set and " + reason);
            Skip.If(true, reason);
        }
        using var dashboard = await AspireDashboard.StartAsync(exe!);
        var summary = await Lab.Run(new TelemetrySettings { Otlp = true, OtlpEndpoint = dashboard.OtlpGrpc }, count: 2);
        Assert.True(summary.Ok, summary.ToJson());
        var traceId = summary.Traces!.Journeys[1];

        IReadOnlyList<string> seen = [];
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var spans = OtlpJson.Read(await dashboard.TracesJsonAsync());
            seen = Ladder.Visits(spans, traceId).Select(v => v.Node).ToArray();
            if (seen.SequenceEqual(Visits)) break;
            await Task.Delay(500);
        }
        Assert.Equal(Visits, seen);
        Assert.Superset(new HashSet<string> { "client", "rras", "isp-router", "azure-gw", "vm" }, seen.ToHashSet());
        Assert.Equal($"{dashboard.Ui}traces/detail/{traceId}", dashboard.TraceUrl(traceId));
    }
}
