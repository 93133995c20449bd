export type AccountFailureReason =
  /** libolm's wasm module could not be loaded. */
  | "olmUnavailable"
  | "invalidArgument"
  /** `dispose()` was called; the account's memory is gone. */
  | "disposed"
  /** libolm refused to make or sign a key. */
  | "keyGenerationFailed";

/** Why an account-management call (not part of `OlmBackend`) failed. */
export interface AccountFailure {
  readonly reason: AccountFailureReason;
  readonly detail: string;
}

export const accountFailure = (
  reason: AccountFailureReason,
  detail: string,
): { readonly ok: false } & AccountFailure => ({ ok: false, reason, detail });
