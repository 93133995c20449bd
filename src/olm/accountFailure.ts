/** Why an Olm account could not be created, opened or used. */
export type AccountFailureReason =
  /** libolm's wasm module could not be loaded. */
  | "olmUnavailable"
  | "invalidArgument"
  /** `dispose()` was called; the account's memory is gone. */
  | "disposed"
  /** libolm refused to make or sign a key. */
  | "keyGenerationFailed"
  /** The store's `loadOlm` or `commit` threw or rejected; the detail carries its message. */
  | "storeFailed"
  /**
   * The stored Olm state cannot be restored: the wrong pickle key, a damaged or oversized
   * pickle, a record of the wrong shape, or more than the configured bounds. Nothing was kept.
   */
  | "badPickle";

/** Why an account-management call (not part of `OlmBackend`) failed. */
export interface AccountFailure {
  readonly reason: AccountFailureReason;
  readonly detail: string;
  /** For `olmUnavailable`: a real `Error` to log or rethrow; its `cause` is what was thrown. */
  readonly cause?: Error;
}

export const accountFailure = (
  reason: AccountFailureReason,
  detail: string,
): { readonly ok: false } & AccountFailure => ({ ok: false, reason, detail });
