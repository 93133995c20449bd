import { describeThrown } from "../edges/describeThrown.js";
import type { DecodePath } from "../events/decodeRejection.js";
import {
  parseCurve25519PublicKey,
  parseDeviceId,
  parseEd25519PublicKey,
  parseUserId,
} from "../events/matrixIds.js";
import { ok, type Result } from "../result.js";
import type { PeerDevice } from "./peerDevice.js";

const NO_PATH: DecodePath = Object.freeze([]);

/** Why a value given as a device (by the client, or by its device list) was refused. */
export interface InvalidArgument {
  readonly reason: "invalidArgument";
  /** Where in the argument, e.g. `["devices", 3, "curve25519"]`. */
  readonly path: DecodePath;
  readonly detail: string;
}

export const invalidArgument = (
  path: DecodePath,
  detail: string,
): Result<never, InvalidArgument> => ({
  ok: false,
  reason: "invalidArgument",
  path,
  detail,
});

/**
 * Reads a device from untrusted input (an argument from untyped JS, or the device list's answer)
 * into a fresh frozen object of exactly the four fields, so nothing the caller holds (a getter,
 * a Proxy, a later mutation) can change it afterwards.
 */
export function readPeerDevice(
  input: unknown,
  path: DecodePath = [],
): Result<PeerDevice, InvalidArgument> {
  try {
    if (typeof input !== "object" || input === null) {
      return invalidArgument(path, "a device must be an object");
    }
    // Parsed without a path, which is only built for a refusal: a share of 100,000 devices
    // allocates none.
    const userId = parseUserId(Reflect.get(input, "userId"), NO_PATH);
    if (!userId.ok) return invalidArgument([...path, "userId"], userId.detail);
    const deviceId = parseDeviceId(Reflect.get(input, "deviceId"), NO_PATH);
    if (!deviceId.ok) return invalidArgument([...path, "deviceId"], deviceId.detail);
    const curve25519 = parseCurve25519PublicKey(Reflect.get(input, "curve25519"), NO_PATH);
    if (!curve25519.ok) return invalidArgument([...path, "curve25519"], curve25519.detail);
    const ed25519 = parseEd25519PublicKey(Reflect.get(input, "ed25519"), NO_PATH);
    if (!ed25519.ok) return invalidArgument([...path, "ed25519"], ed25519.detail);
    return ok(
      Object.freeze({
        userId: userId.value,
        deviceId: deviceId.value,
        curve25519: curve25519.value,
        ed25519: ed25519.value,
      }),
    );
  } catch (thrown) {
    return invalidArgument(path, `reading the device threw ${describeThrown(thrown, 80)}`);
  }
}

/**
 * Reads a list argument: an array of at most `max` entries (an iterable Proxy or a sparse giant
 * is refused before it is walked).
 */
export function readList(
  input: unknown,
  path: DecodePath,
  max: number,
): Result<readonly unknown[], InvalidArgument> {
  try {
    if (!Array.isArray(input)) return invalidArgument(path, "expected an array");
    const length: unknown = input.length;
    if (typeof length !== "number" || length > max) {
      return invalidArgument(path, `at most ${max} entries are accepted in one call`);
    }
    return ok(Array.from({ length }, (_, index) => input[index] as unknown));
  } catch (thrown) {
    return invalidArgument(path, `reading the list threw ${describeThrown(thrown, 80)}`);
  }
}
