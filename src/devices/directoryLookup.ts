import { describeThrown } from "../edges/describeThrown.js";
import type { Curve25519PublicKey, UserId } from "../events/matrixIds.js";
import type { DeviceDirectory, PeerDevice } from "./peerDevice.js";
import { readPeerDevice } from "./readPeerDevice.js";

/** Who owns a key, by the client's device list, read as untrusted input. */
export type KeyOwner =
  | { readonly kind: "found"; readonly device: PeerDevice }
  /** The list has a device list for this user, and no device of theirs has the key. */
  | { readonly kind: "notOwned" }
  /** The client has not loaded this user's device list: refresh it, then feed the event again. */
  | { readonly kind: "unknownUser" }
  /** The device list threw or answered with something that is not a device of that user and key. */
  | { readonly kind: "failed"; readonly detail: string };

export function findKeyOwner(
  devices: DeviceDirectory,
  userId: UserId,
  curve25519: Curve25519PublicKey,
): KeyOwner {
  let answer: unknown;
  try {
    answer = devices.findByCurve25519(userId, curve25519);
  } catch (thrown) {
    return { kind: "failed", detail: `the device list threw ${describeThrown(thrown, 80)}` };
  }
  if (answer === undefined)
    return knowsUser(devices, userId) ? { kind: "notOwned" } : { kind: "unknownUser" };
  const device = readPeerDevice(answer);
  if (!device.ok) return { kind: "failed", detail: `the device list answered: ${device.detail}` };
  if (device.value.userId !== userId || device.value.curve25519 !== curve25519) {
    return {
      kind: "failed",
      detail: "the device list answered with another user's or key's device",
    };
  }
  return { kind: "found", device: device.value };
}

function knowsUser(devices: DeviceDirectory, userId: UserId): boolean {
  try {
    return devices.knowsUser(userId) === true;
  } catch {
    // When in doubt, say the key is not owned: a refresh is the cheaper mistake than a forgery.
    return true;
  }
}
