import type { PeerDevice } from "../devices/peerDevice.js";
import { copyJson, isJsonObject, ownJsonField } from "../events/json.js";
import { type Curve25519PublicKey, parseCurve25519PublicKey } from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import type { ClaimedOneTimeKey, OlmFailure } from "./olmBackend.js";
import { olmFailure } from "./olmFailure.js";
import { verifyJsonSignature } from "./signedJson.js";

// Unsigned `curve25519:` keys are refused: without a signature the homeserver could swap them.
const SIGNED_CURVE25519 = "signed_curve25519:";

/**
 * Reads a key from /keys/claim and checks the device signed it with `device.ed25519`. The whole
 * object is signed, so a `fallback: true` flag is covered too.
 */
export function verifiedClaimedKey(
  device: PeerDevice,
  claimed: ClaimedOneTimeKey,
): Result<Curve25519PublicKey, OlmFailure> {
  if (typeof claimed.keyId !== "string" || !claimed.keyId.startsWith(SIGNED_CURVE25519)) {
    return olmFailure("malformedInput", `Expected a ${SIGNED_CURVE25519}<id> key.`);
  }
  // The object came from the network: copy it before trusting its shape.
  const copied = copyJson(claimed.keyObject);
  if (!copied.ok) return olmFailure("malformedInput", `The claimed key: ${copied.detail}`);
  const keyObject = copied.value;
  if (!isJsonObject(keyObject))
    return olmFailure("malformedInput", "The claimed key is not an object.");
  const key = parseCurve25519PublicKey(ownJsonField(keyObject, "key"));
  if (!key.ok) return olmFailure("malformedInput", `The claimed key's \`key\`: ${key.detail}`);
  const signatures = ownJsonField(keyObject, "signatures");
  if (signatures === undefined || !isJsonObject(signatures)) {
    return olmFailure("malformedInput", "The claimed key has no `signatures` object.");
  }
  const verified = verifyJsonSignature(keyObject, device.userId, device.deviceId, device.ed25519);
  return verified.ok ? ok(key.value) : verified;
}
