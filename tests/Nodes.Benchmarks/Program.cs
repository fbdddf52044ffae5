using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Nodes.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/Nodes.Benchmarks -- hub-scale 1000   (the scale run: time until 1,000 tunnels are up, memory per tunnel)
// Every class brings its own job ([QuickJob] or [BatchJob]); a --job on the command line adds one more.
// Parameter columns are widened so transform names such as "AES-CBC-256/HMAC-SHA2-256-128" print whole.
if (args is ["hub-scale", ..])
{
    return Nodes.Benchmarks.HubScale.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000);
}

var config = DefaultConfig.Instance.WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
