using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nodes.Host;
using Nodes.Topology.Model;

namespace Nodes.Cli;

/// <summary><c>nodes fault list</c> and <c>nodes fault NAME ...</c>: the fault catalog, and one fault injected into a running lab.</summary>
internal static class FaultCommands
{
    public const string DefaultCluster = "akka.tcp://nodes@127.0.0.1:4053";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static Command Fault()
    {
        var name = new Argument<string?>("name") { Description = "The fault to inject (nodes fault list shows them all), e.g. nat-rebind", Arity = ArgumentArity.ZeroOrOne };
        var node = new Option<string?>("--node") { Description = "The node the fault acts on (for partition and heal: every link of the node)" };
        var link = new Option<string?>("--link") { Description = "The link the fault acts on: its name or one end, node:interface (e.g. isp-router:wan)" };
        var param = new Option<string[]>("--param") { Description = "A parameter as key=value (repeat for several), e.g. --param udp-timeout=10s", AllowMultipleArgumentsPerToken = false };
        var cluster = new Option<string>("--cluster") { Description = "A member of the running lab (nodes host, or nodes run --listen)", DefaultValueFactory = _ => DefaultCluster };
        var wait = new Option<double>("--wait") { Description = "Seconds the lab's members and the targets have to answer", DefaultValueFactory = _ => 5 };
        var command = new Command("fault", "Inject one fault into a running lab (one process with nodes run --listen, or nodes host members) and print what each target did")
        {
            name, node, link, param, cluster, wait, List(),
        };
        var tls = ClusterCommands.TlsOptionSet.Create();
        tls.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var o = parse.InvocationConfiguration.Output;
            var err = parse.InvocationConfiguration.Error;
            if (parse.GetValue(name) is not { } fault)
            {
                err.WriteLine("name the fault to inject, e.g. nodes fault nat-rebind --node isp-router (nodes fault list shows every fault)");
                return 2;
            }
            if (!LiveFaults.TryParseParams(parse.GetValue(param) ?? [], out var parameters, out var bad))
            {
                err.WriteLine(bad);
                return 2;
            }
            var problems = LiveFaults.Check(fault, parse.GetValue(node), parse.GetValue(link), parameters);
            foreach (var (problem, hint) in problems) err.WriteLine($"{problem}: {hint}");
            if (problems.Count > 0) return 2;
            var address = parse.GetValue(cluster)!;
            var seconds = parse.GetValue(wait);
            if (!FlagChecks.WaitOk(seconds, err) || !FlagChecks.ClusterAddressOk(address, err)) return 2;
            var request = new LiveFaultRequest
            {
                ClusterAddress = address,
                Fault = fault,
                Node = parse.GetValue(node),
                Link = parse.GetValue(link),
                Params = parameters,
                Tls = tls.Read(parse),
                AnswerTimeout = TimeSpan.FromSeconds(seconds),
            };
            var (result, failed) = await LabCall.TryAsync(address, err, () => LiveFaults.InjectAsync(request, cancel));
            if (result is null) return failed;
            Print(result, request, o, err);
            return result.ExitCode;
        });
        return command;
    }

    internal static void Print(LiveFaultResult r, LiveFaultRequest request, TextWriter o, TextWriter err)
    {
        var on = request.Link is { Length: > 0 } l ? $"link {l}" : $"node {request.Node}";
        var shown = FaultValues.Redact(request.Fault, request.Params);
        var parameters = shown.Count == 0 ? "" : " " + string.Join(" ", shown.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        if (r.Members.Count > 0) o.WriteLine($"{request.Fault} on {on}{parameters} (id {r.Id}), sent to {r.Members.Count} member(s) of {request.ClusterAddress}");
        foreach (var a in r.Answers)
            o.WriteLine($"  {a.Target}: {(a.Ok ? "applied" : "REFUSED")}: {a.Detail}");
        foreach (var t in r.Unanswered) o.WriteLine($"  {t}: no answer");
        (r.Outcome == LiveFaultOutcome.Applied ? o : err).WriteLine(r.Outcome switch
        {
            LiveFaultOutcome.Applied => $"OK: {r.Message}",
            LiveFaultOutcome.Refused => $"REFUSED: {r.Message}",
            _ => $"NOT REACHABLE: {r.Message}",
        });
    }

    /// <summary><c>nodes fault list</c>: every fault of the catalog, what it acts on and its parameters.</summary>
    public static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the catalog as JSON" };
        var command = new Command("list", "List every fault: what it acts on, what it does, and its parameters with their types and defaults") { json };
        command.SetAction(parse =>
        {
            WriteList(parse.InvocationConfiguration.Output, parse.GetValue(json));
            return 0;
        });
        return command;
    }

    /// <summary>One fault as <c>nodes fault list --json</c> writes it.</summary>
    internal sealed record FaultEntry(string Name, FaultTarget Target, string Acts, string Summary, IReadOnlyList<ParameterEntry> Parameters);

    internal sealed record ParameterEntry(string Name, FaultParameterType Type, string Description, string? Default, IReadOnlyList<string>? Choices);

    internal static IReadOnlyList<FaultEntry> Entries() => FaultCatalog.All.Select(f => new FaultEntry(f.Name, f.Target, FaultCatalog.TargetText(f.Target), f.Summary,
        f.Parameters.Select(p => new ParameterEntry(p.Name, p.Type, p.Description, p.Default, p.Choices.IsDefaultOrEmpty ? null : p.Choices)).ToList())).ToList();

    public static void WriteList(TextWriter o, bool json)
    {
        var entries = Entries();
        if (json)
        {
            o.WriteLine(JsonSerializer.Serialize(entries, Json));
            return;
        }
        o.WriteLine($"{entries.Count} faults. Inject one into a running lab with: nodes fault NAME --node NODE | --link LINK [--param key=value]...");
        foreach (var f in entries)
        {
            o.WriteLine();
            o.WriteLine($"{f.Name}  (acts on {f.Acts}: --{(f.Target == FaultTarget.Link ? "link" : f.Target == FaultTarget.LinkOrNode ? "link or --node" : "node")})");
            foreach (var line in Wrap(f.Summary, 96)) o.WriteLine($"    {line}");
            if (f.Parameters.Count == 0)
            {
                o.WriteLine("    no parameters");
                continue;
            }
            var width = f.Parameters.Max(p => p.Name.Length);
            var types = f.Parameters.Select(TypeText).ToList();
            var typeWidth = types.Max(t => t.Length);
            for (var i = 0; i < f.Parameters.Count; i++)
            {
                var p = f.Parameters[i];
                var dflt = p.Default is { } d ? $" (default {d})" : "";
                o.WriteLine($"    {p.Name.PadRight(width)}  {types[i].PadRight(typeWidth)}  {p.Description}{dflt}");
            }
        }
    }

    private static string TypeText(ParameterEntry p) => p.Type switch
    {
        FaultParameterType.Duration => "duration",
        FaultParameterType.SignedDuration => "±duration",
        FaultParameterType.Percent => "percent",
        FaultParameterType.Number => "number",
        FaultParameterType.Count => "count",
        FaultParameterType.Address => "IPv4",
        FaultParameterType.Text => "text",
        FaultParameterType.Secret => "secret text",
        FaultParameterType.Choice => string.Join("|", p.Choices ?? []),
        FaultParameterType.Rate => "rate",
        FaultParameterType.Prefix => "IPv4 prefix",
        _ => p.Type.ToString().ToLowerInvariant(),
    };

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }
}
