import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLAIM_BACKOFF_BASE_MS } from "../../src/machine/timing.js";
import { type Plan, runRacing, runSchedule } from "./harness/racing.js";

const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20261126);

it(`racing peers (seed ${SEED})`, { timeout: 90_000 }, async () => {
  const keep = setInterval(() => {}, 1000);
  try {
    const c = await runRacing(20, SEED, Date.now() + 30_000);
    expect(c.failures).toEqual([]);
    expect({ pingpong: c.pingpong, unconverged: c.unconverged, stuck: c.stuck }).toEqual({
      pingpong: 0,
      unconverged: 0,
      stuck: 0,
    });
  } finally {
    clearInterval(keep);
  }
});

describe("the final rounds come after the claim backoffs a schedule started (R5)", () => {
  // Shrunk from npm run robustness (seed 1018232295, path 8:1:2:2:2:2:0): neither device has
  // one-time keys, so alice's share-time claim for bob and bob's reply claim for alice (answering
  // her m.no_olm) both fail, and each backs the other off for 15 s.
  const plan: Plan = {
    keys: [0, 0],
    rounds: [{ shares: [0], faults: [], upload: [], advance: 0 }],
    deliveries: ["deliver"],
  };
  const run = (finalWaitMs?: number) => {
    const [s] = fc.sample(fc.scheduler(), { seed: 1, numRuns: 1 });
    if (s === undefined) throw new Error("no scheduler");
    return runSchedule(s, plan, finalWaitMs === undefined ? {} : { finalWaitMs });
  };

  it("shared at the instant the schedule ended, both claims are skipped: unconverged", async () => {
    const out = await run(0);
    expect(out.problems).toEqual([
      "unconverged: bob cannot read alice's final message (no room key)",
      "unconverged: alice cannot read bob's final message (no room key)",
    ]);
    expect(out.unconverged).toBe(2);
  });

  it("once the 15 s backoff is over, the next share claims and every pair reads", async () => {
    expect(await run(CLAIM_BACKOFF_BASE_MS)).toEqual({
      pingpong: 0,
      unconverged: 0,
      stuck: 0,
      problems: [],
    });
    expect((await run()).problems).toEqual([]);
  });
});
