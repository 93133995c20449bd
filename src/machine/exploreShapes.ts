import { type AnyActorScope, createActor, initialTransition } from "xstate";
import type { PeerContext } from "./peerContext.js";
import type { PeerEvent } from "./peerEvents.js";
import { peerMachine } from "./peerMachine.js";
import {
  OLM_LEAVES,
  type OlmLeaf,
  peerShapeKey,
  peerStateValue,
  REPLY_LEAVES,
  type ReplyLeaf,
  TIME_FIELDS,
} from "./peerShape.js";

/*
 * Computes the shapes (peerShape.ts) of the snapshots the peer machine can reach, from the
 * machine itself: a breadth-first search over shapes that steps the real machine (its xstate
 * `transition`) from one concrete representative of each shape found, with every kind of event.
 *
 * A shape's representative has ids 0 or 1 and its k-th smallest time at k × GAP (the largest at
 * Number.MAX_VALUE if the shape says so). The events tried from it:
 * - every event type, SESSION_ESTABLISHED with every origin;
 * - an acknowledgement or reply outcome with the current id and with another one (ids are only
 *   ever compared for equality);
 * - `at` in every order position against the representative's times: below all, equal to each,
 *   between two, above all, and Number.MAX_VALUE; in each gap both 1 ms after the lower time
 *   (inside every wait: the shortest is 15 s) and half a gap after it (past every wait: the
 *   longest is 1 h, a gap is 10 days), and Number.MAX_VALUE is past every wait from any anchor
 *   below it. A wait is over or not according to the time since one anchor, and a reading
 *   earlier than the anchor never ends it (timing.ts), so this tries every outcome each guard
 *   can have in each order position, and so every order the next snapshot's times can take.
 *   (Two waits from different anchors are near-or-far together here; where the machine reads
 *   both, in backingOff, "inside the hour" and "inside the backoff" take the same transition.
 *   Exploring with gaps from 2.5 ms to 3 h gives the same shapes, and the random runs of
 *   test/machine/restoreReachable.test.ts check that no reachable shape is missed.)
 *
 * Every shape found is reachable: the search steps the machine from its initial state, and a
 * representative stands for every snapshot of its shape (test/machine/witness.ts builds a run
 * to each; reachableShapes.test.ts and restoreReachable.test.ts replay them). Too costly for
 * module load (some 430 000 steps, a few seconds): scripts/generate-reachable-shapes.ts writes
 * the result to reachableShapes.generated.ts, and a test checks that file is what the machine
 * gives.
 */

/** Distance between consecutive times of a representative: far beyond every wait. */
const GAP = 10 * 24 * 60 * 60 * 1000;

export interface ShapeRepresentative {
  readonly olm: OlmLeaf;
  readonly reply: ReplyLeaf;
  readonly context: PeerContext;
}

/** The concrete representative of a shape key (peerShapeKey of it gives the key back). */
export function shapeRepresentative(key: string): ShapeRepresentative {
  const [olm, reply, n, r, f, ...rest] = key.split(" ");
  const rankTokens = rest.slice(0, TIME_FIELDS.length);
  if (
    !OLM_LEAVES.includes(olm as OlmLeaf) ||
    !REPLY_LEAVES.includes(reply as ReplyLeaf) ||
    n === undefined ||
    r === undefined ||
    f === undefined ||
    rest.length !== TIME_FIELDS.length + 1
  ) {
    throw new Error(`not a shape key: ${key}`);
  }
  const top = rest[TIME_FIELDS.length] === "T1";
  const ranks = rankTokens.map((t) => (t.slice(1) === "-" ? null : Number(t.slice(1))));
  const highest = Math.max(-1, ...ranks.map((rank) => rank ?? -1));
  const time = (i: number): number | null => {
    const rank = ranks[i];
    if (rank === null || rank === undefined) return null;
    return top && rank === highest ? Number.MAX_VALUE : rank * GAP;
  };
  return {
    olm: olm as OlmLeaf,
    reply: reply as ReplyLeaf,
    context: {
      noticeId: Number(n.slice(1)),
      unreachableSince: time(0),
      lastNoticeReceivedAt: time(1),
      replyId: Number(r.slice(1)),
      lastReplyAt: time(2),
      claimFailures: Number(f.slice(1)),
      claimFailedAt: time(3),
    },
  };
}

/** The readings to try as `at` from a context: every order position, near and far in gaps. */
function readingsFor(context: PeerContext): number[] {
  const times = [...new Set(TIME_FIELDS.map((field) => context[field]))]
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  // Below all: before the lowest grid point (0; the lowest time may be Number.MAX_VALUE, from
  // which MAX_VALUE - 1 rounds back to MAX_VALUE). No reading is later than Number.MAX_VALUE.
  const readings = [-GAP / 2, -1];
  for (const t of times) {
    readings.push(t);
    if (t !== Number.MAX_VALUE) readings.push(t + 1, t + GAP / 2);
  }
  readings.push(Number.MAX_VALUE);
  return [...new Set(readings)];
}

const ORIGINS = ["outbound", "inbound", "existing"] as const;

function eventsFor(context: PeerContext): PeerEvent[] {
  const events: PeerEvent[] = [];
  const noticeIds = [context.noticeId, context.noticeId + 1];
  const replyIds = [context.replyId, context.replyId + 1];
  for (const at of readingsFor(context)) {
    events.push({ type: "ESTABLISH_FAILED", at });
    events.push({ type: "CLAIM_REQUESTED", at });
    events.push({ type: "CLAIM_FAILED", at });
    events.push({ type: "DEVICE_CHANGED", at });
    for (const origin of ORIGINS) events.push({ type: "SESSION_ESTABLISHED", at, origin });
    events.push({ type: "SESSION_LOST", at });
    for (const noticeId of noticeIds) {
      events.push({ type: "NOTICE_SENT", at, noticeId });
      events.push({ type: "NOTICE_SEND_FAILED", at, noticeId });
    }
    events.push({ type: "NOTICE_RECEIVED", at });
    for (const replyId of replyIds) {
      events.push({ type: "DUMMY_QUEUED", at, replyId });
      events.push({ type: "REPLY_SUCCEEDED", at, replyId });
      events.push({ type: "REPLY_FAILED", at, replyId });
    }
    events.push({ type: "RESUMED", at });
  }
  return events;
}

function leafOf(region: unknown): string {
  return typeof region === "string" ? region : String(Object.values(region as object)[0]);
}

function shapeOf(snapshot: { readonly value: unknown; readonly context: PeerContext }): string {
  const { olm, reply } = snapshot.value as { olm: unknown; reply: unknown };
  return peerShapeKey(leafOf(olm) as OlmLeaf, leafOf(reply) as ReplyLeaf, snapshot.context);
}

export interface Exploration {
  /** Every reachable shape key, sorted. */
  readonly shapes: readonly string[];
  /** How many machine transitions the search took. */
  readonly transitions: number;
}

/** Breadth-first search of the shapes reachable from the machine's initial state. */
export function exploreReachableShapes(): Exploration {
  const [initial] = initialTransition(peerMachine);
  const first = shapeOf(initial);
  const seen = new Set<string>([first]);
  const queue = [first];
  // xstate's transition() builds a fresh actor scope for every call, most of its cost. The
  // machine has no actors, delays or I/O and only its next snapshot is read here, so one inert
  // scope (the public ActorScope interface, as transition() builds it) serves every step.
  const self = createActor(peerMachine);
  const scope: AnyActorScope = {
    self,
    id: "",
    sessionId: "",
    logger: () => {},
    defer: () => {},
    emit: () => {},
    system: self.system,
    stopChild: () => {},
    actionExecutor: () => {},
  };
  let transitions = 0;
  for (let i = 0; i < queue.length; i += 1) {
    const rep = shapeRepresentative(queue[i] as string);
    const state = peerMachine.resolveState({
      value: peerStateValue(rep.olm, rep.reply),
      context: rep.context,
    });
    for (const event of eventsFor(rep.context)) {
      const key = shapeOf(peerMachine.transition(state, event, scope));
      transitions += 1;
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(key);
      }
    }
  }
  return { shapes: [...seen].sort(), transitions };
}

/** The text of reachableShapes.generated.ts for these shapes. */
export function renderReachableShapesModule(shapes: readonly string[]): string {
  const lines = [
    "// Generated from the peer machine by src/machine/exploreShapes.ts; do not edit. After changing",
    "// the machine, regenerate with (from the repository root):",
    "//",
    "//   npx tsx scripts/generate-reachable-shapes.ts",
    "//",
    "// test/machine/reachableShapes.test.ts recomputes the shapes and fails if this file differs.",
    "",
    `/** The shape (peerShape.ts) of every snapshot the peer machine can reach: ${shapes.length} keys. */`,
    "export const REACHABLE_SHAPES: readonly string[] = [",
    ...shapes.map((key) => `  ${JSON.stringify(key)},`),
    "];",
    "",
  ];
  return lines.join("\n");
}
