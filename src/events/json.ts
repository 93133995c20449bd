import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, describeValue, reject } from "./decodeRejection.js";

export type JsonPrimitive = null | boolean | number | string;
export type JsonArray = readonly JsonValue[];
export type JsonObject = { readonly [key: string]: JsonValue };
export type JsonValue = JsonPrimitive | JsonArray | JsonObject;

export const JSON_LIMITS = { maxDepth: 32, maxNodes: 10_000 } as const;

export const isJsonObject = (value: JsonValue): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads an own property only, so inherited names like "constructor" are never mistaken for data. */
export const ownJsonField = (object: JsonObject, key: string): JsonValue | undefined =>
  Object.hasOwn(object, key) ? object[key] : undefined;

/**
 * A frozen null-prototype object holding the entries as own data properties:
 * "__proto__" stays an ordinary key and no prototype is ever reached.
 */
export function jsonObjectFromEntries(entries: Iterable<readonly [string, JsonValue]>): JsonObject {
  const object: Record<string, JsonValue> = Object.create(null);
  for (const [key, value] of entries) defineDataProperty(object, key, value);
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
 */
export function copyJson(
  value: unknown,
  path: DecodePath = [],
): Result<JsonValue, DecodeRejection> {
  let current = path;
  try {
    const copier = new JsonCopier();
    const root = copier.admit(value, path, undefined, 0);
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

class JsonCopier {
  readonly pending: PendingContainer[] = [];
  readonly containers: MutableContainer[] = [];
  private nodes = 0;

  /** Checks one value; containers are created empty here and filled later from `pending`. */
  admit(
    value: unknown,
    path: DecodePath,
    parent: PendingContainer | undefined,
    depth: number,
  ): Result<JsonValue, DecodeRejection> {
    this.nodes += 1;
    if (this.nodes > JSON_LIMITS.maxNodes) {
      return reject("tooLong", path, `More than ${JSON_LIMITS.maxNodes} JSON values in total.`);
    }
    if (value === null || typeof value === "string" || typeof value === "boolean") return ok(value);
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return reject("notJson", path, `JSON has no ${String(value)}.`);
      // JSON text cannot carry -0 through JSON.stringify; keep copies canonical.
      return ok(value === 0 ? 0 : value);
    }
    if (typeof value !== "object") {
      return reject("notJson", path, `JSON has no ${describeValue(value)}.`);
    }
    if (isAncestor(value, parent)) return reject("notJson", path, "The value contains a cycle.");
    if (depth + 1 > JSON_LIMITS.maxDepth) {
      return reject("tooDeep", path, `Nested deeper than ${JSON_LIMITS.maxDepth} levels.`);
    }
    const target = emptyTargetFor(value);
    if (target === undefined) {
      return reject("notJson", path, "Only plain objects and arrays are JSON containers.");
    }
    this.containers.push(target);
    this.pending.push({ source: value, target, path, parent, depth: depth + 1 });
    return ok(target);
  }

  fill(container: PendingContainer): Result<null, DecodeRejection> {
    const { source, target, path } = container;
    const isArray = Array.isArray(target);
    // An array owns its indexes plus "length"; any other count means holes or stray properties.
    const keys = Reflect.ownKeys(source).filter((key) => !(isArray && key === "length"));
    if (isArray && keys.length !== arrayLength(source)) {
      return reject("notJson", path, "Arrays must be dense and carry no extra properties.");
    }
    // Checked up front so a million-key object is refused before any of it is copied.
    if (this.nodes + keys.length > JSON_LIMITS.maxNodes) {
      return reject("tooLong", path, `More than ${JSON_LIMITS.maxNodes} JSON values in total.`);
    }
    for (const key of keys) {
      if (typeof key === "symbol") {
        return reject("notJson", path, "JSON has no symbol keys.");
      }
      const childPath = [...path, isArray ? Number(key) : key];
      const descriptor = Reflect.getOwnPropertyDescriptor(source, key);
      if (descriptor === undefined || !("value" in descriptor) || descriptor.enumerable !== true) {
        return reject(
          "notJson",
          childPath,
          "Only enumerable data properties are JSON; getters are not run.",
        );
      }
      const child = this.admit(descriptor.value, childPath, container, container.depth);
      if (!child.ok) return child;
      defineDataProperty(target, key, child.value);
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

function isAncestor(value: object, parent: PendingContainer | undefined): boolean {
  for (let frame = parent; frame !== undefined; frame = frame.parent) {
    if (frame.source === value) return true;
  }
  return false;
}

function defineDataProperty(target: object, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
