import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, describeValue, reject } from "./decodeRejection.js";
import {
  copyJson,
  isPlainObject,
  type JsonObject,
  type JsonValue,
  jsonObjectFromEntries,
} from "./json.js";

/**
 * Copies only the named own fields of an untrusted object into trusted JSON.
 * Other fields are never read, so their size or shape cannot cause a rejection.
 */
export function pickJsonFields(
  input: unknown,
  keys: readonly string[],
  path: DecodePath,
): Result<JsonObject, DecodeRejection> {
  if (!isPlainObject(input)) {
    return reject("notAnObject", path, `Expected a JSON object, got ${describeValue(input)}.`);
  }
  const picked: [string, JsonValue][] = [];
  for (const key of keys) {
    const descriptor = Reflect.getOwnPropertyDescriptor(input, key);
    if (descriptor === undefined) continue;
    if (!("value" in descriptor)) {
      return reject(
        "notJson",
        [...path, key],
        "Only data properties are JSON; getters are not run.",
      );
    }
    const copy = copyJson(descriptor.value, [...path, key]);
    if (!copy.ok) return copy;
    picked.push([key, copy.value]);
  }
  return ok(jsonObjectFromEntries(picked));
}
