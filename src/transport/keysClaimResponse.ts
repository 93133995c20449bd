import { copyJson, isJsonObject } from "../events/json.js";
import type { DeviceId, UserId } from "../events/matrixIds.js";
import type { ClaimedOneTimeKey } from "../olm/olmBackend.js";
import type { Result } from "../result.js";

const CLAIMED_ALGORITHM_PREFIX = "signed_curve25519:";

export interface ClaimedKeys {
  /** The claimed key for a device, if the server returned one. */
  keyFor(userId: UserId, deviceId: DeviceId): ClaimedOneTimeKey | undefined;
  /** Whether the homeserver said it could not reach this server (the response's `failures`). */
  isUnreachable(server: string): boolean;
}

export interface MalformedClaimResponse {
  readonly reason: "malformedResponse";
  readonly detail: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads a /keys/claim response body from the server. The body is untrusted: only the parts
 * asked for are read, each key object is copied through the JSON guard, and anything odd about
 * one device only loses that device's key.
 */
export function parseKeysClaimResponse(body: unknown): Result<ClaimedKeys, MalformedClaimResponse> {
  try {
    return readResponse(body);
  } catch {
    // Proxies and getters can throw from any read.
    return { ok: false, reason: "malformedResponse", detail: "the response could not be read" };
  }
}

function readResponse(body: unknown): Result<ClaimedKeys, MalformedClaimResponse> {
  if (!isRecord(body) || !isRecord(body.one_time_keys)) {
    return { ok: false, reason: "malformedResponse", detail: "one_time_keys is not an object" };
  }
  const keys = body.one_time_keys;
  const failures = isRecord(body.failures) ? body.failures : undefined;
  return {
    ok: true,
    value: {
      isUnreachable: (server) => {
        try {
          return failures !== undefined && Object.hasOwn(failures, server);
        } catch {
          return false;
        }
      },
      keyFor(userId, deviceId) {
        try {
          return keyOf(keys, userId, deviceId);
        } catch {
          return undefined;
        }
      },
    },
  };
}

function keyOf(
  keys: Record<string, unknown>,
  userId: UserId,
  deviceId: DeviceId,
): ClaimedOneTimeKey | undefined {
  const devices = Object.hasOwn(keys, userId) ? keys[userId] : undefined;
  if (!isRecord(devices) || !Object.hasOwn(devices, deviceId)) return undefined;
  const claimed = devices[deviceId];
  if (!isRecord(claimed)) return undefined;
  // One key is asked for; a device answer with more names than that is not worth scanning.
  let scanned = 0;
  for (const keyId in claimed) {
    if (++scanned > MAX_KEY_NAMES_SCANNED) return undefined;
    if (!Object.hasOwn(claimed, keyId) || !keyId.startsWith(CLAIMED_ALGORITHM_PREFIX)) continue;
    const copied = copyJson(claimed[keyId], [keyId]);
    if (copied.ok && isJsonObject(copied.value)) return { keyId, keyObject: copied.value };
  }
  return undefined;
}

const MAX_KEY_NAMES_SCANNED = 16;

/** The server part of a user id: `@alice:example.org` → `example.org`. */
export const serverOf = (userId: UserId): string => userId.slice(userId.indexOf(":") + 1);
