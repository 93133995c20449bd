/**
 * The one table of withheld codes the spec defines. `scope` says what a code is about:
 * "device" (no Olm channel at all, so no room/session) or "session" (one room key).
 * `sendable: false` marks codes we accept but never produce.
 */
export const SPEC_WITHHELD_CODES = freezeTable({
  "m.no_olm": {
    scope: "device",
    sendable: true,
    defaultReason: "Unable to establish a secure channel.",
  },
  "m.blacklisted": {
    scope: "session",
    sendable: true,
    defaultReason: "The sender has blocked you.",
  },
  "m.unverified": {
    scope: "session",
    sendable: true,
    defaultReason: "The sender only shares keys with verified devices.",
  },
  "m.unauthorised": {
    scope: "session",
    sendable: true,
    defaultReason: "You are not authorised to read the message.",
  },
  "m.unavailable": {
    scope: "session",
    sendable: true,
    defaultReason: "The requested key was not found.",
  },
  // Spec v1.19: meant for room key bundles; clients SHOULD NOT send it in m.room_key.withheld.
  "m.history_not_shared": {
    scope: "session",
    sendable: false,
    defaultReason: "The sender did not share the room history.",
  },
} as const);

type CodeTable = typeof SPEC_WITHHELD_CODES;

/** Every code the spec's `m.room_key.withheld` schema lists. */
export type SpecWithheldCode = keyof CodeTable;
/** The one code about a device rather than a room key: `m.no_olm`. */
export type NoOlmCode = {
  [C in SpecWithheldCode]: CodeTable[C]["scope"] extends "device" ? C : never;
}[SpecWithheldCode];
/** The codes about one room key (every spec code but `m.no_olm`). */
export type SessionWithheldCode = Exclude<SpecWithheldCode, NoOlmCode>;
/**
 * The per-session codes the library sends (not `m.history_not_shared`, which clients should not
 * send).
 */
export type SendableSessionCode = {
  [C in SessionWithheldCode]: CodeTable[C]["sendable"] extends true ? C : never;
}[SessionWithheldCode];

/** `m.no_olm`, typed, so comparisons cannot be misspelt. */
export const NO_OLM_CODE: NoOlmCode = "m.no_olm";

const SPEC_CODES = Object.keys(SPEC_WITHHELD_CODES) as readonly SpecWithheldCode[];
const namesRoomKey = (code: SpecWithheldCode): code is SessionWithheldCode =>
  SPEC_WITHHELD_CODES[code].scope === "session";
const isSendable = (code: SessionWithheldCode): code is SendableSessionCode =>
  SPEC_WITHHELD_CODES[code].sendable;

/** Every per-session code, in the spec's order. */
export const SESSION_WITHHELD_CODES: readonly SessionWithheldCode[] = Object.freeze(
  SPEC_CODES.filter(namesRoomKey),
);
/** The per-session codes `withholdSessions` accepts. */
export const SENDABLE_SESSION_CODES: readonly SendableSessionCode[] = Object.freeze(
  SESSION_WITHHELD_CODES.filter(isSendable),
);

/** The spec's human-readable reason for `code`, used when a notice carries none of its own. */
export const defaultWithheldReason = (code: SpecWithheldCode): string =>
  SPEC_WITHHELD_CODES[code].defaultReason;

export const MAX_CODE_LENGTH = 255;
// The spec asks custom codes to follow Java package naming: dot-separated identifiers.
const CODE_SYNTAX = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** How a received code string is understood. */
export type CodeClassification =
  | { readonly kind: "noOlm"; readonly code: NoOlmCode }
  | { readonly kind: "session"; readonly code: SessionWithheldCode }
  | { readonly kind: "unknownCode"; readonly code: string }
  | { readonly kind: "invalidCode" }
  | { readonly kind: "tooLong" };

/**
 * Sorts a received code: a spec code, a syntactically valid unknown one (kept), invalid, or too
 * long.
 */
export function classifyWithheldCode(code: string): CodeClassification {
  if (code.length > MAX_CODE_LENGTH) return { kind: "tooLong" };
  if (isSpecWithheldCode(code)) {
    return code === NO_OLM_CODE ? { kind: "noOlm", code } : { kind: "session", code };
  }
  return CODE_SYNTAX.test(code) ? { kind: "unknownCode", code } : { kind: "invalidCode" };
}

/** Whether `code` is one of the spec's codes (`SPEC_WITHHELD_CODES`). */
export const isSpecWithheldCode = (code: string): code is SpecWithheldCode =>
  Object.hasOwn(SPEC_WITHHELD_CODES, code);

/** Whether `withholdSessions` may send `code`. */
export const isSendableSessionCode = (code: string): code is SendableSessionCode =>
  SENDABLE_SESSION_CODES.some((sendable) => sendable === code);

// One shared table: nothing may edit a default reason or a code's scope at runtime.
function freezeTable<Table extends Record<string, object>>(table: Table): Table {
  for (const entry of Object.values(table)) Object.freeze(entry);
  return Object.freeze(table);
}
