import { ok, type Result } from "../result.js";
import {
  type DecodePath,
  type DecodeRejection,
  type DecodeRejectionReason,
  describeValue,
  reject,
} from "./decodeRejection.js";

declare const brand: unique symbol;
/** A string that has passed the named rule; only the parsers below create one. */
type Branded<Name extends string> = string & { readonly [brand]: Name };

/** `@localpart:server`, checked to the spec's grammar by `parseUserId`. */
export type UserId = Branded<"UserId">;
/** `!opaque:server` (or a room version 12 hash id), checked by `parseRoomId`. */
export type RoomId = Branded<"RoomId">;
/** A device id: non-empty, bounded, no control characters (`parseDeviceId`). */
export type DeviceId = Branded<"DeviceId">;
/** A Megolm session id as it appears in events (`parseSessionId`). */
export type SessionId = Branded<"SessionId">;
/**
 * An unpadded-base64 Curve25519 key, a device's identity key in Olm (`parseCurve25519PublicKey`).
 */
export type Curve25519PublicKey = Branded<"Curve25519PublicKey">;
/** An unpadded-base64 Ed25519 key, a device's signing key (`parseEd25519PublicKey`). */
export type Ed25519PublicKey = Branded<"Ed25519PublicKey">;

/** Matrix caps user and room IDs at 255; the same cap bounds every identifier we read. */
export const MAX_ID_LENGTH = 255;

interface IdRule {
  readonly invalid: DecodeRejectionReason;
  readonly expected: string;
  readonly accepts: (value: string) => boolean;
}

const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
const CONTROL = /\p{Cc}/u;
// A lone UTF-16 surrogate has no UTF-8 form: the server refuses any request that holds one.
const LONE_SURROGATE = /\p{Cs}/u;
// server_name = hostname [":" port], hostname = "[" IPv6 "]" / IPv4 / DNS name (appendices).
// Checked exactly, because one id the server refuses fails the whole request it travels in.
const SERVER_NAME = String.raw`(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::[0-9]{1,5})?`;
// The localpart ends at the first ':' (historical localparts allow more than today's set).
const USER_ID_SHAPE = new RegExp(String.raw`^@[^:]+:${SERVER_NAME}$`, "u");
// Room versions 1–11: !opaque:server; room version 12: "!" + a 43-character URL-safe hash.
const ROOM_ID_SHAPE = new RegExp(String.raw`^!(?:[^:]+:${SERVER_NAME}|[A-Za-z0-9_-]{43})$`, "u");
// 32 bytes = 43 unpadded characters; the last one carries 2 spare bits that must be zero.
const CURVE25519_KEY_SHAPE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

const rules = {
  userId: {
    invalid: "invalidUserId",
    expected: "a user ID like @localpart:server",
    accepts: (s) =>
      USER_ID_SHAPE.test(s) && !WHITESPACE_OR_CONTROL.test(s) && !LONE_SURROGATE.test(s),
  },
  roomId: {
    invalid: "invalidRoomId",
    expected: "a room ID like !opaque:server (or a room version 12 hash)",
    accepts: (s) =>
      ROOM_ID_SHAPE.test(s) && !WHITESPACE_OR_CONTROL.test(s) && !LONE_SURROGATE.test(s),
  },
  deviceId: {
    invalid: "invalidDeviceId",
    expected: "a non-empty device ID without control characters",
    accepts: (s) => s.length > 0 && !CONTROL.test(s) && !LONE_SURROGATE.test(s),
  },
  // Megolm session IDs are opaque to receivers; only emptiness is meaningless.
  sessionId: {
    invalid: "invalidSessionId",
    expected: "a non-empty session ID",
    accepts: (s) => s.length > 0,
  },
  curve25519PublicKey: {
    invalid: "invalidSenderKey",
    expected: "a Curve25519 key as 43 characters of canonical unpadded base64",
    accepts: (s) => CURVE25519_KEY_SHAPE.test(s),
  },
  // Ed25519 public keys are 32 bytes too, so they share the Curve25519 key's shape.
  ed25519PublicKey: {
    invalid: "invalidSigningKey",
    expected: "an Ed25519 key as 43 characters of canonical unpadded base64",
    accepts: (s) => CURVE25519_KEY_SHAPE.test(s),
  },
} as const satisfies Record<string, IdRule>;

function parseWith<Id extends string>(
  rule: IdRule,
  value: unknown,
  path: DecodePath,
): Result<Id, DecodeRejection> {
  if (typeof value !== "string") {
    return reject("wrongType", path, `Expected ${rule.expected}, got ${describeValue(value)}.`);
  }
  // Length first, so the pattern checks never scan an oversized string.
  if (value.length > MAX_ID_LENGTH) {
    return reject(
      "tooLong",
      path,
      `Expected at most ${MAX_ID_LENGTH} characters, got ${describeValue(value)}.`,
    );
  }
  if (!rule.accepts(value)) {
    return reject(rule.invalid, path, `Expected ${rule.expected}, got ${describeValue(value)}.`);
  }
  return ok(value as Id);
}

/** Reads a user id from anything; a typed rejection (with `path`) instead of a throw. */
export const parseUserId = (
  value: unknown,
  path: DecodePath = [],
): Result<UserId, DecodeRejection> => parseWith(rules.userId, value, path);
/** Reads a room id from anything; a typed rejection instead of a throw. */
export const parseRoomId = (
  value: unknown,
  path: DecodePath = [],
): Result<RoomId, DecodeRejection> => parseWith(rules.roomId, value, path);
/** Reads a device id from anything; a typed rejection instead of a throw. */
export const parseDeviceId = (
  value: unknown,
  path: DecodePath = [],
): Result<DeviceId, DecodeRejection> => parseWith(rules.deviceId, value, path);
/** Reads a Megolm session id from anything; a typed rejection instead of a throw. */
export const parseSessionId = (
  value: unknown,
  path: DecodePath = [],
): Result<SessionId, DecodeRejection> => parseWith(rules.sessionId, value, path);
/**
 * Reads a Curve25519 public key (43 characters of unpadded base64); a typed rejection instead of a
 * throw.
 */
export const parseCurve25519PublicKey = (
  value: unknown,
  path: DecodePath = [],
): Result<Curve25519PublicKey, DecodeRejection> =>
  parseWith(rules.curve25519PublicKey, value, path);

/**
 * Reads an Ed25519 public key (43 characters of unpadded base64); a typed rejection instead of a
 * throw.
 */
export const parseEd25519PublicKey = (
  value: unknown,
  path: DecodePath = [],
): Result<Ed25519PublicKey, DecodeRejection> => parseWith(rules.ed25519PublicKey, value, path);

/** Whether `parseUserId` accepts `value`: a type guard for code that only needs yes or no. */
export const isUserId = (value: unknown): value is UserId => parseUserId(value).ok;
/** Whether `parseRoomId` accepts `value`. */
export const isRoomId = (value: unknown): value is RoomId => parseRoomId(value).ok;
/** Whether `parseDeviceId` accepts `value`. */
export const isDeviceId = (value: unknown): value is DeviceId => parseDeviceId(value).ok;
/** Whether `parseSessionId` accepts `value`. */
export const isSessionId = (value: unknown): value is SessionId => parseSessionId(value).ok;
/** Whether `parseCurve25519PublicKey` accepts `value`. */
export const isCurve25519PublicKey = (value: unknown): value is Curve25519PublicKey =>
  parseCurve25519PublicKey(value).ok;
/** Whether `parseEd25519PublicKey` accepts `value`. */
export const isEd25519PublicKey = (value: unknown): value is Ed25519PublicKey =>
  parseEd25519PublicKey(value).ok;
