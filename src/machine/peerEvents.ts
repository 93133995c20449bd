import { describeThrown } from "../edges/describeThrown.js";
import type { Result } from "../result.js";
import { MAX_PEER_ID } from "./timing.js";

/** Where an established Olm session came from; each ends a failure episode. */
export type SessionOrigin = "outbound" | "inbound" | "existing";

/**
 * What the shell tells a peer machine. Every event carries `at`, the shell's clock reading in ms:
 * the machine never reads a clock itself.
 */
export type PeerEvent =
  /** We needed a new Olm session with the peer and could not establish one. */
  | { readonly type: "ESTABLISH_FAILED"; readonly at: number }
  /**
   * A share wants to claim a one-time key for this device; the machine answers `claimForShare`,
   * or `skipClaim` while the device's claim backoff runs.
   */
  | { readonly type: "CLAIM_REQUESTED"; readonly at: number }
  /**
   * A share-time claim for this device gave no usable key (none left, a key that does not
   * verify, its server unreachable): a failure to establish a session, and a backoff step.
   */
  | { readonly type: "CLAIM_FAILED"; readonly at: number }
  /** The device's keys changed (a device-list update, new one-time keys published). */
  | { readonly type: "DEVICE_CHANGED"; readonly at: number }
  /** An Olm session with the peer is usable: created by us, or from its pre-key message. */
  | { readonly type: "SESSION_ESTABLISHED"; readonly at: number; readonly origin: SessionOrigin }
  /**
   * The Olm backend holds no session with the peer any more (the client dropped one it believed
   * corrupted): an answer to the peer's next notice needs a new session.
   */
  | { readonly type: "SESSION_LOST"; readonly at: number }
  /** The transport acknowledged the request carrying this notice. */
  | { readonly type: "NOTICE_SENT"; readonly at: number; readonly noticeId: number }
  /** The request carrying this notice failed. */
  | { readonly type: "NOTICE_SEND_FAILED"; readonly at: number; readonly noticeId: number }
  /** An authenticated m.no_olm from this peer arrived. */
  | { readonly type: "NOTICE_RECEIVED"; readonly at: number }
  /**
   * The reply's m.dummy is encrypted and in the outbox (for a new-session reply: the session
   * exists). It is not delivered yet.
   */
  | { readonly type: "DUMMY_QUEUED"; readonly at: number; readonly replyId: number }
  /** The homeserver accepted the request carrying the reply's m.dummy. */
  | { readonly type: "REPLY_SUCCEEDED"; readonly at: number; readonly replyId: number }
  /** The reply failed (for a new session: no usable one-time key could be claimed). */
  | { readonly type: "REPLY_FAILED"; readonly at: number; readonly replyId: number }
  /**
   * The shell (re)started over this stored state: nothing it commanded before is in flight any
   * more, so a reply in progress starts again and a pending notice is made sure of.
   */
  | { readonly type: "RESUMED"; readonly at: number };

/** The name of a {@link PeerEvent}, e.g. `"NOTICE_RECEIVED"`: what a `switch` on `type` covers. */
export type PeerEventType = PeerEvent["type"];

/**
 * Why `parsePeerEvent` (and so `stepPeer`) refused an event. Each means a bug in whoever built
 * the event (the shell, a store, a fuzzer), never a protocol condition: fix the caller.
 */
export type PeerEventRejectionReason =
  /** Not a plain object (`null`, an array, a primitive). */
  | "notAnObject"
  /** Reading the value threw (a throwing getter, a revoked Proxy). */
  | "unreadable"
  /** `type` is not one of the {@link PeerEventType}s. */
  | "unknownType"
  /** `at` is not a finite number of ms. */
  | "invalidTime"
  /** `noticeId` or `replyId` is not an integer from 0 to 2³² − 1. */
  | "invalidId"
  /** `SESSION_ESTABLISHED`'s `origin` is not a {@link SessionOrigin}. */
  | "invalidOrigin";

/** A refused event: the machine never saw it, and no state changed. */
export interface PeerEventRejection {
  readonly reason: PeerEventRejectionReason;
  /** A sentence for a developer naming the offending field and value. */
  readonly detail: string;
}

type Parsed = Result<PeerEvent, PeerEventRejection>;

const reject = (reason: PeerEventRejectionReason, detail: string): Parsed => ({
  ok: false,
  reason,
  detail,
});

/** Every event type, in the order the machine and its docs list them. */
export const PEER_EVENT_TYPES: readonly PeerEventType[] = [
  "ESTABLISH_FAILED",
  "CLAIM_REQUESTED",
  "CLAIM_FAILED",
  "DEVICE_CHANGED",
  "SESSION_ESTABLISHED",
  "SESSION_LOST",
  "NOTICE_SENT",
  "NOTICE_SEND_FAILED",
  "NOTICE_RECEIVED",
  "DUMMY_QUEUED",
  "REPLY_SUCCEEDED",
  "REPLY_FAILED",
  "RESUMED",
];
const EVENT_TYPES: readonly string[] = PEER_EVENT_TYPES;

const ORIGINS: readonly string[] = ["outbound", "inbound", "existing"] satisfies SessionOrigin[];

const isId = (value: unknown): value is number =>
  Number.isSafeInteger(value) && Number(value) >= 0 && Number(value) <= MAX_PEER_ID;

/**
 * Checks an event from the shell (or from storage, or a fuzzer) and rebuilds it by shape, so
 * the machine only ever sees well-formed events and no stray fields. Gives the rebuilt event
 * (never the input object itself) or a {@link PeerEventRejection}; never throws.
 */
export function parsePeerEvent(input: unknown): Result<PeerEvent, PeerEventRejection> {
  try {
    return parseFields(input);
  } catch (thrown) {
    return reject("unreadable", `reading the event threw ${describeThrown(thrown, 80)}`);
  }
}

function parseFields(input: unknown): Parsed {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return reject("notAnObject", `expected an event object, got ${describe(input)}`);
  }
  const fields = input as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== "string" || !EVENT_TYPES.includes(type)) {
    return reject("unknownType", `unknown event type ${describe(type)}`);
  }
  const at = fields.at;
  if (typeof at !== "number" || !Number.isFinite(at)) {
    return reject("invalidTime", `"at" must be a finite number of ms, got ${describe(at)}`);
  }
  switch (type) {
    case "ESTABLISH_FAILED":
    case "CLAIM_REQUESTED":
    case "CLAIM_FAILED":
    case "DEVICE_CHANGED":
    case "SESSION_LOST":
    case "NOTICE_RECEIVED":
    case "RESUMED":
      return { ok: true, value: { type, at } };
    case "SESSION_ESTABLISHED": {
      const origin = fields.origin;
      if (typeof origin !== "string" || !ORIGINS.includes(origin)) {
        return reject("invalidOrigin", `"origin" must be one of ${ORIGINS.join(", ")}`);
      }
      return { ok: true, value: { type, at, origin: origin as SessionOrigin } };
    }
    case "NOTICE_SENT":
    case "NOTICE_SEND_FAILED": {
      const noticeId = fields.noticeId;
      if (!isId(noticeId))
        return reject("invalidId", `"noticeId" must be an integer from 0 to ${MAX_PEER_ID}`);
      return { ok: true, value: { type, at, noticeId } };
    }
    case "DUMMY_QUEUED":
    case "REPLY_SUCCEEDED":
    case "REPLY_FAILED": {
      const replyId = fields.replyId;
      if (!isId(replyId))
        return reject("invalidId", `"replyId" must be an integer from 0 to ${MAX_PEER_ID}`);
      return { ok: true, value: { type, at, replyId } };
    }
    default:
      return reject("unknownType", `unknown event type ${describe(type)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "number") return String(value);
  return value === null ? "null" : typeof value;
}
