import { pathToFileURL } from "node:url";
import { baselineFigure } from "./baseline/baselineShare.js";
import { dummyReplyFigure } from "./dummyReply.js";
import { existingShareFigure } from "./existingShare.js";
import { finalLine } from "./finalLine.js";
import { growthTable } from "./growth.js";
import { type HeapState, heapPerDevice, keyStringBytesMeasured } from "./heapPerDevice.js";
import { type BenchOptions, readOptions } from "./options.js";
import { makePopulation } from "./population.js";
import { receivedNoticesFigure } from "./receivedNotices.js";
import { shareOutcomeFigure } from "./shareOutcome.js";
import { sqliteFigure } from "./sqliteCommit.js";
import { type BaselineCheck, verifyBaseline } from "./verifyBaseline.js";

/*
 * npm run bench [-- --devices N --rounds R --only share,baseline,… --growth]
 * One process; each figure warms up, then takes the median of R rounds; one line per figure,
 * then the final `bench: …` line (issue #8). docs/performance.md explains each figure.
 */

const BACKEND_NOTE = "bench OlmBackend (a Set of session keys; libolm is figure f)";

export interface BenchResult {
  readonly finalLine: string;
  readonly baselineCheck: BaselineCheck | undefined;
  readonly lines: readonly string[];
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    options.log(line);
  };
  const { devices, rounds, only } = options;
  const population = makePopulation(devices);
  const warmUp = makePopulation(Math.min(devices, 10_000), 9);
  const fmt = (n: number, digits = 0): string => n.toFixed(digits);
  log(
    `bench: ${devices} devices of ${population.users} users, ${population.failingCount} failing (seeded, spread over users); ${rounds} rounds after a warm-up; node ${process.version}`,
  );

  let baselineCheck: BaselineCheck | undefined;
  let nsPerOutcome = Number.NaN;
  let baselineNs = Number.NaN;
  let requests = Number.NaN;
  let heapBytes = Number.NaN;
  let existingRatio = Number.NaN;
  let dummyPct = Number.NaN;
  let commitMs = Number.NaN;

  if (only.has("baseline")) {
    baselineCheck = await verifyBaseline(population);
    log(
      `(b) baseline check passed: same (user, device, content) messages and request counts as the library over ${baselineCheck.steps} calls (${baselineCheck.messages} messages, ${baselineCheck.requests} requests)`,
    );
  }
  if (only.has("share")) {
    const share = await shareOutcomeFigure(population, warmUp, "none", rounds);
    nsPerOutcome = share.nsPerOutcome;
    requests = share.requests;
    log(
      `(a) share outcome, no store: ${fmt(nsPerOutcome)} ns/outcome (${fmt((nsPerOutcome * devices) / 1e6)} ms per call), ${requests} to-device requests; ${BACKEND_NOTE}`,
    );
  }
  if (only.has("baseline")) {
    const baseline = await baselineFigure(population, warmUp, rounds);
    baselineNs = baseline.nsPerOutcome;
    log(
      `(b) hand-written baseline: ${fmt(baselineNs)} ns/outcome (of which reading the input with the library's id parsers ${fmt(baseline.readingNsPerOutcome)}), ${baseline.requests} requests; ratio library/baseline ${fmt(nsPerOutcome / baselineNs, 2)}`,
    );
  }
  if (only.has("memory")) {
    const memory = await shareOutcomeFigure(population, warmUp, "memory", rounds);
    log(
      `(a) share outcome, InMemoryStore: ${fmt(memory.nsPerOutcome)} ns/outcome, ${memory.requests} requests`,
    );
  }
  if (only.has("sqlite")) {
    const sqlite = await sqliteFigure(population, warmUp, rounds);
    commitMs = sqlite.commitMs;
    log(
      `(a) share outcome, SQLite: ${fmt(sqlite.nsPerOutcome)} ns/outcome, ${sqlite.requests} requests`,
    );
    log(
      `(g) SQLite commit of the share outcome: ${fmt(commitMs)} ms (${sqlite.commitPeers} peer records; ${sqlite.commitsPerRound} commits per call, ${fmt(sqlite.allCommitsMs)} ms in all)`,
    );
  }
  if (only.has("heap")) {
    const states: HeapState[] = ["afterShare", "idle", "afterEpisode"];
    if (options.heapAfterReply) states.push("afterReply");
    const parts: string[] = [];
    let keyBytes = 0;
    for (const state of states) {
      const heap = await heapPerDevice(population, state);
      if (state === "afterShare") heapBytes = heap.bytesPerDevice;
      keyBytes = heap.keyBytesPerDevice;
      parts.push(`${state} ${fmt(heap.bytesPerDevice)} B (raw ${fmt(heap.rawBytesPerDevice)})`);
    }
    const measured = await keyStringBytesMeasured(population.devices);
    log(
      `(c) heap per device beyond its key string: ${parts.join(", ")}; key string ${fmt(keyBytes, 1)} B counted (${fmt(measured, 1)} B measured)`,
    );
  }
  if (only.has("existing")) {
    const existing = await existingShareFigure(population, warmUp, rounds);
    existingRatio = existing.ratio;
    log(
      `(d) repeat share, all sessions exist: establishSessions ${fmt(existing.libraryNsPerDevice)} ns/device vs bare hasSession loop ${fmt(existing.bareNsPerDevice, 1)} ns/device; ratio ${fmt(existingRatio, 2)}; ${BACKEND_NOTE}`,
    );
  }
  if (only.has("notices")) {
    const notices = await receivedNoticesFigure(population, rounds);
    log(
      `(e) received m.no_olm from known devices with sessions: ${fmt(notices.usPerNotice, 1)} µs/notice over ${notices.notices} notices, each answered by an m.dummy; ${BACKEND_NOTE}`,
    );
  }
  if (only.has("dummy")) {
    const dummy = await dummyReplyFigure(options.dummyRepetitions);
    dummyPct = dummy.overheadPct;
    log(
      `(f) m.dummy reply with real libolm: library ${fmt(dummy.libraryUs)} µs vs raw libolm calls ${fmt(dummy.rawUs)} µs (median of ${dummy.repetitions}); overhead ${fmt(dummyPct, 1)} %`,
    );
  }
  const line = finalLine({
    devices,
    nsPerOutcome,
    baselineNsPerOutcome: baselineNs,
    heapBytesPerDevice: heapBytes,
    existingShareRatio: existingRatio,
    requests,
    dummyOverheadPct: dummyPct,
    sqliteCommitMs: commitMs,
  });
  log(line);
  return { finalLine: line, baselineCheck, lines };
}

async function cli(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (options.growth) {
    await growthTable(options.rounds, options.log);
    return;
  }
  await runBench(options);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  cli().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
