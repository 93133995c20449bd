import type { Curve25519PublicKey, DeviceId, RoomId, SessionId } from "./matrixIds.js";
import { defaultWithheldReason, NO_OLM_CODE, type SendableSessionCode } from "./withheldCode.js";
import {
  MAX_REASON_LENGTH,
  MEGOLM_ALGORITHM,
  type NoOlmWireContent,
  type SessionWithheldWireContent,
} from "./withheldContent.js";

export interface NoOlmNoticeInput {
  readonly senderKey: Curve25519PublicKey;
  readonly fromDevice: DeviceId;
  readonly reason?: string;
}

export interface SessionWithheldNoticeInput {
  readonly code: SendableSessionCode;
  readonly roomId: RoomId;
  readonly sessionId: SessionId;
  readonly senderKey: Curve25519PublicKey;
  readonly fromDevice?: DeviceId;
  readonly reason?: string;
}

/** The one m.no_olm notice per peer device; it names no room or session. */
export function buildNoOlmNotice(input: NoOlmNoticeInput): NoOlmWireContent {
  return {
    algorithm: MEGOLM_ALGORITHM,
    sender_key: input.senderKey,
    code: NO_OLM_CODE,
    reason: sendableReason(input.reason ?? defaultWithheldReason(NO_OLM_CODE)),
    from_device: input.fromDevice,
  };
}

/** Withholds one room key; m.history_not_shared is excluded by the `code` type. */
export function buildSessionWithheldNotice(
  input: SessionWithheldNoticeInput,
): SessionWithheldWireContent {
  return {
    algorithm: MEGOLM_ALGORITHM,
    sender_key: input.senderKey,
    code: input.code,
    room_id: input.roomId,
    session_id: input.sessionId,
    reason: sendableReason(input.reason ?? defaultWithheldReason(input.code)),
    ...(input.fromDevice === undefined ? {} : { from_device: input.fromDevice }),
  };
}

// The reason is display text only; clipping it beats sending a notice receivers refuse.
function sendableReason(reason: string): string {
  if (reason.length <= MAX_REASON_LENGTH) return reason;
  const clipped = reason.slice(0, MAX_REASON_LENGTH);
  return /[\uD800-\uDBFF]$/.test(clipped) ? clipped.slice(0, -1) : clipped;
}
