import {
  isJsonObject,
  isPlainObject,
  type JsonObject,
  type JsonValue,
  ownJsonField,
} from "../events/json.js";
import type { Ed25519PublicKey } from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import { signingPayload } from "./canonicalJson.js";
import type { OlmFailure } from "./olmBackend.js";
import { callOlm, olmFailure } from "./olmFailure.js";
import {
  exceedsKeyLimit,
  exceedsOlmLimit,
  MAX_ED25519_SIGNATURE_BYTES,
  MAX_SIGNED_JSON_BYTES,
} from "./olmInputLimits.js";
import { olmModule } from "./olmModule.js";

/** The name a device's ed25519 signature is filed under in `signatures[signer]`. */
export const ed25519KeyName = (deviceId: string): string => `ed25519:${deviceId}`;

/** Anything that signs with an ed25519 key: an `Olm.Account`, or an `Olm.PkSigning` for cross-signing. */
export interface Ed25519Signer {
  sign(message: string): string;
}

/**
 * Adds the key's ed25519 signature of `object` under `signatures[signer]["ed25519:<deviceId>"]`,
 * keeping signatures already there (appendices, "Signing Details").
 */
export function signJson(
  key: Ed25519Signer,
  signer: string,
  deviceId: string,
  object: JsonObject,
): Result<JsonObject, OlmFailure> {
  const payload = signingPayload(object);
  if (!payload.ok) return payload;
  const existing = ownJsonField(object, "signatures") ?? {};
  if (!isJsonObject(existing))
    return olmFailure("malformedInput", "`signatures` is not an object.");
  const bySigner = ownJsonField(existing, signer) ?? {};
  if (!isJsonObject(bySigner))
    return olmFailure("malformedInput", `\`signatures\` of ${signer} is not an object.`);
  const tooLarge = exceedsOlmLimit("The signed JSON", payload.value, MAX_SIGNED_JSON_BYTES);
  if (tooLarge !== undefined) return tooLarge;
  const signature = callOlm("malformedInput", () => key.sign(payload.value));
  if (!signature.ok) return signature;
  const signatures = {
    ...existing,
    [signer]: { ...bySigner, [ed25519KeyName(deviceId)]: signature.value },
  };
  return ok({ ...object, signatures });
}

/**
 * Checks `signatures[signer]["ed25519:<deviceId>"]` against `key` (appendices, "Checking for a
 * Signature"). A missing or wrong signature is `badKeySignature`; a malformed object is
 * `malformedInput`. Needs libolm loaded (`loadLibolm`).
 */
export function verifyJsonSignature(
  object: JsonObject,
  signer: string,
  deviceId: string,
  key: Ed25519PublicKey,
): Result<void, OlmFailure> {
  if (!isPlainObject(object))
    return olmFailure("malformedInput", "Only a JSON object carries signatures.");
  const signature = signatureOf(object, signer, ed25519KeyName(deviceId));
  if (!signature.ok) return signature;
  const payload = signingPayload(object);
  if (!payload.ok) return payload;
  // ed25519_verify copies all three onto libolm's 64 KiB wasm stack.
  const tooLarge =
    exceedsKeyLimit("The ed25519 key", key) ??
    exceedsOlmLimit("The ed25519 signature", signature.value, MAX_ED25519_SIGNATURE_BYTES) ??
    exceedsOlmLimit("The signed JSON", payload.value, MAX_SIGNED_JSON_BYTES);
  if (tooLarge !== undefined) return tooLarge;
  // ed25519_verify returns nothing on success and throws OLM.BAD_MESSAGE_MAC on a bad signature.
  return callOlm("badKeySignature", () => {
    const utility = new (olmModule().Utility)();
    try {
      utility.ed25519_verify(key, payload.value, signature.value);
    } finally {
      utility.free();
    }
  });
}

function signatureOf(
  object: JsonObject,
  signer: string,
  keyName: string,
): Result<string, OlmFailure> {
  const signatures = ownJsonField(object, "signatures");
  if (signatures === undefined || !isJsonObject(signatures)) {
    return olmFailure("malformedInput", "The object has no `signatures` object.");
  }
  const bySigner: JsonValue | undefined = ownJsonField(signatures, signer);
  if (bySigner === undefined) return olmFailure("badKeySignature", `Not signed by ${signer}.`);
  if (!isJsonObject(bySigner))
    return olmFailure("malformedInput", `\`signatures\` of ${signer} is not an object.`);
  const signature = ownJsonField(bySigner, keyName);
  if (signature === undefined)
    return olmFailure("badKeySignature", `No ${keyName} signature by ${signer}.`);
  if (typeof signature !== "string")
    return olmFailure("malformedInput", `The ${keyName} signature is not a string.`);
  return ok(signature);
}
