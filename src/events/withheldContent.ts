import type { JsonObject } from "./json.js";
import type { Curve25519PublicKey, DeviceId, RoomId, SessionId, UserId } from "./matrixIds.js";
import type { NoOlmCode, SendableSessionCode, SessionWithheldCode } from "./withheldCode.js";

/** The event type of every notice this library reads and sends. */
export const WITHHELD_EVENT_TYPE = "m.room_key.withheld" as const;
/** The only `algorithm` a withheld notice may name (room keys are Megolm). */
export const MEGOLM_ALGORITHM = "m.megolm.v1.aes-sha2" as const;
/**
 * Longest `reason` kept or produced, in UTF-16 code units. The reason is display text, not
 * protocol data, so a longer one is clipped rather than refused: decoding keeps the notice and
 * its code, and building never sends more than a receiver keeps. 4,096 units is pages of
 * explanation, yet keeps a remembered notice small (about 8 KiB of text at most).
 */
export const MAX_REASON_LENGTH = 4_096;

/**
 * The reason clipped to MAX_REASON_LENGTH, never splitting a surrogate pair. O(MAX_REASON_LENGTH)
 * whatever the input's length, and the result owns its text: a bare `slice` would keep the
 * whole original alive in V8 (a 4,096-unit slice of a 1 MB reason holds the 1 MB).
 */
export function clipReason(reason: string): string {
  if (reason.length <= MAX_REASON_LENGTH) return reason;
  const last = reason.charCodeAt(MAX_REASON_LENGTH - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_REASON_LENGTH - 1 : MAX_REASON_LENGTH;
  // Concatenating, then slicing, makes V8 flatten the text into a new string of its own.
  return ` ${reason.slice(0, end)}`.slice(1);
}

interface WithheldCommon {
  readonly algorithm: typeof MEGOLM_ALGORITHM;
  readonly senderKey: Curve25519PublicKey;
  readonly reason?: string;
  /** MSC3735: the device that sent the notice. */
  readonly fromDevice?: DeviceId;
  /** Content keys this library does not know, kept verbatim for re-encoding. */
  readonly extra: JsonObject;
}

/**
 * No Olm channel could be set up; about the device, so there is no room or session by construction.
 */
export interface NoOlmContent extends WithheldCommon {
  readonly kind: "noOlm";
  readonly code: NoOlmCode;
}

/**
 * A notice about one room key (`m.unverified`, `m.blacklisted`, …): it names the room and session.
 */
export interface SessionWithheldContent extends WithheldCommon {
  readonly kind: "session";
  readonly code: SessionWithheldCode;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
}

/** A syntactically valid code outside the spec table; `reason` is what a client can show. */
export interface UnknownCodeContent extends WithheldCommon {
  readonly kind: "unknownCode";
  readonly code: string;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
}

/** A decoded notice: `noOlm`, `session` or `unknownCode` (`kind` tells which). */
export type WithheldContent = NoOlmContent | SessionWithheldContent | UnknownCodeContent;

/** The event as a client receives it in cleartext from /sync's to-device list. */
export interface WithheldEvent {
  readonly type: typeof WITHHELD_EVENT_TYPE;
  readonly sender: UserId;
  readonly content: WithheldContent;
}

/** What the library sends for m.no_olm: room_id and session_id can never be present. */
export type NoOlmWireContent = {
  readonly algorithm: typeof MEGOLM_ALGORITHM;
  readonly sender_key: Curve25519PublicKey;
  readonly code: NoOlmCode;
  readonly reason?: string;
  readonly from_device?: DeviceId;
  readonly room_id?: never;
  readonly session_id?: never;
};

/** What the library sends when withholding one room key. */
export type SessionWithheldWireContent = {
  readonly algorithm: typeof MEGOLM_ALGORITHM;
  readonly sender_key: Curve25519PublicKey;
  readonly code: SendableSessionCode;
  readonly room_id: RoomId;
  readonly session_id: SessionId;
  readonly reason?: string;
  readonly from_device?: DeviceId;
};

/** Every content key this library interprets; anything else is carried in `extra`. */
export const WITHHELD_WIRE_KEYS = [
  "algorithm",
  "sender_key",
  "code",
  "reason",
  "from_device",
  "room_id",
  "session_id",
] as const satisfies readonly (keyof SessionWithheldWireContent)[];

export const isWithheldWireKey = (key: string): boolean =>
  (WITHHELD_WIRE_KEYS as readonly string[]).includes(key);
