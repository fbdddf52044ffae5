// The multi-process tests start seven members each and compete for two cores: one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
