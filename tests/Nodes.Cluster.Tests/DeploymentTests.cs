using YamlDotNet.RepresentationModel;

namespace Nodes.Cluster.Tests;

/// <summary>
/// Docker cannot run everywhere the tests do, so the deployment files are read instead: every node of the seed
/// topology has its container (compose) and its StatefulSet (Kubernetes), all with one image and exactly the command
/// line the multi-process tests give <c>nodes host</c>, and the seed nodes they name exist.
/// </summary>
public sealed class DeploymentTests
{
    private static string DeployFile(string name) => Path.Combine(AppContext.BaseDirectory, "deploy", name);

    private static IEnumerable<YamlMappingNode> Documents(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }

    private static YamlNode? Get(YamlMappingNode map, string key)
    {
        if (map.Children.TryGetValue(new YamlScalarNode(key), out var v)) return v;
        // A merge key (<<: *anchor) brings the anchored mapping's entries.
        return map.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode m ? Get(m, key) : null;
    }

    private static List<string> Strings(YamlNode node) => ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();

    private static string Value(List<string> args, string option) => args[args.IndexOf(option) + 1];

    [Fact]
    public void Compose_starts_every_node_in_its_own_container_with_the_tests_command_line_and_a_trace_viewer()
    {
        var compose = Documents(DeployFile("compose.yaml")).Single();
        var services = (YamlMappingNode)Get(compose, "services")!;
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet();
        var images = new HashSet<string>();
        foreach (var node in LabCommandLine.Nodes)
        {
            Assert.True(names.Contains(node), $"compose has no service for node {node}");
            var service = (YamlMappingNode)services.Children[new YamlScalarNode(node)];
            images.Add(((YamlScalarNode)Get(service, "image")!).Value!);
            var args = Strings(Get(service, "command")!);
            var seeds = Value(args, "--seed-nodes").Split(',');
            Assert.Equal(LabCommandLine.Host(LabCommandLine.Topology, node, "0.0.0.0", node, 4053, seeds, 1), args);
            Assert.Equal(LabCommandLine.SeedMembers.Select(s => LabCommandLine.Address(s, 4053)), seeds);
            Assert.All(seeds, s => Assert.Contains(new Uri(s.Replace("akka.tcp://nodes@", "tcp://")).Host, names));
            var env = (YamlMappingNode)Get(service, "environment")!;
            Assert.StartsWith("http://jaeger:", ((YamlScalarNode)env.Children[new YamlScalarNode("OTEL_EXPORTER_OTLP_ENDPOINT")]).Value);
        }
        Assert.Single(images);
        // Members are healthy when nodes probe --ready says so; the driver, a run with no health port, has no check.
        foreach (var node in LabCommandLine.Nodes)
        {
            var service = (YamlMappingNode)services.Children[new YamlScalarNode(node)];
            var health = (YamlMappingNode)Get(service, "healthcheck")!;
            Assert.Equal(["CMD", "dotnet", "/opt/nodes/nodes.dll", "probe", "--ready"], Strings(Get(health, "test")!));
            Assert.Equal("8080", ((YamlScalarNode)((YamlMappingNode)Get(service, "environment")!).Children[new YamlScalarNode("NODES_HEALTH_PORT")]).Value);
        }
        Assert.Equal(["NONE"], Strings(Get((YamlMappingNode)Get((YamlMappingNode)services.Children[new YamlScalarNode("driver")], "healthcheck")!, "test")!));
        var driver = Strings(Get((YamlMappingNode)services.Children[new YamlScalarNode("driver")], "command")!);
        Assert.Equal(["run", LabCommandLine.Topology, "--cluster", LabCommandLine.Address(LabCommandLine.SeedMembers[0], 4053), "--json"], driver);
        Assert.Contains("jaeger", names);
    }

    [Fact]
    public void Kubernetes_has_a_statefulset_per_node_role_a_headless_service_for_the_seeds_and_the_otlp_endpoint_in_the_environment()
    {
        var docs = Directory.GetFiles(DeployFile("kubernetes"), "*.yaml").SelectMany(Documents).ToList();
        string Kind(YamlMappingNode d) => ((YamlScalarNode)Get(d, "kind")!).Value!;
        string Name(YamlMappingNode d) => ((YamlScalarNode)Get((YamlMappingNode)Get(d, "metadata")!, "name")!).Value!;
        var service = docs.Single(d => Kind(d) == "Service" && Name(d) == "nodes");
        Assert.Equal("None", ((YamlScalarNode)Get((YamlMappingNode)Get(service, "spec")!, "clusterIP")!).Value);
        var sets = docs.Where(d => Kind(d) == "StatefulSet").ToDictionary(Name);
        var images = new HashSet<string>();
        foreach (var node in LabCommandLine.Nodes)
        {
            Assert.True(sets.TryGetValue($"nodes-{node}", out var set), $"no StatefulSet for node {node}");
            var spec = (YamlMappingNode)Get(set, "spec")!;
            Assert.Equal("nodes", ((YamlScalarNode)Get(spec, "serviceName")!).Value);
            Assert.Equal("1", ((YamlScalarNode)Get(spec, "replicas")!).Value);
            var pod = (YamlMappingNode)Get((YamlMappingNode)Get(spec, "template")!, "spec")!;
            Assert.Equal("true", ((YamlScalarNode)Get((YamlMappingNode)Get(pod, "securityContext")!, "runAsNonRoot")!).Value);
            var container = (YamlMappingNode)((YamlSequenceNode)Get(pod, "containers")!).Children.Single();
            images.Add(((YamlScalarNode)Get(container, "image")!).Value!);
            var args = Strings(Get(container, "args")!);
            var seeds = Value(args, "--seed-nodes").Split(',');
            Assert.Equal(LabCommandLine.Host(LabCommandLine.Topology, node, "0.0.0.0", $"nodes-{node}-0.nodes", 4053, seeds, 1), args);
            // Seeds are the first pods of existing StatefulSets, reached through the headless service.
            Assert.Equal(LabCommandLine.SeedMembers.Select(s => LabCommandLine.Address($"nodes-{s}-0.nodes", 4053)), seeds);
            var envFrom = ((YamlSequenceNode)Get(container, "envFrom")!).Children.Cast<YamlMappingNode>()
                .Select(e => ((YamlScalarNode)Get((YamlMappingNode)Get(e, "configMapRef")!, "name")!).Value).Single();
            var config = docs.Single(d => Kind(d) == "ConfigMap" && Name(d) == envFrom);
            Assert.NotNull(Get((YamlMappingNode)Get(config, "data")!, "OTEL_EXPORTER_OTLP_ENDPOINT"));
            // Ready: Up and the node actors answering; live: the node actors answering; both on the image's health port.
            var ports = ((YamlSequenceNode)Get(container, "ports")!).Children.Cast<YamlMappingNode>()
                .ToDictionary(p => ((YamlScalarNode)Get(p, "name")!).Value!, p => ((YamlScalarNode)Get(p, "containerPort")!).Value);
            Assert.Equal("8080", ports["health"]);
            foreach (var (probe, path) in new[] { ("readinessProbe", "/ready"), ("livenessProbe", "/live") })
            {
                var get = (YamlMappingNode)Get((YamlMappingNode)Get(container, probe)!, "httpGet")!;
                Assert.Equal(path, ((YamlScalarNode)Get(get, "path")!).Value);
                Assert.Equal("health", ((YamlScalarNode)Get(get, "port")!).Value);
            }
        }
        Assert.Single(images);
        Assert.Equal(sets.Count, LabCommandLine.Nodes.Length);
    }

    [Fact]
    public void The_image_is_built_in_stages_and_runs_as_an_unprivileged_user()
    {
        var lines = File.ReadAllLines(DeployFile("Dockerfile")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.True(lines.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2, "the Dockerfile is not multi-stage");
        Assert.Contains(lines, l => l.StartsWith("COPY --from=build", StringComparison.Ordinal));
        var user = lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        Assert.Contains("\"/opt/nodes/nodes.dll\"", lines.Single(l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal)));
        // The image's health check is nodes probe --ready against the health port the image sets.
        Assert.Contains("ENV NODES_HEALTH_PORT=8080", lines);
        Assert.EndsWith("CMD [\"dotnet\", \"/opt/nodes/nodes.dll\", \"probe\", \"--ready\"]", lines.Single(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal)));
    }
}
