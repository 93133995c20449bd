import { ok, type Result } from "../../result.js";
import type { StoreError } from "../keyWithholdingStore.js";

/** How to open a `SqliteStore` (see `openSqliteStore`). */
export interface SqliteStoreOptions {
  /**
   * The database file (relative to the working directory, or absolute). Created, with the schema,
   * if it does not exist; its folder must exist. Not `":memory:"`, `""` or a `file:` URI: the
   * store is for data that must survive the process (InMemoryStore is the in-memory one).
   */
  readonly path: string;
  /**
   * How long (ms) to wait for a database held by another connection before failing with `busy`.
   * Default 5000.
   */
  readonly busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** The options once checked. */
export interface CheckedOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

export const storeError = (error: StoreError): { readonly ok: false } & StoreError => ({
  ok: false,
  ...error,
});

const invalid = (detail: string) => storeError({ reason: "invalidArgument", detail });

/** Options come from the caller's code: checked as untrusted, so a bad one is a typed refusal. */
export const checkOptions = (options: unknown): Result<CheckedOptions, StoreError> => {
  if (typeof options !== "object" || options === null) return invalid("options must be an object");
  const { path, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS } = options as Record<string, unknown>;
  if (typeof path !== "string" || path === "") return invalid("path must be a non-empty string");
  if (path.includes("\0")) return invalid("path must not contain a NUL character");
  if (path === ":memory:" || path.startsWith("file:")) {
    return invalid("path must name a file (not :memory: or a file: URI)");
  }
  if (
    typeof busyTimeoutMs !== "number" ||
    !Number.isInteger(busyTimeoutMs) ||
    busyTimeoutMs < 0 ||
    busyTimeoutMs > 0x7fffffff
  ) {
    return invalid("busyTimeoutMs must be an integer from 0 to 2147483647");
  }
  return ok({ path, busyTimeoutMs });
};
