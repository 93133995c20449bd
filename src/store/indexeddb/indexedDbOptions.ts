/// <reference lib="dom" preserve="true" />
import { ok, type Result } from "../../result.js";
import type { StoreError } from "../keyWithholdingStore.js";

/** What `openIndexedDbStore` takes. Checked at run time: a bad option is `invalidArgument`. */
export interface IndexedDbStoreOptions {
  /** The IndexedDB database name (non-empty). One account, one name. */
  readonly name: string;
  /**
   * How this context makes sure it is the only one writing the database. `"exclusive"`
   * (default): an exclusive Web Lock named after the database, held from open until `close()`
   * and released by the browser if the tab or worker dies; a second open waits `lockTimeoutMs`,
   * then fails with `busy`. Without the Web Locks API (an insecure context) the open fails with
   * `ioError` rather than risk two owners. `"none"`: no lock; the caller guarantees a single
   * owner (e.g. only a SharedWorker opens it).
   */
  readonly lock?: "exclusive" | "none";
  /**
   * How long (ms) to wait for another owner (the lock's holder, or an older connection that
   * blocks an upgrade) before failing with `busy`. Default 5000; 0 fails at once;
   * `Infinity` waits until the owner leaves (a standby tab), cancellable with `signal`.
   */
  readonly lockTimeoutMs?: number;
  /** Ends the wait: the open then fails with `busy`. Has no effect once the store is open. */
  readonly signal?: AbortSignal;
  /** The IndexedDB factory. Default: `globalThis.indexedDB` (a page's or a worker's). */
  readonly indexedDB?: IDBFactory;
  /** The Web Locks manager. Default: `navigator.locks`. Only with `lock: "exclusive"`. */
  readonly locks?: LockManager;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const MAX_TIMEOUT_MS = 0x7fffffff;

/** The options once checked, defaults filled in. */
export interface CheckedOptions {
  readonly name: string;
  readonly lock: "exclusive" | "none";
  /** An integer, or `Infinity`. */
  readonly lockTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly indexedDB: IDBFactory | undefined;
  readonly locks: LockManager | undefined;
}

export const storeError = (error: StoreError): { readonly ok: false } & StoreError => ({
  ok: false,
  ...error,
});

const invalid = (detail: string) => storeError({ reason: "invalidArgument", detail });

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === "object" &&
  value !== null &&
  names.every((name) => typeof Reflect.get(value, name) === "function");

const isSignal = (value: unknown): value is AbortSignal =>
  hasMethods(value, ["addEventListener", "removeEventListener"]) &&
  typeof Reflect.get(value as object, "aborted") === "boolean";

const isTimeout = (value: unknown): value is number =>
  value === Number.POSITIVE_INFINITY ||
  (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_TIMEOUT_MS);

/** Options come from the caller's code: checked as untrusted, so a bad one is a typed refusal. */
export const checkOptions = (options: unknown): Result<CheckedOptions, StoreError> => {
  if (typeof options !== "object" || options === null) return invalid("options must be an object");
  const get = (key: string): unknown => Reflect.get(options, key);
  const name = get("name");
  if (typeof name !== "string" || name === "") return invalid("name must be a non-empty string");
  const lock = get("lock") ?? "exclusive";
  if (lock !== "exclusive" && lock !== "none") return invalid('lock must be "exclusive" or "none"');
  const lockTimeoutMs = get("lockTimeoutMs") ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!isTimeout(lockTimeoutMs)) {
    return invalid("lockTimeoutMs must be an integer from 0 to 2147483647, or Infinity");
  }
  const signal = get("signal");
  if (signal !== undefined && !isSignal(signal)) return invalid("signal must be an AbortSignal");
  const indexedDB = get("indexedDB");
  if (indexedDB !== undefined && !hasMethods(indexedDB, ["open", "deleteDatabase"])) {
    return invalid("indexedDB must be an IDBFactory");
  }
  const locks = get("locks");
  if (locks !== undefined && !hasMethods(locks, ["request"])) {
    return invalid("locks must be a LockManager");
  }
  // With no lock there is nothing to wait for: a lock option then is a mistake, not a no-op.
  if (lock === "none" && locks !== undefined)
    return invalid('locks makes no sense with lock: "none"');
  return ok({
    name,
    lock,
    lockTimeoutMs,
    signal,
    indexedDB: indexedDB as IDBFactory | undefined,
    locks: locks as LockManager | undefined,
  });
};
