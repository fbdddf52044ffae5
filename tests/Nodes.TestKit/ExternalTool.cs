using System.Diagnostics;

namespace Nodes.TestKit;

/// <summary>
/// Tests that need a program from outside (tshark, charon, ip netns) ask here. Where the program is
/// missing the test is skipped with a visible reason, except when the CI environment variable is set:
/// then a missing tool is a failure, so CI can never go green by skipping.
/// </summary>
public static class ExternalTool
{
    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Full path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Returns the tool's path, or throws <see cref="SkipException"/> (outside CI) /
    /// <see cref="InvalidOperationException"/> (in CI) naming what is missing and how to install it.
    /// </summary>
    public static string Require(string name, string installHint)
    {
        var found = Find(name);
        if (found is not null) return found;
        var reason = $"{name} is not installed ({installHint})";
        if (InCi) throw new InvalidOperationException($"CI is set and {reason}");
        throw new Xunit.SkipException(reason);
    }

    /// <summary>
    /// <paramref name="found"/> when it is there; otherwise a skip (outside CI) or a failure (in CI) saying
    /// <paramref name="missing"/>. For what is not a program on PATH (a restored package, a file).
    /// </summary>
    public static string RequireFound(string? found, string missing)
    {
        if (found is not null) return found;
        if (InCi) throw new InvalidOperationException($"CI is set and {missing}");
        throw new Xunit.SkipException(missing);
    }

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout.TotalSeconds:0} s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
