using System.Runtime.CompilerServices;

namespace Nodes.Cli.Tests;

/// <summary>
/// .ci/run is the one command CI runs. Tests needing an outside tool fail, rather than skip, when CI is set
/// (tests/Nodes.TestKit/ExternalTool.cs), so the script must set it itself before the tests, whatever the runner does.
/// </summary>
public class CiScriptTests
{
    private static string Script([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".ci", "run"));

    [Fact]
    public void The_ci_script_must_export_CI_before_it_runs_the_tests()
    {
        var lines = File.ReadAllLines(Script());
        var export = Array.FindIndex(lines, l => l.Trim() == "export CI=\"${CI:-true}\"");
        var tests = Array.FindIndex(lines, l => l.TrimStart().StartsWith("dotnet test", StringComparison.Ordinal));
        Assert.True(export >= 0, "no 'export CI=\"${CI:-true}\"' line in .ci/run");
        Assert.True(tests > export, "CI is exported after the tests start");
    }
}
