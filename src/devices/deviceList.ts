import type { Curve25519PublicKey, DeviceId, UserId } from "../events/matrixIds.js";
import type { DeviceDirectory, PeerDevice } from "./peerDevice.js";

/**
 * A simple in-memory `DeviceDirectory` for clients that keep their device list elsewhere and
 * copy it in, and for tests. Replacing a device (same user and device id, new keys) drops the
 * old keys, so notices signed with them stop being accepted.
 */
export class DeviceList implements DeviceDirectory {
  readonly #byId = new Map<string, PeerDevice>();
  readonly #byCurve = new Map<string, PeerDevice>();
  readonly #deviceCounts = new Map<UserId, number>();
  readonly #tracked = new Set<UserId>();

  /** Starts with `devices` (each as by `set`). */
  constructor(devices: Iterable<PeerDevice> = []) {
    for (const device of devices) this.set(device);
  }

  /**
   * Adds a device, or replaces the one with the same user and device id (its old keys stop owning
   * anything).
   */
  set(device: PeerDevice): void {
    this.remove(device.userId, device.deviceId);
    this.#byId.set(idKey(device.userId, device.deviceId), device);
    this.#byCurve.set(curveKey(device.userId, device.curve25519), device);
    this.#deviceCounts.set(device.userId, (this.#deviceCounts.get(device.userId) ?? 0) + 1);
  }

  /** Marks a user's device list as loaded even when it holds no device (a user with none). */
  track(userId: UserId): void {
    this.#tracked.add(userId);
  }

  /** Stops tracking a user: their devices go, and their notices become `unknownSender`. */
  forgetUser(userId: UserId): void {
    for (const device of this.devicesOf(userId)) this.remove(userId, device.deviceId);
    this.#tracked.delete(userId);
  }

  /** A user is known once the list holds one of their devices, or `track` was called. */
  knowsUser(userId: UserId): boolean {
    return this.#tracked.has(userId) || (this.#deviceCounts.get(userId) ?? 0) > 0;
  }

  /** Removes one device; the user stays known (an emptied list is still a loaded one). */
  remove(userId: UserId, deviceId: DeviceId): void {
    const old = this.#byId.get(idKey(userId, deviceId));
    if (old === undefined) return;
    this.#byId.delete(idKey(userId, deviceId));
    this.#byCurve.delete(curveKey(userId, old.curve25519));
    const left = (this.#deviceCounts.get(userId) ?? 1) - 1;
    if (left > 0) this.#deviceCounts.set(userId, left);
    else this.#deviceCounts.delete(userId);
    // Emptied, not forgotten: the list is still loaded for this user.
    this.#tracked.add(userId);
  }

  /** The device with this user and device id, if listed. */
  findDevice(userId: UserId, deviceId: DeviceId): PeerDevice | undefined {
    return this.#byId.get(idKey(userId, deviceId));
  }

  findByCurve25519(userId: UserId, curve25519: Curve25519PublicKey): PeerDevice | undefined {
    return this.#byCurve.get(curveKey(userId, curve25519));
  }

  /** Every listed device of `userId`. */
  devicesOf(userId: UserId): PeerDevice[] {
    return [...this.#byId.values()].filter((device) => device.userId === userId);
  }

  /** How many devices are listed, all users together. */
  get size(): number {
    return this.#byId.size;
  }
}

const idKey = (userId: string, deviceId: string): string => JSON.stringify([userId, deviceId]);
const curveKey = (userId: string, curve: string): string => JSON.stringify([userId, curve]);
