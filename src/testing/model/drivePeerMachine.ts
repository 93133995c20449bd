/** A runner that drives the machine's public step API (`stepPeer`) through a run. */
import fc from "fast-check";
import type { PeerCommand } from "../../machine/peerCommands.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../machine/peerSnapshot.js";
import { type StepResult, stepPeer } from "../../machine/stepPeer.js";
import type { Run } from "./peerRunArbitraries.js";
import { nextNow, resolveEvent } from "./resolveStep.js";

/** persist → JSON.stringify → JSON.parse → restore; throws if the restore refuses. */
export function roundTrip(snapshot: PeerSnapshot): PeerSnapshot {
  const json: unknown = JSON.parse(JSON.stringify(persistPeerSnapshot(snapshot)));
  const restored = restorePeerSnapshot(json);
  if (!restored.ok) {
    throw new Error(`restore refused a persisted snapshot: ${restored.reason}: ${restored.detail}`);
  }
  return restored.value;
}

/**
 * What {@link drive} records for one step of a run, with the snapshot before and after it.
 */
export type StepRecord =
  /** A persist step (or a share answer with no claim to answer): snapshot round-tripped or kept. */
  | {
      readonly kind: "persist";
      readonly before: PeerSnapshot;
      readonly after: PeerSnapshot;
    }
  /**
   * An event step: the concrete input given to `stepPeer`, its answer (`applied`, `rejected` or
   * `ignored`) and the commands it returned (empty unless `applied`).
   */
  | {
      readonly kind: StepResult["kind"];
      readonly event: unknown;
      readonly commands: readonly PeerCommand[];
      readonly before: PeerSnapshot;
      readonly after: PeerSnapshot;
    };

/** A {@link StepRecord} of an event step (not a persist step). */
export type EventRecord = Exclude<StepRecord, { kind: "persist" }>;

/** One line for a failure message: `#index event → kind [commands]`. */
export function formatRecord(record: StepRecord, index: number): string {
  if (record.kind === "persist") return `#${index} persist → JSON → restore`;
  const commands = record.commands.length === 0 ? "" : ` ${JSON.stringify(record.commands)}`;
  return `#${index} ${fc.stringify(record.event)} → ${record.kind}${commands}`;
}

/**
 * The records as numbered lines, one a step; `pending` (an event that threw before it was
 * recorded) is added last, marked `(threw)`.
 */
export function formatTrace(records: readonly StepRecord[], pending?: string): string {
  const lines = records.map(formatRecord);
  if (pending !== undefined) lines.push(`#${records.length} ${pending} → (threw)`);
  return lines.join("\n");
}

/** Runs `fn`; if it throws, rethrows with the event sequence so far in the message. */
export function withTrace<T>(
  label: string,
  records: readonly StepRecord[],
  fn: () => T,
  pending?: () => string | undefined,
): T {
  try {
    return fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const trace = formatTrace(records, pending?.());
    throw new Error(`${message}\n\n${label} — event sequence:\n${trace}`, { cause: error });
  }
}

/** Options of {@link drive}. */
export interface DriveOptions {
  /** Whether persist steps really round-trip the snapshot (otherwise they are no-ops). */
  readonly roundTrip: boolean;
  /** Called after each step with its record; throw to fail (the trace is added). */
  readonly check?: (record: StepRecord, index: number) => void;
  /** Where to start (default: a fresh peer). */
  readonly from?: PeerSnapshot;
}

/** Drives the machine through a run and returns one record per step. */
export function drive(run: Run, options: DriveOptions): StepRecord[] {
  const records: StepRecord[] = [];
  let pending: string | undefined;
  withTrace(
    `start=${run.start}`,
    records,
    () => {
      let snapshot = options.from ?? initialPeerSnapshot;
      let now = run.start;
      // A claimForShare the shell has not answered yet.
      let claimAwaitsAnswer = false;
      for (const step of run.steps) {
        now = nextNow(now, step.clock, snapshot.context);
        const before = snapshot;
        let record: StepRecord;
        const unanswerable = step.action.a === "shareAnswer" && !claimAwaitsAnswer;
        if (step.action.a === "shareAnswer") claimAwaitsAnswer = false;
        if (step.action.a === "persist" || unanswerable) {
          pending = "persist → JSON → restore";
          if (options.roundTrip) snapshot = roundTrip(snapshot);
          record = { kind: "persist", before, after: snapshot };
        } else {
          const event = resolveEvent(step, now, snapshot.context);
          pending = fc.stringify(event);
          const result = stepPeer(snapshot, event);
          snapshot = result.snapshot;
          const commands = result.kind === "applied" ? result.commands : [];
          record = { kind: result.kind, event, commands, before, after: snapshot };
          if (commands.some((c) => c.type === "claimForShare")) claimAwaitsAnswer = true;
        }
        pending = undefined;
        records.push(record);
        options.check?.(record, records.length - 1);
      }
    },
    () => pending,
  );
  return records;
}

/** The records of event steps, persist steps left out. */
export const eventRecords = (records: readonly StepRecord[]): EventRecord[] =>
  records.filter((r): r is EventRecord => r.kind !== "persist");

/** An input's `type` field, or undefined if it is not an object (inputs may be malformed). */
export const eventType = (event: unknown): unknown =>
  typeof event === "object" && event !== null ? Reflect.get(event, "type") : undefined;
