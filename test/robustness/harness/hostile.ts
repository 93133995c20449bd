import fc from "fast-check";

/*
 * Hostile inputs as printable *recipes*: fast-check generates plain data (so a counterexample
 * prints and replays), and `build` turns a recipe into the actual value — revoked Proxies,
 * throwing getters, cycles, megabyte strings, 10k-deep nesting — at call time.
 */

export const HOSTILE_KINDS = [
  "revokedProxy",
  "throwingProxy",
  "throwingGetters",
  "flippingType",
  "cycle",
  "arrayCycle",
  "bigint",
  "symbol",
  "function",
  "sparseArray",
  "lengthLie",
  "megaString",
  "megaEmoji",
  "loneSurrogates",
  "nul",
  "emoji",
  "deepArray",
  "deepObject",
  "protoKeys",
  "nullProto",
  "throwingToJSON",
  "throwingThenable",
  "hugeNumber",
  "nan",
  "negZero",
  "boxedString",
  "frozenProxyOwnKeysThrow",
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export type Leaf =
  | { readonly k: "json"; readonly v: unknown }
  | { readonly k: "any"; readonly v: unknown }
  | { readonly k: "hostile"; readonly h: HostileKind };

export type Recipe =
  | Leaf
  | {
      readonly k: "mutate";
      readonly base: unknown;
      /** Key indexes to descend through (modulo the object's key count). */
      readonly path: readonly number[];
      readonly op: "drop" | "replace" | "proto" | "constructor" | "add" | "wrapArray";
      readonly key: string;
      readonly leaf: Leaf;
    }
  | { readonly k: "list"; readonly items: readonly Recipe[] };

// ---- shared, built once ----
const MB = 1 << 20;
export const MEGA_STRING = "x".repeat(MB);
const MEGA_EMOJI = "🔐".repeat(MB / 2);
const DEPTH = 10_000;
export const DEEP_ARRAY: unknown = (() => {
  let v: unknown = [];
  for (let i = 0; i < DEPTH; i += 1) v = [v];
  return v;
})();
export const DEEP_OBJECT: unknown = (() => {
  let v: unknown = {};
  for (let i = 0; i < DEPTH; i += 1) v = { a: v };
  return v;
})();

const boom = (): never => {
  throw new Error("hostile getter");
};

function throwingHandler(): ProxyHandler<object> {
  const handler: ProxyHandler<object> = {};
  const traps = [
    "get",
    "has",
    "ownKeys",
    "getOwnPropertyDescriptor",
    "getPrototypeOf",
    "defineProperty",
    "set",
    "deleteProperty",
    "apply",
    "isExtensible",
    "preventExtensions",
    "setPrototypeOf",
  ] as const;
  for (const trap of traps) Reflect.set(handler, trap, () => boom());
  return handler;
}

/** A fresh hostile value (fresh: some are stateful, e.g. the flipping getter). */
export function buildHostile(kind: HostileKind): unknown {
  switch (kind) {
    case "revokedProxy": {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case "throwingProxy":
      return new Proxy({}, throwingHandler());
    case "throwingGetters": {
      const o = {};
      for (const key of [
        "type",
        "sender",
        "content",
        "algorithm",
        "code",
        "sender_key",
        "userId",
        "deviceId",
        "curve25519",
        "ed25519",
        "device",
        "outcome",
        "v",
        "value",
        "context",
        "at",
        "olm",
        "transport",
        "devices",
        "length",
        "ok",
        "then",
      ]) {
        Object.defineProperty(o, key, { enumerable: true, get: boom });
      }
      return o;
    }
    case "flippingType": {
      // Time-of-check/time-of-use: each read answers differently.
      let n = 0;
      const values = ["m.room_key.withheld", "m.room.encrypted", 42, undefined];
      return {
        get type() {
          n += 1;
          return values[n % values.length];
        },
        sender: "@alice:example.org",
        get content() {
          n += 1;
          return n % 2 === 0 ? {} : buildHostile("revokedProxy");
        },
      };
    }
    case "cycle": {
      const o: Record<string, unknown> = { type: "m.room_key.withheld" };
      o.content = o;
      o.self = o;
      return o;
    }
    case "arrayCycle": {
      const a: unknown[] = [];
      a.push(a, a);
      return a;
    }
    case "bigint":
      return 10n ** 30n;
    case "symbol":
      return Symbol("hostile");
    case "function":
      return Object.assign(() => 1, { type: "m.room_key.withheld", userId: "@a:example.org" });
    case "sparseArray": {
      const a: unknown[] = [];
      a.length = 2 ** 32 - 1;
      return a;
    }
    case "lengthLie":
      return { length: 1e12, 0: "x" };
    case "megaString":
      return MEGA_STRING;
    case "megaEmoji":
      return MEGA_EMOJI;
    case "loneSurrogates":
      return "\uD800a\uDFFF\uDBFF";
    case "nul":
      return "a\u0000b";
    case "emoji":
      return "👩‍👩‍👧‍👦🏳️‍🌈";
    case "deepArray":
      return DEEP_ARRAY;
    case "deepObject":
      return DEEP_OBJECT;
    case "protoKeys":
      return JSON.parse(
        '{"__proto__":{"polluted":true,"type":"m.room_key.withheld"},"constructor":{"prototype":{"polluted":true}},"prototype":1}',
      );
    case "nullProto":
      return Object.assign(Object.create(null), { type: "m.room_key.withheld", content: {} });
    case "throwingToJSON":
      return { toJSON: boom, toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom };
    case "throwingThenable":
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable on purpose
      return { then: boom };
    case "hugeNumber":
      return Number.MAX_VALUE;
    case "nan":
      return Number.NaN;
    case "negZero":
      return -0;
    case "boxedString":
      // biome-ignore lint/style/useConsistentBuiltinInstantiation: a boxed string on purpose
      return new String("m.room_key.withheld");
    case "frozenProxyOwnKeysThrow":
      return new Proxy(Object.freeze({ type: "m.room_key.withheld" }), {
        ownKeys: () => boom(),
      });
  }
}

/** Deep copy of JSON-ish data, keeping own `__proto__` keys as own keys. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: clone((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

const define = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });

function buildLeaf(leaf: Leaf): unknown {
  switch (leaf.k) {
    case "json":
      return clone(leaf.v);
    case "any":
      return leaf.v;
    case "hostile":
      return buildHostile(leaf.h);
  }
}

export function build(recipe: Recipe): unknown {
  switch (recipe.k) {
    case "json":
    case "any":
    case "hostile":
      return buildLeaf(recipe);
    case "list":
      return recipe.items.map(build);
    case "mutate": {
      const root = clone(recipe.base);
      if (typeof root !== "object" || root === null) return root;
      let target = root as Record<string, unknown>;
      for (const index of recipe.path) {
        const keys = Object.keys(target).filter((key) => {
          const child = target[key];
          return typeof child === "object" && child !== null;
        });
        if (keys.length === 0) break;
        target = target[keys[index % keys.length] as string] as Record<string, unknown>;
      }
      const keys = Object.keys(target);
      const existing =
        keys.length === 0 ? recipe.key : (keys[recipe.path.length % keys.length] ?? recipe.key);
      const value = buildLeaf(recipe.leaf);
      switch (recipe.op) {
        case "drop":
          delete target[existing];
          break;
        case "replace":
          define(target, existing, value);
          break;
        case "proto":
          define(target, "__proto__", value);
          break;
        case "constructor":
          define(target, "constructor", value);
          break;
        case "add":
          define(target, recipe.key, value);
          break;
        case "wrapArray":
          define(target, existing, [target[existing]]);
          break;
      }
      return root;
    }
  }
}

// ---- arbitraries ----

const anyCodePoint = fc.nat(0x10ffff).map((cp) => String.fromCodePoint(cp));

export const hostileLeafArb: fc.Arbitrary<Leaf> = fc.constantFrom(...HOSTILE_KINDS).map((h) => ({
  k: "hostile" as const,
  h,
}));

export const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ k: "json" as const, v })) },
  {
    weight: 2,
    arbitrary: fc
      .anything({
        maxDepth: 2,
        withBigInt: true,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withSparseArray: true,
        withTypedArray: true,
        withDate: true,
        stringUnit: anyCodePoint,
      })
      .map((v) => ({ k: "any" as const, v })),
  },
  { weight: 3, arbitrary: hostileLeafArb },
);

const mutationKeyArb = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "type",
    "sender",
    "content",
    "code",
    "sender_key",
    "from_device",
    "room_id",
    "session_id",
    "ciphertext",
    "body",
    "userId",
    "deviceId",
    "curve25519",
    "ed25519",
    "outcome",
  ),
  fc.string({ maxLength: 8, unit: anyCodePoint }),
);

/** Mutations (drop, retype, hostile value, `__proto__`/`constructor`) of the given valid values. */
export function mutationArb(bases: fc.Arbitrary<unknown>): fc.Arbitrary<Recipe> {
  return fc.record({
    k: fc.constant("mutate" as const),
    base: bases,
    path: fc.array(fc.nat(7), { maxLength: 3 }),
    op: fc.constantFrom("drop", "replace", "proto", "constructor", "add", "wrapArray"),
    key: mutationKeyArb,
    leaf: leafArb,
  });
}

/** Arbitrary JSON, blind mutations of valid values, valid values untouched, and hostile values. */
export function recipeArb(bases: fc.Arbitrary<unknown>): fc.Arbitrary<Recipe> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue().map((v): Recipe => ({ k: "json", v })) },
    { weight: 6, arbitrary: mutationArb(bases) },
    { weight: 1, arbitrary: bases.map((v): Recipe => ({ k: "json", v })) },
    { weight: 2, arbitrary: leafArb },
  );
}

/** Like recipeArb, and lists of those (for list arguments). */
export function argRecipeArb(bases: fc.Arbitrary<unknown>): fc.Arbitrary<Recipe> {
  const one = recipeArb(bases);
  return fc.oneof(
    { weight: 2, arbitrary: one },
    {
      weight: 3,
      arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }).map(
        (items): Recipe => ({
          k: "list",
          items,
        }),
      ),
    },
  );
}

/** For messages: prints a recipe without blowing up on megabyte strings or BigInts. */
export function showRecipe(recipe: Recipe): string {
  try {
    return fc.stringify(recipe).slice(0, 2000);
  } catch {
    return "(unprintable recipe)";
  }
}
