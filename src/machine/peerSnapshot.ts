import { initialTransition } from "xstate";
import { describeThrown } from "../edges/describeThrown.js";
import type { Result } from "../result.js";
import type { PeerContext } from "./peerContext.js";
import { peerMachine } from "./peerMachine.js";
import {
  OLM_LEAVES,
  type OlmLeaf,
  peerShapeCode,
  peerShapeKey,
  REPLY_LEAVES,
  type ReplyLeaf,
} from "./peerShape.js";
import { isReachableShapeCode } from "./reachableShapeSet.js";
import { MAX_COUNTED_CLAIM_FAILURES, MAX_PEER_ID } from "./timing.js";

/**
 * The `olm` region: whether we can reach the peer over Olm, and within a failure episode where
 * its single m.no_olm stands.
 */
export type OlmStatus =
  /** No session known and no failure yet (the start, or after the backend lost the session). */
  | "noSession"
  /** A session exists: room keys can be shared with the peer. */
  | "established"
  /**
   * A failure episode: establishing a session failed, so keys are withheld. `noticePending`: its
   * m.no_olm is queued, in flight or kept for a retry: not yet acknowledged by the homeserver.
   * `noticeDelivered`: acknowledged; no other notice is sent until a session ends the episode.
   */
  | { readonly unreachable: "noticePending" | "noticeDelivered" };

/** The `reply` region: our answer (an Olm-encrypted m.dummy) to the peer's m.no_olm notices. */
export type ReplyStatus =
  /** No answer under way. A notice now is answered, unless the last answer was within the hour. */
  | "idle"
  /**
   * An answer is under way; further notices are recorded and covered by it. `newSession`:
   * claiming a key and creating a session. `existingSession`: encrypting over the one we have.
   * `…DummyQueued`: the m.dummy is in the outbox, waiting for the homeserver's ack (the hour
   * until the next answer starts then).
   */
  | {
      readonly replying:
        | "newSession"
        | "existingSession"
        | "newSessionDummyQueued"
        | "existingSessionDummyQueued";
    }
  /**
   * A key claim for the peer failed: a notice is answered only once `claimBackoffMs` has passed
   * since, or after a session or new keys for the device ended the backoff.
   */
  | "backingOff";

// A type alias (not an interface) so it fits XState's StateValue index signature.
/**
 * The state value of a peer machine: one status per parallel region, e.g.
 * `{ olm: { unreachable: "noticePending" }, reply: "idle" }`. Plain JSON.
 */
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

/**
 * The state of a device the library has never dealt with: `{ olm: "noSession", reply: "idle" }`,
 * ids 0, every time null. Start a `stepPeer` loop for a new device from it. Frozen; share it.
 */
export const initialPeerSnapshot: PeerSnapshot = Object.freeze({
  value: initial.value as PeerStateValue,
  context: initial.context,
});

/**
 * The snapshot in its stored form (adds the format version `v: 1`), ready for `JSON.stringify`;
 * read it back with {@link restorePeerSnapshot}. It does not check or copy the snapshot: the
 * result shares `value` and `context` with it.
 */
export function persistPeerSnapshot(snapshot: PeerSnapshot): PersistedPeerSnapshot {
  return { v: 1, value: snapshot.value, context: snapshot.context };
}

/**
 * Why `restorePeerSnapshot` refused a stored snapshot: it is corrupt, from another version, or
 * forged. Never run the machine on it: report the record and start the device afresh from
 * {@link initialPeerSnapshot}, as the coordinator does with a stored state it cannot read.
 */
export interface SnapshotRejection {
  readonly reason: /** Not a plain object. */
    | "notAnObject"
    /** Reading the value threw (a throwing getter, a revoked Proxy). */
    | "unreadable"
    /** `v` is not 1, the only format this version knows. */
    | "unsupportedVersion"
    /** `value` is not a state value of the peer machine. */
    | "invalidValue"
    /** A context field is missing, mistyped or out of range. */
    | "invalidContext"
    /** Well-typed, but no run of the machine ends in this state value with this context. */
    | "unreachable";
  /** A sentence for a developer saying what is wrong. */
  readonly detail: string;
}

type Restored = Result<PeerSnapshot, SnapshotRejection>;

/** The leaf state of each region, e.g. `{ olm: "noticePending", reply: "idle" }`. */
export function peerLeaves(value: PeerStateValue): { olm: OlmLeaf; reply: ReplyLeaf } {
  const olm = typeof value.olm === "string" ? value.olm : value.olm.unreachable;
  const reply = typeof value.reply === "string" ? value.reply : value.reply.replying;
  return { olm, reply };
}

/**
 * Reads a persisted snapshot back (from a store, or anything else untrusted). It is accepted
 * exactly when the machine could have produced it: the state value and every context field are
 * well-typed and in range, and its shape (peerShape.ts: leaves, which ids are zero, the failure
 * count, the order of its times) is one the machine reaches. Every snapshot of a reachable shape
 * is itself reachable (test/machine/witness.ts builds a run to it), so this is the exact set.
 * Never throws: any JS value gives a snapshot or a typed rejection.
 */
export function restorePeerSnapshot(input: unknown): Result<PeerSnapshot, SnapshotRejection> {
  try {
    if (!isRecord(input)) return reject("notAnObject", "expected a persisted snapshot object");
    if (input.v !== 1) return reject("unsupportedVersion", "only version 1 is known");
    return readParts(input.value, input.context);
  } catch (thrown) {
    return reject("unreadable", `reading the snapshot threw ${describeThrown(thrown, 80)}`);
  }
}

/**
 * Checks a snapshot `{ value, context }` as restorePeerSnapshot does (without the version) and
 * rebuilds it from plain values: the result never aliases the input. Constant work for a
 * snapshot of the documented shape: a dozen field reads, the key counts of three objects of one
 * or two keys, and one set lookup (an object given with extra keys costs as many as it has).
 * Never throws.
 */
export function readPeerSnapshot(input: unknown): Restored {
  try {
    if (!isRecord(input)) return reject("notAnObject", "expected a snapshot object");
    return readParts(input.value, input.context);
  } catch (thrown) {
    return reject("unreadable", `reading the snapshot threw ${describeThrown(thrown, 80)}`);
  }
}

/**
 * Why the machine could not have produced this snapshot, or undefined if it could (the check
 * restorePeerSnapshot makes, on a value already typed as a snapshot).
 */
export function brokenInvariant(snapshot: PeerSnapshot): string | undefined {
  const read = readPeerSnapshot(snapshot);
  return read.ok ? undefined : read.detail;
}

function readParts(valueInput: unknown, contextInput: unknown): Restored {
  const value = readValue(valueInput);
  if (value === undefined) return reject("invalidValue", "not a state of the peer machine");
  const context = readContext(contextInput);
  if (typeof context === "string") return reject("invalidContext", context);
  const { olm, reply } = peerLeaves(value);
  // The shapes the machine reaches are computed from it (exploreShapes.ts, committed as
  // reachableShapes.generated.ts; a test keeps the two equal).
  const code = peerShapeCode(OLM_LEAVES.indexOf(olm), REPLY_LEAVES.indexOf(reply), context);
  if (!isReachableShapeCode(code)) {
    const shape = peerShapeKey(olm, reply, context);
    return reject("unreachable", `the peer machine never reaches a snapshot of shape "${shape}"`);
  }
  return { ok: true, value: { value, context } };
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
    if (
      sub === "newSession" ||
      sub === "existingSession" ||
      sub === "newSessionDummyQueued" ||
      sub === "existingSessionDummyQueued"
    ) {
      replyStatus = { replying: sub };
    }
  }
  if (olmStatus === undefined || replyStatus === undefined || Object.keys(input).length !== 2) {
    return undefined;
  }
  return { olm: olmStatus, reply: replyStatus };
}

/** The context rebuilt from plain values, or what is wrong with it. */
function readContext(input: unknown): PeerContext | string {
  if (!isRecord(input)) return "context is not an object";
  const noticeId = input.noticeId;
  const replyId = input.replyId;
  const claimFailures = input.claimFailures;
  const unreachableSince = input.unreachableSince;
  const lastNoticeReceivedAt = input.lastNoticeReceivedAt;
  const lastReplyAt = input.lastReplyAt;
  const claimFailedAt = input.claimFailedAt;
  if (!isId(noticeId)) return `noticeId must be an integer from 0 to ${MAX_PEER_ID}`;
  if (!isId(replyId)) return `replyId must be an integer from 0 to ${MAX_PEER_ID}`;
  if (!isFailureCount(claimFailures)) {
    return `claimFailures must be an integer from 0 to ${MAX_COUNTED_CLAIM_FAILURES}`;
  }
  if (
    !isTimeOrNull(unreachableSince) ||
    !isTimeOrNull(lastNoticeReceivedAt) ||
    !isTimeOrNull(lastReplyAt) ||
    !isTimeOrNull(claimFailedAt)
  ) {
    return "each time must be a finite number of ms or null";
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
/** Ids wrap within 32 bits (timing.ts), so no reachable id is larger. */
const isId = (x: unknown): x is number =>
  Number.isSafeInteger(x) && Number(x) >= 0 && Number(x) <= MAX_PEER_ID;
const isFailureCount = (x: unknown): x is number =>
  Number.isSafeInteger(x) && Number(x) >= 0 && Number(x) <= MAX_COUNTED_CLAIM_FAILURES;
const isTimeOrNull = (x: unknown): x is number | null =>
  x === null || (typeof x === "number" && Number.isFinite(x));

const reject = (reason: SnapshotRejection["reason"], detail: string): Restored => ({
  ok: false,
  reason,
  detail,
});
