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

/** Calls from the library to the client. Each may be async; a throw is reported, never raised. */
export interface KeyWithholdingHooks {
  /** A device we could not reach is reachable again: re-share what was withheld since then. */
  onPeerReachable?(event: {
    readonly device: PeerDevice;
    readonly unreachableSince: number;
    readonly at: number;
  }): void | Promise<void>;
  /** We answered a device's m.no_olm with an m.dummy: now request the keys it could not send. */
  onRepliedToNotice?(event: {
    readonly device: PeerDevice;
    readonly newSession: boolean;
    /** The notice explains undecryptable messages this device sent before this time. */
    readonly noticeReceivedAt: number | null;
    readonly at: number;
  }): void | Promise<void>;
  /** A peer machine changed state (for logs and timelines). */
  onPeerStateChange?(event: {
    readonly device: PeerDevice;
    readonly event: PeerEvent;
    readonly from: PeerLeaves;
    readonly to: PeerLeaves;
  }): void;
  onHookError?(error: unknown, hook: string): void;
}

/** The crypto layer's report of one attempt to have an Olm session with a device. */
export interface ShareOutcome {
  readonly device: PeerDevice;
  readonly outcome: "established" | "failed";
}

export interface EstablishOutcome {
  readonly device: PeerDevice;
  readonly outcome: "existing" | "established" | "failed";
  /** Why it failed: no key returned, server unreachable, bad key signature, … */
  readonly detail?: string;
}

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
}

export type IncomingRejectionReason =
  /** Not a well-formed event of its type (see `rejection`). */
  | "malformedEvent"
  /** The event's `sender` has no device with the claimed `sender_key`: a forgery, or stale lists. */
  | "senderDoesNotOwnKey"
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

export interface UndecryptableExplanation {
  readonly code: string;
  readonly reason: string | undefined;
  /** Where the explanation comes from. */
  readonly source: "sessionNotice" | "noOlmNotice";
}
