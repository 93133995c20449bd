import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type Curve25519PublicKey,
  type DecodePath,
  type DecodeRejection,
  isCurve25519PublicKey,
  parseCurve25519PublicKey,
  parseDeviceId,
  parseRoomId,
  parseSessionId,
  parseUserId,
  type RoomId,
  type UserId,
} from "../../src/events/index.js";
import type { Result } from "../../src/result.js";

type Parser = (value: unknown, path?: DecodePath) => Result<unknown, DecodeRejection>;

const outcome = (parse: Parser, value: unknown) => {
  const result = parse(value, ["field"]);
  return result.ok ? "ok" : { reason: result.reason, path: result.path };
};

const rejects = (reason: string) => ({ reason, path: ["field"] });

describe.each([
  {
    name: "parseUserId",
    parse: parseUserId,
    invalid: "invalidUserId",
    valid: ["@alice:example.org", "@a:b", "@bob:[::1]:8448", "@Ünïcødé:example.org"],
    wrong: [
      "alice:example.org",
      "@alice",
      "@:example.org",
      "@alice:",
      "@al ice:x",
      "@a\u0007:x",
      "",
      "@a:b\n",
      // Server parts and code points the server refuses (one would fail a whole request).
      "@alice:example.org@alice:example.org",
      "@alice:exa mple.org",
      "@m\udc00allory:evil.example",
      "@alice:example.org:port",
    ],
    ofLength: (length: number) => `@${"a".repeat(length - 5)}:b.c`,
  },
  {
    name: "parseRoomId",
    parse: parseRoomId,
    invalid: "invalidRoomId",
    valid: [
      "!Cuyf34gef24t:localhost",
      "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",
      "!x:[::1]:8448",
    ],
    // "!x" and "!notaroom" have neither a server part nor a room v12 hash: the server refuses them.
    wrong: [
      "",
      "!",
      "!x",
      "!notaroom",
      "!a:b c",
      "Cuyf34gef24t:localhost",
      "! a:b",
      "!a\tb",
      "#alias:example.org",
    ],
    ofLength: (length: number) => `!${"a".repeat(length - 5)}:x.y`,
  },
  {
    name: "parseDeviceId",
    parse: parseDeviceId,
    invalid: "invalidDeviceId",
    valid: ["JLAFKJWSCS", "my phone", "📱"],
    wrong: ["", "DEV\u0000", "a\nb"],
    ofLength: (length: number) => "D".repeat(length),
  },
  {
    name: "parseSessionId",
    parse: parseSessionId,
    invalid: "invalidSessionId",
    valid: ["X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ", "s"],
    wrong: [""],
    ofLength: (length: number) => "s".repeat(length),
  },
])("$name", ({ parse, invalid, valid, wrong, ofLength }) => {
  it.each(valid)("accepts %j", (value) => expect(outcome(parse, value)).toBe("ok"));
  it.each(wrong)(`refuses %j as ${invalid}`, (value) =>
    expect(outcome(parse, value)).toEqual(rejects(invalid)),
  );
  it("refuses a non-string as wrongType", () => {
    for (const value of [1, null, true, [], {}, undefined]) {
      expect(outcome(parse, value)).toEqual(rejects("wrongType"));
    }
  });
  it("255 characters are accepted, 256 are tooLong", () => {
    expect(outcome(parse, ofLength(255))).toBe("ok");
    expect(outcome(parse, ofLength(256))).toEqual(rejects("tooLong"));
    expect(outcome(parse, ofLength(10_000_000))).toEqual(rejects("tooLong"));
  });
});

describe("parseCurve25519PublicKey", () => {
  const example = "RF3s+E7RkTQTGF2d8Deol0FkQvgII2aJDf3/Jp5mxVU";
  const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  it("accepts exactly the final characters whose 2 spare bits are zero", () => {
    const accepted = [...base64Alphabet].filter((last) =>
      isCurve25519PublicKey(example.slice(0, 42) + last),
    );
    expect(accepted.join("")).toBe("AEIMQUYcgkosw048");
  });

  it.each([
    ["padded", `${example}=`],
    ["URL-safe alphabet", "RF3s-E7RkTQTGF2d8Deol0FkQvgII2aJDf3_Jp5mxVU"],
    ["42 characters", example.slice(1)],
    ["non-canonical last character", `${example.slice(0, 42)}V`],
    ["embedded space", `${example.slice(0, 20)} ${example.slice(21)}`],
  ])("refuses %s as invalidSenderKey", (_, value) => {
    expect(outcome(parseCurve25519PublicKey, value)).toEqual(rejects("invalidSenderKey"));
  });

  it("an oversized string is tooLong", () => {
    expect(outcome(parseCurve25519PublicKey, "A".repeat(256))).toEqual(rejects("tooLong"));
  });
});

describe("types", () => {
  it("brands are strings but plain strings are not brands", () => {
    expectTypeOf<UserId>().toExtend<string>();
    expectTypeOf<string>().not.toExtend<UserId>();
    expectTypeOf<RoomId>().not.toExtend<UserId>();
    expectTypeOf<Curve25519PublicKey>().not.toExtend<RoomId>();
  });
});
