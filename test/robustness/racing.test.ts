import { expect, it } from "vitest";
import { runRacing } from "./harness/racing.js";

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
