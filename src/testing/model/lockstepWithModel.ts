import fc from "fast-check";
import type { PeerCommand } from "../../machine/peerCommands.js";
import type { Run } from "./peerRunArbitraries.js";
import { MODEL_INITIAL_STATE, PeerModel } from "./referenceModel.js";
import { nextNow, resolveEvent } from "./resolveStep.js";

/**
 * An implementation of the per-device rules under test: fed the machine's events one at a
 * time, it answers what the library's `stepPeer` answers (and the reference model expects).
 */
export interface PeerRulesUnderTest {
  /**
   * Feeds one input (well-formed or not) and answers as `stepPeer` does: `applied` with the
   * commands to run, `rejected` for a malformed input, `ignored` for one that changes nothing.
   */
  apply(
    event: unknown,
  ):
    | { readonly kind: "applied"; readonly commands: readonly PeerCommand[] }
    | { readonly kind: "rejected" | "ignored" };
  /** Persist and restore (a restart); steps of kind "persist" call it. */
  restart?(): void;
}

/** The first step where an implementation and the reference model answered differently. */
export interface ModelDisagreement {
  /** The step's index in the run. */
  readonly index: number;
  /** The concrete input both were given. */
  readonly event: unknown;
  /** The model's answer. */
  readonly expected: { readonly kind: string; readonly commands: readonly PeerCommand[] };
  /** The implementation's answer (commands empty unless `applied`). */
  readonly actual: { readonly kind: string; readonly commands: readonly PeerCommand[] };
  /** The events up to and including the disagreement, one a line. */
  readonly trace: string;
}

/**
 * Runs `run` through the implementation and the reference model side by side, and returns the
 * first step where their answers (kind and commands) differ, or undefined if none does.
 * Symbolic steps are resolved against the model's state: equal while the two agree.
 */
export function lockstepWithModel(
  run: Run,
  implementation: PeerRulesUnderTest,
): ModelDisagreement | undefined {
  const model = new PeerModel(MODEL_INITIAL_STATE);
  const lines: string[] = [];
  let now = run.start;
  let claimAwaitsAnswer = false;
  for (const [index, step] of run.steps.entries()) {
    const context = model.state().context;
    now = nextNow(now, step.clock, context);
    const unanswerable = step.action.a === "shareAnswer" && !claimAwaitsAnswer;
    if (step.action.a === "shareAnswer") claimAwaitsAnswer = false;
    if (step.action.a === "persist" || unanswerable) {
      implementation.restart?.();
      lines.push(`#${index} restart`);
      continue;
    }
    const event = resolveEvent(step, now, context);
    const expectedResult = model.apply(event);
    const answer = implementation.apply(event);
    const actual = {
      kind: answer.kind,
      commands: answer.kind === "applied" ? answer.commands : [],
    };
    const expected = { kind: expectedResult.kind, commands: expectedResult.commands };
    lines.push(
      `#${index} ${fc.stringify(event)} → ${actual.kind} ${JSON.stringify(actual.commands)}`,
    );
    if (expected.commands.some((c) => c.type === "claimForShare")) claimAwaitsAnswer = true;
    const same =
      actual.kind === expected.kind &&
      JSON.stringify(actual.commands) === JSON.stringify(expected.commands);
    if (!same) return { index, event, expected, actual, trace: lines.join("\n") };
  }
  return undefined;
}
