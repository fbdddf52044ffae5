using System.CommandLine;
using Nodes.Config;

namespace Nodes.Cli;

/// <summary><c>nodes import</c> and <c>nodes export</c>: the lab from the user's own configuration, and back.</summary>
internal static class ConfigCommands
{
    public static Command Import()
    {
        var files = new Argument<FileInfo[]>("files")
        {
            Description = "RRAS PowerShell (Add-VpnS2SInterface, Azure's RRAS script), Get-VpnS2SInterface | Format-List * output, Azure PowerShell, az ... show JSON, an ARM template or Terraform; the format is read from each file's content",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The topology file to write, e.g. lab.yaml", Required = true };
        var command = new Command("import", "Build a lab from the RRAS and Azure configuration you have; values keep their file:line, and what cannot be mapped is listed") { files, output };
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var paths = parse.GetValue(files)!;
            var outFile = parse.GetValue(output)!;
            var inputs = new List<(string, string)>();
            foreach (var f in paths)
            {
                try
                {
                    inputs.Add((Relative(f.FullName), File.ReadAllText(f.FullName)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"{Relative(f.FullName)}:1:1: error: cannot read the file: {e.Message} (hint: check the path and permissions)");
                    return 2;
                }
            }
            var labPath = Relative(outFile.FullName);
            var result = Importer.Import(inputs, Path.GetFileNameWithoutExtension(outFile.Name), labPath);
            foreach (var d in result.Fatal) stderr.WriteLine(d.ToString());
            if (result.Lab is null)
            {
                stderr.WriteLine("nothing was written.");
                return 2;
            }
            try
            {
                File.WriteAllText(outFile.FullName, result.Lab.Yaml);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{labPath}: error: cannot write the lab: {e.Message} (hint: check the folder exists and is writable)");
                return 2;
            }
            foreach (var n in result.Notes) stderr.WriteLine($"{n.At}: note: not mapped: {n.What}: {n.Why}");
            foreach (var d in result.Errors) stderr.WriteLine(d.ToString());
            if (!result.Errors.IsEmpty)
            {
                stderr.WriteLine($"{labPath} written, with {result.Errors.Length} problem(s) Azure or the lab would refuse; fix them in your files and import again.");
                return 1;
            }
            stdout.WriteLine($"{labPath} written: {result.Notes.Length} value(s) not mapped (listed above and in the file's header). Run it with: nodes run {labPath}");
            return 0;
        });
        return command;
    }

    public static Command Export()
    {
        var file = new Argument<FileInfo>("file") { Description = "A topology file (YAML) whose lab was tested" };
        var node = new Option<string>("--node") { Description = "The node to export: an rras node or an azure-vpn-gateway node", Required = true };
        var format = new Option<string>("--as") { Description = $"The device format: {string.Join(", ", Nodes.Config.Export.Exporter.Names.Select(n => n.Name))}", Required = true };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "The folder to write the file into", Required = true };
        var command = new Command("export", "Write a node's configuration for the real device: RRAS PowerShell, strongSwan swanctl.conf, Azure PowerShell or an ARM template") { file, node, format, output };
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var path = parse.GetValue(file)!.FullName;
            var loaded = Nodes.Topology.Loading.TopologyLoader.Load(path);
            if (loaded.Topology is null)
            {
                foreach (var d in loaded.Diagnostics) stderr.WriteLine(d.ToString());
                stderr.WriteLine($"{loaded.Diagnostics.Length} problem(s) in {path}; nothing was exported.");
                return 2;
            }
            var asText = parse.GetValue(format)!;
            var match = Nodes.Config.Export.Exporter.Names.Where(n => string.Equals(n.Name, asText, StringComparison.OrdinalIgnoreCase)).ToList();
            if (match.Count == 0)
            {
                stderr.WriteLine($"--as {asText}: not a format nodes export writes; use one of {string.Join(", ", Nodes.Config.Export.Exporter.Names.Select(n => n.Name))}");
                return 2;
            }
            var result = Nodes.Config.Export.Exporter.Export(loaded.Topology, parse.GetValue(node)!, match[0].Format, out var error);
            if (result is null)
            {
                stderr.WriteLine(error);
                return 2;
            }
            var dir = parse.GetValue(output)!;
            var target = Path.Combine(dir.FullName, result.FileName);
            try
            {
                dir.Create();
                File.WriteAllText(target, result.Text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"--output {dir.FullName}: cannot write {result.FileName}: {e.Message}");
                return 2;
            }
            foreach (var m in result.NotExported) stderr.WriteLine($"not exported: {m}");
            stdout.WriteLine($"{Relative(target)} written (it holds the shared key: keep it private).");
            return 0;
        });
        return command;
    }

    private static string Relative(string full)
    {
        var rel = Path.GetRelativePath(Environment.CurrentDirectory, full);
        return rel.StartsWith("..", StringComparison.Ordinal) ? full : rel;
    }
}
