// Every test builds namespaces and runs charon and a nodes process: one at a time keeps two cores enough.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
