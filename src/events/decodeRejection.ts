/** Why the codec refused an input, one reason per kind of defect. */
export type DecodeRejectionReason =
  | "notAnObject"
  | "wrongEventType"
  | "missingField"
  | "wrongType"
  | "unsupportedAlgorithm"
  | "invalidSenderKey"
  | "invalidSigningKey"
  | "invalidUserId"
  | "invalidRoomId"
  | "invalidDeviceId"
  | "invalidSessionId"
  | "invalidCode"
  | "tooLong"
  | "notJson"
  | "tooDeep"
  | "unreadable";

/** Where in the input a rejection points: object keys and array indexes from the root. */
export type DecodePath = readonly (string | number)[];

/**
 * A refusal as data: the reason, where in the input (`path`), and a sentence with the offending
 * value.
 */
export interface DecodeRejection {
  readonly reason: DecodeRejectionReason;
  readonly path: DecodePath;
  readonly detail: string;
}

export type Rejected = { readonly ok: false } & DecodeRejection;

export const reject = (
  reason: DecodeRejectionReason,
  path: DecodePath,
  detail: string,
): Rejected => ({
  ok: false,
  reason,
  path,
  detail,
});

// Input may be attacker-sized; a rejection must stay small enough to log.
const ECHO_LIMIT = 64;

/** Names a value's type (and, for strings, its length and a truncated echo) for a detail text. */
export function describeValue(value: unknown): string {
  try {
    if (value === null) return "null";
    if (typeof value === "string") return describeString(value);
    if (typeof value === "number") return `the number ${String(value)}`;
    if (typeof value === "boolean") return `the boolean ${String(value)}`;
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    if (typeof value === "object") return "an object";
    return `a value of type ${typeof value}`;
  } catch {
    // A revoked Proxy throws even from Array.isArray.
    return "an unreadable value";
  }
}

function describeString(value: string): string {
  const echo =
    value.length > ECHO_LIMIT
      ? `${JSON.stringify(value.slice(0, ECHO_LIMIT))}…`
      : JSON.stringify(value);
  return `a string of length ${value.length} (${echo})`;
}
