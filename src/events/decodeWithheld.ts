import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, describeValue, reject } from "./decodeRejection.js";
import {
  copyJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonObjectFromEntries,
} from "./json.js";
import {
  parseCurve25519PublicKey,
  parseDeviceId,
  parseRoomId,
  parseSessionId,
  parseUserId,
} from "./matrixIds.js";
import { pickJsonFields } from "./pickJsonFields.js";
import { optionalField, requiredField } from "./readField.js";
import { isWithheldWireKey, type WithheldContent, type WithheldEvent } from "./withheldContent.js";
import {
  parseEventType,
  parseMegolmAlgorithm,
  parseReason,
  parseWithheldCode,
} from "./withheldFields.js";

const EVENT_FIELDS = ["type", "sender", "content"];

/** Decodes a cleartext to-device event from /sync; top-level keys other than type/sender/content are ignored. */
export function decodeWithheldEvent(input: unknown): Result<WithheldEvent, DecodeRejection> {
  return withLastResort(() => {
    const event = pickJsonFields(input, EVENT_FIELDS, []);
    if (!event.ok) return event;
    const type = requiredField(event.value, "type", [], parseEventType);
    if (!type.ok) return type;
    const sender = requiredField(event.value, "sender", [], parseUserId);
    if (!sender.ok) return sender;
    const content = requiredField(event.value, "content", [], contentFromJson);
    if (!content.ok) return content;
    return ok({ type: type.value, sender: sender.value, content: content.value });
  });
}

/** Decodes the `content` of an m.room_key.withheld event. */
export function decodeWithheldContent(input: unknown): Result<WithheldContent, DecodeRejection> {
  return withLastResort(() => {
    const content = copyJson(input, []);
    return content.ok ? contentFromJson(content.value, []) : content;
  });
}

function contentFromJson(
  value: JsonValue,
  path: DecodePath,
): Result<WithheldContent, DecodeRejection> {
  if (!isJsonObject(value)) {
    return reject("notAnObject", path, `Expected the content object, got ${describeValue(value)}.`);
  }
  const algorithm = requiredField(value, "algorithm", path, parseMegolmAlgorithm);
  if (!algorithm.ok) return algorithm;
  const senderKey = requiredField(value, "sender_key", path, parseCurve25519PublicKey);
  if (!senderKey.ok) return senderKey;
  const code = requiredField(value, "code", path, parseWithheldCode);
  if (!code.ok) return code;
  const reason = optionalField(value, "reason", path, parseReason);
  if (!reason.ok) return reason;
  const fromDevice = optionalField(value, "from_device", path, parseDeviceId);
  if (!fromDevice.ok) return fromDevice;

  const common = {
    algorithm: algorithm.value,
    senderKey: senderKey.value,
    ...(reason.value === undefined ? {} : { reason: reason.value }),
    ...(fromDevice.value === undefined ? {} : { fromDevice: fromDevice.value }),
    extra: extrasOf(value),
  };
  // m.no_olm is about the device, not a key: any room_id/session_id is dropped unread.
  if (code.value.kind === "noOlm") return ok({ kind: "noOlm", code: code.value.code, ...common });

  const roomId = requiredField(value, "room_id", path, parseRoomId);
  if (!roomId.ok) return roomId;
  const sessionId = requiredField(value, "session_id", path, parseSessionId);
  if (!sessionId.ok) return sessionId;
  const key = { roomId: roomId.value, sessionId: sessionId.value };
  return code.value.kind === "session"
    ? ok({ kind: "session", code: code.value.code, ...common, ...key })
    : ok({ kind: "unknownCode", code: code.value.code, ...common, ...key });
}

function extrasOf(content: JsonObject): JsonObject {
  return jsonObjectFromEntries(Object.entries(content).filter(([key]) => !isWithheldWireKey(key)));
}

function withLastResort<T>(decode: () => Result<T, DecodeRejection>): Result<T, DecodeRejection> {
  try {
    return decode();
  } catch (error) {
    // Every known hazard is handled in copyJson; this only keeps the never-throw promise.
    return reject("unreadable", [], `Decoding threw ${describeValue(error)}.`);
  }
}
