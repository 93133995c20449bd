import { describe, expect, it } from "vitest";
import { copyJson, JSON_LIMITS, type JsonValue } from "../../src/events/json.js";
import { nestedArrays } from "./arbitraries.js";
import { unwrap } from "./fixtures.js";

const rejection = (value: unknown) => {
  const result = copyJson(value, ["root"]);
  return result.ok ? "accepted" : { reason: result.reason, path: result.path };
};

describe("copyJson accepts JSON", () => {
  it("objects come back with a null prototype and keep key order", () => {
    const copy = unwrap(copyJson({ b: 1, a: { c: [1, 2] }, 0: "zero" }));
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(Object.keys(copy as object)).toEqual(["0", "b", "a"]);
  });

  it("-0 becomes 0, as JSON.stringify would write it", () => {
    expect(Object.is(unwrap(copyJson(-0)), 0)).toBe(true);
  });

  it("a shared (acyclic) sub-object is copied at each place it appears", () => {
    const shared = { x: 1 };
    expect(unwrap(copyJson({ a: shared, b: [shared, shared] }))).toEqual({
      a: { x: 1 },
      b: [{ x: 1 }, { x: 1 }],
    });
  });
});

describe("hostile keys stay data", () => {
  it("__proto__, constructor and prototype are own data properties of the copy", () => {
    const input = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": 1}}}',
    );
    const copy = unwrap(copyJson(input)) as { readonly [key: string]: JsonValue };
    expect(Object.keys(copy)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("copyJson refuses what JSON cannot express", () => {
  class Point {
    x = 1;
  }
  const sparse: unknown[] = [];
  sparse[2] = 1;
  const withExtra = Object.assign([1], { extra: true });
  const cycle: { self?: unknown } = {};
  cycle.self = cycle;
  const withGetter = Object.defineProperty({}, "x", { get: () => 1, enumerable: true });
  const hidden = Object.defineProperty({}, "x", { value: 1, enumerable: false });

  it.each([
    ["undefined", undefined, ["root"]],
    ["a function", () => 1, ["root"]],
    ["a symbol", Symbol("s"), ["root"]],
    ["a bigint", 1n, ["root"]],
    ["NaN", Number.NaN, ["root"]],
    ["Infinity", Number.POSITIVE_INFINITY, ["root"]],
    ["-Infinity", Number.NEGATIVE_INFINITY, ["root"]],
    ["a Date", new Date(0), ["root"]],
    ["a Map", new Map(), ["root"]],
    ["a class instance", new Point(), ["root"]],
    ["a boxed string", Object("s"), ["root"]],
    ["a nested undefined", { a: [1, undefined] }, ["root", "a", 1]],
    ["a cycle", cycle, ["root", "self"]],
    ["a sparse array", sparse, ["root"]],
    ["an array with extra properties", withExtra, ["root"]],
    ["a getter", withGetter, ["root", "x"]],
    ["a non-enumerable property", hidden, ["root", "x"]],
    ["a symbol key", { [Symbol("k")]: 1 }, ["root"]],
  ])("%s", (_, value, path) => {
    expect(rejection(value)).toEqual({ reason: "notJson", path });
  });

  it("a getter is never run", () => {
    let ran = false;
    const trap = Object.defineProperty({}, "x", {
      enumerable: true,
      get: () => {
        ran = true;
        return 1;
      },
    });
    copyJson(trap);
    expect(ran).toBe(false);
  });
});

describe("limits", () => {
  it(`nesting of ${JSON_LIMITS.maxDepth} is accepted, one more is tooDeep`, () => {
    expect(copyJson(nestedArrays(JSON_LIMITS.maxDepth)).ok).toBe(true);
    expect(rejection(nestedArrays(JSON_LIMITS.maxDepth + 1))).toEqual({
      reason: "tooDeep",
      path: ["root", ...Array<number>(JSON_LIMITS.maxDepth).fill(0)],
    });
  });

  it("100,000-deep nesting is refused without overflowing the stack", () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i += 1) deep = { a: deep };
    const result = copyJson(deep);
    expect(result.ok ? "accepted" : result.reason).toBe("tooDeep");
  });

  it(`${JSON_LIMITS.maxNodes} values are accepted, one more is tooLong`, () => {
    // The array itself is one value.
    expect(copyJson(new Array(JSON_LIMITS.maxNodes - 1).fill(0)).ok).toBe(true);
    expect(rejection(new Array(JSON_LIMITS.maxNodes).fill(0))).toEqual({
      reason: "tooLong",
      path: ["root"],
    });
    const wide = Object.fromEntries(
      Array.from({ length: JSON_LIMITS.maxNodes }, (_, i) => [`k${i}`, i]),
    );
    expect(rejection(wide)).toEqual({ reason: "tooLong", path: ["root"] });
  });

  it("huge strings are copied, not rejected: limits on text belong to the fields", () => {
    const huge = "x".repeat(5_000_000);
    expect(unwrap(copyJson({ huge }))).toEqual({ huge });
  });
});

describe("never throws", () => {
  it("a Proxy whose traps throw is unreadable, with the path of the failing container", () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("boom");
        },
      },
    );
    expect(rejection({ inner: hostile })).toEqual({
      reason: "unreadable",
      path: ["root", "inner"],
    });
  });

  it("a revoked Proxy is unreadable", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(rejection(proxy)).toEqual({ reason: "unreadable", path: ["root"] });
  });
});
