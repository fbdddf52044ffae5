namespace Nodes.Topology;

/// <summary>
/// Where a value was written: file name, 1-based line and column. Every part of the topology model carries
/// one, so that a run-time message ("tunnel 52.172.171.0 never came up") can point back at the YAML that
/// configured it. Generated topologies use a file name in angle brackets and line 0.
/// </summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// One problem found in a topology file: "azure-s2s-rras.yaml:12:7: error: unknown key 'adress' (hint: did you
/// mean 'address'?)". Loading never throws on bad input; it returns every diagnostic it found.
/// </summary>
public sealed record TopologyDiagnostic(string File, int Line, int Column, string Message, string? Hint)
{
    /// <summary>The location part of the diagnostic.</summary>
    public SourceLocation Location => new(File, Line, Column);

    internal static TopologyDiagnostic At(SourceLocation at, string message, string? hint) =>
        new(at.File, at.Line, at.Column, message, hint);

    public override string ToString() =>
        Hint is null ? $"{File}:{Line}:{Column}: error: {Message}" : $"{File}:{Line}:{Column}: error: {Message} (hint: {Hint})";
}
