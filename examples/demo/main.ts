import { runNoOlmStory } from "./noOlmStory.js";

// `npm run demo`: the m.no_olm story with real libolm; exits 0 only if it ran as the spec says.
const result = await runNoOlmStory((line) => console.log(line));
const failed = result.checks.filter((c) => !c.ok);
console.log("");
console.log(
  failed.length === 0
    ? `All ${result.checks.length} checks passed.`
    : `${failed.length} of ${result.checks.length} checks FAILED: ${failed.map((c) => c.what).join("; ")}`,
);
process.exitCode = result.ok ? 0 : 1;
