import fc from "fast-check";
import {
  type Curve25519PublicKey,
  type DecodePath,
  type DecodeRejectionReason,
  type DeviceId,
  type JsonObject,
  type JsonValue,
  MEGOLM_ALGORITHM,
  NO_OLM_CODE,
  type NoOlmContent,
  type NoOlmNoticeInput,
  parseCurve25519PublicKey,
  parseDeviceId,
  parseRoomId,
  parseSessionId,
  parseUserId,
  type RoomId,
  SENDABLE_SESSION_CODES,
  SESSION_WITHHELD_CODES,
  type SessionId,
  type SessionWithheldContent,
  type SessionWithheldNoticeInput,
  SPEC_WITHHELD_CODES,
  type UnknownCodeContent,
  type UserId,
  WITHHELD_EVENT_TYPE,
  type WithheldContent,
  type WithheldEvent,
} from "../../src/events/index.js";
import { JSON_LIMITS } from "../../src/events/json.js";
import { WITHHELD_WIRE_KEYS } from "../../src/events/withheldContent.js";
import { unwrap } from "./fixtures.js";

/**
 * Generators for m.room_key.withheld in all its forms: typed content, raw wire events,
 * builder inputs, and inputs that must be refused. Shared by every test of the codec.
 */

// ---- identifiers (generated to satisfy the spec's own formats, not just ours) ----

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
const anyCodePoint = fc.nat(0x10ffff).map((codePoint) => String.fromCodePoint(codePoint));

const noSpaceOrControl = (value: string) => !/[:\s\p{Cc}]/u.test(value);

export const userIdArb: fc.Arbitrary<UserId> = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9._=\-/+]{1,16}$/),
      // Historical localparts: clients must still accept these.
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }).filter(noSpaceOrControl),
    ),
    serverNameArb,
  )
  .map(([localpart, server]) => unwrap(parseUserId(`@${localpart}:${server}`)));

const base64Of = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");
const unpaddedBase64Of32Bytes = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(base64Of);

export const roomIdArb: fc.Arbitrary<RoomId> = fc
  .oneof(
    fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,18}$/), serverNameArb)
      .map(([opaque, server]) => `!${opaque}:${server}`),
    // Room version 12: "!" + URL-safe unpadded base64 of the create event's hash.
    unpaddedBase64Of32Bytes.map((hash) => `!${hash.replaceAll("+", "-").replaceAll("/", "_")}`),
  )
  .map((value) => unwrap(parseRoomId(value)));

export const sessionIdArb: fc.Arbitrary<SessionId> = fc
  .oneof(
    { weight: 4, arbitrary: unpaddedBase64Of32Bytes },
    { weight: 1, arbitrary: fc.string({ unit: anyCodePoint, minLength: 1, maxLength: 64 }) },
  )
  .filter((value) => value.length <= 255)
  .map((value) => unwrap(parseSessionId(value)));

export const deviceIdArb: fc.Arbitrary<DeviceId> = fc
  .oneof(
    fc.stringMatching(/^[A-Z]{10}$/),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter((s) => !/\p{Cc}/u.test(s)),
  )
  .filter((value) => value.length <= 255)
  .map((value) => unwrap(parseDeviceId(value)));

export const curve25519KeyArb: fc.Arbitrary<Curve25519PublicKey> = unpaddedBase64Of32Bytes.map(
  (key) => unwrap(parseCurve25519PublicKey(key)),
);

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

// ---- JSON extras: hostile keys, nesting, no -0 (JSON cannot carry it through stringify) ----

const hostileKeyArb = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "",
  "m.relates_to",
  "org.example.flag",
);
const jsonKeyArb = fc.oneof(hostileKeyArb, fc.string({ maxLength: 10 }));

const objectFrom = (entries: readonly (readonly [string, JsonValue])[]): JsonObject =>
  Object.fromEntries(entries);

const { jsonArb } = fc.letrec<{ jsonArb: JsonValue }>((tie) => ({
  jsonArb: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.array(tie("jsonArb"), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(jsonKeyArb, tie("jsonArb")), { selector: ([key]) => key, maxLength: 4 })
      .map(objectFrom),
  ),
}));

export { jsonArb };

const wireKeys: readonly string[] = WITHHELD_WIRE_KEYS;
/** Unknown content keys, never one the codec interprets. */
export const extraArb: fc.Arbitrary<JsonObject> = fc
  .uniqueArray(
    fc.tuple(
      jsonKeyArb.filter((key) => !wireKeys.includes(key)),
      jsonArb,
    ),
    { selector: ([key]) => key, maxLength: 5 },
  )
  .map(objectFrom);

// ---- typed content, as decode produces it ----

const commonArb = fc
  .record({
    senderKey: curve25519KeyArb,
    reason: fc.option(reasonArb, { nil: undefined }),
    fromDevice: fc.option(deviceIdArb, { nil: undefined }),
    extra: extraArb,
  })
  .map(({ senderKey, reason, fromDevice, extra }) => ({
    algorithm: MEGOLM_ALGORITHM,
    senderKey,
    ...(reason === undefined ? {} : { reason }),
    ...(fromDevice === undefined ? {} : { fromDevice }),
    extra,
  }));

export const noOlmContentArb: fc.Arbitrary<NoOlmContent> = commonArb.map((common) => ({
  kind: "noOlm",
  code: NO_OLM_CODE,
  ...common,
}));

export const sessionWithheldContentArb: fc.Arbitrary<SessionWithheldContent> = fc
  .tuple(commonArb, fc.constantFrom(...SESSION_WITHHELD_CODES), roomIdArb, sessionIdArb)
  .map(([common, code, room, session]) => ({
    kind: "session",
    code,
    ...common,
    roomId: room,
    sessionId: session,
  }));

export const unknownCodeContentArb: fc.Arbitrary<UnknownCodeContent> = fc
  .tuple(commonArb, unknownCodeArb, roomIdArb, sessionIdArb)
  .map(([common, code, room, session]) => ({
    kind: "unknownCode",
    code,
    ...common,
    roomId: room,
    sessionId: session,
  }));

export const withheldContentArb: fc.Arbitrary<WithheldContent> = fc.oneof(
  noOlmContentArb,
  sessionWithheldContentArb,
  unknownCodeContentArb,
);

export const withheldEventArb: fc.Arbitrary<WithheldEvent> = fc.record({
  type: fc.constant(WITHHELD_EVENT_TYPE),
  sender: userIdArb,
  content: withheldContentArb,
});

// ---- builder inputs ----

export const noOlmNoticeInputArb: fc.Arbitrary<NoOlmNoticeInput> = fc
  .record({
    senderKey: curve25519KeyArb,
    fromDevice: deviceIdArb,
    reason: fc.option(reasonArb, { nil: undefined }),
  })
  .map(({ reason, ...rest }) => ({ ...rest, ...(reason === undefined ? {} : { reason }) }));

export const sessionWithheldNoticeInputArb: fc.Arbitrary<SessionWithheldNoticeInput> = fc
  .record({
    code: fc.constantFrom(...SENDABLE_SESSION_CODES),
    roomId: roomIdArb,
    sessionId: sessionIdArb,
    senderKey: curve25519KeyArb,
    fromDevice: fc.option(deviceIdArb, { nil: undefined }),
    reason: fc.option(reasonArb, { nil: undefined }),
  })
  .map(({ fromDevice, reason, ...rest }) => ({
    ...rest,
    ...(fromDevice === undefined ? {} : { fromDevice }),
    ...(reason === undefined ? {} : { reason }),
  }));

// ---- raw wire events, generated independently of the encoder ----

export type RawObject = { readonly [key: string]: unknown };

const optionalWireFields = fc.record(
  { reason: reasonArb, from_device: deviceIdArb },
  { requiredKeys: [] },
);

const rawNoOlmContentArb = fc
  .tuple(
    curve25519KeyArb,
    optionalWireFields,
    // Present on some senders' m.no_olm notices; the codec must ignore them whatever they hold.
    fc.record({ room_id: jsonArb, session_id: jsonArb }, { requiredKeys: [] }),
  )
  .map(([senderKey, optional, ignored]) => ({
    ...ignored,
    algorithm: MEGOLM_ALGORITHM,
    sender_key: senderKey,
    code: NO_OLM_CODE,
    ...optional,
  }));

const rawKeyContentArb = fc
  .tuple(
    curve25519KeyArb,
    fc.oneof(fc.constantFrom(...SESSION_WITHHELD_CODES), unknownCodeArb),
    roomIdArb,
    sessionIdArb,
    optionalWireFields,
  )
  .map(([senderKey, code, room, session, optional]) => ({
    algorithm: MEGOLM_ALGORITHM,
    sender_key: senderKey,
    code,
    room_id: room,
    session_id: session,
    ...optional,
  }));

/** Valid wire content of every kind, with unknown extra keys. */
export const rawWithheldContentArb: fc.Arbitrary<RawObject> = fc
  .tuple(fc.oneof(rawNoOlmContentArb, rawKeyContentArb), extraArb)
  .map(([known, extra]) => ({ ...extra, ...known }));

/** Valid events as /sync delivers them, with unrelated top-level keys the decoder ignores. */
export const rawWithheldEventArb: fc.Arbitrary<RawObject> = fc
  .tuple(
    userIdArb,
    rawWithheldContentArb,
    fc.record(
      // Computed, so "__proto__" is an ordinary key here rather than the literal's prototype.
      { unsigned: jsonArb, ["__proto__"]: jsonArb, origin_server_ts: fc.nat() },
      { requiredKeys: [] },
    ),
  )
  .map(([sender, content, topLevel]) => ({
    ...topLevel,
    type: WITHHELD_EVENT_TYPE,
    sender,
    content,
  }));

// ---- near misses: one field wrong on a valid event, with the rejection it must cause ----

export interface NearMiss {
  readonly event: unknown;
  readonly reason: DecodeRejectionReason;
  readonly path: DecodePath;
}

type Mutation = (event: RawObject, content: RawObject) => fc.Arbitrary<NearMiss>;

const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(jsonArb, { maxLength: 2 }),
  fc.constant({}),
);
const withoutKey = (object: RawObject, key: string): RawObject =>
  Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

const nearMiss = (event: RawObject, reason: DecodeRejectionReason, path: DecodePath): NearMiss => ({
  event,
  reason,
  path,
});

const eventWith = (event: RawObject, key: string, value: unknown): RawObject => ({
  ...event,
  [key]: value,
});

const contentWith = (event: RawObject, content: RawObject, key: string, value: unknown) =>
  eventWith(event, "content", { ...content, [key]: value });

const longerThan = (limit: number) =>
  fc.integer({ min: limit + 1, max: limit + 50 }).map((length) => "a".repeat(length));

const topLevelMutations: readonly Mutation[] = [
  () =>
    fc
      .oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(jsonArb, { maxLength: 3 }))
      .map((notAnEvent) => ({ event: notAnEvent, reason: "notAnObject", path: [] })),
  (event) =>
    fc
      .constantFrom("type", "sender", "content")
      .map((key) => nearMiss(withoutKey(event, key), "missingField", [key])),
  (event) =>
    fc
      .oneof(
        fc.constantFrom("m.room_key", "m.room_key.withheld ", "M.ROOM_KEY.WITHHELD"),
        fc.string(),
      )
      .filter((type) => type !== WITHHELD_EVENT_TYPE)
      .map((type) => nearMiss(eventWith(event, "type", type), "wrongEventType", ["type"])),
  (event) =>
    notAString.map((type) => nearMiss(eventWith(event, "type", type), "wrongType", ["type"])),
  (event) =>
    fc
      .constantFrom(
        "alice",
        "@alice",
        "@:example.org",
        "@alice:",
        "@al ice:example.org",
        "",
        "!room:x",
      )
      .map((sender) => nearMiss(eventWith(event, "sender", sender), "invalidUserId", ["sender"])),
  (event) =>
    longerThan(255).map((tail) =>
      nearMiss(eventWith(event, "sender", `@${tail}:example.org`), "tooLong", ["sender"]),
    ),
  (event) =>
    fc
      .oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(jsonArb, { maxLength: 3 }))
      .map((content) => nearMiss(eventWith(event, "content", content), "notAnObject", ["content"])),
];

const contentMutations: readonly Mutation[] = [
  (event, content) =>
    fc
      .constantFrom("algorithm", "sender_key", "code")
      .map((key) =>
        nearMiss(eventWith(event, "content", withoutKey(content, key)), "missingField", [
          "content",
          key,
        ]),
      ),
  (event, content) =>
    fc
      .constantFrom("m.olm.v1.curve25519-aes-sha2", "m.megolm.v2.aes-sha2", "")
      .map((algorithm) =>
        nearMiss(contentWith(event, content, "algorithm", algorithm), "unsupportedAlgorithm", [
          "content",
          "algorithm",
        ]),
      ),
  (event, content) =>
    fc
      .tuple(
        fc.constantFrom("algorithm", "sender_key", "code", "reason", "from_device"),
        notAString,
      )
      .map(([key, value]) =>
        nearMiss(contentWith(event, content, key, value), "wrongType", ["content", key]),
      ),
  (event, content) =>
    fc
      .tuple(curve25519KeyArb, fc.constantFrom("pad", "short", "urlSafe", "nonCanonical"))
      .map(([key, damage]) => damageKey(key, damage))
      .map((key) =>
        nearMiss(contentWith(event, content, "sender_key", key), "invalidSenderKey", [
          "content",
          "sender_key",
        ]),
      ),
  (event, content) =>
    fc
      .constantFrom("", "foo", "has space.x", "m.", ".m", "m..x", "1a.b", "m.no_olm ")
      .map((code) =>
        nearMiss(contentWith(event, content, "code", code), "invalidCode", ["content", "code"]),
      ),
  (event, content) =>
    fc
      .tuple(fc.constantFrom("code", "sender_key", "from_device"), longerThan(255))
      .map(([key, tail]) => [key, key === "code" ? `org.${tail}` : tail] as const)
      .map(([key, value]) =>
        nearMiss(contentWith(event, content, key, value), "tooLong", ["content", key]),
      ),
  (event, content) =>
    // A reason is clipped, not refused, unless it alone exceeds the whole copy's text budget.
    longerThan(JSON_LIMITS.maxTextLength).map((reason) =>
      nearMiss(contentWith(event, content, "reason", reason), "tooLong", ["content", "reason"]),
    ),
  (event, content) =>
    fc
      .constantFrom("", "\u0000", "DEV\nICE")
      .map((device) =>
        nearMiss(contentWith(event, content, "from_device", device), "invalidDeviceId", [
          "content",
          "from_device",
        ]),
      ),
  (event, content) =>
    fc
      .constant(nestedArrays(40))
      .map((deep) =>
        nearMiss(contentWith(event, content, "deep", deep), "tooDeep", [
          "content",
          "deep",
          ...Array<number>(31).fill(0),
        ]),
      ),
];

/** Only for content that names a room key (any code but m.no_olm). */
const keyContentMutations: readonly Mutation[] = [
  (event, content) =>
    fc
      .constantFrom("room_id", "session_id")
      .map((key) =>
        nearMiss(eventWith(event, "content", withoutKey(content, key)), "missingField", [
          "content",
          key,
        ]),
      ),
  (event, content) =>
    fc
      .tuple(fc.constantFrom("room_id", "session_id"), notAString)
      .map(([key, value]) =>
        nearMiss(contentWith(event, content, key, value), "wrongType", ["content", key]),
      ),
  (event, content) =>
    fc
      .constantFrom("", "!", "Cuyf34gef24t:localhost", "! a:b", "!a\u0007b:c", "#alias:example.org")
      .map((room) =>
        nearMiss(contentWith(event, content, "room_id", room), "invalidRoomId", [
          "content",
          "room_id",
        ]),
      ),
  (event, content) =>
    fc.constant(
      nearMiss(contentWith(event, content, "session_id", ""), "invalidSessionId", [
        "content",
        "session_id",
      ]),
    ),
  (event, content) =>
    fc
      .tuple(fc.constantFrom("room_id", "session_id"), longerThan(255))
      .map(([key, tail]) =>
        nearMiss(
          contentWith(event, content, key, key === "room_id" ? `!${tail}` : tail),
          "tooLong",
          ["content", key],
        ),
      ),
];

function damageKey(key: string, damage: "pad" | "short" | "urlSafe" | "nonCanonical"): string {
  switch (damage) {
    case "pad":
      return `${key}=`;
    case "short":
      return key.slice(1);
    case "urlSafe":
      return `-${key.slice(1)}`;
    case "nonCanonical":
      return `${key.slice(0, 42)}B`;
  }
}

/** `depth` arrays nested in one another: [[[…]]]. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level += 1) value = [value];
  return value;
}

const withContent = (event: RawObject): RawObject => {
  const { content } = event;
  return typeof content === "object" && content !== null ? (content as RawObject) : {};
};

const keyEventArb = fc
  .tuple(userIdArb, rawKeyContentArb)
  .map(([sender, content]): RawObject => ({ type: WITHHELD_EVENT_TYPE, sender, content }));

/** Valid events with exactly one defect, paired with the rejection reason and path it must produce. */
export const nearMissEventArb: fc.Arbitrary<NearMiss> = fc.oneof(
  fc
    .tuple(rawWithheldEventArb, fc.constantFrom(...topLevelMutations, ...contentMutations))
    .chain(([event, mutate]) => mutate(event, withContent(event))),
  fc
    .tuple(keyEventArb, fc.constantFrom(...keyContentMutations))
    .chain(([event, mutate]) => mutate(event, withContent(event))),
);

// ---- blind mutations: anything may happen, except a throw ----

/** Values of every JavaScript kind, including ones JSON cannot express. */
export const anyValueArb: fc.Arbitrary<unknown> = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: anyCodePoint,
});

type BlindMutation = "drop" | "replace" | "proto";

const mutateObject = (
  object: RawObject,
  key: string,
  how: BlindMutation,
  value: unknown,
): RawObject => {
  switch (how) {
    case "drop":
      return withoutKey(object, key);
    case "replace":
      return { ...object, [key]: value };
    case "proto":
      return { ...object, ["__proto__"]: value };
  }
};

/** A valid event with one random key dropped, retyped, or a `__proto__` key added, at the top or in content. */
export const mutatedEventArb: fc.Arbitrary<unknown> = fc
  .tuple(
    rawWithheldEventArb,
    fc.boolean(),
    fc.oneof(fc.constantFrom("type", "sender", "content", ...WITHHELD_WIRE_KEYS), jsonKeyArb),
    fc.constantFrom<BlindMutation>("drop", "replace", "proto"),
    fc.oneof(anyValueArb, jsonArb),
  )
  .map(([event, inContent, key, how, value]) =>
    inContent
      ? { ...event, content: mutateObject(withContent(event), key, how, value) }
      : mutateObject(event, key, how, value),
  );
