import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/events/json.js";
import { canonicalJson, signingPayload } from "../../src/olm/index.js";
import { unwrap } from "../events/fixtures.js";

const canonical = (value: unknown): string => unwrap(canonicalJson(value as JsonValue));

describe("canonicalJson: the Matrix appendix examples", () => {
  const examples: readonly (readonly [string, string])[] = [
    ["{}", "{}"],
    ['{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'],
    ['{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{"auth": {"success": true, "mxid": "@john.doe:example.com", "profile": {"display_name": "John Doe",
        "three_pids": [{"medium": "email", "address": "john.doe@example.org"},
                       {"medium": "msisdn", "address": "123456789"}]}}}`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{"a": "日本語"}', '{"a":"日本語"}'],
    ['{"本": 2, "日": 1}', '{"日":1,"本":2}'],
    ['{"a": "\\u65E5"}', '{"a":"日"}'],
    ['{"a": null}', '{"a":null}'],
  ];

  it.each(examples)("%s", (input, expected) => {
    expect(canonical(JSON.parse(input))).toBe(expected);
  });
});

describe("canonicalJson: details of the encoding", () => {
  it("escapes control characters as the spec's grammar does and nothing else", () => {
    expect(canonical({ s: '\u0000\u0008\t\n\u000b\f\r\u001f"\\/\u007f€' })).toBe(
      '{"s":"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\u007f€"}',
    );
  });

  it("sorts keys by code point, so an astral character sorts after U+FFFD", () => {
    // UTF-16 order would put "😀" (D83D DE00) first.
    expect(canonical({ "😀": 2, "\uFFFD": 1, a: 0 })).toBe('{"a":0,"\uFFFD":1,"😀":2}');
  });

  it("writes -0 as 0 and accepts the largest safe integers", () => {
    expect(canonical([-0, 2 ** 53 - 1, -(2 ** 53 - 1)])).toBe(
      "[0,9007199254740991,-9007199254740991]",
    );
  });

  it.each([
    ["a fraction", { a: 1.5 }],
    ["an unsafe integer", { a: 2 ** 53 }],
    ["NaN", [Number.NaN]],
    ["Infinity", { a: { b: Number.POSITIVE_INFINITY } }],
    ["undefined", { a: undefined }],
    ["a function", [() => 1]],
    ["a Date", { a: new Date(0) }],
    ["a lone surrogate in a value", { a: "x\uD800" }],
    ["a lone surrogate in a key", { "\uDC00": 1 }],
  ])("refuses %s with a typed failure", (_name, value) => {
    const result = canonicalJson(value as unknown as JsonValue);
    expect(result).toMatchObject({ ok: false, reason: "malformedInput" });
  });

  it("refuses nesting beyond its bound instead of overflowing the stack", () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(canonicalJson(deep as JsonValue)).toMatchObject({ ok: false, reason: "malformedInput" });
  });

  it("signingPayload drops signatures and unsigned, and nothing else", () => {
    const object = { b: 1, signatures: { x: {} }, unsigned: { age: 1 }, a: { signatures: 1 } };
    expect(unwrap(signingPayload(object))).toBe('{"a":{"signatures":1},"b":1}');
  });
});

// Any JSON canonical JSON accepts: integers in the safe range, strings over all of Unicode.
const text = fc.string({ unit: "binary" });
const canonicalValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    text,
    fc.array(tie("value")),
    fc.dictionary(text, tie("value")),
  ),
})).value;

/** The same JSON with every object's keys in reverse insertion order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).reverse();
  return Object.fromEntries(entries.map(([key, item]) => [key, reversedKeys(item)]));
}

describe("canonicalJson properties", () => {
  test.prop([canonicalValue])("parses back to the same value", (value) => {
    expect(JSON.parse(canonical(value))).toEqual(value);
  });

  test.prop([canonicalValue])(
    "does not depend on key order and has no whitespace outside strings",
    (value) => {
      const text = canonical(value);
      expect(canonical(reversedKeys(value))).toBe(text);
      expect(canonical(JSON.parse(text))).toBe(text);
      expect(text.replace(/"(?:[^"\\]|\\.)*"/g, "")).not.toMatch(/\s/);
    },
  );
});
