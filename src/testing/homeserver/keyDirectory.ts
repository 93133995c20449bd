import type { JsonObject, JsonValue } from "../../events/json.js";
import type { DeviceRef } from "./ids.js";
import { algorithmOf } from "./specChecks.js";
import { canonicalJson, isObject } from "./wire.js";

/** A key as /keys/claim returns it: `{ "<algorithm>:<key_id>": key }`. */
export interface ClaimedKey {
  readonly keyName: string;
  readonly key: JsonValue;
  readonly fallback: boolean;
}

interface DeviceRecord {
  deviceKeys: JsonObject | undefined;
  /** Unclaimed one-time keys; Map iteration order is upload order. */
  readonly oneTimeKeys: Map<string, JsonValue>;
  /** Names of keys already handed out, which must never be handed out again. */
  readonly claimedNames: Set<string>;
  /** The one persisted fallback key per algorithm. */
  readonly fallbackKeys: Map<string, { readonly keyName: string; readonly key: JsonValue }>;
}

/**
 * The server's record of each device and its published keys. Bodies reaching it have
 * already passed the spec checks; it enforces only what needs server state.
 */
export class KeyDirectory {
  private readonly users = new Map<string, Map<string, DeviceRecord>>();

  /** A device exists once it has logged in (asked for a transport) or uploaded keys. */
  register(ref: DeviceRef): void {
    this.recordOf(ref);
  }

  isKnown(ref: DeviceRef): boolean {
    return this.users.get(ref.userId)?.has(ref.deviceId) ?? false;
  }

  devicesOf(userId: string): readonly string[] {
    return [...(this.users.get(userId)?.keys() ?? [])];
  }

  /** Applies an upload atomically: a conflicting one-time key refuses the whole body. */
  upload(ref: DeviceRef, body: JsonObject): readonly string[] {
    const record = this.recordOf(ref);
    const oneTimeKeys = isObject(body.one_time_keys) ? Object.entries(body.one_time_keys) : [];
    // Re-sending an identical key is a harmless retry; reusing its id for another key is not,
    // and re-publishing a claimed key would let it be returned twice.
    const conflicts = oneTimeKeys.flatMap(([name, key]) => {
      if (record.claimedNames.has(name)) return [`one-time key ${name} was already claimed`];
      const held = record.oneTimeKeys.get(name);
      const differs = held !== undefined && canonicalJson(held) !== canonicalJson(key);
      return differs ? [`one-time key ${name} was already uploaded with a different value`] : [];
    });
    if (conflicts.length > 0) return conflicts;

    if (isObject(body.device_keys)) record.deviceKeys = body.device_keys;
    for (const [name, key] of oneTimeKeys) {
      if (!record.oneTimeKeys.has(name)) record.oneTimeKeys.set(name, key);
    }
    const fallbackKeys = isObject(body.fallback_keys) ? Object.entries(body.fallback_keys) : [];
    for (const [keyName, key] of fallbackKeys) {
      const algorithm = algorithmOf(keyName);
      if (algorithm !== undefined) record.fallbackKeys.set(algorithm, { keyName, key });
    }
    return [];
  }

  /** The oldest unclaimed one-time key of `algorithm`, else the (reusable) fallback key. */
  claim(ref: DeviceRef, algorithm: string): ClaimedKey | undefined {
    const record = this.users.get(ref.userId)?.get(ref.deviceId);
    if (record === undefined) return undefined;
    for (const [keyName, key] of record.oneTimeKeys) {
      if (algorithmOf(keyName) !== algorithm) continue;
      record.oneTimeKeys.delete(keyName);
      record.claimedNames.add(keyName);
      return { keyName, key, fallback: false };
    }
    const fallback = record.fallbackKeys.get(algorithm);
    return fallback === undefined ? undefined : { ...fallback, fallback: true };
  }

  /** Unclaimed one-time keys per algorithm, as `one_time_key_counts` reports them. */
  oneTimeKeyCounts(ref: DeviceRef): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const keyName of this.users.get(ref.userId)?.get(ref.deviceId)?.oneTimeKeys.keys() ?? []) {
      const algorithm = algorithmOf(keyName);
      if (algorithm !== undefined) counts[algorithm] = (counts[algorithm] ?? 0) + 1;
    }
    return counts;
  }

  /** Uploaded device_keys of each of the user's devices that has published them. */
  deviceKeysOf(userId: string): ReadonlyMap<string, JsonObject> {
    const result = new Map<string, JsonObject>();
    for (const [deviceId, record] of this.users.get(userId) ?? []) {
      if (record.deviceKeys !== undefined) result.set(deviceId, record.deviceKeys);
    }
    return result;
  }

  private recordOf(ref: DeviceRef): DeviceRecord {
    let devices = this.users.get(ref.userId);
    if (devices === undefined) {
      devices = new Map();
      this.users.set(ref.userId, devices);
    }
    let record = devices.get(ref.deviceId);
    if (record === undefined) {
      record = {
        deviceKeys: undefined,
        oneTimeKeys: new Map(),
        claimedNames: new Set(),
        fallbackKeys: new Map(),
      };
      devices.set(ref.deviceId, record);
    }
    return record;
  }
}
