import fc from "fast-check";
import {
  type DecodePath,
  type DecodeRejectionReason,
  WITHHELD_EVENT_TYPE,
} from "../../events/index.js";
import { JSON_LIMITS } from "../../events/json.js";
import { WITHHELD_WIRE_KEYS } from "../../events/withheldContent.js";
import { anyValueArb, jsonArb, jsonKeyArb, nestedArrays } from "./jsonArbitraries.js";
import { curve25519KeyArb, userIdArb } from "./matrixIdArbitraries.js";
import { type RawObject, rawKeyContentArb, rawWithheldEventArb } from "./withheldArbitraries.js";

/**
 * Withheld events that must be refused: valid events with exactly one defect (paired with
 * the rejection they must cause), and blind mutations that must only never throw.
 */

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
