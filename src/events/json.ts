import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, describeValue, reject } from "./decodeRejection.js";

/** A JSON leaf value. */
export type JsonPrimitive = null | boolean | number | string;
/** A JSON array, read-only: decoded values are never mutated in place. */
export type JsonArray = readonly JsonValue[];
/** A JSON object, read-only. */
export type JsonObject = { readonly [key: string]: JsonValue };
/** Any JSON value, the shape every event and stored record is read as. */
export type JsonValue = JsonPrimitive | JsonArray | JsonObject;

/**
 * Bounds on one `copyJson` call. `maxNodes` counts every value (containers included);
 * `maxTextLength` counts the UTF-16 code units of every string value and object key, so a
 * copy holds at most ~2 MiB of text however big the input was. Fields have their own, tighter
 * limits; these only cap what one untrusted value can make the library copy, keep or re-encode.
 */
export const JSON_LIMITS = { maxDepth: 32, maxNodes: 10_000, maxTextLength: 1_048_576 } as const;

export const isJsonObject = (value: JsonValue): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads an own property only, so inherited names like "constructor" are never mistaken for data.
 */
export const ownJsonField = (object: JsonObject, key: string): JsonValue | undefined =>
  Object.hasOwn(object, key) ? object[key] : undefined;

/**
 * A frozen null-prototype object holding the entries as own data properties:
 * "__proto__" stays an ordinary key and no prototype is ever reached.
 */
export function jsonObjectFromEntries(entries: Iterable<readonly [string, JsonValue]>): JsonObject {
  const object: Record<string, JsonValue> = Object.create(null);
  // Null prototype: a plain store makes an own data property for any key, "__proto__" included.
  for (const [key, value] of entries) object[key] = value;
  return Object.freeze(object);
}

type MutableContainer = Record<string, JsonValue> | JsonValue[];

interface PendingContainer {
  readonly source: object;
  readonly target: MutableContainer;
  readonly path: DecodePath;
  readonly parent: PendingContainer | undefined;
  readonly depth: number;
}

/**
 * Deep-copies untrusted input into frozen JSON, or says why it is not JSON.
 * Iterative, so nesting depth can never overflow the stack; bounded in depth and size.
 *
 * Every limit is checked before the work it limits, so the cost does not grow with the input:
 * - an array is refused by its `length` before any index is listed or read;
 * - an object's keys are counted, as one native `Reflect.ownKeys` list, before any value is read;
 * - a string is refused by its `length`; its text is never read or copied.
 * Worst case per call: at most `maxNodes` values are admitted, each costing O(maxDepth) (the
 * path copy and the cycle check walk at most `maxDepth` frames) plus O(1) reflective calls.
 * Besides that, one `Reflect.ownKeys` list per container: the lists of accepted containers
 * hold at most `maxNodes` keys plus one "length" per array, and only the one container that is
 * refused can list more (an object with too many keys, or an array with extra properties).
 * That one list is made in native code, costs less per key than `JSON.parse` spent making the
 * key, and is never walked by JavaScript. So the work is O(maxNodes × maxDepth) + O(keys of
 * one refused object), never O(bytes): a 10 MB array costs the same few reads as a 10 kB one.
 */
export function copyJson(
  value: unknown,
  path: DecodePath = [],
): Result<JsonValue, DecodeRejection> {
  let current = path;
  try {
    const copier = new JsonCopier();
    const root = copier.admit(value, path, undefined, undefined, 0);
    if (!root.ok) return root;
    for (let next = copier.pending.pop(); next !== undefined; next = copier.pending.pop()) {
      current = next.path;
      const filled = copier.fill(next);
      if (!filled.ok) return filled;
    }
    for (const container of copier.containers) Object.freeze(container);
    return ok(root.value);
  } catch (error) {
    // Proxies and exotic objects can throw from any reflective operation.
    return reject("unreadable", current, `Reading the value threw ${describeValue(error)}.`);
  }
}

/** The one "done" result of filling, shared: a copy allocates none per property. */
const FILLED: Result<null, DecodeRejection> = ok(null);

class JsonCopier {
  readonly pending: PendingContainer[] = [];
  readonly containers: MutableContainer[] = [];
  private nodes = 0;
  private text = 0;

  /** Checks one value; containers are created empty here and filled later from `pending`. */
  admit(
    value: unknown,
    at: DecodePath,
    key: string | number | undefined,
    parent: PendingContainer | undefined,
    depth: number,
  ): Result<JsonValue, DecodeRejection> {
    // The value's path is `at` plus `key`, built only for a refusal or a container: copying an
    // event allocates no path per leaf.
    this.nodes += 1;
    if (this.nodes > JSON_LIMITS.maxNodes) {
      return reject(
        "tooLong",
        pathOf(at, key),
        `More than ${JSON_LIMITS.maxNodes} JSON values in total.`,
      );
    }
    if (typeof value === "string") {
      // Only the length is read: a 100 MB string is refused as cheaply as a short one.
      const text = this.admitText(value.length, at, key);
      return text.ok ? ok(value) : text;
    }
    if (value === null || typeof value === "boolean") return ok(value);
    if (typeof value === "number") {
      if (!Number.isFinite(value))
        return reject("notJson", pathOf(at, key), `JSON has no ${String(value)}.`);
      // JSON text cannot carry -0 through JSON.stringify; keep copies canonical.
      return ok(value === 0 ? 0 : value);
    }
    if (typeof value !== "object") {
      return reject("notJson", pathOf(at, key), `JSON has no ${describeValue(value)}.`);
    }
    if (isAncestor(value, parent))
      return reject("notJson", pathOf(at, key), "The value contains a cycle.");
    if (depth + 1 > JSON_LIMITS.maxDepth) {
      return reject(
        "tooDeep",
        pathOf(at, key),
        `Nested deeper than ${JSON_LIMITS.maxDepth} levels.`,
      );
    }
    const target = emptyTargetFor(value);
    if (target === undefined) {
      return reject(
        "notJson",
        pathOf(at, key),
        "Only plain objects and arrays are JSON containers.",
      );
    }
    this.containers.push(target);
    this.pending.push({ source: value, target, path: pathOf(at, key), parent, depth: depth + 1 });
    return ok(target);
  }

  fill(container: PendingContainer): Result<null, DecodeRejection> {
    return Array.isArray(container.target) ? this.fillArray(container) : this.fillObject(container);
  }

  private fillArray(container: PendingContainer): Result<null, DecodeRejection> {
    const { source, path } = container;
    // The length is one property read; it is checked before a single index is listed or read.
    const length = arrayLength(source);
    if (!Number.isSafeInteger(length) || length < 0) {
      return reject("notJson", path, "Arrays must be dense and carry no extra properties.");
    }
    const budget = this.withinNodeBudget(length, path);
    if (!budget.ok) return budget;
    // An array owns its indexes plus "length"; any other count means holes or stray properties.
    // For an array from JSON text this list has `length + 1` keys, already within budget; only
    // extra properties, which JSON text cannot make, lengthen it, and they get the array refused.
    if (Reflect.ownKeys(source).length !== length + 1) {
      return reject("notJson", path, "Arrays must be dense and carry no extra properties.");
    }
    for (let index = 0; index < length; index += 1) {
      const copied = this.copyProperty(container, String(index), index);
      if (!copied.ok) return copied;
    }
    return ok(null);
  }

  private fillObject(container: PendingContainer): Result<null, DecodeRejection> {
    const { source, path } = container;
    // There is no way to count an object's keys without listing them; the list is checked
    // before any of it is walked, so a million-key object is refused before any value is read.
    const keys = Reflect.ownKeys(source);
    const budget = this.withinNodeBudget(keys.length, path);
    if (!budget.ok) return budget;
    for (const key of keys) {
      if (typeof key === "symbol") {
        return reject("notJson", path, "JSON has no symbol keys.");
      }
      const keyText = this.admitText(key.length, path, undefined);
      if (!keyText.ok) return keyText;
      const copied = this.copyProperty(container, key, key);
      if (!copied.ok) return copied;
    }
    return ok(null);
  }

  /** Copies one own property of `container.source`; getters and hidden properties are refused. */
  private copyProperty(
    container: PendingContainer,
    key: string,
    childKey: string | number,
  ): Result<null, DecodeRejection> {
    const descriptor = Reflect.getOwnPropertyDescriptor(container.source, key);
    if (descriptor === undefined && Array.isArray(container.target)) {
      // The count matched, so holes were balanced by extra properties (or a Proxy lied).
      return reject(
        "notJson",
        container.path,
        "Arrays must be dense and carry no extra properties.",
      );
    }
    if (descriptor === undefined || !("value" in descriptor) || descriptor.enumerable !== true) {
      return reject(
        "notJson",
        [...container.path, childKey],
        "Only enumerable data properties are JSON; getters are not run.",
      );
    }
    const child = this.admit(
      descriptor.value,
      container.path,
      childKey,
      container,
      container.depth,
    );
    if (!child.ok) return child;
    // The target is our own array or null-prototype object: a plain store makes an own data
    // property for any key ("__proto__" included), several times faster than defineProperty.
    (container.target as Record<string, JsonValue>)[key] = child.value;
    return FILLED;
  }

  /** Checked before a container's children are read: `count` more values must still fit. */
  private withinNodeBudget(count: number, path: DecodePath): Result<null, DecodeRejection> {
    if (this.nodes + count > JSON_LIMITS.maxNodes) {
      return reject("tooLong", path, `More than ${JSON_LIMITS.maxNodes} JSON values in total.`);
    }
    return FILLED;
  }

  private admitText(
    length: number,
    at: DecodePath,
    key: string | number | undefined,
  ): Result<null, DecodeRejection> {
    this.text += length;
    if (this.text > JSON_LIMITS.maxTextLength) {
      return reject(
        "tooLong",
        pathOf(at, key),
        `More than ${JSON_LIMITS.maxTextLength} characters of strings and keys in total.`,
      );
    }
    return ok(null);
  }
}

/** True for `{}`-like objects; class instances, Dates, Maps and arrays are not JSON objects. */
export function isPlainObject(value: unknown): value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Reflect.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function emptyTargetFor(value: object): MutableContainer | undefined {
  if (Array.isArray(value)) return [];
  return isPlainObject(value) ? Object.create(null) : undefined;
}

function arrayLength(array: object): number {
  const length: unknown = Reflect.getOwnPropertyDescriptor(array, "length")?.value;
  return typeof length === "number" ? length : Number.NaN;
}

const pathOf = (at: DecodePath, key: string | number | undefined): DecodePath =>
  key === undefined ? at : [...at, key];

function isAncestor(value: object, parent: PendingContainer | undefined): boolean {
  for (let frame = parent; frame !== undefined; frame = frame.parent) {
    if (frame.source === value) return true;
  }
  return false;
}
