using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Nodes.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
