using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Nodes.Benchmarks -- --filter '*'
// Every class brings its own job ([QuickJob] or [BatchJob]); a --job on the command line adds one more.
// Parameter columns are widened so transform names such as "AES-CBC-256/HMAC-SHA2-256-128" print whole.
var config = DefaultConfig.Instance.WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
