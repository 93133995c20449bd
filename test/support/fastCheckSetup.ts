import fc from "fast-check";

// Every property runs at least this often in CI; FC_NUM_RUNS raises it for deeper local runs.
// fast-check reports the seed and shrunk path of any failure, so a run can be replayed with
// `{ seed, path }` passed to the property.
const numRuns = Number.parseInt(process.env.FC_NUM_RUNS ?? "1000", 10);
fc.configureGlobal({ numRuns: Number.isFinite(numRuns) && numRuns > 0 ? numRuns : 1000 });
