import type { Curve25519PublicKey, DeviceId, RoomId, SessionId } from "./matrixIds.js";
import { defaultWithheldReason, NO_OLM_CODE, type SendableSessionCode } from "./withheldCode.js";
import {
  clipReason,
  MEGOLM_ALGORITHM,
  type NoOlmWireContent,
  type SessionWithheldWireContent,
} from "./withheldContent.js";

/** What `buildNoOlmNotice` needs: our identity key, and optionally our device id and a reason. */
export interface NoOlmNoticeInput {
  readonly senderKey: Curve25519PublicKey;
  readonly fromDevice: DeviceId;
  readonly reason?: string;
}

/** What `buildSessionWithheldNotice` needs: the code, the room and session, our identity key. */
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
    reason: clipReason(input.reason ?? defaultWithheldReason(NO_OLM_CODE)),
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
    reason: clipReason(input.reason ?? defaultWithheldReason(input.code)),
    ...(input.fromDevice === undefined ? {} : { from_device: input.fromDevice }),
  };
}
