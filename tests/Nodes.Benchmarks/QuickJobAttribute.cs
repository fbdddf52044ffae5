using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Nodes.Benchmarks;

/// <summary>
/// The job every Nodes benchmark runs with: one launch, three warm-up and (by default) five measured iterations of about
/// 250 ms each. Short enough for a shared two-core machine; absolute numbers there move from run to run, so
/// every class carries its own baseline and the Ratio column is the figure to read.
/// Benchmarks run inside the already built benchmark process (<see cref="InProcessEmitToolchain"/>): no
/// per-benchmark project is generated and built, so a run never writes build output into the source tree
/// that other builds share, and the baseline and the measured code share one process and one JIT.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly)]
public sealed class QuickJobAttribute : JobConfigBaseAttribute
{
    /// <param name="iterationCount">Measured iterations; more for benchmarks whose single operation is long and noisy.</param>
    /// <param name="warmupCount">Iterations before measuring; more where a benchmark runs through many methods that the JIT
    /// recompiles (tier 0, then optimised with the profile it gathered) only after they have run for a while.</param>
    public QuickJobAttribute(int iterationCount = 5, int warmupCount = 3)
        : base(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(warmupCount)
            .WithIterationCount(iterationCount)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Quick"))
    {
    }
}

/// <summary>
/// The job for benchmarks whose state must be rebuilt before every iteration (an <c>[IterationSetup]</c> that
/// re-creates an SA and restores a batch of packets): one invocation per iteration, each processing a whole
/// batch, reported per packet through <c>OperationsPerInvoke</c>. In process, as <see cref="QuickJobAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class BatchJobAttribute : JobConfigBaseAttribute
{
    public BatchJobAttribute()
        : base(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(7)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Batch"))
    {
    }
}
