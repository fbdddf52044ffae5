using System.Collections.Immutable;
using Nodes.Config.Formats;
using Nodes.Topology;
using Nodes.Topology.Loading;

namespace Nodes.Config;

/// <summary>A problem with the imported configuration itself, at the place in the user's file that caused it.</summary>
public sealed record ImportDiagnostic(SourceLocation At, string Message, string? Hint, SourceLocation? LabAt = null)
{
    public override string ToString() =>
        $"{At}: error: {Message}{(Hint is null ? "" : $" (hint: {Hint})")}{(LabAt is { } l && l != At ? $" [in the lab at {l}]" : "")}";
}

/// <summary>
/// The outcome of an import: the lab (null when a file could not be read or parsed), everything not mapped, and
/// every error: Azure's refusals of imported values and the lab loader's diagnostics, moved back to the user's file
/// and line where the value came from.
/// </summary>
public sealed record ImportResult(ImportedLab? Lab, ImmutableArray<ConfigNote> Notes, ImmutableArray<ImportDiagnostic> Errors, ImmutableArray<ImportDiagnostic> Fatal)
{
    public bool Succeeded => Lab is not null && Errors.IsEmpty && Fatal.IsEmpty;
}

/// <summary>
/// <c>nodes import</c>: reads each file in the format its content shows, assembles one RRAS interface and one Azure
/// connection (with its gateways and VNet), writes the lab around them and checks it the way <c>nodes validate</c> does.
/// </summary>
public static class Importer
{
    /// <summary>Reads the files into configuration objects; unreadable or malformed files come back in <paramref name="fatal"/>.</summary>
    public static ImportedConfig Read(IEnumerable<(string Path, string Text)> files, List<ImportDiagnostic> fatal)
    {
        var config = new ImportedConfig();
        foreach (var (path, text) in files)
        {
            var format = ConfigFormats.Detect(text, out var why);
            if (format is null)
            {
                fatal.Add(new ImportDiagnostic(new SourceLocation(path, 1, 1), $"cannot tell the format: {why}", "give the file as the device or Azure prints it"));
                continue;
            }
            config.Files.Add((path, format.Value));
            try
            {
                switch (format.Value)
                {
                    case ConfigFormat.PowerShell: PowerShellReader.Read(text, path, config); break;
                    case ConfigFormat.FormatList: FormatListReader.Read(text, path, config); break;
                    case ConfigFormat.AzureJson: AzureJsonReader.Read(text, path, config, template: false); break;
                    case ConfigFormat.ArmTemplate: AzureJsonReader.Read(text, path, config, template: true); break;
                    case ConfigFormat.Terraform: TerraformReader.Read(text, path, config); break;
                }
            }
            catch (ImportException e)
            {
                fatal.Add(new ImportDiagnostic(e.At, e.Message, e.Hint));
            }
        }
        return config;
    }

    /// <summary>Imports <paramref name="files"/> into a lab named <paramref name="labName"/> to be written at <paramref name="labPath"/>.</summary>
    public static ImportResult Import(IEnumerable<(string Path, string Text)> files, string labName, string labPath)
    {
        var fatal = new List<ImportDiagnostic>();
        var config = Read(files, fatal);
        if (fatal.Count > 0) return new ImportResult(null, [.. config.Notes], [], [.. fatal]);
        if (config.Find(ConfigObjectKind.RrasInterface) is null && config.Find(ConfigObjectKind.Connection) is null)
            return new ImportResult(null, [.. config.Notes], [], [new ImportDiagnostic(new SourceLocation(config.Files.FirstOrDefault().File ?? labPath, 1, 1),
                "the files hold neither an RRAS site-to-site interface nor an Azure connection", "import the Add-VpnS2SInterface script, the Azure connection, or both")]);
        ImportedLab lab;
        try
        {
            lab = LabWriter.Write(config, labName);
        }
        catch (ImportException e)
        {
            return new ImportResult(null, [.. config.Notes], [], [new ImportDiagnostic(e.At, e.Message, e.Hint)]);
        }
        var errors = new List<ImportDiagnostic>(AzureRules.CheckImported(config));
        var loaded = TopologyLoader.LoadFromString(lab.Yaml, labPath);
        foreach (var d in loaded.Diagnostics)
        {
            var labAt = d.Location;
            var e = lab.Origins.TryGetValue(d.Line, out var from)
                ? new ImportDiagnostic(from, d.Message, d.Hint, labAt)
                : new ImportDiagnostic(labAt, d.Message, d.Hint);
            // Azure's rules on imported values and the lab's loader can say the same of one value: say it once.
            if (!errors.Any(x => x.At == e.At && x.Message == e.Message)) errors.Add(e);
        }
        return new ImportResult(lab, [.. lab.Notes], [.. errors], []);
    }
}
