/**
 * Random event sequences for one peer device: steps of {clock move, action}, symbolic ("the
 * current notice id", "one ms before the backoff is over") so that shrinking keeps them
 * meaningful; `resolveStep.ts` turns them into concrete events against the current state.
 *
 * Choice: a hand-rolled sequence over `fc.array(step)` rather than `fc.commands` +
 * `fc.modelRun`. Most properties (notice counts, reply spacing, persist/restore equivalence)
 * look at a whole run at once, which a plain array of steps and a list of per-step records
 * make easy; fast-check still shrinks the array to a minimal counterexample.
 */
import fc from "fast-check";
import type { SessionOrigin } from "../../machine/peerEvents.js";
import { ONE_HOUR_MS } from "./referenceModel.js";

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

/**
 * What happens at a step, symbolically; `resolveEvent` turns it into the machine's input (named
 * after each variant) at the step's clock reading.
 */
export type Action =
  /** ESTABLISH_FAILED: we needed a new Olm session with the device and got none. */
  | { readonly a: "fail" }
  /** A share asks to claim a key for the device (R5), outside a share chunk: nobody answers. */
  | { readonly a: "claimRequested" }
  /** A share-time claim failed, whether or not one was granted (a late or duplicate answer). */
  | { readonly a: "claimFailed" }
  /** DEVICE_CHANGED: the device's keys changed (ends a claim backoff). */
  | { readonly a: "deviceChanged" }
  /**
   * The outcome of the share's claim: a session (`ok`) or CLAIM_FAILED, if the last claim the
   * machine granted (`claimForShare`) is not answered yet; with none to answer, a no-op (run as
   * a persist step).
   */
  | { readonly a: "shareAnswer"; readonly ok: boolean }
  /** SESSION_ESTABLISHED with this origin: a usable Olm session with the device. */
  | { readonly a: "session"; readonly origin: SessionOrigin }
  /** SESSION_LOST: the Olm backend no longer holds a session with the device. */
  | { readonly a: "sessionLost" }
  /** NOTICE_SENT: the transport acknowledged the notice with the picked id. */
  | { readonly a: "noticeSent"; readonly id: IdPick }
  /** NOTICE_SEND_FAILED: sending the notice with the picked id failed. */
  | { readonly a: "noticeSendFailed"; readonly id: IdPick }
  /** NOTICE_RECEIVED: an m.no_olm from the device arrived. */
  | { readonly a: "noticeIn" }
  /** DUMMY_QUEUED: the m.dummy of the reply with the picked id is in the outbox. */
  | { readonly a: "dummyQueued"; readonly id: IdPick }
  /** REPLY_SUCCEEDED: the m.dummy of the reply with the picked id was delivered. */
  | { readonly a: "replyOk"; readonly id: IdPick }
  /** REPLY_FAILED: the reply with the picked id failed (claim or send). */
  | { readonly a: "replyFailed"; readonly id: IdPick }
  /** RESUMED: the shell restarted and resumes the peer. */
  | { readonly a: "resumed" }
  /** A malformed input (`MALFORMED[variant]`, 0-based) that must be rejected. */
  | { readonly a: "malformed"; readonly variant: number }
  /** Persist the snapshot and restore it from JSON (a restart); no event. */
  | { readonly a: "persist" };

/** One step of a {@link Run}: how the clock moves first, then what happens. */
export interface Step {
  /** Applied to the clock before the action. */
  readonly clock: ClockMove;
  /** What happens, at the new reading. */
  readonly action: Action;
  /** Add a stray field to a well-formed event (it stays well-formed). */
  readonly extra: boolean;
}

/** A random event sequence for one peer device, from a fresh peer. */
export interface Run {
  /** The first clock reading, in ms (may be negative). */
  readonly start: number;
  /** Up to 60 steps, in order. */
  readonly steps: readonly Step[];
}

/** Malformed inputs, built from the current clock reading. */
export const MALFORMED: readonly ((at: number) => unknown)[] = [
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

/**
 * Clock moves: no move, forward (1–20 000 ms, fractions of a ms, up to 2 h), backward (up to
 * 2 h), and to ±1 ms of the reply hour's or the claim backoff's end.
 */
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

/** Any single {@link Action}, claim requests outside a share included. */
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

/** Single steps: a clock move with an action, or a move and action chosen to hit a boundary. */
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

/**
 * Step sequences of up to 60 steps, mixing single steps with chunks that reach rare corners:
 * reply outcomes, backoff ladders, lost sessions, shares with their claim's answer.
 */
export const stepsArb: fc.Arbitrary<Step[]> = makeStepsArb(true);

/**
 * Starting clock readings in ms: 0, within ±5 h of 0, or an epoch reading from
 * 1 700 000 000 000 (Nov 2023) to about 25 days later.
 */
export const startArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -5 * H, max: 5 * H }),
  fc.nat().map((n) => 1_700_000_000_000 + n),
);

/** Runs for {@link drive} and {@link lockstepWithModel}: a start and {@link stepsArb} steps. */
export const runArb: fc.Arbitrary<Run> = fc.record({
  start: startArb,
  steps: stepsArb,
});

/** Runs in which the shell claims for one share at a time: every granted claim is answered. */
export const serialSharesRunArb: fc.Arbitrary<Run> = fc.record({
  start: startArb,
  steps: makeStepsArb(false),
});
