import type { JsonObject } from "./json.js";
import { isWithheldWireKey, type WithheldContent } from "./withheldContent.js";

/**
 * The wire form of decoded content: the exact inverse of decodeWithheldContent.
 * Extras go first and can never supply a known key, so an extra `room_id` cannot
 * reappear on an m.no_olm notice.
 */
export function encodeWithheldContent(content: WithheldContent): JsonObject {
  return {
    ...extrasWithoutKnownKeys(content.extra),
    algorithm: content.algorithm,
    sender_key: content.senderKey,
    code: content.code,
    ...(content.kind === "noOlm" ? {} : { room_id: content.roomId, session_id: content.sessionId }),
    ...(content.reason === undefined ? {} : { reason: content.reason }),
    ...(content.fromDevice === undefined ? {} : { from_device: content.fromDevice }),
  };
}

// Spread copies own keys as data, so an extra named "__proto__" stays a plain key.
function extrasWithoutKnownKeys(extra: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(extra).filter(([key]) => !isWithheldWireKey(key)));
}
