import type { PeerDevice } from "../devices/peerDevice.js";
import type { DecodeRejection } from "../events/decodeRejection.js";
import type { JsonObject } from "../events/json.js";
import type { Curve25519PublicKey, RoomId, SessionId, UserId } from "../events/matrixIds.js";
import type { SendableSessionCode } from "../events/withheldCode.js";
import type { SessionWithheldContent, UnknownCodeContent } from "../events/withheldContent.js";
import type { PeerEvent } from "../machine/peerEvents.js";
import type { peerLeaves } from "../machine/peerSnapshot.js";
import type { OlmFailure } from "../olm/olmBackend.js";

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

export interface Refusal {
  readonly reason: RefusalReason;
  /** The entry's index in a list argument; absent when the whole argument was refused. */
  readonly index?: number;
  readonly path: readonly (string | number)[];
  readonly detail: string;
}

export type EstablishOutcome =
  | { readonly outcome: "existing" | "established"; readonly device: PeerDevice }
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
  | ({ readonly outcome: "refused" } & Refusal);

/** A per-session notice the client asks us to send. */
export interface SessionWithheldRequest {
  readonly device: PeerDevice;
  readonly code: SendableSessionCode;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
  readonly reason?: string;
}

export interface FlushReport {
  readonly requests: readonly {
    readonly txnId: string;
    readonly eventType: string;
    readonly messages: number;
    readonly outcome: "sent" | "failed";
  }[];
  /** Requests still waiting for a retry after this flush. */
  readonly stillPending: number;
  /** Arguments of the call that were refused (and not acted on). */
  readonly refused: readonly Refusal[];
}

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

export type ReplyOutcome = "none" | "newSession" | "existingSession" | "failed";

export type IncomingResult =
  | { readonly kind: "noOlmNotice"; readonly device: PeerDevice; readonly reply: ReplyOutcome }
  | {
      readonly kind: "sessionWithheld";
      readonly device: PeerDevice;
      readonly content: SessionWithheldContent | UnknownCodeContent;
    }
  | {
      readonly kind: "decrypted";
      readonly device: PeerDevice;
      readonly type: string;
      readonly content: JsonObject;
      readonly newSession: boolean;
    }
  | {
      readonly kind: "rejected";
      readonly reason: IncomingRejectionReason;
      readonly detail: string;
      readonly rejection?: DecodeRejection | OlmFailure;
    }
  /** Not an event this library handles (its type is neither withheld nor Olm-encrypted). */
  | { readonly kind: "notHandled"; readonly type: string };

export interface UndecryptableQuery {
  readonly sender: UserId;
  readonly senderKey: Curve25519PublicKey;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
  readonly originServerTs: number;
}

export type UndecryptableExplanation =
  | {
      readonly kind: "explained";
      readonly code: string;
      readonly reason: string | undefined;
      /** Where the explanation comes from. */
      readonly source: "sessionNotice" | "noOlmNotice";
    }
  /** No withheld notice we hold explains it. */
  | { readonly kind: "unexplained" }
  | ({ readonly kind: "refused" } & Refusal);

/** When the library next needs to act on its own (`nextWakeAt()`). */
export type WakeUp =
  | { readonly kind: "idle" }
  /** `at`: wall-clock ms; `inMs`: how long from now (0: at once). */
  | { readonly kind: "due"; readonly at: number; readonly inMs: number };
