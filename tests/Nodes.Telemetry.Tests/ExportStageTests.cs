using System.Diagnostics;
using OpenTelemetry;

namespace Nodes.Telemetry.Tests;

/// <summary>The lab's one batch stage: every recorded span reaches its node's exporters once, in order, without blocking.</summary>
public class ExportStageTests
{
    private static Activity Span(string? node, int sequence, bool recorded = true)
    {
        var a = new Activity("span");
        if (node is not null) a.AddTag(Attr.Node, node);
        a.AddTag("seq", sequence);
        a.ActivityTraceFlags = recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None;
        return a;
    }

    [Fact]
    public async Task Every_span_must_reach_its_nodes_exporters_once_and_in_the_order_it_ended()
    {
        var exporters = new[] { "a", "b", "nodes" }.ToDictionary(n => n, n => new[] { new Recording(), new Recording() });
        using var stage = new ExportStage(exporters.ToDictionary(e => e.Key, e => e.Value.Cast<BaseExporter<Activity>>().ToArray()), "nodes", capacity: 1 << 17, delayMs: 50); // room for every span: no drop whatever the scheduling
        const int PerProducer = 20_000;
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < PerProducer; i++) stage.OnEnd(Span(p % 2 == 0 ? "a" : i % 7 == 0 ? "unknown-node" : "b", p * PerProducer + i));
            stage.OnEnd(Span("a", -1, recorded: false)); // not sampled: never exported
        })).ToArray();
        await Task.WhenAll(producers);
        Assert.True(stage.ForceFlush(10_000));
        Assert.Equal(0, stage.Dropped);
        Assert.Equal(0, stage.Queued);

        foreach (var (node, pair) in exporters)
        {
            Assert.Equal(pair[0].Sequences, pair[1].Sequences); // both exporters of a node saw the same spans
            Assert.All(pair[0].Nodes, n => Assert.Equal(node, n == "unknown-node" ? "nodes" : n));
            Assert.True(pair[0].LargestBatch <= ExportStage.BatchSize);
        }
        var all = exporters.Values.SelectMany(p => p[0].Sequences).ToList();
        Assert.Equal(4 * PerProducer, all.Count);
        Assert.Equal(4 * PerProducer, all.Distinct().Count());
        Assert.DoesNotContain(-1, all);
        // Each producer's spans, as one node's exporter saw them, keep the producer's order.
        foreach (var pair in exporters.Values)
        {
            foreach (var producer in pair[0].Sequences.GroupBy(s => s / PerProducer))
                Assert.Equal(producer.Order(), producer);
        }
    }

    [Fact]
    public void A_full_queue_must_drop_and_count_and_an_exporter_that_throws_must_not_stop_the_stage()
    {
        var gate = new ManualResetEventSlim(false);
        var slow = new Recording { Gate = gate };
        var throwing = new Recording { Throws = true };
        using var stage = new ExportStage(new Dictionary<string, BaseExporter<Activity>[]> { ["a"] = [throwing, slow] }, capacity: 1024, delayMs: 20);
        // The exporter is held: the queue (1024) fills, and what does not fit is dropped, never waited for.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5_000; i++) stage.OnEnd(Span("a", i));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.True(stage.Dropped > 0, $"dropped {stage.Dropped}");
        gate.Set();
        Assert.True(stage.ForceFlush(10_000));
        Assert.Equal(5_000 - stage.Dropped, slow.Sequences.Count);
        Assert.True(stage.FailedExports > 0);
        // Still running after the throws.
        stage.OnEnd(Span("a", 99_999));
        Assert.True(stage.ForceFlush(10_000));
        Assert.Equal(99_999, slow.Sequences[^1]);
    }

    [Fact]
    public void A_flush_must_wait_for_the_export_call_that_holds_the_last_spans_not_only_for_the_queue_to_empty()
    {
        // Each export call takes 300 ms: the queue is empty long before the last batch has been handed over.
        var slow = new Recording { Delay = TimeSpan.FromMilliseconds(300) };
        using var stage = new ExportStage(new Dictionary<string, BaseExporter<Activity>[]> { ["a"] = [slow] }, capacity: 4096, delayMs: 20);
        for (var i = 0; i < ExportStage.BatchSize + 88; i++) stage.OnEnd(Span("a", i));
        Assert.True(stage.ForceFlush(10_000));
        Assert.Equal(ExportStage.BatchSize + 88, slow.Sequences.Count);
    }

    private sealed class Recording : BaseExporter<Activity>
    {
        public List<int> Sequences { get; } = [];
        public List<string?> Nodes { get; } = [];
        public int LargestBatch { get; private set; }
        public ManualResetEventSlim? Gate { get; init; }
        public bool Throws { get; init; }
        public TimeSpan Delay { get; init; }

        public override ExportResult Export(in Batch<Activity> batch)
        {
            Gate?.Wait();
            if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
            if (Throws) throw new InvalidOperationException("exporter failure");
            LargestBatch = Math.Max(LargestBatch, (int)batch.Count);
            foreach (var a in batch)
            {
                Sequences.Add((int)a.GetTagItem("seq")!);
                Nodes.Add(a.GetTagItem(Attr.Node) as string);
            }
            return ExportResult.Success;
        }
    }
}
