import {
  type Curve25519PublicKey,
  type DeviceId,
  parseCurve25519PublicKey,
  parseDeviceId,
  parseRoomId,
  parseSessionId,
  parseUserId,
  type RoomId,
  type SessionId,
  type UserId,
} from "../../src/events/index.js";
import type { Result } from "../../src/result.js";
import { loadSpecExample } from "../spec/specSchemas.js";

/** Test-only: the value of a result that must be ok, or a failure naming why it was not. */
export function unwrap<T, E>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  throw new Error(`Expected ok, got ${JSON.stringify(result)}`);
}

export const userId = (value: string): UserId => unwrap(parseUserId(value));
export const roomId = (value: string): RoomId => unwrap(parseRoomId(value));
export const deviceId = (value: string): DeviceId => unwrap(parseDeviceId(value));
export const sessionId = (value: string): SessionId => unwrap(parseSessionId(value));
export const curve25519Key = (value: string): Curve25519PublicKey =>
  unwrap(parseCurve25519PublicKey(value));

export const ALICE = userId("@alice:example.org");
export const ALICE_DEVICE = deviceId("JLAFKJWSCS");
export const ALICE_KEY = curve25519Key("3C5BFWi2Y8MaVvjM8M22DBmh24PmgR0nPvJOIArzgyI");
export const ROOM = roomId("!Cuyf34gef24t:localhost");
export const SESSION = sessionId("X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ");

/**
 * The spec's example event with a `sender`, as /sync delivers it: the spec's example
 * leaves out the fields every to-device event carries.
 */
export function specExampleAsReceived(): { readonly [key: string]: unknown } {
  return { ...loadSpecExample("m.room_key.withheld.yaml"), sender: ALICE };
}

/** The spec example's content object, read from spec/ rather than copied here. */
export function specExampleContent(): { readonly [key: string]: unknown } {
  const { content } = loadSpecExample("m.room_key.withheld.yaml");
  if (typeof content !== "object" || content === null) throw new Error("example has no content");
  return { ...content };
}
