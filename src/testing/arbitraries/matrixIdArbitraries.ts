import fc from "fast-check";
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
  SPEC_WITHHELD_CODES,
  type UserId,
} from "../../events/index.js";
import { unpaddedBase64 } from "../unpaddedBase64.js";
import { okValue } from "./okValue.js";

/** Matrix identifiers generated to satisfy the spec's own formats, not just the library's. */

const serverNameArb = fc.oneof(
  fc.constantFrom("localhost", "example.org", "matrix.org", "127.0.0.1", "[::1]", "[2001:db8::7]"),
  fc
    .tuple(
      fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/),
      fc.constantFrom(".org", ".com", ".example"),
      fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
    )
    .map(([label, tld, port]) => `${label}${tld}${port === undefined ? "" : `:${port}`}`),
);

// Any code point, lone surrogates included; cheaper to build than fast-check's "binary" unit.

/** Any code point, lone surrogates included; cheaper to build than fast-check's "binary" unit. */
export const anyCodePoint: fc.Arbitrary<string> = fc
  .nat(0x10ffff)
  .map((codePoint) => String.fromCodePoint(codePoint));

const noSpaceOrControl = (value: string) => !/[:\s\p{Cc}]/u.test(value);

/**
 * User ids `@localpart:server`: modern localparts (`[a-z0-9._=\-/+]`, 1–16 chars) and historical
 * ones (any graphemes but `:`, whitespace and controls), on DNS names, IPv4 and IPv6 literals,
 * with or without a port. Every value parses with `parseUserId`.
 */
export const userIdArb: fc.Arbitrary<UserId> = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9._=\-/+]{1,16}$/),
      // Historical localparts: clients must still accept these.
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }).filter(noSpaceOrControl),
    ),
    serverNameArb,
  )
  .map(([localpart, server]) => okValue(parseUserId(`@${localpart}:${server}`)));

const unpaddedBase64Of32Bytes = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(unpaddedBase64);

/**
 * Room ids: `!opaque:server`, and room version 12's `!` + URL-safe unpadded base64 of a
 * 32-byte hash (no server name). Every value parses with `parseRoomId`.
 */
export const roomIdArb: fc.Arbitrary<RoomId> = fc
  .oneof(
    fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,18}$/), serverNameArb)
      .map(([opaque, server]) => `!${opaque}:${server}`),
    // Room version 12: "!" + URL-safe unpadded base64 of the create event's hash.
    unpaddedBase64Of32Bytes.map((hash) => `!${hash.replaceAll("+", "-").replaceAll("/", "_")}`),
  )
  .map((value) => okValue(parseRoomId(value)));

/**
 * Megolm session ids: mostly unpadded base64 of 32 bytes (43 chars), sometimes any code points
 * (lone surrogates included), 1–255 UTF-16 units. Every value parses with `parseSessionId`.
 */
export const sessionIdArb: fc.Arbitrary<SessionId> = fc
  .oneof(
    { weight: 4, arbitrary: unpaddedBase64Of32Bytes },
    { weight: 1, arbitrary: fc.string({ unit: anyCodePoint, minLength: 1, maxLength: 64 }) },
  )
  .filter((value) => value.length <= 255)
  .map((value) => okValue(parseSessionId(value)));

/**
 * Device ids: libolm-style ten capital letters, or any graphemes without control characters,
 * 1–255 UTF-16 units. Every value parses with `parseDeviceId`.
 */
export const deviceIdArb: fc.Arbitrary<DeviceId> = fc
  .oneof(
    fc.stringMatching(/^[A-Z]{10}$/),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter((s) => !/\p{Cc}/u.test(s)),
  )
  .filter((value) => value.length <= 255)
  .map((value) => okValue(parseDeviceId(value)));

/** Curve25519 public keys: unpadded base64 of 32 random bytes (43 chars); not a real key pair. */
export const curve25519KeyArb: fc.Arbitrary<Curve25519PublicKey> = unpaddedBase64Of32Bytes.map(
  (key) => okValue(parseCurve25519PublicKey(key)),
);

/**
 * Values for a notice's `reason`: the empty string, ordinary and non-Latin text, tabs and
 * newlines, up to 60 graphemes, or up to 30 arbitrary code points (lone surrogates included).
 */
export const reasonArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    "Device not verified",
    "🔐 clé retenue — 鍵は共有されません",
    "tab\tnew\nline",
  ),
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: anyCodePoint, maxLength: 30 }),
);

const CUSTOM_CODE_SHAPE = /^[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){1,3}$/;
/** Codes outside the spec table, including future `m.` ones. */
export const unknownCodeArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom("org.example.reason", "m.something_new", "com.acme.policy.denied"),
    fc.stringMatching(CUSTOM_CODE_SHAPE),
  )
  .filter((code) => !Object.hasOwn(SPEC_WITHHELD_CODES, code));
