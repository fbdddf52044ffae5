namespace Nodes.Config.Tests;

/// <summary>Bad input never crashes the import: every cut of every fixture gives a lab or diagnostics, never an exception.</summary>
public class RobustnessTests
{
    [Theory]
    [InlineData("rras-azure-script.ps1")]
    [InlineData("get-vpns2sinterface.txt")]
    [InlineData("azure-connection.ps1")]
    [InlineData("vpn-connection-show.json")]
    [InlineData("arm-template.json")]
    [InlineData("main.tf")]
    public void Every_truncation_of_a_fixture_must_import_or_be_refused_without_an_exception(string name)
    {
        var (path, text) = Fixture.File(name);
        for (var cut = 0; cut <= text.Length; cut += Math.Max(1, text.Length / 150))
        {
            var part = text[..cut];
            var result = Importer.Import([(path, part)], "x", "lab.yaml");
            Assert.True(result.Lab is not null || !result.Fatal.IsEmpty, $"cut at {cut}: neither a lab nor a reason");
            foreach (var d in result.Fatal.Concat(result.Errors)) Assert.Equal(path, d.At.File is "lab.yaml" ? path : d.At.File);
        }
    }
}
