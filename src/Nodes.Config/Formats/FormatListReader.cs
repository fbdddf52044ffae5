using System.Text.RegularExpressions;
using Nodes.Topology;
using K = Nodes.Config.ConfigKeys;

namespace Nodes.Config.Formats;

/// <summary>
/// Reads pasted <c>Get-VpnS2SInterface | Format-List *</c> output: "Key : Value" lines, arrays printed in braces
/// ({10.0.0.0/16:100}), long values wrapped onto indented lines. Field names are those of the cmdlet's help
/// (MicrosoftDocs/windows-powershell-docs docset/winserver2022-ps/remoteaccess/Get-VpnS2SInterface.md). The output
/// never shows the shared secret; the import takes it from the Azure connection when one is imported.
/// </summary>
internal static partial class FormatListReader
{
    [GeneratedRegex(@"^(?<key>[A-Za-z][A-Za-z0-9()]*)\s*:\s?(?<value>.*)$")]
    private static partial Regex Field();

    private static readonly Dictionary<string, string> Keys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Protocol"] = K.Protocol, ["AuthenticationMethod"] = K.AuthenticationMethod, ["NumberOfTries"] = K.NumberOfTries,
        ["RetryInterval"] = K.RetryInterval, ["RetryInterval(s)"] = K.RetryInterval, ["IdleDisconnect"] = K.IdleDisconnect, ["IdleDisconnect(s)"] = K.IdleDisconnect,
        ["Persistent"] = K.Persistent, ["CustomPolicy"] = K.CustomPolicy, ["EncryptionMethod"] = K.EncryptionMethod, ["IntegrityCheckMethod"] = K.IntegrityCheckMethod,
        ["DHGroup"] = K.DhGroup, ["CipherTransformConstants"] = K.CipherTransformConstants, ["AuthenticationTransformConstants"] = K.AuthenticationTransformConstants,
        ["PfsGroup"] = K.PfsGroup, ["SALifeTime"] = K.SaLifetimeSeconds, ["SALifeTime(s)"] = K.SaLifetimeSeconds,
        ["SADataSizeForRenegotiation"] = K.SaDataSizeKb, ["SADataSizeForRenegotiation(KB)"] = K.SaDataSizeKb,
        ["MMSALifeTime"] = K.MmSaLifetimeSeconds, ["MMSALifeTime(s)"] = K.MmSaLifetimeSeconds,
    };

    private static readonly HashSet<string> Status = new(StringComparer.OrdinalIgnoreCase)
    {
        "AdminStatus", "ConnectionState", "LastError", "UnReachabilityReasons",
    };

    public static void Read(string text, string file, ImportedConfig config)
    {
        var fields = new List<(string Key, string Value, SourceLocation At)>();
        var lines = text.Replace("\r", "").Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimStart('\uFEFF');
            if (line.Trim().Length == 0) continue;
            var m = Field().Match(line.Trim());
            if (line.Length > 0 && char.IsWhiteSpace(line[0]) && fields.Count > 0 && !m.Success)
            {
                var last = fields[^1];
                fields[^1] = (last.Key, last.Value + line.Trim(), last.At);
                continue;
            }
            if (!m.Success)
            {
                config.Note(new SourceLocation(file, n + 1, 1), $"line '{line.Trim()}'", "not a 'Key : Value' line of Format-List output");
                continue;
            }
            var col = line.IndexOf(':') + 1;
            while (col < line.Length && line[col] == ' ') col++;
            fields.Add((m.Groups["key"].Value, m.Groups["value"].Value.Trim(), new SourceLocation(file, n + 1, col + 1)));
        }
        // Several interfaces printed one after another each start with Name.
        ConfigObject? o = null;
        foreach (var (key, value, at) in fields)
        {
            if (key.Equals("Name", StringComparison.OrdinalIgnoreCase))
            {
                o = config.Object(ConfigObjectKind.RrasInterface, value, at);
                continue;
            }
            if (value.Length == 0) continue; // an unset field
            o ??= config.Object(ConfigObjectKind.RrasInterface, null, at);
            if (o is null) continue;
            var items = Unbrace(value).Select(v => new ConfigValue(v, at)).ToList();
            if (key.Equals("Destination", StringComparison.OrdinalIgnoreCase))
            {
                if (items.Count > 0) o.Set(K.Destination, items[0]);
                foreach (var extra in items.Skip(1)) config.Note(at, $"alternate destination {extra.Value}", "the lab's RRAS dials one destination");
            }
            else if (key.Equals("IPv4Subnet", StringComparison.OrdinalIgnoreCase)) o.SetList(K.Ipv4Subnets, items);
            else if (Keys.TryGetValue(key, out var k))
            {
                if (items.Count == 1) o.Set(k, k is K.Persistent or K.CustomPolicy ? items[0] with { Value = items[0].Value.ToLowerInvariant() } : items[0]);
            }
            else if (Status.Contains(key)) config.Note(at, $"{key} {value}", "state of the running interface, not configuration");
            else config.Note(at, $"{key} {value}", "not simulated by the lab's RRAS node");
        }
        // Format-List prints the policy fields whether or not a custom policy is set; they count when all six are there.
        if (config.Find(ConfigObjectKind.RrasInterface) is { } r && !r.Has(K.CustomPolicy) &&
            new[] { K.EncryptionMethod, K.IntegrityCheckMethod, K.DhGroup, K.CipherTransformConstants, K.AuthenticationTransformConstants, K.PfsGroup }.All(r.Has))
            r.Set(K.CustomPolicy, new ConfigValue("true", r.Get(K.EncryptionMethod)!.Value.At));
    }

    private static IEnumerable<string> Unbrace(string value)
    {
        var v = value.Trim();
        if (v.StartsWith('{') && v.EndsWith('}')) v = v[1..^1];
        return v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }
}
