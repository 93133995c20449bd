/// <reference lib="dom" preserve="true" />
import { ok, type Result } from "../../result.js";
import { type StoreError, StoreFailure } from "../keyWithholdingStore.js";
import { storeErrorOf } from "./indexedDbFailure.js";
import { checkOptions, type IndexedDbStoreOptions, storeError } from "./indexedDbOptions.js";
import { IndexedDbStoreImpl } from "./indexedDbStore.js";
import type { IndexedDbStore } from "./indexedDbStoreInterface.js";
import { openDatabase } from "./openDatabase.js";
import { acquireOwnershipLock, type OwnershipLock } from "./ownershipLock.js";

const NO_LOCK: OwnershipLock = { release: () => {} };

const defaultFactory = (): IDBFactory | undefined => {
  const factory: unknown = Reflect.get(globalThis, "indexedDB");
  return typeof factory === "object" && factory !== null ? (factory as IDBFactory) : undefined;
};

const defaultLocks = (): LockManager | undefined => {
  const navigator: unknown = Reflect.get(globalThis, "navigator");
  const locks: unknown =
    typeof navigator === "object" && navigator !== null
      ? Reflect.get(navigator, "locks")
      : undefined;
  return typeof locks === "object" && locks !== null ? (locks as LockManager) : undefined;
};

const open = async (
  options: IndexedDbStoreOptions,
): Promise<Result<IndexedDbStore, StoreError>> => {
  const checked = checkOptions(options);
  if (!checked.ok) return checked;
  const { name, lock, lockTimeoutMs, signal } = checked.value;
  const factory = checked.value.indexedDB ?? defaultFactory();
  if (factory === undefined) {
    return storeError({ reason: "ioError", detail: "open: IndexedDB is not available here" });
  }
  // The lock can be stolen at any time: before the store exists the open fails, after it the
  // store stops.
  const stolen = "another tab or worker took the store's lock";
  let store: IndexedDbStoreImpl | undefined;
  let lost = false;
  const onLost = () => {
    lost = true;
    store?.end(new StoreFailure("busy", stolen));
  };
  let held = NO_LOCK;
  if (lock === "exclusive") {
    const locks = checked.value.locks ?? defaultLocks();
    // Without Web Locks (an insecure context) two tabs could both write: refuse, never guess.
    if (locks === undefined) {
      return storeError({
        reason: "ioError",
        detail:
          'open: the Web Locks API (navigator.locks) is not available (not a secure context?); pass lock: "none" only if you make sure one context opens this database at a time',
      });
    }
    const acquired = await acquireOwnershipLock(
      locks,
      name,
      { timeoutMs: lockTimeoutMs, signal },
      onLost,
    );
    if (!acquired.ok) return acquired;
    held = acquired.value;
  }
  try {
    const opened = await openDatabase(factory, name, { timeoutMs: lockTimeoutMs, signal });
    if (!opened.ok) {
      held.release();
      return opened;
    }
    if (lost) {
      opened.value.close();
      return storeError({ reason: "busy", detail: `open: ${stolen}` });
    }
    store = new IndexedDbStoreImpl(name, opened.value, () => held.release());
    return ok(store);
  } catch (error) {
    held.release();
    return storeError(storeErrorOf(error, "open"));
  }
};

/**
 * Opens (or creates) the store in the IndexedDB database `options.name`. Never rejects: bad
 * options are `invalidArgument`; a database held by another tab or worker past `lockTimeoutMs`
 * is `busy`; one written by a newer version of this library is `newerSchema`, someone else's or
 * a damaged one `corrupt` (both left untouched); no IndexedDB, no Web Locks (unless `lock:
 * "none"`) or a failing browser store is `ioError`. Nothing is ever reset to make a database fit.
 */
export const openIndexedDbStore = async (
  options: IndexedDbStoreOptions,
): Promise<Result<IndexedDbStore, StoreError>> => {
  try {
    return await open(options);
  } catch (error) {
    return storeError(storeErrorOf(error, "open"));
  }
};
