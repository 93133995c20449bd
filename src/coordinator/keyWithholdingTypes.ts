import type { PeerDevice } from "../devices/peerDevice.js";
import type { DecodeRejection } from "../events/decodeRejection.js";
import type { JsonObject } from "../events/json.js";
import type { Curve25519PublicKey, RoomId, SessionId, UserId } from "../events/matrixIds.js";
import type { SendableSessionCode } from "../events/withheldCode.js";
import type { SessionWithheldContent, UnknownCodeContent } from "../events/withheldContent.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import type { peerLeaves } from "../machine/peerSnapshot.js";
import type { OlmFailure } from "../olm/olmBackend.js";

/**
 * A peer machine's state as its two leaf states, e.g. `{ olm: "noticePending", reply: "idle" }`
 * (`onPeerStateChange`'s `from` and `to`): flatter than the state value, for logs and timelines.
 */
export type PeerLeaves = ReturnType<typeof peerLeaves>;

/**
 * Calls from the library to the client. Each may be async and may return anything (the value is
 * ignored); a throw, a rejection or a hang past `callTimeoutMs` goes to onHookError, never
 * further. Times are wall-clock ms.
 */
export interface KeyWithholdingHooks {
  /** A device we could not reach is reachable again: re-share what was withheld since then. */
  onPeerReachable?(event: {
    readonly device: PeerDevice;
    readonly unreachableSince: number;
    readonly at: number;
  }): unknown;
  /** We answered a device's m.no_olm with an m.dummy: now request the keys it could not send. */
  onRepliedToNotice?(event: {
    readonly device: PeerDevice;
    readonly newSession: boolean;
    /** The notice explains undecryptable messages this device sent before this time. */
    readonly noticeReceivedAt: number | null;
    readonly at: number;
  }): unknown;
  /** A peer machine changed state (for logs and timelines). */
  onPeerStateChange?(event: {
    readonly device: PeerDevice;
    readonly event: PeerEvent;
    readonly from: PeerLeaves;
    readonly to: PeerLeaves;
  }): unknown;
  /** A hook failed, or an edge (the store) threw: `hook` names which. */
  onHookError?(error: unknown, hook: string): unknown;
}

/** The crypto layer's report of one attempt to have an Olm session with a device. */
export interface ShareOutcome {
  readonly device: PeerDevice;
  readonly outcome: "established" | "failed";
}

/** Why an argument (or one entry of a list argument) was refused; nothing was done with it. */
export type RefusalReason =
  /** Not of the documented shape (see `path` and `detail`). */
  | "invalidArgument"
  /** It names our own device: we never claim our own keys or notify ourselves. */
  | "ownDevice";

/**
 * An argument, or one entry of a list argument, that was refused: nothing was done with it, and
 * the other entries were still acted on. A programming error in the caller, not a network or
 * protocol condition: log it and fix the call; retrying the same value cannot succeed.
 */
export interface Refusal {
  readonly reason: RefusalReason;
  /** The entry's index in a list argument; absent when the whole argument was refused. */
  readonly index?: number;
  /** Where in the argument the fault is, e.g. `["outcomes", 3, "device", "userId"]`. */
  readonly path: readonly (string | number)[];
  /** A sentence for a developer saying what is wrong (not meant for end users). */
  readonly detail: string;
}

/**
 * What `establishSessions` did for one device, discriminated by `outcome`. One entry per device
 * asked about (refused entries included), not necessarily in the order given.
 */
export type EstablishOutcome =
  /**
   * The device has an Olm session now: `"existing"` if the backend already held one,
   * `"established"` if this call created one from a claimed one-time key. Share with it.
   */
  | { readonly outcome: "existing" | "established"; readonly device: PeerDevice }
  /**
   * No session: withhold the room key from this device. Its m.no_olm (one per failure episode)
   * was sent, or kept for a retry, before this resolved. Unless our own homeserver failed the
   * whole claim, the device's claims now back off (`"backingOff"` on the next call).
   */
  | {
      readonly outcome: "failed";
      readonly device: PeerDevice;
      /** Why: no key returned, server unreachable, bad key signature, … */
      readonly detail: string;
    }
  /**
   * Not claimed this time (R5): a claim for the device, or its homeserver, failed a moment ago.
   * No new failure, nothing sent; `until` (wall-clock ms) is when it is due again.
   */
  | {
      readonly outcome: "backingOff";
      readonly device: PeerDevice;
      readonly until: number;
      readonly detail: string;
    }
  /** The entry was not a usable device (see {@link Refusal}); nothing was done for it. */
  | ({ readonly outcome: "refused" } & Refusal);

/** A per-session notice the client asks us to send. */
export interface SessionWithheldRequest {
  readonly device: PeerDevice;
  readonly code: SendableSessionCode;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
  readonly reason?: string;
}

/**
 * What one call sent. Informational: failed requests are kept and retried by the library (same
 * txnId, so never delivered twice), so a caller need not act on a failure; `stillPending > 0`
 * with no `start()` running means a later `flush()` is due (see `nextWakeAt()`).
 */
export interface FlushReport {
  /** Each to-device request this call attempted. */
  readonly requests: readonly {
    /** The request's transaction id, stable across its retries. */
    readonly txnId: string;
    /** The to-device event type it carries (`m.room_key.withheld` or `m.room.encrypted`). */
    readonly eventType: string;
    /** How many to-device messages (one per device) it carries. */
    readonly messages: number;
    /** `"sent"`: the homeserver acknowledged it. `"failed"`: kept for a retry. */
    readonly outcome: "sent" | "failed";
  }[];
  /** Requests still waiting for a retry after this flush. */
  readonly stillPending: number;
  /** Arguments of the call that were refused (and not acted on). */
  readonly refused: readonly Refusal[];
}

/**
 * Why `handleToDeviceEvent` rejected an event it handles. The event was dropped and changed
 * nothing; only `"unknownSender"` is worth feeding again (after a device-list refresh).
 */
export type IncomingRejectionReason =
  /** Not a well-formed event of its type (see `rejection`). */
  | "malformedEvent"
  /** The event's `sender` has no device with the claimed `sender_key`: a forgery, or a stale list. */
  | "senderDoesNotOwnKey"
  /**
   * The client has no device list for the event's `sender`: refresh it (/keys/query), then feed
   * the event again. Not evidence of a forgery.
   */
  | "unknownSender"
  /** The event claims to come from our own device (only a hostile homeserver can make one). */
  | "ownDevice"
  /** The device list threw or answered with something that is not a device. */
  | "deviceListFailed"
  /** `from_device` names another device than the one owning `sender_key`. */
  | "fromDeviceMismatch"
  /** An Olm message that did not decrypt or whose payload did not check out. */
  | "undecryptable";

/**
 * How the library answered one received m.no_olm. Informational: the answer is the library's
 * job, and `onRepliedToNotice` fires once the m.dummy is delivered, which is the moment to
 * re-request keys.
 */
export type ReplyOutcome =
  /**
   * No answer started by this notice; it is only recorded (a reply is already under way, the
   * last one was less than an hour ago, or a key-claim backoff runs).
   */
  | "none"
  /** A one-time key was claimed, a new Olm session made, and an m.dummy sent (or kept) over it. */
  | "newSession"
  /** An m.dummy was sent over the session we already had (no key claimed), or kept for a retry. */
  | "existingSession"
  /**
   * No m.dummy could be made (no usable key, encryption failed). Nothing was sent back (never
   * an m.no_olm); after a failed claim the next one waits for the claim backoff.
   */
  | "failed";

/**
 * What `handleToDeviceEvent` made of one to-device event, discriminated by `kind`. Whatever it
 * changed is committed to the store, and what it queued is sent, before it resolves.
 */
export type IncomingResult =
  /** An authenticated m.no_olm from `device`; `reply` says how we answered it. */
  | { readonly kind: "noOlmNotice"; readonly device: PeerDevice; readonly reply: ReplyOutcome }
  /**
   * An authenticated per-session notice from `device` (a spec code, or an unknown one): recorded,
   * so `explainUndecryptable` can cite it. Show it against that session's undecryptable events.
   */
  | {
      readonly kind: "sessionWithheld";
      readonly device: PeerDevice;
      readonly content: SessionWithheldContent | UnknownCodeContent;
    }
  /**
   * An Olm message from `device` that decrypted: the plaintext event's `type` and `content`, for
   * the client to process as usual (a room key, an m.dummy, …). `newSession`: it was a pre-key
   * message that created a new inbound session (which ends a failure episode with the device).
   */
  | {
      readonly kind: "decrypted";
      readonly device: PeerDevice;
      readonly type: string;
      readonly content: JsonObject;
      readonly newSession: boolean;
    }
  /**
   * Dropped: see `reason`. `detail` is a sentence for logs; `rejection` is the codec's or the Olm
   * backend's typed rejection, when one of them refused it.
   */
  | {
      readonly kind: "rejected";
      readonly reason: IncomingRejectionReason;
      readonly detail: string;
      readonly rejection?: DecodeRejection | OlmFailure;
    }
  /** Not an event this library handles (its type is neither withheld nor Olm-encrypted). */
  | { readonly kind: "notHandled"; readonly type: string };

/** An undecryptable room event, as `explainUndecryptable` needs it: fields of the event itself. */
export interface UndecryptableQuery {
  /** The event's `sender`. */
  readonly sender: UserId;
  /** Its content's `sender_key`: the sending device's curve25519 key. */
  readonly senderKey: Curve25519PublicKey;
  /** The room it was sent in. */
  readonly roomId: RoomId;
  /** Its content's `session_id`: the Megolm session we lack. */
  readonly sessionId: SessionId;
  /**
   * Its `origin_server_ts` (wall-clock ms, the server's clock): an m.no_olm explains only events
   * sent before we received it.
   */
  readonly originServerTs: number;
}

/**
 * What `explainUndecryptable` found, discriminated by `kind`. It only reads what the library
 * holds: nothing is sent, and the answer can change as notices arrive.
 */
export type UndecryptableExplanation =
  /**
   * A withheld notice explains it: show `code` (e.g. `m.unverified`, `m.no_olm`) to the user, and
   * `reason` only for codes the client does not understand.
   */
  | {
      readonly kind: "explained";
      /** The withheld code, as the sender gave it (possibly one outside the spec). */
      readonly code: string;
      /** The sender's text, if any (for m.no_olm: a stock text). */
      readonly reason: string | undefined;
      /** Where the explanation comes from. */
      readonly source: "sessionNotice" | "noOlmNotice";
    }
  /** No withheld notice we hold explains it. */
  | { readonly kind: "unexplained" }
  /** The query was not of the documented shape (see {@link Refusal}). */
  | ({ readonly kind: "refused" } & Refusal);

/** When the library next needs to act on its own (`nextWakeAt()`). */
export type WakeUp =
  | { readonly kind: "idle" }
  /** `at`: wall-clock ms; `inMs`: how long from now (0: at once). */
  | { readonly kind: "due"; readonly at: number; readonly inMs: number };
