/**
 * Witness runs: for a snapshot restore accepts, an event sequence that takes a fresh peer there
 * exactly, built from the target alone. It proves the snapshot reachable, so restore accepts no
 * state the machine cannot produce (test/machine/restoreReachable.test.ts).
 *
 * Ids. A notice id of 4 000 000 000 takes as many failure episodes; no test can replay them.
 * The witness says where ids are pumped instead: a pump is a short event sequence that, from a
 * snapshot s of a "pumpable" kind, leads to s with that one id moved on by nextPeerId and nothing
 * else changed:
 *
 * - reply id: RESUMED while a reply is in flight and its m.dummy not yet queued (it restarts the
 *   reply under a fresh id; with the m.dummy queued it keeps the id);
 * - notice id: end the failure episode with SESSION_ESTABLISHED and start it again with
 *   ESTABLISH_FAILED at the same time (and NOTICE_SENT if it was delivered); when established,
 *   the other way round. Pumpable while the session touches nothing else: no claim failures (a
 *   session clears them, R3/R5), and so not backing off.
 *
 * The pump lemma (restoreReachable.test.ts checks it on arbitrary accepted snapshots, ids up to
 * MAX_PEER_ID and across the wrap) gives: if s is reachable and pumpable, so is s with that id
 * replaced by any value nextPeerId reaches from it, which from a non-zero id is every non-zero id
 * (the ids 1..MAX_PEER_ID form one cycle). So `runWitness` pumps for real while the distance is
 * short, and otherwise replaces the id by the one just before the target (reachable by the
 * lemma) and performs the last pump for real.
 */
import { expect } from "vitest";
import type { PeerContext } from "../../src/machine/peerContext.js";
import type { PeerEvent } from "../../src/machine/peerEvents.js";
import { type OlmLeaf, peerStateValue, type ReplyLeaf } from "../../src/machine/peerShape.js";
import {
  initialPeerSnapshot,
  type PeerSnapshot,
  peerLeaves,
  restorePeerSnapshot,
} from "../../src/machine/peerSnapshot.js";
import { stepPeer } from "../../src/machine/stepPeer.js";
import { MAX_COUNTED_CLAIM_FAILURES, MAX_PEER_ID } from "../../src/machine/timing.js";
import { modelWaitIsOver, ONE_HOUR_MS } from "../../src/testing/model/referenceModel.js";

export type IdField = "noticeId" | "replyId";

export type WitnessStep =
  /** An event, built from the context at that point (for the current ids). */
  | { readonly event: (context: PeerContext) => PeerEvent }
  /** Pump this id until it equals `to`. */
  | { readonly pump: IdField; readonly to: number };

/** The witness's own successor function, written from the rule "ids wrap to 1". */
export const nextId = (id: number): number => (id === MAX_PEER_ID ? 1 : id + 1);
const previousId = (id: number): number => (id === 1 ? MAX_PEER_ID : id - 1);

/** How many nextId steps from `from` to `to` (Infinity if never: nothing leads back to 0). */
export function idDistance(from: number, to: number): number {
  if (from === to) return 0;
  if (to === 0) return Number.POSITIVE_INFINITY;
  if (from === 0) return 1 + idDistance(1, to);
  return (to - from + MAX_PEER_ID) % MAX_PEER_ID;
}

/** The pump for `field` from `snapshot`, or undefined if the snapshot is not pumpable. */
export function pumpEvents(field: IdField, snapshot: PeerSnapshot): PeerEvent[] | undefined {
  const { olm, reply } = peerLeaves(snapshot.value);
  const c = snapshot.context;
  if (field === "replyId") {
    return reply === "newSession" || reply === "existingSession"
      ? [{ type: "RESUMED", at: 0 }]
      : undefined;
  }
  if (reply === "backingOff" || c.claimFailures !== 0) return undefined;
  const session = { type: "SESSION_ESTABLISHED", at: 0, origin: "inbound" } as const;
  switch (olm) {
    case "noSession":
      return undefined;
    case "established":
      return [{ type: "ESTABLISH_FAILED", at: 0 }, session];
    case "noticePending":
      return [session, { type: "ESTABLISH_FAILED", at: c.unreachableSince ?? 0 }];
    case "noticeDelivered":
      return [
        session,
        { type: "ESTABLISH_FAILED", at: c.unreachableSince ?? 0 },
        { type: "NOTICE_SENT", at: 0, noticeId: nextId(c.noticeId) },
      ];
  }
}

/** stepPeer, failing if the event or the snapshot was refused. */
export function mustStep(snapshot: PeerSnapshot, event: PeerEvent): PeerSnapshot {
  const result = stepPeer(snapshot, event);
  if (result.kind === "rejected") {
    const { reason, detail } = result.rejection;
    throw new Error(
      `${JSON.stringify(event)} from ${JSON.stringify(snapshot)} refused: ${reason}: ${detail}`,
    );
  }
  return result.snapshot;
}

/** How a witness takes one step: mustStep, or a memo of it. */
export type Stepper = (snapshot: PeerSnapshot, event: PeerEvent) => PeerSnapshot;

/**
 * mustStep with a memo, for replaying many witnesses that share prefixes (the exhaustive check
 * over every shape: nine steps in ten repeat one already taken). stepPeer is pure, so a step
 * taken again from an equal snapshot with an equal event has the same result; equal means the
 * same numbers, -0 and 0 told apart.
 */
export function memoizedStepper(): Stepper {
  const memo = new Map<string, PeerSnapshot>();
  const key = (snapshot: PeerSnapshot, event: PeerEvent): string =>
    JSON.stringify([snapshot, event], (_, v: unknown) =>
      typeof v === "number" && (Object.is(v, -0) || !Number.isFinite(v)) ? `#${v}` : v,
    );
  return (snapshot, event) => {
    const k = key(snapshot, event);
    const known = memo.get(k);
    if (known !== undefined) return known;
    const next = mustStep(snapshot, event);
    memo.set(k, next);
    return next;
  };
}

export function withId(snapshot: PeerSnapshot, field: IdField, id: number): PeerSnapshot {
  return { value: snapshot.value, context: { ...snapshot.context, [field]: id } };
}

/** Real pumps up to this many; beyond, the pump lemma stands for all but the last. */
const REAL_PUMPS = 6;

function pump(snapshot: PeerSnapshot, field: IdField, to: number, step: Stepper): PeerSnapshot {
  let s = snapshot;
  const once = () => {
    const events = pumpEvents(field, s);
    expect(events, `a ${field} pump from ${JSON.stringify(s)}`).toBeDefined();
    const before = s;
    for (const event of events ?? []) s = step(s, event);
    // The lemma's instance at hand: only that id moved, by nextId.
    expect(s).toStrictEqual(withId(before, field, nextId(before.context[field])));
  };
  if (s.context[field] === 0 && to !== 0) once();
  const distance = idDistance(s.context[field], to);
  expect(distance, `${field} ${s.context[field]} can never become ${to}`).toBeLessThan(
    Number.POSITIVE_INFINITY,
  );
  if (distance > REAL_PUMPS) {
    // Reachable by the pump lemma: distance - 1 pumps from the reachable s.
    s = withId(s, field, previousId(to));
    expect(restorePeerSnapshot({ v: 1, ...s }).ok).toBe(true);
    once();
  } else {
    for (let i = 0; i < distance; i += 1) once();
  }
  return s;
}

/** Runs a witness from a fresh peer and returns where it ends. */
export function runWitness(steps: readonly WitnessStep[], step: Stepper = mustStep): PeerSnapshot {
  let s: PeerSnapshot = initialPeerSnapshot;
  for (const w of steps) {
    s = "event" in w ? step(s, w.event(s.context)) : pump(s, w.pump, w.to, step);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Building the witness

const H = ONE_HOUR_MS;
/** A reading past every wait from any anchor below it (no wait is ≥ 2^970 ms). */
const LATE = Number.MAX_VALUE;

const ev = (event: PeerEvent): WitnessStep => ({ event: () => event });
const received = (at: number): WitnessStep => ev({ type: "NOTICE_RECEIVED", at });
const session = (at = 0): WitnessStep =>
  ev({ type: "SESSION_ESTABLISHED", at, origin: "outbound" });
const failed = (at: number): WitnessStep => ev({ type: "ESTABLISH_FAILED", at });
const noticeSent: WitnessStep = {
  event: (c) => ({ type: "NOTICE_SENT", at: 0, noticeId: c.noticeId }),
};
const queued: WitnessStep = {
  event: (c) => ({ type: "DUMMY_QUEUED", at: 0, replyId: c.replyId }),
};
/** The reply's m.dummy queued, then accepted by the homeserver at `at` (the hour starts). */
const replied = (at: number): WitnessStep[] => [
  queued,
  { event: (c) => ({ type: "REPLY_SUCCEEDED", at, replyId: c.replyId }) },
];
const replyFailed = (at: number): WitnessStep => ({
  event: (c) => ({ type: "REPLY_FAILED", at, replyId: c.replyId }),
});
const sessionLost = ev({ type: "SESSION_LOST", at: 0 });
const claimFailed = (at: number): WitnessStep => ev({ type: "CLAIM_FAILED", at });
const claimRequested = (at: number): WitnessStep => ev({ type: "CLAIM_REQUESTED", at });
const deviceChanged = ev({ type: "DEVICE_CHANGED", at: 0 });
const repeat = (n: number, step: WitnessStep): WitnessStep[] =>
  Array.from({ length: n }, () => step);
const pumpTo = (field: IdField, to: number): WitnessStep => ({ pump: field, to });

const snapshotOf = (olm: OlmLeaf, reply: ReplyLeaf, context: PeerContext): PeerSnapshot => ({
  value: peerStateValue(olm, reply),
  context,
});

/**
 * A witness for `target` (meant for snapshots restore accepts; for others it ends elsewhere).
 * The olm region is set up first or last, around the reply history, as the reply needs:
 * an existing-session reply needs a session, a new-session reply needs none.
 *
 * Some targets are reached through a snapshot just before them: the witness of that snapshot,
 * then the events that lead on. In an episode, claim failures the reply's own claims do not
 * explain come from shares (CLAIM_FAILED: inside an episode it only counts, R5), so such a
 * target is the same snapshot without them, then as many CLAIM_FAILED, the last at the anchor. A lost session (SESSION_LOST: established → noSession, no
 * other change) gives every noSession target whose reply does not depend on having had no
 * session; a queued m.dummy is reached from the reply just before it was queued. Every context
 * change the later state allows (notices recorded, a session clearing the backoff) the earlier
 * one allows too, so that snapshot is reachable when the target is.
 */
export function witnessFor(target: PeerSnapshot): WitnessStep[] {
  const { olm, reply } = peerLeaves(target.value);
  const c = target.context;
  const inEpisode = olm === "noticePending" || olm === "noticeDelivered";
  const U = c.unreachableSince ?? 0;
  const L = c.lastNoticeReceivedAt ?? 0;
  const P = c.lastReplyAt;
  const C = c.claimFailedAt ?? 0;
  const steps: WitnessStep[] = [];

  /** Episode start at U (and delivery), from a state outside an episode. */
  const episodeTail = () => {
    if (!inEpisode) return;
    steps.push(failed(U));
    if (olm === "noticeDelivered") steps.push(noticeSent);
  };

  // R5: a notice that came while a share-time backoff ran, and no reply since: the episode,
  // the failures (at the largest reading, so the notice finds the backoff running whatever its
  // reading), the notice (which moves the anchor back to it), and the anchor where the target
  // has it: moved back further by a skipped share, or set after the notice by one more failure.
  if (reply === "backingOff" && c.replyId === 0) {
    steps.push(failed(U), pumpTo("noticeId", c.noticeId));
    if (olm === "noticeDelivered") steps.push(noticeSent);
    const later = C > L;
    const before = later && c.claimFailures < MAX_COUNTED_CLAIM_FAILURES ? 1 : 0;
    steps.push(...repeat(c.claimFailures - before, claimFailed(LATE)), received(L));
    if (later) steps.push(claimFailed(C));
    else if (C < L) steps.push(claimRequested(C));
    return steps;
  }
  if (reply === "idle" && c.replyId === 0 && c.lastNoticeReceivedAt !== null) {
    // That notice waited for the backoff, which then ended: by new keys, or by a session.
    if (olm === "established") {
      return [claimFailed(LATE), received(L), session(), pumpTo("noticeId", c.noticeId)];
    }
    if (inEpisode && c.claimFailures === 0) {
      const waited = snapshotOf(olm, "backingOff", { ...c, claimFailures: 1, claimFailedAt: L });
      return [...witnessFor(waited), deviceChanged];
    }
  }
  if (inEpisode && c.claimFailures > 0 && reply !== "backingOff") {
    const withoutShares = snapshotOf(olm, reply, { ...c, claimFailures: 0, claimFailedAt: null });
    return [...witnessFor(withoutShares), ...repeat(c.claimFailures, claimFailed(C))];
  }

  const newSessionReply = reply === "newSession" || reply === "backingOff";
  if (olm === "noSession" && !newSessionReply) {
    // The same snapshot with the session still there, then the session lost.
    return [...witnessFor(snapshotOf("established", reply, c)), sessionLost];
  }
  if (reply === "existingSessionDummyQueued") {
    // The m.dummy over the session was queued; nothing in the context records when.
    return [...witnessFor(snapshotOf(olm, "existingSession", c)), queued];
  }
  if (reply === "newSessionDummyQueued") {
    // Queueing it made the session and ended any episode: one in the target started later.
    if (inEpisode) {
      const beforeEpisode = snapshotOf("established", reply, {
        ...c,
        noticeId: c.noticeId === 1 ? 0 : previousId(c.noticeId),
        unreachableSince: null,
      });
      steps.push(...witnessFor(beforeEpisode));
      episodeTail();
      return steps;
    }
    // The claim ran with no session; queueing its m.dummy cleared any claim failures.
    return [...witnessFor(snapshotOf("noSession", "newSession", c)), queued];
  }

  if (reply === "idle" || reply === "existingSession") {
    if (reply === "idle" && c.replyId === 0) {
      // Never replied: only the olm region moved.
      if (olm === "established") steps.push(session(), pumpTo("noticeId", c.noticeId));
      if (inEpisode) {
        steps.push(failed(U), pumpTo("noticeId", c.noticeId));
        if (olm === "noticeDelivered") steps.push(noticeSent);
      }
      return steps;
    }
    // Replies over a session: establish it, pump the notice id, start the episode last.
    steps.push(session(), pumpTo("noticeId", inEpisode ? c.noticeId - 1 : c.noticeId));
    if (reply === "existingSession") {
      if (P === null) steps.push(received(L));
      else steps.push(received(P), ...replied(P), received(LATE), received(L));
      steps.push(pumpTo("replyId", c.replyId));
    } else if (P === null) {
      steps.push(received(L), pumpTo("replyId", c.replyId), replyFailed(0));
    } else if (P >= L) {
      // The last notice started the last reply, which succeeded at P.
      steps.push(received(L), pumpTo("replyId", c.replyId), ...replied(P));
    } else if (!modelWaitIsOver(P, L, H)) {
      // A notice inside the hour after the reply: only recorded.
      steps.push(received(P), pumpTo("replyId", c.replyId), ...replied(P), received(L));
    } else {
      // A notice an hour or more after the reply: its reply failed.
      steps.push(received(P), ...replied(P), received(L), pumpTo("replyId", c.replyId));
      steps.push(replyFailed(0));
    }
    episodeTail();
    return steps;
  }

  // A new-session reply (in flight, or failed and backing off): no session when it starts.
  if (P !== null || (!inEpisode && c.noticeId !== 0)) {
    // A session first, for the notice id and for an earlier reply over it at P; then the
    // session goes (an episode, or lost), and the claims run without one.
    steps.push(session(), pumpTo("noticeId", inEpisode ? c.noticeId - 1 : c.noticeId));
    if (P !== null) steps.push(received(P), ...replied(P));
    if (inEpisode) episodeTail();
    else steps.push(sessionLost);
  } else if (inEpisode) {
    steps.push(failed(U), pumpTo("noticeId", c.noticeId));
    if (olm === "noticeDelivered") steps.push(noticeSent);
  }
  // The claim ladder: failures so far, each followed by a notice once the backoff is over.
  const rungs = reply === "newSession" ? c.claimFailures : c.claimFailures - 1;
  steps.push(received(P === null ? L : LATE));
  for (let i = 1; i <= rungs; i += 1) {
    steps.push(replyFailed(reply === "newSession" && i === rungs ? C : 0), received(LATE));
  }
  steps.push(received(L), pumpTo("replyId", c.replyId));
  if (reply === "backingOff") steps.push(replyFailed(C));
  if (olm === "established") steps.push(session());
  return steps;
}
