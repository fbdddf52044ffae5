using System.Text.RegularExpressions;

namespace Nodes.Config;

/// <summary>The file formats <c>nodes import</c> reads, recognised by their content (never by the file name).</summary>
public enum ConfigFormat
{
    /// <summary>PowerShell: RRAS cmdlets (Add-VpnS2SInterface, Azure's RRAS script) and Azure's Az cmdlets.</summary>
    PowerShell,
    /// <summary>Pasted <c>Get-VpnS2SInterface | Format-List *</c> output: "Key : Value" lines.</summary>
    FormatList,
    /// <summary>JSON as <c>az network ... show</c> or the REST API prints one resource (or an array of them).</summary>
    AzureJson,
    /// <summary>An ARM deployment template (also what <c>bicep build</c> writes).</summary>
    ArmTemplate,
    /// <summary>Terraform HCL with azurerm resources.</summary>
    Terraform,
}

/// <summary>Recognises a file's format from its text.</summary>
public static partial class ConfigFormats
{
    [GeneratedRegex(@"^\s*resource\s+""azurerm_", RegexOptions.Multiline)]
    private static partial Regex TerraformResource();

    [GeneratedRegex(@"\b(Add|Set|Get|New|Connect|Install)-(VpnS2SInterface|Az[A-Za-z]+|RemoteAccess|WindowsFeature|VpnServer[A-Za-z]*|BgpRouter|BgpPeer)\b", RegexOptions.IgnoreCase)]
    private static partial Regex PowerShellCmdlet();

    [GeneratedRegex(@"^\s*(Name|Destination|IPv4Subnet|AdminStatus|ConnectionState|Protocol|AuthenticationMethod)\s*:", RegexOptions.Multiline)]
    private static partial Regex FormatListKey();

    [GeneratedRegex(@"""\$schema""\s*:\s*""[^""]*deploymentTemplate", RegexOptions.IgnoreCase)]
    private static partial Regex ArmSchema();

    /// <summary>The format of <paramref name="text"/>, or null with the reason in <paramref name="why"/>.</summary>
    public static ConfigFormat? Detect(string text, out string why)
    {
        why = "";
        var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
            return ArmSchema().IsMatch(text) || (trimmed.StartsWith('{') && text.Contains("\"resources\"", StringComparison.Ordinal) && text.Contains("\"contentVersion\"", StringComparison.Ordinal))
                ? ConfigFormat.ArmTemplate : ConfigFormat.AzureJson;
        if (TerraformResource().IsMatch(text)) return ConfigFormat.Terraform;
        if (PowerShellCmdlet().IsMatch(text)) return ConfigFormat.PowerShell;
        if (FormatListKey().Matches(text).Count >= 2) return ConfigFormat.FormatList;
        why = "it is none of the formats nodes import reads: PowerShell with Add-VpnS2SInterface or New-Az... cmdlets, Get-VpnS2SInterface | Format-List * output, "
            + "az ... show JSON, an ARM/Bicep-compiled JSON template, or Terraform with azurerm resources";
        return null;
    }
}
