import type {
  Curve25519PublicKey,
  DeviceId,
  Ed25519PublicKey,
  UserId,
} from "../events/matrixIds.js";

/**
 * A device as the client knows it from /keys/query (signatures already checked by the client).
 * The curve25519 key is part of its identity here: a device re-created with new keys under the
 * same id is a different peer.
 */
export interface PeerDevice {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  readonly curve25519: Curve25519PublicKey;
  readonly ed25519: Ed25519PublicKey;
}

/**
 * The client's device list, which decides who owns which key. Its answers are checked like any
 * input: a throw, or an answer that is not a device of the asked user and key, owns nothing.
 */
export interface DeviceDirectory {
  findDevice(userId: UserId, deviceId: DeviceId): PeerDevice | undefined;
  /** The device of `userId` whose identity key is `curve25519`, if that user has one. */
  findByCurve25519(userId: UserId, curve25519: Curve25519PublicKey): PeerDevice | undefined;
  /**
   * Whether the client has this user's device list at all. A notice from a user it does not is
   * refused as `unknownSender` (refresh the list, then feed the event again), not as a forgery.
   */
  knowsUser(userId: UserId): boolean;
}

declare const peerKeyBrand: unique symbol;
/** Identifies one peer machine: user id + device id + curve25519 key. */
export type PeerKey = string & { readonly [peerKeyBrand]: true };

export const peerKeyOf = (
  device: Pick<PeerDevice, "userId" | "deviceId" | "curve25519">,
): PeerKey => JSON.stringify([device.userId, device.deviceId, device.curve25519]) as PeerKey;
