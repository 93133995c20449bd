/**
 * Random event sequences for the model-based tests, and a runner that drives the machine's
 * public step API with them.
 *
 * Choice: a hand-rolled sequence runner over `fc.array(step)` rather than `fc.commands` +
 * `fc.modelRun`. The properties other than lockstep equivalence (notice counts, reply spacing,
 * persist/restore equivalence) look at a whole run at once, which a plain array of steps and a
 * list of per-step records make easy; fast-check still shrinks the array to a minimal
 * counterexample. Steps are symbolic ("the current notice id", "one ms before the backoff is
 * over") and resolved against the machine's state when they run, so shrinking keeps them
 * meaningful.
 */
import fc from "fast-check";
import type { PeerCommand } from "../../src/machine/peerCommands.js";
import type { PeerContext } from "../../src/machine/peerContext.js";
import type { SessionOrigin } from "../../src/machine/peerEvents.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  persistPeerSnapshot,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { type StepResult, stepPeer } from "../../src/machine/stepPeer.js";
import { modelBackoffMs, ONE_HOUR_MS } from "./referenceModel.js";

export const H = ONE_HOUR_MS;

/** How the shell's clock moves before a step. */
export type ClockMove =
  | { readonly k: "same" }
  | { readonly k: "fwd"; readonly ms: number }
  | { readonly k: "back"; readonly ms: number }
  /** To lastReplyAt + 1 h + off (no move when there was no reply). */
  | { readonly k: "replyEdge"; readonly off: number }
  /** To claimFailedAt + current backoff + off (no move when not backing off). */
  | { readonly k: "backoffEdge"; readonly off: number };

/** Which id an ack or reply result carries, relative to the machine's current one. */
export type IdPick =
  | { readonly k: "current" }
  | { readonly k: "rel"; readonly d: number }
  | { readonly k: "abs"; readonly id: number };

export type Action =
  | { readonly a: "fail" }
  /** A share asks to claim a key for the device (R5), outside a share chunk: nobody answers. */
  | { readonly a: "claimRequested" }
  /** A share-time claim failed, whether or not one was granted (a late or duplicate answer). */
  | { readonly a: "claimFailed" }
  | { readonly a: "deviceChanged" }
  /**
   * The outcome of the share's claim: a session (`ok`) or CLAIM_FAILED, if the last claim the
   * machine granted (`claimForShare`) is not answered yet; with none to answer, a no-op (run as
   * a persist step).
   */
  | { readonly a: "shareAnswer"; readonly ok: boolean }
  | { readonly a: "session"; readonly origin: SessionOrigin }
  | { readonly a: "sessionLost" }
  | { readonly a: "noticeSent"; readonly id: IdPick }
  | { readonly a: "noticeSendFailed"; readonly id: IdPick }
  | { readonly a: "noticeIn" }
  | { readonly a: "dummyQueued"; readonly id: IdPick }
  | { readonly a: "replyOk"; readonly id: IdPick }
  | { readonly a: "replyFailed"; readonly id: IdPick }
  | { readonly a: "resumed" }
  | { readonly a: "malformed"; readonly variant: number }
  | { readonly a: "persist" };

export interface Step {
  readonly clock: ClockMove;
  readonly action: Action;
  /** Add a stray field to a well-formed event (it stays well-formed). */
  readonly extra: boolean;
}

export interface Run {
  readonly start: number;
  readonly steps: readonly Step[];
}

/** Malformed inputs, built from the current clock reading. */
const MALFORMED: readonly ((at: number) => unknown)[] = [
  () => null,
  () => undefined,
  (at) => at,
  () => "NOTICE_RECEIVED",
  (at) => [{ type: "NOTICE_RECEIVED", at }],
  (at) => ({ type: "notice_received", at }),
  (at) => ({ type: 7, at }),
  (at) => ({ at }),
  () => ({ type: "NOTICE_RECEIVED" }),
  () => ({ type: "NOTICE_RECEIVED", at: Number.NaN }),
  () => ({ type: "ESTABLISH_FAILED", at: Number.POSITIVE_INFINITY }),
  () => ({ type: "ESTABLISH_FAILED", at: Number.NEGATIVE_INFINITY }),
  (at) => ({ type: "ESTABLISH_FAILED", at: String(at) }),
  () => ({ type: "REPLY_SUCCEEDED", at: null, replyId: 1 }),
  (at) => ({ type: "SESSION_ESTABLISHED", at }),
  (at) => ({ type: "SESSION_ESTABLISHED", at, origin: "OUTBOUND" }),
  (at) => ({ type: "SESSION_ESTABLISHED", at, origin: null }),
  (at) => ({ type: "NOTICE_SENT", at, noticeId: -1 }),
  (at) => ({ type: "NOTICE_SENT", at, noticeId: 1.5 }),
  (at) => ({ type: "NOTICE_SENT", at, noticeId: "1" }),
  (at) => ({ type: "NOTICE_SEND_FAILED", at }),
  (at) => ({ type: "NOTICE_SEND_FAILED", at, noticeId: Number.NaN }),
  (at) => ({ type: "REPLY_SUCCEEDED", at, replyId: -1 }),
  (at) => ({ type: "REPLY_SUCCEEDED", at, replyId: 0.5 }),
  (at) => ({ type: "REPLY_FAILED", at, replyId: "1" }),
  (at) => ({ type: "REPLY_FAILED", at, replyId: Number.POSITIVE_INFINITY }),
  (at) => ({ type: "REPLY_FAILED", at, replyId: null }),
  (at) => ({ type: "DUMMY_QUEUED", at }),
  (at) => ({ type: "DUMMY_QUEUED", at, replyId: -1 }),
  (at) => ({ type: "DUMMY_QUEUED", at, replyId: 2 ** 32 }),
  () => ({ type: "DUMMY_QUEUED", at: Number.NaN, replyId: 1 }),
  (at) => ({ type: "dummy_queued", at, replyId: 1 }),
  () => ({ type: "SESSION_LOST" }),
  () => ({ type: "SESSION_LOST", at: Number.NaN }),
  (at) => ({ type: "SESSION_LOST", at: String(at) }),
  (at) => ({ type: "session_lost", at }),
  () => ({ type: "CLAIM_REQUESTED" }),
  () => ({ type: "CLAIM_REQUESTED", at: Number.NaN }),
  (at) => ({ type: "CLAIM_REQUESTED", at: [at] }),
  (at) => ({ type: "claim_requested", at }),
  (at) => ({ type: "CLAIM_FAILED", at: String(at) }),
  () => ({ type: "CLAIM_FAILED", at: Number.POSITIVE_INFINITY }),
  (at) => [{ type: "CLAIM_FAILED", at }],
  (at) => ({ type: "ClaimFailed", at }),
  () => ({ type: "DEVICE_CHANGED" }),
  () => ({ type: "DEVICE_CHANGED", at: null }),
  () => ({ type: "DEVICE_CHANGED", at: Number.NEGATIVE_INFINITY }),
  (at) => ({ type: "device_changed", at }),
];

const idPickArb: fc.Arbitrary<IdPick> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ k: "current" } as const) },
  { weight: 2, arbitrary: fc.constantFrom(-2, -1, 1).map((d) => ({ k: "rel", d }) as const) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((id) => ({ k: "abs", id }) as const) },
);

export const clockArb: fc.Arbitrary<ClockMove> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ k: "same" } as const) },
  // small forward steps (seconds), sometimes a fraction of a ms: multiples of 1/1024 ms, so
  // that every reading and every sum of moves stays exact in floating point
  {
    weight: 6,
    arbitrary: fc
      .oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 20_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2048 }).map((k) => k / 1024) },
      )
      .map((ms) => ({ k: "fwd", ms }) as const),
  },
  // large forward steps (up to two hours)
  {
    weight: 3,
    arbitrary: fc.integer({ min: 20_000, max: 2 * H }).map((ms) => ({ k: "fwd", ms }) as const),
  },
  // the clock goes backwards
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 2 * H }).map((ms) => ({ k: "back", ms }) as const),
  },
  // exactly at the 1-hour and backoff boundaries, ±1 ms
  {
    weight: 3,
    arbitrary: fc.constantFrom(-1, 0, 1).map((off) => ({ k: "replyEdge", off }) as const),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(-1, 0, 1).map((off) => ({ k: "backoffEdge", off }) as const),
  },
);

/**
 * Single actions. `bareClaims` false leaves out CLAIM_REQUESTED outside a share chunk, so that
 * every claim the machine grants is answered before the next one is asked for (as a shell that
 * claims for one share at a time would).
 */
const makeActionArb = (bareClaims: boolean): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant({ a: "fail" } as const) },
    { weight: bareClaims ? 2 : 0, arbitrary: fc.constant({ a: "claimRequested" } as const) },
    { weight: 2, arbitrary: fc.constant({ a: "claimFailed" } as const) },
    { weight: 1, arbitrary: fc.constant({ a: "deviceChanged" } as const) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<SessionOrigin>("outbound", "inbound", "existing")
        .map((origin) => ({ a: "session", origin }) as const),
    },
    { weight: 2, arbitrary: fc.constant({ a: "sessionLost" } as const) },
    { weight: 2, arbitrary: idPickArb.map((id) => ({ a: "noticeSent", id }) as const) },
    { weight: 2, arbitrary: idPickArb.map((id) => ({ a: "noticeSendFailed", id }) as const) },
    { weight: 6, arbitrary: fc.constant({ a: "noticeIn" } as const) },
    { weight: 3, arbitrary: idPickArb.map((id) => ({ a: "dummyQueued", id }) as const) },
    { weight: 3, arbitrary: idPickArb.map((id) => ({ a: "replyOk", id }) as const) },
    { weight: 3, arbitrary: idPickArb.map((id) => ({ a: "replyFailed", id }) as const) },
    { weight: 1, arbitrary: fc.constant({ a: "resumed" } as const) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 0, max: MALFORMED.length - 1 })
        .map((variant) => ({ a: "malformed", variant }) as const),
    },
    { weight: 1, arbitrary: fc.constant({ a: "persist" } as const) },
  );

export const actionArb: fc.Arbitrary<Action> = makeActionArb(true);

const extraArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

const current: IdPick = { k: "current" };

/**
 * Clock moves and actions that matter together, so that runs reach the rare corners (a notice
 * exactly at the end of the hour or of a backoff, a second reply an hour later, a backoff
 * ladder several rungs deep, a notice from a clock gone backwards) often enough.
 */
const comboArb: fc.Arbitrary<Step> = fc.oneof(
  // R5: a failed share-time claim, then a notice soon after, while its backoff runs
  fc
    .integer({ min: 0, max: 20_000 })
    .map((ms): Step => ({ clock: { k: "fwd", ms }, action: { a: "claimFailed" }, extra: false })),
  fc.constantFrom(-1, 0, 1).map(
    (off): Step => ({
      clock: { k: "backoffEdge", off },
      action: { a: "deviceChanged" },
      extra: false,
    }),
  ),
  fc
    .constantFrom(-1, 0, 1)
    .map(
      (off): Step => ({ clock: { k: "replyEdge", off }, action: { a: "noticeIn" }, extra: false }),
    ),
  fc.constantFrom(-1, 0, 1).map(
    (off): Step => ({
      clock: { k: "backoffEdge", off },
      action: { a: "noticeIn" },
      extra: false,
    }),
  ),
  fc
    .integer({ min: 1, max: 2 * H })
    .map((ms): Step => ({ clock: { k: "back", ms }, action: { a: "noticeIn" }, extra: false })),
  fc.integer({ min: 1, max: 5_000 }).map(
    (ms): Step => ({
      clock: { k: "fwd", ms },
      action: { a: "dummyQueued", id: current },
      extra: false,
    }),
  ),
  fc.integer({ min: 1, max: 5_000 }).map(
    (ms): Step => ({
      clock: { k: "fwd", ms },
      action: { a: "replyOk", id: current },
      extra: false,
    }),
  ),
  fc.integer({ min: 1, max: 5_000 }).map(
    (ms): Step => ({
      clock: { k: "fwd", ms },
      action: { a: "replyFailed", id: current },
      extra: false,
    }),
  ),
);

/** A claim request at the end of the backoff (±1 ms) or from a clock gone back. */
const claimComboArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(-1, 0, 1).map(
    (off): Step => ({
      clock: { k: "backoffEdge", off },
      action: { a: "claimRequested" },
      extra: false,
    }),
  ),
  fc
    .integer({ min: 1, max: 2 * H })
    .map(
      (ms): Step => ({ clock: { k: "back", ms }, action: { a: "claimRequested" }, extra: false }),
    ),
);

const makeStepArb = (bareClaims: boolean): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ clock: clockArb, action: makeActionArb(bareClaims), extra: extraArb }),
    },
    { weight: 1, arbitrary: bareClaims ? fc.oneof(comboArb, claimComboArb) : comboArb },
  );

export const stepArb: fc.Arbitrary<Step> = makeStepArb(true);

/**
 * A reply's two outcomes in order: its m.dummy queued (sometimes a restart then), then delivered
 * or lost. Between them the clock may move well past an hour, so that "the hour starts at
 * delivery, not at queueing" shows.
 */
const replyOutcomeArb: fc.Arbitrary<Step[]> = fc
  .record({
    queuedAfter: fc.integer({ min: 1, max: 5_000 }),
    outcomeAfter: fc.oneof(
      fc.integer({ min: 1, max: 5_000 }),
      fc.integer({ min: H - 5_000, max: 2 * H }),
    ),
    delivered: fc.boolean(),
    // A restart while the m.dummy waits in the outbox.
    restart: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
  })
  .map(({ queuedAfter, outcomeAfter, delivered, restart }): Step[] => [
    {
      clock: { k: "fwd", ms: queuedAfter },
      action: { a: "dummyQueued", id: current },
      extra: false,
    },
    ...(restart ? [{ clock: { k: "same" }, action: { a: "resumed" }, extra: false } as const] : []),
    {
      clock: { k: "fwd", ms: outcomeAfter },
      action: delivered ? { a: "replyOk", id: current } : { a: "replyFailed", id: current },
      extra: false,
    },
  ]);

/** Rungs of the claim backoff ladder: a notice as the backoff ends, then a failed claim. */
const ladderArb: fc.Arbitrary<Step[]> = fc
  .array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 9 })
  .map((offs) =>
    offs.flatMap((off): Step[] => [
      { clock: { k: "backoffEdge", off }, action: { a: "noticeIn" }, extra: false },
      { clock: { k: "fwd", ms: 1 }, action: { a: "replyFailed", id: current }, extra: false },
    ]),
  );

/**
 * The backend loses the session, then the peer's notice arrives: soon (inside the hour of a reply
 * just made) or over an hour later, so that "answered over a new session" shows.
 */
const lostSessionArb: fc.Arbitrary<Step[]> = fc
  .record({
    lostAfter: fc.integer({ min: 0, max: 5_000 }),
    noticeAfter: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: H, max: 2 * H })),
  })
  .map(({ lostAfter, noticeAfter }): Step[] => [
    { clock: { k: "fwd", ms: lostAfter }, action: { a: "sessionLost" }, extra: false },
    { clock: { k: "fwd", ms: noticeAfter }, action: { a: "noticeIn" }, extra: false },
  ]);

/** Where a share's CLAIM_REQUESTED falls: at the end of the backoff (±1 ms), or anywhere. */
const shareClockArb: fc.Arbitrary<ClockMove> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(-1, 0, 1).map((off) => ({ k: "backoffEdge", off }) as const),
  },
  { weight: 3, arbitrary: clockArb },
);

const answerDelayArb: fc.Arbitrary<ClockMove> = fc.oneof(
  fc.constant({ k: "same" } as const),
  fc.integer({ min: 1, max: 5_000 }).map((ms) => ({ k: "fwd", ms }) as const),
);

/**
 * A share (R5): CLAIM_REQUESTED, a few other events meanwhile (never another claim request),
 * then the claim's outcome if the machine granted one: a session, or CLAIM_FAILED.
 */
const shareArb = (meanwhile: fc.Arbitrary<Step>): fc.Arbitrary<Step[]> =>
  fc
    .record({
      clock: shareClockArb,
      between: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(meanwhile, { maxLength: 2 }) },
      ),
      answerAfter: answerDelayArb,
      ok: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, fc.constant(true)),
    })
    .map(({ clock, between, answerAfter, ok }): Step[] => [
      { clock, action: { a: "claimRequested" }, extra: false },
      ...between,
      { clock: answerAfter, action: { a: "shareAnswer", ok }, extra: false },
    ]);

/** Rungs of the share-time backoff ladder: a share as (or just before) the backoff ends, failing. */
const shareLadderArb: fc.Arbitrary<Step[]> = fc
  .array(fc.constantFrom(-1, 0, 1), { minLength: 1, maxLength: 9 })
  .map((offs) =>
    offs.flatMap((off): Step[] => [
      { clock: { k: "backoffEdge", off }, action: { a: "claimRequested" }, extra: false },
      { clock: { k: "fwd", ms: 1 }, action: { a: "shareAnswer", ok: false }, extra: false },
    ]),
  );

const MAX_STEPS = 60;

/**
 * Up to 60 steps; size "max" spreads lengths over the whole range (default stays near 10).
 * `bareClaims` false: CLAIM_REQUESTED only in share chunks, each granted claim answered before
 * the next request.
 */
const makeStepsArb = (bareClaims: boolean): fc.Arbitrary<Step[]> => {
  const single = makeStepArb(bareClaims);
  return fc
    .array(
      fc.oneof(
        { weight: 30, arbitrary: single.map((step) => [step]) },
        { weight: 6, arbitrary: replyOutcomeArb },
        { weight: 1, arbitrary: ladderArb },
        { weight: 2, arbitrary: lostSessionArb },
        { weight: 6, arbitrary: shareArb(makeStepArb(false)) },
        { weight: 1, arbitrary: shareLadderArb },
      ),
      { maxLength: MAX_STEPS, size: "max" },
    )
    .map((chunks) => chunks.flat().slice(0, MAX_STEPS));
};

export const stepsArb: fc.Arbitrary<Step[]> = makeStepsArb(true);

export const startArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -5 * H, max: 5 * H }),
  fc.nat().map((n) => 1_700_000_000_000 + n),
);

export const runArb: fc.Arbitrary<Run> = fc.record({
  start: startArb,
  steps: stepsArb,
});

/** Runs in which the shell claims for one share at a time: every granted claim is answered. */
export const serialSharesRunArb: fc.Arbitrary<Run> = fc.record({
  start: startArb,
  steps: makeStepsArb(false),
});

/** The clock reading for the next step. */
export function nextNow(now: number, clock: ClockMove, ctx: PeerContext): number {
  switch (clock.k) {
    case "same":
      return now;
    case "fwd":
      return now + clock.ms;
    case "back":
      return now - clock.ms;
    case "replyEdge":
      return ctx.lastReplyAt === null ? now : ctx.lastReplyAt + H + clock.off;
    case "backoffEdge":
      return ctx.claimFailedAt === null || ctx.claimFailures === 0
        ? now
        : ctx.claimFailedAt + modelBackoffMs(ctx.claimFailures) + clock.off;
  }
}

const pickId = (pick: IdPick, current: number): number => {
  switch (pick.k) {
    case "current":
      return current;
    case "rel":
      return Math.max(0, current + pick.d);
    case "abs":
      return pick.id;
  }
};

/**
 * The concrete input for an event step (persist steps have none). A share answer is resolved by
 * `drive`, which knows whether a granted claim awaits it; here it is always answered.
 */
export function resolveEvent(step: Step, at: number, ctx: PeerContext): unknown {
  const { action } = step;
  let event: Record<string, unknown>;
  switch (action.a) {
    case "persist":
      return undefined;
    case "malformed": {
      const make = MALFORMED[action.variant];
      return make === undefined ? null : make(at);
    }
    case "fail":
      event = { type: "ESTABLISH_FAILED", at };
      break;
    case "claimRequested":
      event = { type: "CLAIM_REQUESTED", at };
      break;
    case "claimFailed":
      event = { type: "CLAIM_FAILED", at };
      break;
    case "deviceChanged":
      event = { type: "DEVICE_CHANGED", at };
      break;
    case "shareAnswer":
      event = action.ok
        ? { type: "SESSION_ESTABLISHED", at, origin: "outbound" }
        : { type: "CLAIM_FAILED", at };
      break;
    case "session":
      event = { type: "SESSION_ESTABLISHED", at, origin: action.origin };
      break;
    case "sessionLost":
      event = { type: "SESSION_LOST", at };
      break;
    case "noticeSent":
      event = { type: "NOTICE_SENT", at, noticeId: pickId(action.id, ctx.noticeId) };
      break;
    case "noticeSendFailed":
      event = { type: "NOTICE_SEND_FAILED", at, noticeId: pickId(action.id, ctx.noticeId) };
      break;
    case "noticeIn":
      event = { type: "NOTICE_RECEIVED", at };
      break;
    case "dummyQueued":
      event = { type: "DUMMY_QUEUED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "replyOk":
      event = { type: "REPLY_SUCCEEDED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "replyFailed":
      event = { type: "REPLY_FAILED", at, replyId: pickId(action.id, ctx.replyId) };
      break;
    case "resumed":
      event = { type: "RESUMED", at };
      break;
  }
  return step.extra ? { ...event, note: "stray field" } : event;
}

/** persist → JSON.stringify → JSON.parse → restore; throws if the restore refuses. */
export function roundTrip(snapshot: PeerSnapshot): PeerSnapshot {
  const json: unknown = JSON.parse(JSON.stringify(persistPeerSnapshot(snapshot)));
  const restored = restorePeerSnapshot(json);
  if (!restored.ok) {
    throw new Error(`restore refused a persisted snapshot: ${restored.reason}: ${restored.detail}`);
  }
  return restored.value;
}

export type StepRecord =
  | {
      readonly kind: "persist";
      readonly before: PeerSnapshot;
      readonly after: PeerSnapshot;
    }
  | {
      readonly kind: StepResult["kind"];
      readonly event: unknown;
      readonly commands: readonly PeerCommand[];
      readonly before: PeerSnapshot;
      readonly after: PeerSnapshot;
    };

export type EventRecord = Exclude<StepRecord, { kind: "persist" }>;

export function formatRecord(record: StepRecord, index: number): string {
  if (record.kind === "persist") return `#${index} persist → JSON → restore`;
  const commands = record.commands.length === 0 ? "" : ` ${JSON.stringify(record.commands)}`;
  return `#${index} ${fc.stringify(record.event)} → ${record.kind}${commands}`;
}

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

export const eventRecords = (records: readonly StepRecord[]): EventRecord[] =>
  records.filter((r): r is EventRecord => r.kind !== "persist");

export const eventType = (event: unknown): unknown =>
  typeof event === "object" && event !== null ? Reflect.get(event, "type") : undefined;
