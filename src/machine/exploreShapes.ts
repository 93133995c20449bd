import {
  type AnyActorScope,
  type AnyMachineSnapshot,
  createActor,
  initialTransition,
} from "xstate";
import { codeOfLeaves, olmLeafOf, replyLeafOf } from "./leafPairs.js";
import type { PeerContext } from "./peerContext.js";
import type { PeerEvent } from "./peerEvents.js";
import { peerMachine } from "./peerMachine.js";
import { PEER_MACHINE_TABLE } from "./peerMachineTable.js";
import {
  OLM_LEAVES,
  type OlmLeaf,
  peerShapeCode,
  peerShapeKey,
  peerStateValue,
  REPLY_LEAVES,
  type ReplyLeaf,
  TIME_FIELDS,
} from "./peerShape.js";

/*
 * Computes the shapes (peerShape.ts) of the snapshots the peer machine can reach, from the
 * machine itself: a breadth-first search over shapes that steps the machine (its compiled table,
 * checked against xstate's transition on every step of the same search) from one concrete
 * representative of each shape found, with every kind of event.
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
 * module load (some 2.7 million steps: seconds with the table, most of a minute with xstate): scripts/generate-reachable-shapes.ts writes
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

export function eventsFor(context: PeerContext): PeerEvent[] {
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

/** One step from a shape's representative: the next leaves and context. */
export type ShapeStepper = (from: ShapeRepresentative, event: PeerEvent) => ShapeRepresentative;

/** The compiled machine (what the library executes): a table lookup per step. */
export const tableStepper: ShapeStepper = (from, event) => {
  const code = codeOfLeaves(from.olm, from.reply);
  const next = PEER_MACHINE_TABLE.step(code, from.context, event, []);
  if (next === undefined) return from;
  return { olm: olmLeafOf(next.leaves), reply: replyLeafOf(next.leaves), context: next.context };
};

/**
 * xstate's own execution of the definition (its machine.transition). transition() builds a fresh
 * actor scope for every call, most of its cost; the machine has no actors, delays or I/O and
 * only the next snapshot is read, so one inert scope serves every step. `onAction` sees every
 * action xstate executes.
 */
export function xstateStepper(
  onAction: (action: { type: string; params: unknown }) => void = () => {},
): ShapeStepper {
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
    actionExecutor: (action) => onAction({ type: action.type, params: action.params }),
  };
  // The search steps each representative with many events in a row: resolve it once.
  let last: { from: ShapeRepresentative; state: AnyMachineSnapshot } | undefined;
  return (from, event) => {
    if (last?.from !== from) {
      const value = peerStateValue(from.olm, from.reply);
      last = { from, state: peerMachine.resolveState({ value, context: from.context }) };
    }
    const { state } = last;
    const next = peerMachine.transition(state, event, scope);
    const { olm, reply } = next.value as { olm: unknown; reply: unknown };
    return {
      olm: leafOf(olm) as OlmLeaf,
      reply: leafOf(reply) as ReplyLeaf,
      context: next.context,
    };
  };
}

/**
 * Breadth-first search of the shapes reachable from the machine's initial state, stepping with
 * `step` (the compiled table by default; test/machine/compiledMachine.test.ts runs the same
 * search with xstate and checks both agree on every step).
 */
export function exploreReachableShapes(step: ShapeStepper = tableStepper): Exploration {
  const [initial] = initialTransition(peerMachine);
  const first = shapeOf(initial);
  const seen = new Set<string>([first]);
  const queue = [first];
  let transitions = 0;
  for (let i = 0; i < queue.length; i += 1) {
    const rep = shapeRepresentative(queue[i] as string);
    for (const event of eventsFor(rep.context)) {
      const next = step(rep, event);
      const key = peerShapeKey(next.olm, next.reply, next.context);
      transitions += 1;
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(key);
      }
    }
  }
  return { shapes: [...seen].sort(), transitions };
}
/** The shape code (peerShape.ts) of a shape key, through its representative. */
export function codeOfShapeKey(key: string): number {
  const rep = shapeRepresentative(key);
  const code = codeOfLeaves(rep.olm, rep.reply);
  return peerShapeCode(
    Math.floor(code / REPLY_LEAVES.length),
    code % REPLY_LEAVES.length,
    rep.context,
  );
}

/**
 * The text of reachableShapes.generated.ts for these shapes: their codes, sorted, as varint
 * deltas in base64 (some 25 KB, where the keys as strings were 720 KB of every bundle).
 */
export function renderReachableShapesModule(shapes: readonly string[]): string {
  const codes = shapes.map(codeOfShapeKey).sort((a, b) => a - b);
  const bytes: number[] = [];
  let previous = 0;
  for (const code of codes) {
    let delta = code - previous;
    previous = code;
    while (delta >= 0x80) {
      bytes.push((delta & 0x7f) | 0x80);
      delta = Math.floor(delta / 0x80);
    }
    bytes.push(delta);
  }
  const base64 = btoa(String.fromCharCode(...bytes));
  const lines = [
    "// Generated from the peer machine by src/machine/exploreShapes.ts; do not edit. After changing",
    "// the machine, regenerate with (from the repository root):",
    "//",
    "//   npx tsx scripts/generate-reachable-shapes.ts",
    "//",
    "// test/machine/reachableShapes.test.ts recomputes the shapes and fails if this file differs.",
    "// The codes (peerShapeCode) of every reachable shape, sorted, as base64 of varint deltas;",
    "// reachableShapeSet.ts decodes them.",
    "",
    `/** How many shapes the peer machine reaches. */`,
    `export const REACHABLE_SHAPE_COUNT = ${codes.length};`,
    "",
    `/** Their codes, encoded (see the top of this file). */`,
    "export const REACHABLE_SHAPE_CODES =",
    ...chunk(base64, 96).map((part, i, all) => `  "${part}"${i === all.length - 1 ? ";" : " +"}`),
    "",
  ];
  return lines.join("\n");
}

function chunk(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}
