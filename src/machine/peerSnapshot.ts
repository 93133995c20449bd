import { initialTransition } from "xstate";
import type { Result } from "../result.js";
import type { PeerContext } from "./peerContext.js";
import { peerMachine } from "./peerMachine.js";
import { MAX_COUNTED_CLAIM_FAILURES } from "./timing.js";

export type OlmStatus =
  | "noSession"
  | "established"
  | { readonly unreachable: "noticePending" | "noticeDelivered" };

export type ReplyStatus =
  | "idle"
  | { readonly replying: "newSession" | "existingSession" }
  | "backingOff";

// A type alias (not an interface) so it fits XState's StateValue index signature.
export type PeerStateValue = {
  readonly olm: OlmStatus;
  readonly reply: ReplyStatus;
};

/** A peer machine's whole state: a small, plain JSON value that restores exactly. */
export interface PeerSnapshot {
  readonly value: PeerStateValue;
  readonly context: PeerContext;
}

/** The persisted form: the snapshot with a format version. */
export interface PersistedPeerSnapshot extends PeerSnapshot {
  readonly v: 1;
}

const [initial] = initialTransition(peerMachine);

export const initialPeerSnapshot: PeerSnapshot = Object.freeze({
  value: initial.value as PeerStateValue,
  context: initial.context,
});

export function persistPeerSnapshot(snapshot: PeerSnapshot): PersistedPeerSnapshot {
  return { v: 1, value: snapshot.value, context: snapshot.context };
}

export interface SnapshotRejection {
  readonly reason: "notAnObject" | "unsupportedVersion" | "invalidValue" | "invalidContext";
  readonly detail: string;
}

const OLM_LEAVES = ["noSession", "established", "noticePending", "noticeDelivered"] as const;
const REPLY_LEAVES = ["idle", "newSession", "existingSession", "backingOff"] as const;
type OlmLeaf = (typeof OLM_LEAVES)[number];
type ReplyLeaf = (typeof REPLY_LEAVES)[number];

/** The leaf state of each region, e.g. `{ olm: "noticePending", reply: "idle" }`. */
export function peerLeaves(value: PeerStateValue): { olm: OlmLeaf; reply: ReplyLeaf } {
  const olm = typeof value.olm === "string" ? value.olm : value.olm.unreachable;
  const reply = typeof value.reply === "string" ? value.reply : value.reply.replying;
  return { olm, reply };
}

/**
 * Reads a persisted snapshot back (from a store, or anything else untrusted). The state value
 * and every context field are checked, as are the relations between them that the machine
 * keeps, so a restored machine is one the machine itself could have produced.
 */
export function restorePeerSnapshot(input: unknown): Result<PeerSnapshot, SnapshotRejection> {
  if (!isRecord(input)) return reject("notAnObject", "expected a persisted snapshot object");
  if (input.v !== 1) return reject("unsupportedVersion", "only version 1 is known");
  const value = readValue(input.value);
  if (value === undefined) return reject("invalidValue", "not a state of the peer machine");
  const context = readContext(input.context);
  if (context === undefined) return reject("invalidContext", "context fields missing or mistyped");
  const broken = brokenInvariant({ value, context });
  if (broken !== undefined) return reject("invalidContext", broken);
  return { ok: true, value: { value, context } };
}

/** The relations between state value and context that every reachable snapshot satisfies. */
export function brokenInvariant(snapshot: PeerSnapshot): string | undefined {
  const { olm, reply } = peerLeaves(snapshot.value);
  const c = snapshot.context;
  const inEpisode = olm === "noticePending" || olm === "noticeDelivered";
  if (inEpisode !== (c.unreachableSince !== null)) {
    return "unreachableSince must be set exactly during a failure episode";
  }
  if (inEpisode && c.noticeId === 0) return "a failure episode needs a notice id";
  const failing = c.claimFailures > 0;
  if (failing !== (c.claimFailedAt !== null)) return "claimFailures and claimFailedAt go together";
  if (reply === "backingOff" && !failing) return "backing off needs a failed claim";
  if (failing && reply !== "backingOff" && reply !== "newSession") {
    return "claim failures are kept only while backing off or retrying a claim";
  }
  // A session clears the claim backoff, and a claim is only started without a session.
  if (failing && olm === "established") return "no claim failures while a session is established";
  if ((reply === "newSession" || reply === "existingSession") && c.replyId === 0) {
    return "a reply in flight needs a reply id";
  }
  return undefined;
}

function readValue(input: unknown): PeerStateValue | undefined {
  if (!isRecord(input)) return undefined;
  const olm = input.olm;
  const reply = input.reply;
  let olmStatus: OlmStatus | undefined;
  if (olm === "noSession" || olm === "established") olmStatus = olm;
  else if (isRecord(olm) && Object.keys(olm).length === 1) {
    const sub = olm.unreachable;
    if (sub === "noticePending" || sub === "noticeDelivered") olmStatus = { unreachable: sub };
  }
  let replyStatus: ReplyStatus | undefined;
  if (reply === "idle" || reply === "backingOff") replyStatus = reply;
  else if (isRecord(reply) && Object.keys(reply).length === 1) {
    const sub = reply.replying;
    if (sub === "newSession" || sub === "existingSession") replyStatus = { replying: sub };
  }
  if (olmStatus === undefined || replyStatus === undefined || Object.keys(input).length !== 2) {
    return undefined;
  }
  return { olm: olmStatus, reply: replyStatus };
}

function readContext(input: unknown): PeerContext | undefined {
  if (!isRecord(input)) return undefined;
  const noticeId = input.noticeId;
  const replyId = input.replyId;
  const claimFailures = input.claimFailures;
  const unreachableSince = input.unreachableSince;
  const lastNoticeReceivedAt = input.lastNoticeReceivedAt;
  const lastReplyAt = input.lastReplyAt;
  const claimFailedAt = input.claimFailedAt;
  if (
    !isCount(noticeId) ||
    !isCount(replyId) ||
    !isCount(claimFailures) ||
    claimFailures > MAX_COUNTED_CLAIM_FAILURES ||
    !isTimeOrNull(unreachableSince) ||
    !isTimeOrNull(lastNoticeReceivedAt) ||
    !isTimeOrNull(lastReplyAt) ||
    !isTimeOrNull(claimFailedAt)
  ) {
    return undefined;
  }
  return {
    noticeId,
    unreachableSince,
    lastNoticeReceivedAt,
    replyId,
    lastReplyAt,
    claimFailures,
    claimFailedAt,
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && Number(x) >= 0;
const isTimeOrNull = (x: unknown): x is number | null =>
  x === null || (typeof x === "number" && Number.isFinite(x));

const reject = (
  reason: SnapshotRejection["reason"],
  detail: string,
): Result<PeerSnapshot, SnapshotRejection> => ({ ok: false, reason, detail });
