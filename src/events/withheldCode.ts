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

export type SpecWithheldCode = keyof CodeTable;
export type NoOlmCode = {
  [C in SpecWithheldCode]: CodeTable[C]["scope"] extends "device" ? C : never;
}[SpecWithheldCode];
export type SessionWithheldCode = Exclude<SpecWithheldCode, NoOlmCode>;
export type SendableSessionCode = {
  [C in SessionWithheldCode]: CodeTable[C]["sendable"] extends true ? C : never;
}[SessionWithheldCode];

export const NO_OLM_CODE: NoOlmCode = "m.no_olm";

const SPEC_CODES = Object.keys(SPEC_WITHHELD_CODES) as readonly SpecWithheldCode[];
const namesRoomKey = (code: SpecWithheldCode): code is SessionWithheldCode =>
  SPEC_WITHHELD_CODES[code].scope === "session";
const isSendable = (code: SessionWithheldCode): code is SendableSessionCode =>
  SPEC_WITHHELD_CODES[code].sendable;

export const SESSION_WITHHELD_CODES: readonly SessionWithheldCode[] = Object.freeze(
  SPEC_CODES.filter(namesRoomKey),
);
export const SENDABLE_SESSION_CODES: readonly SendableSessionCode[] = Object.freeze(
  SESSION_WITHHELD_CODES.filter(isSendable),
);

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

export function classifyWithheldCode(code: string): CodeClassification {
  if (code.length > MAX_CODE_LENGTH) return { kind: "tooLong" };
  if (isSpecWithheldCode(code)) {
    return code === NO_OLM_CODE ? { kind: "noOlm", code } : { kind: "session", code };
  }
  return CODE_SYNTAX.test(code) ? { kind: "unknownCode", code } : { kind: "invalidCode" };
}

export const isSpecWithheldCode = (code: string): code is SpecWithheldCode =>
  Object.hasOwn(SPEC_WITHHELD_CODES, code);

export const isSendableSessionCode = (code: string): code is SendableSessionCode =>
  SENDABLE_SESSION_CODES.some((sendable) => sendable === code);

// One shared table: nothing may edit a default reason or a code's scope at runtime.
function freezeTable<Table extends Record<string, object>>(table: Table): Table {
  for (const entry of Object.values(table)) Object.freeze(entry);
  return Object.freeze(table);
}
