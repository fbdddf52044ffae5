using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Nodes.Telemetry;

/// <summary>
/// A lab's sampler, asked for a packet journey's root before the root span exists. Asked through the
/// <see cref="ActivitySource"/>, a dropped root still costs an <see cref="Activity"/> (OpenTelemetry keeps unsampled
/// roots for propagation), its trace id and a round of listener calls, on every echo request of an unsampled run.
/// Asked here, a dropped root costs one random trace id and one sampler call. A root decided here keeps its decision
/// when the span is then created: the lab's provider samples with <see cref="Honouring"/>, which returns the decision
/// already taken on this thread for a root and asks the configured sampler for everything else, so a ratio sampler
/// still samples each journey with its ratio (decided once, on a random trace id).
/// </summary>
public sealed class RootSampler
{
    [ThreadStatic]
    private static SamplingResult? t_decided;

    private readonly Sampler _sampler;

    internal RootSampler(Sampler sampler) => _sampler = sampler;

    /// <summary>Whether a new root named <paramref name="name"/> is recorded; when it is, the decision waits for <see cref="Spans.StartRecordedRoot"/>.</summary>
    internal bool Decide(string name, ActivityKind kind)
    {
        var result = _sampler.ShouldSample(new SamplingParameters(default, ActivityTraceId.CreateRandom(), name, kind));
        if (result.Decision != SamplingDecision.RecordAndSample) return false;
        t_decided = result;
        return true;
    }

    /// <summary>Forgets the decision once the root exists (or failed to).</summary>
    internal static void Clear() => t_decided = null;

    /// <summary>The provider's sampler: a root decided by <see cref="Decide"/> keeps that decision; the rest goes to <paramref name="inner"/>.</summary>
    internal sealed class Honouring(Sampler inner) : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            samplingParameters.ParentContext == default && t_decided is { } decided ? decided : inner.ShouldSample(samplingParameters);
    }
}
