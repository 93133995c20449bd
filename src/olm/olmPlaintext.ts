import type { PeerDevice } from "../devices/peerDevice.js";
import {
  copyJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  ownJsonField,
} from "../events/json.js";
import { ok, type Result } from "../result.js";
import type { OlmFailure } from "./olmBackend.js";
import { type Failed, olmFailure } from "./olmFailure.js";

export interface OlmPlaintextParts {
  readonly sender: PeerDevice;
  /** The sender's signed `device_keys`, for receivers that have not queried the sender yet. */
  readonly senderDeviceKeys: JsonObject;
  readonly recipient: PeerDevice;
  readonly type: string;
  readonly content: JsonObject;
}

/**
 * The plaintext of an Olm message (spec: OlmPlaintext). `sender_device` is left out on purpose:
 * the spec's schema does not define it, matrix-rust-sdk does not send it, and
 * `sender_device_keys` already names the device, under the device's own signature.
 */
export function buildOlmPlaintext(parts: OlmPlaintextParts): JsonObject {
  return {
    type: parts.type,
    content: parts.content,
    sender: parts.sender.userId,
    recipient: parts.recipient.userId,
    recipient_keys: { ed25519: parts.recipient.ed25519 },
    keys: { ed25519: parts.sender.ed25519 },
    sender_device_keys: parts.senderDeviceKeys,
  };
}

export interface OlmPlaintextEvent {
  readonly type: string;
  readonly content: JsonObject;
}

/**
 * Parses a decrypted plaintext and checks it was meant from `sender` to `recipient`: without
 * these checks anyone holding a session could replay a message they received from someone else.
 * Shape problems are `malformedInput`; a wrong party or key is `payloadMismatch`.
 * `sender_device_keys` is not read: the caller already knows the sender's device.
 */
export function readOlmPlaintext(
  text: string,
  sender: PeerDevice,
  recipient: PeerDevice,
): Result<OlmPlaintextEvent, OlmFailure> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const plaintext = parsed.value;
  if (!isJsonObject(plaintext))
    return olmFailure("malformedInput", "The plaintext is not a JSON object.");
  const type = ownJsonField(plaintext, "type");
  if (typeof type !== "string")
    return olmFailure("malformedInput", "The plaintext `type` is not a string.");
  const content = ownJsonField(plaintext, "content");
  if (content === undefined || !isJsonObject(content)) {
    return olmFailure("malformedInput", "The plaintext `content` is not an object.");
  }
  const mismatch =
    expectField(plaintext, ["sender"], sender.userId) ??
    expectField(plaintext, ["recipient"], recipient.userId) ??
    expectField(plaintext, ["recipient_keys", "ed25519"], recipient.ed25519) ??
    expectField(plaintext, ["keys", "ed25519"], sender.ed25519) ??
    expectOptionalField(plaintext, "sender_device", sender.deviceId);
  return mismatch ?? ok({ type, content });
}

function parseJson(text: string): Result<JsonValue, OlmFailure> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return olmFailure("malformedInput", "The plaintext is not JSON.");
  }
  // copyJson bounds depth and size and gives frozen null-prototype objects.
  const copied = copyJson(raw);
  return copied.ok ? copied : olmFailure("malformedInput", `The plaintext: ${copied.detail}`);
}

function expectField(
  plaintext: JsonObject,
  path: readonly string[],
  expected: string,
): Failed | undefined {
  let value: JsonValue | undefined = plaintext;
  for (const key of path) {
    value = value !== undefined && isJsonObject(value) ? ownJsonField(value, key) : undefined;
  }
  const name = path.join(".");
  if (typeof value !== "string")
    return olmFailure("malformedInput", `The plaintext has no string \`${name}\`.`);
  return value === expected
    ? undefined
    : olmFailure("payloadMismatch", `The plaintext \`${name}\` is not ${expected}.`);
}

// Other implementations omit sender_device; when present it must name the sending device.
function expectOptionalField(
  plaintext: JsonObject,
  key: string,
  expected: string,
): Failed | undefined {
  return ownJsonField(plaintext, key) === undefined
    ? undefined
    : expectField(plaintext, [key], expected);
}
