import type { FlushReport, SendToDeviceRequest } from "../src/index.js";
import { openBenchCoordinator, type StoreKind } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { SetOlmBackend } from "./doubles/setOlmBackend.js";
import { collector } from "./gc.js";
import { median, nowNs } from "./median.js";
import { ownDevice, type Population, shareOutcomes } from "./population.js";

/*
 * Figure (a): one `reportShareOutcomes(outcomes)` call for the whole population (10 % failed,
 * the rest established), timed from the call to its resolution: the machines' steps, the
 * notices queued, packed into to-device request bodies, sent through the transport double and
 * acknowledged (and, with a store, committed). The coordinator, its backend and the outcome
 * array are built before the clock starts; each round starts over from a fresh coordinator.
 */

const collectGarbage = collector();

export interface ShareRun {
  readonly ns: number;
  readonly requests: number;
  readonly messages: number;
  /** The request bodies (only with `keepBodies`). */
  readonly sent: readonly SendToDeviceRequest[];
  /** SQLite only: each commit's time (ms) and peer records. */
  readonly commitsMs: readonly number[];
  readonly peersPerCommit: readonly number[];
}

/** A backend that has sessions with the devices the outcome says were established. */
export function backendFor(population: Population): SetOlmBackend {
  const olm = new SetOlmBackend(ownDevice);
  population.devices.forEach((device, i) => {
    if (population.failing[i] !== 1) olm.sessions.add(device.curve25519);
  });
  return olm;
}

export async function runShareOnce(
  population: Population,
  kind: StoreKind,
  keepBodies: boolean,
): Promise<ShareRun> {
  const transport = new RecordingTransport(keepBodies);
  const coordinator = await openBenchCoordinator(kind, {
    olm: backendFor(population),
    transport,
  });
  const outcomes = shareOutcomes(population);
  // Each round starts from a collected heap, the baseline's too: no round pays for garbage an
  // earlier one left.
  collectGarbage();
  const started = nowNs();
  const report = await coordinator.kw.reportShareOutcomes(outcomes);
  const ns = nowNs() - started;
  const timed = coordinator.timed;
  await coordinator.close();
  const messages = checkReport(report, population.failingCount);
  return {
    ns,
    requests: transport.requests,
    messages,
    sent: transport.sent,
    commitsMs: timed?.commitsMs ?? [],
    peersPerCommit: timed?.peersPerCommit ?? [],
  };
}

/** Every entry accepted, one m.no_olm per failing device, every request acknowledged. */
function checkReport(report: FlushReport, failing: number): number {
  if (report.refused.length > 0) {
    throw new Error(`bench: outcomes refused: ${report.refused[0]?.detail ?? ""}`);
  }
  if (report.stillPending !== 0 || report.requests.some((r) => r.outcome !== "sent")) {
    throw new Error("bench: a request was not acknowledged");
  }
  const messages = report.requests.reduce((sum, r) => sum + r.messages, 0);
  if (messages !== failing) {
    throw new Error(`bench: ${messages} messages sent for ${failing} failing devices`);
  }
  return messages;
}

export interface ShareFigure {
  readonly nsPerOutcome: number;
  readonly requests: number;
  readonly runs: readonly ShareRun[];
}

export async function shareOutcomeFigure(
  population: Population,
  warmUp: Population,
  kind: StoreKind,
  rounds: number,
): Promise<ShareFigure> {
  await runShareOnce(warmUp, kind, false);
  const runs: ShareRun[] = [];
  for (let round = 0; round < rounds; round++) {
    runs.push(await runShareOnce(population, kind, false));
  }
  const count = population.devices.length;
  return {
    nsPerOutcome: median(runs.map((run) => run.ns / count)),
    requests: median(runs.map((run) => run.requests)),
    runs,
  };
}
