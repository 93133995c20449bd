/** The figures of the final line; NaN where a figure was not run (--only). */
export interface FinalFigures {
  readonly devices: number;
  readonly nsPerOutcome: number;
  readonly baselineNsPerOutcome: number;
  readonly heapBytesPerDevice: number;
  readonly existingShareRatio: number;
  readonly requests: number;
  readonly dummyOverheadPct: number;
  readonly sqliteCommitMs: number;
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : "n/a";

/** `bench: devices=… ns_per_outcome=… …`, exactly as issue #8 asks. */
export function finalLine(f: FinalFigures): string {
  const ratio = f.nsPerOutcome / f.baselineNsPerOutcome;
  return [
    "bench:",
    `devices=${f.devices}`,
    `ns_per_outcome=${fixed(f.nsPerOutcome, 0)}`,
    `baseline_ns_per_outcome=${fixed(f.baselineNsPerOutcome, 0)}`,
    `ratio=${fixed(ratio, 2)}`,
    `heap_bytes_per_device=${fixed(f.heapBytesPerDevice, 0)}`,
    `existing_share_ratio=${fixed(f.existingShareRatio, 2)}`,
    `requests=${fixed(f.requests, 0)}`,
    `dummy_overhead_pct=${fixed(f.dummyOverheadPct, 1)}`,
    `sqlite_commit_ms=${fixed(f.sqliteCommitMs, 0)}`,
  ].join(" ");
}

export const FINAL_LINE =
  /^bench: devices=(\d+) ns_per_outcome=(\S+) baseline_ns_per_outcome=(\S+) ratio=(\S+) heap_bytes_per_device=(\S+) existing_share_ratio=(\S+) requests=(\S+) dummy_overhead_pct=(\S+) sqlite_commit_ms=(\S+)$/;
