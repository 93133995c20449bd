import type { JsonObject, JsonValue } from "../../events/json.js";
import type { Result } from "../../result.js";

export interface NotJson {
  readonly problems: readonly string[];
}

/**
 * What the server would receive after the client serialised `value`: a fresh JSON copy.
 * Values JSON.stringify would silently alter (undefined fields, NaN, class instances, …)
 * are refused instead, since over a real wire they would arrive changed.
 */
export function overTheWire(value: unknown): Result<JsonValue, NotJson> {
  const problems: string[] = [];
  findNonJson(value, "", new Set(), problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: JSON.parse(JSON.stringify(value)) as JsonValue };
}

function findNonJson(value: unknown, path: string, ancestors: Set<object>, out: string[]): void {
  const where = path === "" ? "(root)" : path;
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) out.push(`${where} is ${value}, which JSON cannot carry`);
    return;
  }
  if (typeof value !== "object") {
    out.push(`${where} is a ${typeof value}, which JSON cannot carry`);
    return;
  }
  if (ancestors.has(value)) {
    out.push(`${where} is a cycle`);
    return;
  }
  const prototype = Reflect.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (!isArray && prototype !== Object.prototype && prototype !== null) {
    out.push(`${where} is not a plain object`);
    return;
  }
  if (isArray && Object.keys(value).length !== value.length) {
    out.push(`${where} is a sparse array, whose holes JSON turns into null`);
    return;
  }
  ancestors.add(value);
  for (const [key, child] of Object.entries(value)) {
    findNonJson(child, `${path}/${key}`, ancestors, out);
  }
  ancestors.delete(value);
}

/** Sorted-key JSON, so two bodies compare equal whatever their key order. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const object = value as JsonObject;
  const entries = Object.keys(object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key] ?? null)}`);
  return `{${entries.join(",")}}`;
}

export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Freezes every object and array in a JSON value, so a shared log entry cannot be edited. */
export function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
