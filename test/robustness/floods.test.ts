import { expect, it } from "vitest";
import { runFloods } from "./harness/floods.js";

it("floods: forged, genuine within an hour, unknown keys", async () => {
  const c = await runFloods({ forged: 10_000, genuine: 10_000, unknown: 50_000 });
  expect(c.problems).toEqual([]);
  expect(c.forgedClaims).toBe(0);
  expect(c.newSessions).toBeLessThanOrEqual(1);
  expect(c.claims).toBeLessThanOrEqual(1);
  expect(c.unknownWithState).toBe(0);
});
