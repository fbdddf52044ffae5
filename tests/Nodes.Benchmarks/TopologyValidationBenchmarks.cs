using BenchmarkDotNet.Attributes;
using Nodes.Topology;
using Nodes.Topology.Model;
using Nodes.Topology.Validation;

namespace Nodes.Benchmarks;

/// <summary>
/// Validating a generated hub (what a hub file's load and a scale run pay before any actor exists) against the least any
/// validator does: one pass over every node, interface and link endpoint, indexing the names. A ratio that grows with N
/// means a check went quadratic.
/// </summary>
[MemoryDiagnoser]
[QuickJob]
public class TopologyValidationBenchmarks
{
    private TopologySpec _hub = null!;

    [Params(1_000, 10_000)]
    public int Branches { get; set; }

    [GlobalSetup]
    public void Setup() => _hub = HubTopology.Generate(Branches);

    [Benchmark(Baseline = true, Description = "index every node, interface and link endpoint once")]
    public int IndexNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in _hub.Nodes)
        {
            names.Add(n.Name);
            foreach (var i in n.Interfaces) names.Add($"{n.Name}:{i.Name}");
        }
        var endpoints = 0;
        foreach (var l in _hub.Links)
            foreach (var e in l.Endpoints)
                if (names.Contains($"{e.Node}:{e.Interface}")) endpoints++;
        return endpoints;
    }

    [Benchmark(Description = "validate the hub")]
    public int Validate()
    {
        var problems = TopologyValidator.Validate(_hub);
        if (problems.Length > 0) throw new InvalidOperationException(problems[0].ToString());
        return problems.Length;
    }
}
