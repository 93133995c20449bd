import type { JsonObject, JsonValue } from "../../events/json.js";
import { type DeviceRef, isSpecUserId } from "./ids.js";
import type { SchemaCheck } from "./schemaCheck.js";
import { isObject } from "./wire.js";

/**
 * Every check the relay applies to what crosses it: the spec's JSON Schemas (through the
 * injected `schemas`), plus the few rules the spec states only in prose (each marked below).
 * A check returns its problems; an empty list means the value conforms.
 */

export const OLM_ALGORITHM = "m.olm.v1.curve25519-aes-sha2";
const NO_OLM = "m.no_olm";
// "Custom codes must use the Java package naming convention": dot-separated identifiers.
const JAVA_PACKAGE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;
// Any spec code works as a stand-in: the schema's prose rules are checked separately.
const STAND_IN_CODE = "m.unavailable";

const at = (path: string, problems: readonly string[]): string[] =>
  problems.map((problem) => `at ${path}: ${problem}`);

/**
 * The schemas give user-keyed maps as `patternProperties: {"^@": …}` without
 * `additionalProperties: false`, so a key like "bob" would pass them; their descriptions say
 * "a map from user ID", which is what is checked here.
 */
function keysThatAreNotUserIds(map: JsonObject, path: string): string[] {
  return Object.keys(map)
    .filter((key) => !isSpecUserId(key))
    .map((key) => `at ${path}: key ${JSON.stringify(key)} is not a user ID`);
}

/** `<algorithm>:<key_id>` with both parts non-empty. */
function splitKeyName(
  name: string,
): { readonly algorithm: string; readonly id: string } | undefined {
  const colon = name.indexOf(":");
  if (colon <= 0 || colon === name.length - 1) return undefined;
  return { algorithm: name.slice(0, colon), id: name.slice(colon + 1) };
}

export function checkSendToDevice(
  schemas: SchemaCheck,
  eventType: string,
  txnId: string,
  body: JsonValue,
): string[] {
  const problems: string[] = [];
  if (eventType === "") problems.push("the eventType path parameter is empty");
  if (txnId === "") problems.push("the txnId path parameter is empty");
  problems.push(...schemas("sendToDeviceBody", body));
  if (!isObject(body) || !isObject(body.messages)) return problems;
  problems.push(...keysThatAreNotUserIds(body.messages, "/messages"));
  for (const [userId, devices] of Object.entries(body.messages)) {
    if (!isObject(devices)) continue;
    for (const [deviceId, content] of Object.entries(devices)) {
      if (!isObject(content)) continue;
      problems.push(
        ...at(`/messages/${userId}/${deviceId}`, checkToDeviceContent(schemas, eventType, content)),
      );
    }
  }
  return problems;
}

/** Content checks for the event types this library sends in the clear over to-device. */
export function checkToDeviceContent(
  schemas: SchemaCheck,
  eventType: string,
  content: JsonObject,
): string[] {
  switch (eventType) {
    case "m.room_key.withheld":
      return checkWithheldContent(schemas, content);
    case "m.room.encrypted":
      return checkOlmEncryptedContent(schemas, content);
    default:
      return [];
  }
}

export function checkWithheldContent(schemas: SchemaCheck, content: JsonObject): string[] {
  const problems: string[] = [];
  const code = content.code;
  const custom = typeof code === "string" && !code.startsWith("m.");
  if (custom && !JAVA_PACKAGE_NAME.test(code)) {
    problems.push(`code ${JSON.stringify(code)} is not a Java-package-style custom code`);
  }
  // The schema's `code` enum is closed, but its description allows custom codes: the rest
  // of a custom-coded content is checked with a spec code standing in.
  const checked = custom ? { ...content, code: STAND_IN_CODE } : content;
  problems.push(...schemas("withheldContent", checked));
  // Prose (m.room_key.withheld): room_id and session_id are "Required if code is not m.no_olm".
  if (code !== NO_OLM) {
    for (const field of ["room_id", "session_id"]) {
      if (!Object.hasOwn(content, field)) problems.push(`${field} is required unless m.no_olm`);
    }
  }
  // Prose (v1.19): "Clients SHOULD NOT use this code in a m.room_key.withheld event".
  if (code === "m.history_not_shared") {
    problems.push("m.history_not_shared is for room key bundles, not m.room_key.withheld");
  }
  return problems;
}

export function checkOlmEncryptedContent(schemas: SchemaCheck, content: JsonObject): string[] {
  const problems = [...schemas("encryptedContent", content)];
  // To-device encryption is Olm; Megolm encrypts room events only.
  if (content.algorithm !== OLM_ALGORITHM) {
    return [...problems, `a to-device m.room.encrypted must use ${OLM_ALGORITHM}`];
  }
  // Prose (m.room.encrypted): sender_key is "Required (not deprecated) if not using Megolm".
  if (!Object.hasOwn(content, "sender_key")) problems.push("sender_key is required with Olm");
  const ciphertext = content.ciphertext;
  if (!isObject(ciphertext)) {
    problems.push("an Olm ciphertext is a map from recipient Curve25519 key to {type, body}");
    return problems;
  }
  if (Object.keys(ciphertext).length === 0) problems.push("the Olm ciphertext map is empty");
  // Olm's CiphertextInfo requires both fields; the event schema lists them but does not.
  for (const [recipientKey, info] of Object.entries(ciphertext)) {
    const complete = isObject(info) && typeof info.body === "string" && Number.isInteger(info.type);
    if (!complete) problems.push(`ciphertext for ${recipientKey} lacks an integer type or a body`);
  }
  return problems;
}

export function checkKeysUpload(
  schemas: SchemaCheck,
  uploader: DeviceRef,
  body: JsonValue,
): string[] {
  const problems = [...schemas("keysUploadBody", body)];
  if (!isObject(body)) return problems;
  const deviceKeys = body.device_keys;
  if (isObject(deviceKeys)) problems.push(...checkOwnDeviceKeys(uploader, deviceKeys));
  for (const field of ["one_time_keys", "fallback_keys"] as const) {
    const keys = body[field];
    if (!isObject(keys)) continue;
    for (const name of Object.keys(keys)) {
      if (splitKeyName(name) === undefined) {
        problems.push(`at /${field}: ${JSON.stringify(name)} is not <algorithm>:<key_id>`);
      }
    }
  }
  if (isObject(body.fallback_keys)) problems.push(...checkFallbackKeys(body.fallback_keys));
  return problems;
}

/** device_keys "Must match the user ID / device ID used when logging in". */
function checkOwnDeviceKeys(uploader: DeviceRef, deviceKeys: JsonObject): string[] {
  const problems: string[] = [];
  if (deviceKeys.user_id !== uploader.userId) {
    problems.push(`device_keys.user_id is not the uploader ${uploader.userId}`);
  }
  if (deviceKeys.device_id !== uploader.deviceId) {
    problems.push(`device_keys.device_id is not the uploader's device ${uploader.deviceId}`);
  }
  const keys = deviceKeys.keys;
  if (isObject(keys)) {
    for (const name of Object.keys(keys)) {
      if (splitKeyName(name)?.id !== uploader.deviceId) {
        problems.push(
          `device_keys.keys name ${JSON.stringify(name)} is not <algorithm>:<device_id>`,
        );
      }
    }
  }
  return problems;
}

/** Prose (fallback_keys): at most one key per algorithm, and signed ones carry `fallback: true`. */
function checkFallbackKeys(fallbackKeys: JsonObject): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, key] of Object.entries(fallbackKeys)) {
    const algorithm = splitKeyName(name)?.algorithm;
    if (algorithm === undefined) continue;
    if (seen.has(algorithm)) problems.push(`more than one fallback key for ${algorithm}`);
    seen.add(algorithm);
    if (isObject(key) && key.fallback !== true) {
      problems.push(`fallback key ${name} is signed but lacks "fallback": true`);
    }
  }
  return problems;
}

export function checkKeysClaim(schemas: SchemaCheck, body: JsonValue): string[] {
  const problems = [...schemas("keysClaimBody", body)];
  if (isObject(body) && isObject(body.one_time_keys)) {
    problems.push(...keysThatAreNotUserIds(body.one_time_keys, "/one_time_keys"));
  }
  return problems;
}

export const checkKeysClaimResponse = (schemas: SchemaCheck, response: JsonValue): string[] => [
  ...schemas("keysClaimResponse", response),
];
export const checkKeysQueryResponse = (schemas: SchemaCheck, response: JsonValue): string[] => [
  ...schemas("keysQueryResponse", response),
];
export const checkKeysUploadResponse = (schemas: SchemaCheck, response: JsonValue): string[] => [
  ...schemas("keysUploadResponse", response),
];

/** The algorithm part of a `<algorithm>:<key_id>` name, or undefined if malformed. */
export const algorithmOf = (keyName: string): string | undefined =>
  splitKeyName(keyName)?.algorithm;
