import type { JsonObject } from "../../events/json.js";
import { unpaddedBase64 } from "../unpaddedBase64.js";

/**
 * Syntactically valid key material for tests that do not need real cryptography: the relay
 * checks shapes, never signatures. Values are derived from a seed, so they are stable.
 */

/**
 * `length` bytes derived from `seed`: FNV-1a of the seed, then a xorshift stream. Not a
 * cryptographic hash (nothing here needs one), but stable, spread out, and free of Node's
 * `crypto`, so the double runs in a browser too.
 */
function seededBytes(seed: string, length: number): Uint8Array {
  let state = 0x811c9dc5;
  for (const unit of new TextEncoder().encode(seed)) {
    state = Math.imul(state ^ unit, 0x01000193) >>> 0;
  }
  if (state === 0) state = 1; // xorshift would stay at zero
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** 43 characters of unpadded base64, like a Curve25519 or Ed25519 public key. */
export const fakePublicKey = (seed: string): string =>
  unpaddedBase64(seededBytes(`key ${seed}`, 32));
/** 86 characters of unpadded base64, like an Ed25519 signature. */
export const fakeSignature = (seed: string): string =>
  unpaddedBase64(seededBytes(`signature ${seed}`, 64));

const signed = (
  userId: string,
  deviceId: string,
  object: JsonObject,
  seed: string,
): JsonObject => ({
  ...object,
  signatures: { [userId]: { [`ed25519:${deviceId}`]: fakeSignature(seed) } },
});

/**
 * A `device_keys` object for /keys/upload: both algorithms, curve25519 and ed25519 keys and a
 * signature, all fake but well formed and stable for the same ids.
 */
export function fakeDeviceKeys(userId: string, deviceId: string): JsonObject {
  const seed = `${userId}/${deviceId}`;
  return signed(
    userId,
    deviceId,
    {
      user_id: userId,
      device_id: deviceId,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: {
        [`curve25519:${deviceId}`]: fakePublicKey(`curve ${seed}`),
        [`ed25519:${deviceId}`]: fakePublicKey(`ed ${seed}`),
      },
    },
    seed,
  );
}

/** `signed_curve25519:<id>` key names for the given ids, in that (upload) order. */
export function fakeOneTimeKeys(
  userId: string,
  deviceId: string,
  keyIds: readonly string[],
): JsonObject {
  return Object.fromEntries(
    keyIds.map((id) => {
      const seed = `${userId}/${deviceId}/${id}`;
      return [
        `signed_curve25519:${id}`,
        signed(userId, deviceId, { key: fakePublicKey(seed) }, seed),
      ];
    }),
  );
}

/** A `fallback_keys` object: one signed fake `signed_curve25519:<keyId>` key, `fallback: true`. */
export function fakeFallbackKey(userId: string, deviceId: string, keyId: string): JsonObject {
  const seed = `${userId}/${deviceId}/fallback/${keyId}`;
  const key = { key: fakePublicKey(seed), fallback: true };
  return { [`signed_curve25519:${keyId}`]: signed(userId, deviceId, key, seed) };
}

/** What {@link fakeUpload} puts in the body besides `device_keys`. */
export interface FakeUploadOptions {
  /** One-time key ids, uploaded in this order. */
  readonly oneTimeKeyIds?: readonly string[];
  /** A fallback key's id; none if absent. */
  readonly fallbackKeyId?: string;
  /** Leave out device_keys (a later upload of more keys only). */
  readonly withoutDeviceKeys?: boolean;
}

/** A valid /keys/upload body for the device. */
export function fakeUpload(
  userId: string,
  deviceId: string,
  options: FakeUploadOptions = {},
): JsonObject {
  const body: Record<string, JsonObject> = {};
  if (options.withoutDeviceKeys !== true) body.device_keys = fakeDeviceKeys(userId, deviceId);
  if (options.oneTimeKeyIds !== undefined) {
    body.one_time_keys = fakeOneTimeKeys(userId, deviceId, options.oneTimeKeyIds);
  }
  if (options.fallbackKeyId !== undefined) {
    body.fallback_keys = fakeFallbackKey(userId, deviceId, options.fallbackKeyId);
  }
  return body;
}

/** A valid m.room_key.withheld content about one Megolm session. */
export function fakeWithheldContent(overrides: JsonObject = {}): JsonObject {
  return {
    algorithm: "m.megolm.v1.aes-sha2",
    room_id: "!room:example.org",
    session_id: fakePublicKey("session"),
    sender_key: fakePublicKey("sender curve"),
    code: "m.unverified",
    reason: "Device not verified",
    ...overrides,
  };
}

/** A valid Olm-encrypted to-device content (the ciphertext is not real). */
export function fakeOlmContent(recipientCurveKey: string, body = "AwogFakeCiphertext"): JsonObject {
  return {
    algorithm: "m.olm.v1.curve25519-aes-sha2",
    sender_key: fakePublicKey("sender curve"),
    ciphertext: { [recipientCurveKey]: { type: 0, body } },
  };
}
