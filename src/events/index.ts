export {
  buildNoOlmNotice,
  buildSessionWithheldNotice,
  type NoOlmNoticeInput,
  type SessionWithheldNoticeInput,
} from "./buildNotice.js";
export type { DecodePath, DecodeRejection, DecodeRejectionReason } from "./decodeRejection.js";
export { decodeWithheldContent, decodeWithheldEvent } from "./decodeWithheld.js";
export { encodeWithheldContent } from "./encodeWithheld.js";
export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from "./json.js";
export {
  type Curve25519PublicKey,
  type DeviceId,
  type Ed25519PublicKey,
  isCurve25519PublicKey,
  isDeviceId,
  isEd25519PublicKey,
  isRoomId,
  isSessionId,
  isUserId,
  parseCurve25519PublicKey,
  parseDeviceId,
  parseEd25519PublicKey,
  parseRoomId,
  parseSessionId,
  parseUserId,
  type RoomId,
  type SessionId,
  type UserId,
} from "./matrixIds.js";
export {
  type CodeClassification,
  classifyWithheldCode,
  defaultWithheldReason,
  isSendableSessionCode,
  isSpecWithheldCode,
  NO_OLM_CODE,
  type NoOlmCode,
  SENDABLE_SESSION_CODES,
  SESSION_WITHHELD_CODES,
  type SendableSessionCode,
  type SessionWithheldCode,
  SPEC_WITHHELD_CODES,
  type SpecWithheldCode,
} from "./withheldCode.js";
export {
  MAX_REASON_LENGTH,
  MEGOLM_ALGORITHM,
  type NoOlmContent,
  type NoOlmWireContent,
  type SessionWithheldContent,
  type SessionWithheldWireContent,
  type UnknownCodeContent,
  WITHHELD_EVENT_TYPE,
  type WithheldContent,
  type WithheldEvent,
} from "./withheldContent.js";
