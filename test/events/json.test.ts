import { describe, expect, it } from "vitest";
import { copyJson, JSON_LIMITS, type JsonValue } from "../../src/events/json.js";
import { nestedArrays } from "../../src/testing/arbitraries/jsonArbitraries.js";
import { countingArray, countingObject, countingProxy, totalWork } from "./countingProxies.js";
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

  it(`strings and keys share a text budget of ${JSON_LIMITS.maxTextLength} code units`, () => {
    const half = JSON_LIMITS.maxTextLength / 2;
    // (half - 3) + half + "a" + "bc" is exactly the budget.
    const full = { ["k".repeat(half - 3)]: "v".repeat(half), a: "bc" };
    expect(unwrap(copyJson(full))).toEqual(full);
    expect(rejection({ ...full, a: "bcd" })).toEqual({ reason: "tooLong", path: ["root", "a"] });
    expect(rejection({ ...full, ab: "c" })).toEqual({ reason: "tooLong", path: ["root"] });
  });

  it("a 100-million-character string is refused by its length, with a short detail", () => {
    const huge = "x".repeat(100_000_000);
    const result = copyJson({ content: { huge } }, ["root"]);
    expect(result.ok ? "accepted" : { reason: result.reason, path: result.path }).toEqual({
      reason: "tooLong",
      path: ["root", "content", "huge"],
    });
    expect(result.ok ? Number.POSITIVE_INFINITY : result.detail.length).toBeLessThan(200);
  });
});

// Worst case, per copyJson call: at most maxNodes values admitted, each O(maxDepth) plus O(1)
// property reads; arrays are refused by `length` before any key is listed; an object's keys are
// listed once, natively, and counted before any value is read; strings are judged by `length`.
// These tests count the reads (through Proxies) instead of timing them.
describe("limits apply before the work they limit", () => {
  const budget = JSON_LIMITS.maxNodes;

  it("a real 10,000,000-element array is refused without listing or reading its elements", () => {
    const elements = new Array<number>(10_000_000).fill(0);
    const { proxy: array, work } = countingProxy(elements);
    expect(rejection({ content: { big: array } })).toEqual({
      reason: "tooLong",
      path: ["root", "content", "big"],
    });
    // One read: the own "length" descriptor.
    expect(work).toEqual({ listed: 0, described: 1, read: 0 });
  });

  it("a 10^9-element array costs the same one read", () => {
    const { array, work } = countingArray(1_000_000_000);
    expect(rejection([array])).toEqual({ reason: "tooLong", path: ["root", 0] });
    expect(totalWork(work)).toBe(1);
  });

  it("an array that fits is read once per element, plus its length and one listing", () => {
    const { array, work } = countingArray(budget - 1);
    expect(copyJson(array).ok).toBe(true);
    expect(work).toEqual({ listed: budget, described: budget, read: 0 });
  });

  it("a 100,000-key object is listed once and refused before any value is read", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}`);
    const { object, work } = countingObject(keys);
    expect(rejection({ content: object })).toEqual({
      reason: "tooLong",
      path: ["root", "content"],
    });
    expect(work).toEqual({ listed: keys.length, described: 0, read: 0 });
  });

  it("many containers together still read at most maxNodes values", () => {
    // 100 arrays of 200 elements: 20,100 values, twice the budget.
    const parts = Array.from({ length: 100 }, () => countingArray(200));
    const result = copyJson(parts.map(({ array }) => array));
    expect(result.ok ? "accepted" : result.reason).toBe("tooLong");
    const described = parts.reduce((sum, { work }) => sum + work.described, 0);
    expect(described).toBeLessThanOrEqual(budget + parts.length);
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
