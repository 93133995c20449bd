import { describeThrown } from "../edges/describeThrown.js";
import type { Result } from "../result.js";
import type { OlmFailure, OlmFailureReason } from "./olmBackend.js";

export type Failed = { readonly ok: false } & OlmFailure;

export const olmFailure = (reason: OlmFailureReason, detail: string): Failed => ({
  ok: false,
  reason,
  detail,
});

/**
 * libolm reports every error as `Error("OLM.<CODE>")`; the code is the useful part. Anything else
 * (a TypeError from a wasm call before init, say) is named by its own message, and a non-Error
 * by its text.
 */
export function describeOlmError(error: unknown): string {
  if (error instanceof Error)
    return error.message.startsWith("OLM.") ? error.message : `${error.name}: ${error.message}`;
  // libolm's loader rejects with plain strings (emscripten's abort reason): keep their text.
  return `a thrown ${typeof error}: ${describeThrown(error)}`;
}

/** Runs one libolm call; its exception becomes a typed failure carrying the libolm code. */
export function callOlm<T>(reason: OlmFailureReason, action: () => T): Result<T, OlmFailure> {
  try {
    return { ok: true, value: action() };
  } catch (error) {
    return olmFailure(reason, describeOlmError(error));
  }
}
