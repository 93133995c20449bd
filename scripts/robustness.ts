/*
 * Full-size robustness run: fuzz (1,000,000 inputs), floods, racing peers (~8 min of schedules;
 * a failure ends them early, once shrunk), about 10.5 min in all on 2 CPUs.
 * Prints seeds, counterexamples on failure, and one final line. Run: npm run robustness.
 */

import { runFloods } from "../test/robustness/harness/floods.js";
import { FULL_FUZZ, runFuzz } from "../test/robustness/harness/fuzz.js";
import { runRacing } from "../test/robustness/harness/racing.js";

const keep = setInterval(() => {}, 1000);
const seed = Number(process.env.ROBUSTNESS_SEED ?? Date.now() % 2 ** 31);
const started = Date.now();
console.log(`robustness: seed=${seed} (replay with ROBUSTNESS_SEED=${seed})`);

const fuzz = await runFuzz(FULL_FUZZ, seed);
console.log(`fuzz: ${fuzz.inputs} inputs in ${Math.round((Date.now() - started) / 1000)} s`);
for (const [target, t] of Object.entries(fuzz.perTarget))
  console.log(`  ${target}: ${JSON.stringify(t)}`);
for (const example of fuzz.examples) console.log(`  counterexample ${example.slice(0, 1500)}`);

const floods = await runFloods({ forged: 10_000, genuine: 10_000, unknown: 1_000_000 });
console.log(`floods: ${JSON.stringify(floods)}`);
const floodBroken =
  floods.forgedClaims !== 0 ||
  floods.newSessions > 1 ||
  floods.claims > 1 ||
  floods.unknownWithState !== 0 ||
  floods.problems.length > 0;

const racing = await runRacing(100_000, seed, Date.now() + 8 * 60_000);
for (const failure of racing.failures)
  console.log(`racing counterexample: ${failure.slice(0, 4000)}`);
clearInterval(keep);

console.log(`time: ${Math.round((Date.now() - started) / 1000)} s`);
console.log(
  `robustness: fuzz_inputs=${fuzz.inputs} escaped=${fuzz.escaped} state_changes_from_invalid=${fuzz.stateChangesFromInvalid} flood_notices=${floods.notices} new_sessions=${floods.newSessions} claims=${floods.claims} unknown_notices=${floods.unknownNotices} heap_growth_mb=${floods.heapGrowthMb.toFixed(1)} schedules=${racing.schedules} pingpong=${racing.pingpong} unconverged=${racing.unconverged} stuck=${racing.stuck}`,
);
const bad =
  fuzz.escaped +
    fuzz.stateChangesFromInvalid +
    fuzz.reasonless +
    racing.pingpong +
    racing.unconverged +
    racing.stuck >
    0 ||
  racing.failures.length > 0 ||
  floodBroken;
process.exit(bad ? 1 : 0);
