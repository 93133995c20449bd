import { expect, it } from "vitest";
import { runNoOlmStory } from "../../examples/demo/noOlmStory.js";

it("the demo's story runs as the spec says (npm run demo)", async () => {
  const lines: string[] = [];
  const result = await runNoOlmStory((line) => lines.push(line));
  expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  expect(result.checks.length).toBeGreaterThanOrEqual(15);
  expect(result.checks.map((c) => c.what).join("\n")).toMatch(/after the restart/);
  expect(lines.filter((l) => l.includes("msg  m.room_key.withheld  alice"))).toHaveLength(2);
});
