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

  constructor(devices: Iterable<PeerDevice> = []) {
    for (const device of devices) this.set(device);
  }

  set(device: PeerDevice): void {
    this.remove(device.userId, device.deviceId);
    this.#byId.set(idKey(device.userId, device.deviceId), device);
    this.#byCurve.set(curveKey(device.userId, device.curve25519), device);
  }

  remove(userId: UserId, deviceId: DeviceId): void {
    const old = this.#byId.get(idKey(userId, deviceId));
    if (old === undefined) return;
    this.#byId.delete(idKey(userId, deviceId));
    this.#byCurve.delete(curveKey(userId, old.curve25519));
  }

  findDevice(userId: UserId, deviceId: DeviceId): PeerDevice | undefined {
    return this.#byId.get(idKey(userId, deviceId));
  }

  findByCurve25519(userId: UserId, curve25519: Curve25519PublicKey): PeerDevice | undefined {
    return this.#byCurve.get(curveKey(userId, curve25519));
  }

  devicesOf(userId: UserId): PeerDevice[] {
    return [...this.#byId.values()].filter((device) => device.userId === userId);
  }

  get size(): number {
    return this.#byId.size;
  }
}

const idKey = (userId: string, deviceId: string): string => JSON.stringify([userId, deviceId]);
const curveKey = (userId: string, curve: string): string => JSON.stringify([userId, curve]);
