using Nodes.Fuzz;

// nodes-fuzz TARGET           run under afl-fuzz (SharpFuzz's out-of-process loop reads each input from afl)
// nodes-fuzz TARGET FILE...   run the target once per file, e.g. to replay a crash afl-fuzz found (not instrumented:
//                             instrumented assemblies run only under afl-fuzz)
// nodes-fuzz list             the targets and what they reach
if (args.Length == 0 || args[0] == "list")
{
    foreach (var t in FuzzTargets.All) Console.WriteLine($"{t.Name,-20} {t.Reaches}");
    return args.Length == 0 ? 2 : 0;
}
if (FuzzTargets.Find(args[0]) is not { } target)
{
    Console.Error.WriteLine($"unknown fuzz target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return 2;
}
if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        target.Run(File.ReadAllBytes(file));
        Console.WriteLine($"{target.Name} {file}: returned");
    }
    return 0;
}
SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    target.Run(copy.ToArray());
});
return 0;
