import { ok, type Result } from "../result.js";
import { type DecodePath, type DecodeRejection, describeValue, reject } from "./decodeRejection.js";
import { type CodeClassification, classifyWithheldCode, MAX_CODE_LENGTH } from "./withheldCode.js";
import { clipReason, MEGOLM_ALGORITHM, WITHHELD_EVENT_TYPE } from "./withheldContent.js";

/** Parsers for the m.room_key.withheld fields that are not Matrix identifiers. */

export function parseEventType(
  value: unknown,
  path: DecodePath,
): Result<typeof WITHHELD_EVENT_TYPE, DecodeRejection> {
  if (typeof value !== "string") return wrongType("the event type string", value, path);
  if (value !== WITHHELD_EVENT_TYPE) {
    return reject(
      "wrongEventType",
      path,
      `Expected ${WITHHELD_EVENT_TYPE}, got ${describeValue(value)}.`,
    );
  }
  return ok(value);
}

export function parseMegolmAlgorithm(
  value: unknown,
  path: DecodePath,
): Result<typeof MEGOLM_ALGORITHM, DecodeRejection> {
  if (typeof value !== "string") return wrongType("an algorithm name", value, path);
  if (value !== MEGOLM_ALGORITHM) {
    return reject(
      "unsupportedAlgorithm",
      path,
      `Only ${MEGOLM_ALGORITHM} is supported, got ${describeValue(value)}.`,
    );
  }
  return ok(value);
}

type UnderstoodCode = Exclude<CodeClassification, { readonly kind: "invalidCode" | "tooLong" }>;

export function parseWithheldCode(
  value: unknown,
  path: DecodePath,
): Result<UnderstoodCode, DecodeRejection> {
  if (typeof value !== "string") return wrongType("a code string", value, path);
  const code = classifyWithheldCode(value);
  switch (code.kind) {
    case "tooLong":
      return reject(
        "tooLong",
        path,
        `A code has at most ${MAX_CODE_LENGTH} characters, got ${describeValue(value)}.`,
      );
    case "invalidCode":
      return reject(
        "invalidCode",
        path,
        `A code is dot-separated identifiers, got ${describeValue(value)}.`,
      );
    default:
      return ok(code);
  }
}

/**
 * A reason longer than MAX_REASON_LENGTH is clipped, not refused: it is display text, and a
 * genuine notice (its code) must not be lost over it. How much text can arrive at all is
 * bounded earlier, by copyJson's text budget, which refuses by length without reading.
 */
export function parseReason(value: unknown, path: DecodePath): Result<string, DecodeRejection> {
  if (typeof value !== "string") return wrongType("a reason string", value, path);
  return ok(clipReason(value));
}

const wrongType = (expected: string, value: unknown, path: DecodePath) =>
  reject("wrongType", path, `Expected ${expected}, got ${describeValue(value)}.`);
