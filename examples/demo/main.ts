import { writeFileSync } from "node:fs";
import { demoPage } from "./demoPage.js";
import { runNoOlmStory } from "./noOlmStory.js";

// `npm run demo [-- --html <file>]`: the m.no_olm story with real libolm; exits 0 only if it ran
// as the spec says, 2 on a bad argument. With --html it also writes the page of the run.
function htmlFileOf(args: readonly string[]): { file?: string } | { error: string } {
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "--html") return { error: `unknown argument ${args[i]}` };
    const next = args[++i];
    if (next === undefined || next.startsWith("-")) return { error: "--html needs a file" };
    file = next;
  }
  return file === undefined ? {} : { file };
}

const parsed = htmlFileOf(process.argv.slice(2));
if ("error" in parsed) {
  console.error(`${parsed.error}; usage: npm run demo [-- --html <file>]`);
  process.exit(2);
}

const result = await runNoOlmStory((line) => console.log(line));
const failed = result.checks.filter((c) => !c.ok);
console.log("");
console.log(
  failed.length === 0
    ? `All ${result.checks.length} checks passed.`
    : `${failed.length} of ${result.checks.length} checks FAILED: ${failed.map((c) => c.what).join("; ")}`,
);
if (parsed.file !== undefined) {
  writeFileSync(parsed.file, demoPage(result));
  // On stderr, so stdout stays exactly what `npm run demo` prints.
  console.error(`wrote the page of this run to ${parsed.file}`);
}
process.exitCode = result.ok ? 0 : 1;
