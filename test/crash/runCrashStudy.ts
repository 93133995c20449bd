import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildEntry, prepareChildEntry } from "./childEntry.js";
import { type CheckReport, checkRuns } from "./crashChecks.js";
import { CrashStory, type Step } from "./crashStory.js";
import { KillPlan, type KillPoint } from "./killPlan.js";
import { Prng } from "./prng.js";
import type { MutationName } from "./storeMutations.js";
import { StoryRun } from "./storyRunner.js";

/*
 * The crash study: the seeded story with alice SIGKILLed at seeded points until `kills` kills
 * happened (then the closing steps, with no more kills), the same steps once more without any
 * kill, and the checks of one against the other. Free of vitest: the script and the test share it.
 */

export interface StudyOptions {
  readonly seed: number;
  readonly kills: number;
  readonly log?: (line: string) => void;
  readonly child?: "bundle" | "tsx";
  /** Small, so flushes are batches of several requests. Default: 1 to 3, by seed. */
  readonly maxMessagesPerRequest?: number;
  /** Breaks alice's store on purpose (storeMutations.ts): the study must then fail. */
  readonly mutation?: MutationName;
}

export interface StudyResult extends CheckReport {
  readonly seed: number;
  readonly kills: number;
  readonly killsByPoint: Readonly<Record<KillPoint, number>>;
  readonly killsDuringStartup: number;
  readonly restarts: number;
  readonly rounds: number;
  readonly steps: number;
  readonly childKind: ChildEntry["kind"];
  readonly maxMessagesPerRequest: number;
  /** Median child start-up (process start to ready), ms. */
  readonly startupMedianMs: number;
  readonly moduleLoadMedianMs: number;
  readonly wallMs: number;
  /** The study's one-line verdict. */
  readonly line: string;
  readonly ok: boolean;
}

const STORY_START = Date.UTC(2026, 10, 26, 9);

export async function runCrashStudy(options: StudyOptions): Promise<StudyResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const story = new CrashStory(new Prng(options.seed));
  // Its own stream: the story is the same whatever the kills did.
  const plan = new KillPlan(new Prng(options.seed ^ 0x5bd1e995), options.kills);
  const dir = mkdtempSync(join(tmpdir(), "crash-test-"));
  const entry = await prepareChildEntry(options.child);
  const parts = {
    entry,
    kills: plan,
    // 1: every message its own request, so any flush of two is a batch; more: requests of
    // several messages, some of which may no longer be wanted when sent again.
    maxMessagesPerRequest: options.maxMessagesPerRequest ?? 1 + (options.seed % 3),
    startTime: STORY_START,
  };
  const runs: StoryRun[] = [];
  try {
    const crashRun = await StoryRun.open({
      ...parts,
      dbPath: join(dir, "crash.db"),
      mutation: options.mutation ?? null,
    });
    runs.push(crashRun);
    const steps: Step[] = [];
    const play = async (more: readonly Step[]) => {
      for (const step of more) {
        steps.push(step);
        await crashRun.runStep(step);
      }
    };
    await play(story.prologue());
    let reported = 0;
    const maxRounds = 10 + options.kills * 2;
    while (plan.kills < options.kills && story.rounds < maxRounds) {
      await play(story.nextRound());
      if (plan.kills - reported >= Math.max(50, options.kills / 10)) {
        reported = plan.kills;
        log(
          `crash-test: ${plan.kills}/${options.kills} kills, round ${story.rounds}, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
    }
    await play(story.epilogue());
    const crash = await crashRun.finish();

    log(`crash-test: ${steps.length} steps done; the same story once more, without kills`);
    const referenceRun = await StoryRun.open({
      ...parts,
      kills: undefined,
      dbPath: join(dir, "reference.db"),
      mutation: null,
    });
    runs.push(referenceRun);
    for (const step of steps) await referenceRun.runStep(step);
    const reference = await referenceRun.finish();

    const report = checkRuns(steps, crash, reference);
    const c = report.counters;
    const line = `crash-test: kills=${plan.kills} episodes=${c.episodes} delivered=${c.delivered} lost=${c.lost} duplicated=${c.duplicated} stuck=${c.stuck} dummy_lost=${c.dummyLost}`;
    const bad = c.lost + c.duplicated + c.stuck + c.dummyLost > 0 || report.failures.length > 0;
    return {
      ...report,
      seed: options.seed,
      kills: plan.kills,
      killsByPoint: plan.byPoint,
      killsDuringStartup: plan.killsDuringStartup,
      restarts: crash.restarts,
      rounds: story.rounds,
      steps: steps.length,
      childKind: entry.kind,
      maxMessagesPerRequest: parts.maxMessagesPerRequest,
      startupMedianMs: median(crash.startupMs),
      moduleLoadMedianMs: median(crash.moduleLoadMs),
      wallMs: Date.now() - started,
      line,
      ok: !bad,
    };
  } finally {
    for (const run of runs) await run.dispose();
    entry.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
}

/** The lines printed before the verdict: where kills landed, what was delivered, what failed. */
export function describeStudy(result: StudyResult): string[] {
  const points = Object.entries(result.killsByPoint)
    .map(([point, n]) => `${point}=${n}`)
    .join(" ");
  return [
    `crash-test: seed=${result.seed} child=${result.childKind} maxMessagesPerRequest=${result.maxMessagesPerRequest} rounds=${result.rounds} steps=${result.steps} restarts=${result.restarts} wall=${Math.round(result.wallMs / 1000)}s`,
    `crash-test: kill points: ${points} (during start-up: ${result.killsDuringStartup})`,
    `crash-test: child start-up median ${result.startupMedianMs} ms (modules loaded at ${result.moduleLoadMedianMs} ms)`,
    `crash-test: ${Object.entries(result.details)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
    ...result.failures.map((failure) => `crash-test: FAILED ${failure}`),
  ];
}
