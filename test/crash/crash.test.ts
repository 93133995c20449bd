import { afterAll, expect, it } from "vitest";
import { killAllChildren } from "./aliceProcess.js";
import { describeStudy, runCrashStudy } from "./runCrashStudy.js";

/*
 * The proof of "survive every restart", bounded for CI: at least 200 SIGKILLs of alice's child
 * process at seeded points, with nothing lost, duplicated or stuck. Full size: npm run crash-test.
 */

const SEED = Number(process.env.CRASH_SEED ?? 20261203);
const KILLS = Number(process.env.CRASH_KILLS ?? 200);

afterAll(() => killAllChildren());

it(`alice survives ${KILLS} SIGKILLs (seed ${SEED})`, { timeout: 300_000 }, async () => {
  console.log(
    `crash-test: seed=${SEED} (replay: CRASH_SEED=${SEED} or npm run crash-test -- --seed ${SEED})`,
  );
  const result = await runCrashStudy({ seed: SEED, kills: KILLS });
  for (const line of describeStudy(result)) console.log(line);
  console.log(result.line);
  expect(result.failures).toEqual([]);
  expect(result.counters).toMatchObject({ lost: 0, duplicated: 0, stuck: 0, dummyLost: 0 });
  expect(result.kills).toBeGreaterThanOrEqual(KILLS);
  expect(result.counters.episodes).toBeGreaterThan(0);
});
