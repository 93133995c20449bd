/**
 * Independent checks for the `mx-*` string formats the spec's schemas name
 * (matrix-spec data/custom-formats.yaml, defined in the spec's appendices).
 * Deliberately not the library's parsers: an oracle must not share the code it judges.
 */

const UTF8 = new TextEncoder();
const utf8Length = (value: string): number => UTF8.encode(value).length;
// Identifiers must be valid UTF-8, which a lone UTF-16 surrogate cannot encode.
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_ID_BYTES = 255;

// server_name = hostname [":" port]; hostname = IPv4 / "[" IPv6 "]" / dns-name
const PORT = "(?::[0-9]{1,5})?";
const IPV6 = "\\[[0-9A-Fa-f:.]{2,45}\\]";
const DNS_NAME_OR_IPV4 = "[0-9A-Za-z.-]{1,255}";
const SERVER_NAME = `(?:${IPV6}|${DNS_NAME_OR_IPV4})${PORT}`;
// Historical localparts: any code point but ':' and NUL, possibly empty (clients MUST accept them).
const HISTORICAL_LOCALPART = "[^:\\u0000]*";
const SHA256_URL_SAFE_BASE64 = "[A-Za-z0-9_-]{43}";
const SHA256_STANDARD_BASE64 = "[A-Za-z0-9+/]{43}";

const SERVER_NAME_SHAPE = new RegExp(`^${SERVER_NAME}$`, "u");
const USER_ID_SHAPE = new RegExp(`^@${HISTORICAL_LOCALPART}:${SERVER_NAME}$`, "u");
// Room versions 1–11: !opaque_id:domain; room version 12: "!" + the create event's reference hash.
const ROOM_ID_SHAPE = new RegExp(
  `^!(?:${HISTORICAL_LOCALPART}:${SERVER_NAME}|${SHA256_URL_SAFE_BASE64})$`,
  "u",
);
// Room versions 1–2: $opaque:domain; v3: standard base64 hash; v4+: URL-safe base64 hash.
const EVENT_ID_SHAPE = new RegExp(
  `^\\$(?:${HISTORICAL_LOCALPART}:${SERVER_NAME}|${SHA256_STANDARD_BASE64}|${SHA256_URL_SAFE_BASE64})$`,
  "u",
);
const UNPADDED_BASE64_SHAPE = /^[A-Za-z0-9+/]*$/;

const isIdentifier = (shape: RegExp) => (value: string) =>
  utf8Length(value) <= MAX_ID_BYTES && !LONE_SURROGATE.test(value) && shape.test(value);

export const MATRIX_FORMATS = {
  "mx-user-id": isIdentifier(USER_ID_SHAPE),
  "mx-room-id": isIdentifier(ROOM_ID_SHAPE),
  "mx-event-id": isIdentifier(EVENT_ID_SHAPE),
  "mx-server-name": (value: string) => SERVER_NAME_SHAPE.test(value),
  // A length of 4n+1 characters cannot come from any byte string.
  "mx-unpadded-base64": (value: string) =>
    UNPADDED_BASE64_SHAPE.test(value) && value.length % 4 !== 1,
} as const satisfies Record<string, (value: string) => boolean>;

export type MatrixFormat = keyof typeof MATRIX_FORMATS;
