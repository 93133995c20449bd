import type { PeerContext } from "./peerContext.js";
import type { PeerStateValue } from "./peerSnapshot.js";

/*
 * The shape of a peer snapshot: a finite abstraction of it that keeps what decides whether the
 * machine can reach it.
 *
 * - the leaf state of each region;
 * - each id: zero or not (the machine compares ids only for equality with an event's id and
 *   moves them only with nextPeerId, which never gives 0 and wraps within 32 bits; which
 *   non-zero value an id has is free, see test/machine/restoreReachable.test.ts);
 * - claimFailures exactly (0..MAX_COUNTED_CLAIM_FAILURES: it picks the backoff);
 * - each time: null, or its rank among the snapshot's non-null times (equal times share a
 *   rank), and whether the largest is Number.MAX_VALUE.
 *
 * Times are free otherwise: a wait ends according to the time since its anchor, which the `at`
 * of an event can make as short or as long as it likes. But NOTICE_RECEIVED writes several
 * times from one reading (lastNoticeReceivedAt = at, lastReplyAt = min(lastReplyAt, at),
 * claimFailedAt = min(claimFailedAt, at)), which leaves an order between them (a reply in flight
 * has lastReplyAt ≤ lastNoticeReceivedAt, say), so the order is part of the shape. And no
 * reading is later than Number.MAX_VALUE: a wait from an anchor there never ends, so a reply
 * that had to wait an hour after a reply at Number.MAX_VALUE cannot have started.
 *
 * Which shapes the machine reaches is computed from the machine (exploreShapes.ts) and committed
 * as reachableShapes.generated.ts.
 */

/** Leaf names of the two regions, as `peerLeaves` reports them. */
export const OLM_LEAVES = ["noSession", "established", "noticePending", "noticeDelivered"] as const;
export const REPLY_LEAVES = [
  "idle",
  "newSession",
  "existingSession",
  "newSessionDummyQueued",
  "existingSessionDummyQueued",
  "backingOff",
] as const;
export type OlmLeaf = (typeof OLM_LEAVES)[number];
export type ReplyLeaf = (typeof REPLY_LEAVES)[number];

/** The state value with these leaves. */
export function peerStateValue(olm: OlmLeaf, reply: ReplyLeaf): PeerStateValue {
  return {
    olm: olm === "noticePending" || olm === "noticeDelivered" ? { unreachable: olm } : olm,
    reply: reply === "idle" || reply === "backingOff" ? reply : { replying: reply },
  };
}

/** The time fields in the order their ranks appear in a shape key. */
export const TIME_FIELDS = [
  "unreachableSince",
  "lastNoticeReceivedAt",
  "lastReplyAt",
  "claimFailedAt",
] as const satisfies readonly (keyof PeerContext)[];

/**
 * The shape key, e.g. `"noticePending backingOff n1 r1 f3 U1 L0 P- C0 T0"`: leaves, whether each
 * id is non-zero, the failure count, each time's rank (`-` for null), and T1 if the largest time
 * is Number.MAX_VALUE. Constant work: no allocation besides the string.
 */
export function peerShapeKey(olm: OlmLeaf, reply: ReplyLeaf, context: PeerContext): string {
  const u = context.unreachableSince;
  const l = context.lastNoticeReceivedAt;
  const p = context.lastReplyAt;
  const c = context.claimFailedAt;
  const top = isTop(u) || isTop(l) || isTop(p) || isTop(c);
  return (
    `${olm} ${reply} n${context.noticeId === 0 ? 0 : 1} r${context.replyId === 0 ? 0 : 1}` +
    ` f${context.claimFailures} U${rank(u, l, p, c)} L${rank(l, u, p, c)}` +
    ` P${rank(p, u, l, c)} C${rank(c, u, l, p)} T${top ? 1 : 0}`
  );
}

/** The largest finite reading: no reading is later. */
const isTop = (x: number | null): boolean => x === Number.MAX_VALUE;

/** How many distinct non-null values among a, b, c are below x; `-` for null. */
function rank(x: number | null, a: number | null, b: number | null, c: number | null): string {
  if (x === null) return "-";
  let below = 0;
  if (a !== null && a < x) below += 1;
  if (b !== null && b < x && b !== a) below += 1;
  if (c !== null && c < x && c !== a && c !== b) below += 1;
  return String(below);
}

/*
 * The same abstraction as one integer, for the check a restore makes on every snapshot: no
 * string is built. Mixed radix, from the most significant: leaf pair (24), n (2), r (2),
 * f (MAX_COUNTED_CLAIM_FAILURES + 1), the four ranks (5 each: null, 0..3), T (2).
 */
const FAILURE_VALUES = 9;
const RANK_VALUES = 5;

/** How many shape codes there are (most of them unreachable). */
export const SHAPE_CODE_COUNT =
  OLM_LEAVES.length * REPLY_LEAVES.length * 2 * 2 * FAILURE_VALUES * RANK_VALUES ** 4 * 2;

/** The shape of a snapshot as one integer in [0, SHAPE_CODE_COUNT): see peerShapeKey. */
export function peerShapeCode(olmIndex: number, replyIndex: number, context: PeerContext): number {
  const u = context.unreachableSince;
  const l = context.lastNoticeReceivedAt;
  const p = context.lastReplyAt;
  const c = context.claimFailedAt;
  const top = isTop(u) || isTop(l) || isTop(p) || isTop(c);
  let code = olmIndex * REPLY_LEAVES.length + replyIndex;
  code = code * 2 + (context.noticeId === 0 ? 0 : 1);
  code = code * 2 + (context.replyId === 0 ? 0 : 1);
  code = code * FAILURE_VALUES + context.claimFailures;
  code = code * RANK_VALUES + rankCode(u, l, p, c);
  code = code * RANK_VALUES + rankCode(l, u, p, c);
  code = code * RANK_VALUES + rankCode(p, u, l, c);
  code = code * RANK_VALUES + rankCode(c, u, l, p);
  return code * 2 + (top ? 1 : 0);
}

/** The shape key a code stands for (the inverse of peerShapeCode, as peerShapeKey writes it). */
export function shapeKeyOfCode(code: number): string {
  let rest = code;
  const take = (radix: number): number => {
    const digit = rest % radix;
    rest = Math.floor(rest / radix);
    return digit;
  };
  const top = take(2);
  const ranks = [take(RANK_VALUES), take(RANK_VALUES), take(RANK_VALUES), take(RANK_VALUES)]
    .reverse()
    .map((digit) => (digit === 0 ? "-" : String(digit - 1)));
  const f = take(FAILURE_VALUES);
  const r = take(2);
  const n = take(2);
  const reply = REPLY_LEAVES[take(REPLY_LEAVES.length)];
  const olm = OLM_LEAVES[rest];
  const [u, l, p, c] = ranks;
  return `${olm} ${reply} n${n} r${r} f${f} U${u} L${l} P${p} C${c} T${top}`;
}

/** A rank as a digit: 0 for null, else 1 + the number of distinct smaller times. */
function rankCode(x: number | null, a: number | null, b: number | null, d: number | null): number {
  if (x === null) return 0;
  let below = 0;
  if (a !== null && a < x) below += 1;
  if (b !== null && b < x && b !== a) below += 1;
  if (d !== null && d < x && d !== a && d !== b) below += 1;
  return below + 1;
}
