// Benchmark fixture: does nothing (the job's result is null). Measures the runner's own cost.
export default function noop() {}
