using Nodes.TestKit;
using Xunit.Abstractions;

namespace Nodes.Cluster.Tests;

/// <summary>
/// deploy/kubernetes checked against the Kubernetes API schemas by deploy/kubernetes/validate (the kubernetes-models
/// package's schemas, installed from npm; nothing is fetched at run time). Needs node and that folder's packages
/// (npm ci --prefix deploy/kubernetes/validate); skipped with the reason elsewhere, failed when CI is set.
/// </summary>
public sealed class KubernetesSchemaTests(ITestOutputHelper output)
{
    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Nodes.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Nodes.sln above {AppContext.BaseDirectory}");
    }

    private ExternalTool.Result Validate(string node, string validator, params string[] files)
    {
        var r = ExternalTool.Run(node, [validator, .. files], TimeSpan.FromSeconds(120));
        output.WriteLine(r.StdOut + r.StdErr);
        return r;
    }

    [SkippableFact]
    public void Every_manifest_is_valid_against_the_Kubernetes_schemas_and_a_wrong_type_is_caught()
    {
        var node = ExternalTool.Require("node", "Debian package nodejs");
        var folder = Path.Combine(Repository(), "deploy", "kubernetes", "validate");
        ExternalTool.RequireFound(Directory.Exists(Path.Combine(folder, "node_modules", "kubernetes-models")) ? folder : null,
            "the schema packages are not installed (npm ci --prefix deploy/kubernetes/validate)");
        var validator = Path.Combine(folder, "validate.mjs");

        var all = Validate(node, validator);
        Assert.Equal(0, all.ExitCode);
        var lines = all.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Seven StatefulSets, the headless Service and the telemetry ConfigMap, each valid.
        Assert.Equal(LabCommandLine.Nodes.Length + 2, lines.Count(l => l.EndsWith(": valid", StringComparison.Ordinal)));
        Assert.All(LabCommandLine.Nodes, n => Assert.Contains(lines, l => l.EndsWith($"apps/v1 StatefulSet nodes-{n}: valid", StringComparison.Ordinal)));

        // The same manifests with the health port written as text, and with a kind no schema has.
        var dir = Directory.CreateTempSubdirectory("nodes-k8s-").FullName;
        try
        {
            var members = File.ReadAllText(Path.Combine(Repository(), "deploy", "kubernetes", "members.yaml"));
            Assert.Contains("containerPort: 8080", members, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir, "members.yaml"), members.Replace("containerPort: 8080", "containerPort: \"8080\"", StringComparison.Ordinal));
            var wrong = Validate(node, validator, Path.Combine(dir, "members.yaml"));
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains("apps/v1 StatefulSet nodes-vm: INVALID: data/spec/template/spec/containers/0/ports/1/containerPort must be integer", wrong.StdOut, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir, "odd.yaml"), "apiVersion: apps/v1\nkind: StatefulSets\nmetadata: { name: x }\n");
            var unknown = Validate(node, validator, Path.Combine(dir, "odd.yaml"));
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("no schema for apiVersion apps/v1 kind StatefulSets", unknown.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
