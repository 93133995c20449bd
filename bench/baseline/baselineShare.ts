import { RecordingTransport } from "../doubles/recordingTransport.js";
import { collector } from "../gc.js";
import { median, nowNs } from "../median.js";
import { ownDevice, type Population, shareOutcomes } from "../population.js";
import { BaselineWithholding } from "./baselineWithholding.js";
import { readOutcome } from "./readOutcomes.js";

const collectGarbage = collector();

/** How much of the baseline is reading the input: readOutcome (the id parsers) alone. */
function readingOnceNs(population: Population): number {
  const outcomes = shareOutcomes(population);
  const own = {
    userId: ownDevice.userId,
    deviceId: ownDevice.deviceId,
    curve25519: ownDevice.curve25519,
  };
  let read = 0;
  const started = nowNs();
  for (const entry of outcomes) if (readOutcome(entry, own) !== undefined) read += 1;
  const ns = nowNs() - started;
  if (read !== outcomes.length) throw new Error("baseline: an entry was refused");
  return ns;
}

/** Figure (b): the (a) outcome through the baseline, timed the same way (fresh state per round). */
export async function runBaselineOnce(
  population: Population,
  transport = new RecordingTransport(false),
): Promise<{ readonly ns: number; readonly requests: number }> {
  const baseline = new BaselineWithholding(ownDevice, transport);
  const outcomes = shareOutcomes(population);
  collectGarbage(); // as the library's rounds (shareOutcome.ts)
  const started = nowNs();
  const refused = await baseline.reportShareOutcomes(outcomes);
  const ns = nowNs() - started;
  if (refused !== 0) throw new Error(`baseline refused ${refused} entries`);
  return { ns, requests: transport.requests };
}

export async function baselineFigure(
  population: Population,
  warmUp: Population,
  rounds: number,
): Promise<{
  readonly nsPerOutcome: number;
  readonly readingNsPerOutcome: number;
  readonly requests: number;
}> {
  await runBaselineOnce(warmUp);
  readingOnceNs(warmUp);
  const runs = [];
  const reading: number[] = [];
  for (let round = 0; round < rounds; round++) {
    runs.push(await runBaselineOnce(population));
    reading.push(readingOnceNs(population));
  }
  const count = population.devices.length;
  return {
    nsPerOutcome: median(runs.map((run) => run.ns / count)),
    readingNsPerOutcome: median(reading) / count,
    requests: median(runs.map((run) => run.requests)),
  };
}
