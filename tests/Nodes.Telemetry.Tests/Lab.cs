using System.Collections.Concurrent;
using System.Diagnostics;
using Nodes.Host;
using Nodes.Topology.Loading;
using Nodes.Topology.Model;
using OpenTelemetry;
using OpenTelemetry.Exporter;

namespace Nodes.Telemetry.Tests;

/// <summary>The seed lab, run in process with telemetry into memory.</summary>
internal static class Lab
{
    /// <summary>The names of the seed lab's nodes, in the order a ping's request reaches them.</summary>
    public static readonly string[] RequestPath = ["client", "rras", "isp-router", "internet", "azure-gw", "vnet-router", "vm"];

    public static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", ".."));

    public static TopologySpec Seed()
    {
        var loaded = TopologyLoader.Load(Path.Combine(Repo(), "topology", "azure-s2s-rras.yaml"));
        Assert.Empty(loaded.Diagnostics);
        return loaded.Topology!;
    }

    public static Task<RunSummary> Run(TelemetrySettings telemetry, int count = 2, string? capture = null)
    {
        var t = Seed();
        Assert.True(t.TrySelectScenario("default-gateway", out var s, out var error), error);
        return LabRunner.RunAsync(t, s!, new RunOptions { Count = count, SerializeAllMessages = true, Telemetry = telemetry, CaptureDirectory = capture });
    }

    /// <summary>Exported activities per node, each node's through its own in-memory exporter.</summary>
    public sealed class InMemory
    {
        public ConcurrentDictionary<string, List<Activity>> ByNode { get; } = new();
        public ConcurrentDictionary<string, BaseExporter<Activity>> Exporters { get; } = new();

        public BaseProcessor<Activity> Processor(string node)
        {
            var list = ByNode.GetOrAdd(node, _ => []);
            var exporter = new InMemoryExporter<Activity>(list);
            Exporters[node] = exporter;
            return new SimpleActivityExportProcessor(exporter);
        }

        public IReadOnlyList<(string Node, Activity Span)> All =>
            ByNode.SelectMany(kv => { lock (kv.Value) return kv.Value.Select(a => (kv.Key, a)).ToArray(); }).ToArray();
    }
}
