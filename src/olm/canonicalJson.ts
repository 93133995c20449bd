import {
  isPlainObject,
  type JsonObject,
  type JsonValue,
  jsonObjectFromEntries,
} from "../events/json.js";
import { ok, type Result } from "../result.js";
import type { OlmFailure } from "./olmBackend.js";
import { type Failed, olmFailure } from "./olmFailure.js";

/** Deep enough for any signed Matrix object; a bound keeps hostile nesting off the call stack. */
const MAX_DEPTH = 64;

// Code points that UTF-8 cannot encode; libolm would sign a mangled string.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Matrix canonical JSON (appendices, "Canonical JSON"): keys sorted by Unicode code point at every
 * level, no whitespace, strings as JSON.stringify writes them (non-ASCII kept, control characters
 * in the short or `\u00xx` form the spec's grammar asks for), integers in ±(2^53 − 1) only.
 */
export function canonicalJson(value: JsonValue): Result<string, OlmFailure> {
  const out: string[] = [];
  const failure = write(value, out, "$", 0);
  return failure ?? ok(out.join(""));
}

/** What gets signed: the object without `signatures` and `unsigned`, in canonical JSON. */
export function signingPayload(object: JsonObject): Result<string, OlmFailure> {
  if (!isPlainObject(object))
    return olmFailure("malformedInput", "Only a JSON object can be signed.");
  const signed = Object.entries(object).filter(
    ([key]) => key !== "signatures" && key !== "unsigned",
  );
  return canonicalJson(jsonObjectFromEntries(signed));
}

function write(value: unknown, out: string[], path: string, depth: number): Failed | undefined {
  if (value === null || typeof value === "boolean") {
    out.push(String(value));
    return undefined;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      return olmFailure(
        "malformedInput",
        `Canonical JSON allows only integers in ±(2^53 − 1); ${path} is ${value}.`,
      );
    }
    out.push(JSON.stringify(value));
    return undefined;
  }
  if (typeof value === "string") return writeString(value, out, path);
  if (depth >= MAX_DEPTH)
    return olmFailure("malformedInput", `${path} is nested deeper than ${MAX_DEPTH} levels.`);
  if (Array.isArray(value)) return writeArray(value, out, path, depth);
  if (isPlainObject(value)) return writeObject(value, out, path, depth);
  return olmFailure("malformedInput", `${path} is a ${typeof value}, which JSON cannot hold.`);
}

function writeString(value: string, out: string[], path: string): Failed | undefined {
  if (LONE_SURROGATE.test(value)) {
    return olmFailure(
      "malformedInput",
      `${path} holds a lone UTF-16 surrogate, which UTF-8 cannot encode.`,
    );
  }
  out.push(JSON.stringify(value));
  return undefined;
}

function writeArray(
  value: readonly unknown[],
  out: string[],
  path: string,
  depth: number,
): Failed | undefined {
  out.push("[");
  for (const [index, item] of value.entries()) {
    if (index > 0) out.push(",");
    const failure = write(item, out, `${path}[${index}]`, depth + 1);
    if (failure !== undefined) return failure;
  }
  out.push("]");
  return undefined;
}

function writeObject(
  value: object,
  out: string[],
  path: string,
  depth: number,
): Failed | undefined {
  const entries = Object.entries(value).sort(([a], [b]) => compareCodePoints(a, b));
  out.push("{");
  for (const [index, [key, item]] of entries.entries()) {
    if (index > 0) out.push(",");
    const keyFailure = writeString(key, out, `${path} key ${JSON.stringify(key)}`);
    if (keyFailure !== undefined) return keyFailure;
    out.push(":");
    const failure = write(item, out, `${path}.${key}`, depth + 1);
    if (failure !== undefined) return failure;
  }
  out.push("}");
  return undefined;
}

/**
 * Orders strings by code point. JavaScript's default sort compares UTF-16 units, which puts an
 * astral character (a surrogate pair, D800–DFFF) before U+E000–U+FFFF; the spec wants it after.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates above the rest of the BMP; comparing at the first differing unit is then exact.
const codePointRank = (unit: number): number =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
