import type Olm from "@matrix-org/olm";
import type { PeerDevice } from "../devices/peerDevice.js";
import { copyJson, isJsonObject, type JsonObject, ownJsonField } from "../events/json.js";
import {
  type Curve25519PublicKey,
  type Ed25519PublicKey,
  parseCurve25519PublicKey,
  parseEd25519PublicKey,
} from "../events/matrixIds.js";
import { MEGOLM_ALGORITHM } from "../events/withheldContent.js";
import { ok, type Result } from "../result.js";
import { type AccountFailure, accountFailure } from "./accountFailure.js";
import { OLM_ALGORITHM } from "./olmBackend.js";
import { describeOlmError } from "./olmFailure.js";
import { signJson } from "./signedJson.js";

export interface IdentityKeys {
  readonly curve25519: Curve25519PublicKey;
  readonly ed25519: Ed25519PublicKey;
}

export function identityKeysOf(account: Olm.Account): Result<IdentityKeys, AccountFailure> {
  const keys = readKeyJson(() => account.identity_keys());
  if (!keys.ok) return keys;
  const curve25519 = parseCurve25519PublicKey(ownJsonField(keys.value, "curve25519"));
  const ed25519 = parseEd25519PublicKey(ownJsonField(keys.value, "ed25519"));
  if (!curve25519.ok || !ed25519.ok) {
    return accountFailure("keyGenerationFailed", "libolm returned malformed identity keys.");
  }
  return ok({ curve25519: curve25519.value, ed25519: ed25519.value });
}

/** The signed `device_keys` object of /keys/upload. */
export function signedDeviceKeys(
  account: Olm.Account,
  device: PeerDevice,
): Result<JsonObject, AccountFailure> {
  return signed(account, device, {
    user_id: device.userId,
    device_id: device.deviceId,
    algorithms: [OLM_ALGORITHM, MEGOLM_ALGORITHM],
    keys: {
      [`curve25519:${device.deviceId}`]: device.curve25519,
      [`ed25519:${device.deviceId}`]: device.ed25519,
    },
  });
}

/**
 * Makes `count` one-time keys and returns them signed, as /keys/upload's `one_time_keys`, then
 * marks them published so the next call returns only newer keys.
 */
export function publishOneTimeKeys(
  account: Olm.Account,
  device: PeerDevice,
  count: number,
): Result<Record<string, JsonObject>, AccountFailure> {
  const generated = attempt(() => account.generate_one_time_keys(count));
  if (!generated.ok) return generated;
  return publishUnpublished(account, device, () => account.one_time_keys(), {});
}

/** Makes a new fallback key and returns it signed with `fallback: true`, as /keys/upload's `fallback_keys`. */
export function publishFallbackKey(
  account: Olm.Account,
  device: PeerDevice,
): Result<Record<string, JsonObject>, AccountFailure> {
  const generated = attempt(() => account.generate_fallback_key());
  if (!generated.ok) return generated;
  return publishUnpublished(account, device, () => account.unpublished_fallback_key(), {
    fallback: true,
  });
}

function publishUnpublished(
  account: Olm.Account,
  device: PeerDevice,
  read: () => string,
  extra: JsonObject,
): Result<Record<string, JsonObject>, AccountFailure> {
  const listed = readKeyJson(read);
  if (!listed.ok) return listed;
  const byId = ownJsonField(listed.value, "curve25519");
  if (byId === undefined || !isJsonObject(byId)) {
    return accountFailure("keyGenerationFailed", "libolm listed no curve25519 keys.");
  }
  const keys: Record<string, JsonObject> = {};
  for (const [id, key] of Object.entries(byId)) {
    if (typeof key !== "string")
      return accountFailure("keyGenerationFailed", "libolm listed a non-string key.");
    const object = signed(account, device, { key, ...extra });
    if (!object.ok) return object;
    keys[`signed_curve25519:${id}`] = object.value;
  }
  const marked = attempt(() => account.mark_keys_as_published());
  return marked.ok ? ok(keys) : marked;
}

function signed(
  account: Olm.Account,
  device: PeerDevice,
  object: JsonObject,
): Result<JsonObject, AccountFailure> {
  const result = signJson(account, device.userId, device.deviceId, object);
  return result.ok ? result : accountFailure("keyGenerationFailed", result.detail);
}

function readKeyJson(read: () => string): Result<JsonObject, AccountFailure> {
  const text = attempt(read);
  if (!text.ok) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.value);
  } catch {
    return accountFailure("keyGenerationFailed", "libolm returned keys that are not JSON.");
  }
  const copied = copyJson(parsed);
  if (copied.ok && isJsonObject(copied.value)) return ok(copied.value);
  return accountFailure("keyGenerationFailed", "libolm returned keys that are not a JSON object.");
}

function attempt<T>(action: () => T): Result<T, AccountFailure> {
  try {
    return ok(action());
  } catch (error) {
    return accountFailure("keyGenerationFailed", describeOlmError(error));
  }
}
