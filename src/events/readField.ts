import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, reject } from "./decodeRejection.js";
import { type JsonObject, type JsonValue, ownJsonField } from "./json.js";

/** Validates one field's value; `path` already points at the field. */
export type FieldParser<T> = (value: JsonValue, path: DecodePath) => Result<T, DecodeRejection>;

export function requiredField<T>(
  object: JsonObject,
  key: string,
  path: DecodePath,
  parse: FieldParser<T>,
): Result<T, DecodeRejection> {
  const value = ownJsonField(object, key);
  const fieldPath = [...path, key];
  if (value === undefined)
    return reject("missingField", fieldPath, `The field "${key}" is required.`);
  return parse(value, fieldPath);
}

export function optionalField<T>(
  object: JsonObject,
  key: string,
  path: DecodePath,
  parse: FieldParser<T>,
): Result<T | undefined, DecodeRejection> {
  const value = ownJsonField(object, key);
  return value === undefined ? ok(undefined) : parse(value, [...path, key]);
}
