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
  /** The device with this user and device id, if the client's list has it. */
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

/**
 * The key one peer's machine is stored under: a device that changed its identity key is a new peer.
 */
export const peerKeyOf = (
  device: Pick<PeerDevice, "userId" | "deviceId" | "curve25519">,
): PeerKey => {
  const { userId, deviceId, curve25519 } = device;
  // The JSON text of [userId, deviceId, curve25519], which is also what the store keeps. For
  // printable ASCII without quote or backslash (every id we meet in practice) JSON.stringify
  // copies the characters as they are, so the text is built directly: it is the hot path of a
  // share, and JSON.stringify is several times slower for three short strings. With `join`, as
  // one flat string: a template literal makes a rope, which V8 flattens into a second string the
  // first time the key is hashed.
  if (PLAIN.test(userId) && PLAIN.test(deviceId) && PLAIN.test(curve25519)) {
    return ['["', userId, '","', deviceId, '","', curve25519, '"]'].join("") as PeerKey;
  }
  return JSON.stringify([userId, deviceId, curve25519]) as PeerKey;
};

/**
 * `peerKeyOf(device)` as a string to keep: exactly its length. A joined string can carry tens of
 * bytes of spare capacity (V8 sizes the buffer before it knows the length; the bench measures
 * about 200 B for a 90-character key), a parsed string literal has none (about 110 B). For plain
 * ids the literal is joined already quoted, a third of the cost of stringifying the key again.
 */
export const keptPeerKeyOf = (
  device: Pick<PeerDevice, "userId" | "deviceId" | "curve25519">,
): PeerKey => {
  const { userId, deviceId, curve25519 } = device;
  if (PLAIN.test(userId) && PLAIN.test(deviceId) && PLAIN.test(curve25519)) {
    const literal = ['"[\\"', userId, '\\",\\"', deviceId, '\\",\\"', curve25519, '\\"]"'];
    return JSON.parse(literal.join("")) as PeerKey;
  }
  return JSON.parse(JSON.stringify(peerKeyOf(device))) as PeerKey;
};

/** Characters JSON.stringify writes unchanged: printable ASCII but `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
