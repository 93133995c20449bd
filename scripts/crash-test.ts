/*
 * The crash test at full size: alice's coordinator over SQLite in a child process, SIGKILLed at
 * seeded points until --kills kills happened, checked against the same story without kills.
 * Run: npm run crash-test -- --kills 1000 --seed 42 (optional: --child tsx to start the child
 * under tsx instead of as a bundle; --mutation <name> to break alice's store on purpose, which
 * must make it fail). Prints the seed, sparse progress and one final line; exits 1
 * if anything was lost, duplicated or stuck, or any check failed.
 */

import { killAllChildren } from "../test/crash/aliceProcess.js";
import { describeStudy, runCrashStudy } from "../test/crash/runCrashStudy.js";
import { isMutationName, MUTATIONS } from "../test/crash/storeMutations.js";

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

const kills = Number(option("kills") ?? 200);
const seed = Number(option("seed") ?? Date.now() % 2 ** 31);
const child = option("child") === "tsx" ? "tsx" : "bundle";
const mutation = option("mutation");
if (
  !Number.isSafeInteger(kills) ||
  kills < 0 ||
  !Number.isSafeInteger(seed) ||
  (mutation !== undefined && !isMutationName(mutation))
) {
  console.error(
    `usage: crash-test [--kills N] [--seed S] [--child tsx] [--mutation ${Object.keys(MUTATIONS).join("|")}]`,
  );
  process.exit(2);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

console.log(`crash-test: seed=${seed} kills=${kills} (replay with --seed ${seed})`);
try {
  const result = await runCrashStudy({
    seed,
    kills,
    child,
    ...(mutation === undefined ? {} : { mutation }),
    log: (line) => console.log(line),
  });
  for (const line of describeStudy(result)) console.log(line);
  console.log(result.line);
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(
    `crash-test: the study failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
} finally {
  killAllChildren();
}
