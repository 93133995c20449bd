import { median } from "./median.js";
import type { Population } from "./population.js";
import { type ShareFigure, shareOutcomeFigure } from "./shareOutcome.js";

/*
 * Figure (a) on SQLite, and figure (g) from the same rounds: `openSqliteStore` on a fresh temp
 * file per round, wrapped in a store that times each `commit`. sqlite_commit_ms is the commit
 * that carries the share outcome (the one with the most peer records: every device's new
 * state, with the notices' requests), median over rounds. This is the commit the library itself
 * issues, so it measures the records the library writes, whatever their shape.
 * (scripts/sqlite-commit-time.ts commits a hand-made change set of the same size directly.)
 */

export interface SqliteFigure extends ShareFigure {
  readonly commitMs: number;
  readonly commitPeers: number;
  readonly commitsPerRound: number;
  readonly allCommitsMs: number;
}

export async function sqliteFigure(
  population: Population,
  warmUp: Population,
  rounds: number,
): Promise<SqliteFigure> {
  const share = await shareOutcomeFigure(population, warmUp, "sqlite", rounds);
  const largest = share.runs.map((run) => {
    let best = 0;
    run.peersPerCommit.forEach((peers, i) => {
      if (peers > (run.peersPerCommit[best] ?? 0)) best = i;
    });
    return { ms: run.commitsMs[best] ?? Number.NaN, peers: run.peersPerCommit[best] ?? 0 };
  });
  return {
    ...share,
    commitMs: median(largest.map((c) => c.ms)),
    commitPeers: median(largest.map((c) => c.peers)),
    commitsPerRound: median(share.runs.map((run) => run.commitsMs.length)),
    allCommitsMs: median(share.runs.map((run) => run.commitsMs.reduce((a, b) => a + b, 0))),
  };
}
