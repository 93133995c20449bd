/// <reference lib="dom" preserve="true" />
import type { StoreFailure } from "../keyWithholdingStore.js";
import { storeFailureOf } from "./indexedDbFailure.js";
import type { StoreName } from "./indexedDbSchema.js";

/** Ends the transaction with `failure`: it aborts, and nothing it wrote stays. */
export type Fail = (failure: StoreFailure) => void;

/**
 * Runs one transaction over `stores`. `place` places every request (and may place more from
 * their success handlers) and returns a function that reads the results; it runs once the
 * transaction completed, so the promise resolves only then: for `readwrite`, once the browser
 * reports the data durable (`durability: "strict"`: flushed to disk, not just to the OS).
 * An error, an abort (ours, the browser's, a quota) or a throw rejects with a typed
 * `StoreFailure`; no code runs inside an IndexedDB event handler that could throw past it.
 */
export const runTransaction = <T>(
  db: IDBDatabase,
  stores: readonly StoreName[],
  mode: IDBTransactionMode,
  context: string,
  place: (tx: IDBTransaction, fail: Fail) => () => T,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let tx: IDBTransaction;
    try {
      tx =
        mode === "readwrite"
          ? db.transaction([...stores], mode, { durability: "strict" })
          : db.transaction([...stores], mode);
    } catch (error) {
      reject(storeFailureOf(error, context));
      return;
    }
    let failure: StoreFailure | undefined;
    const fail: Fail = (f) => {
      failure ??= f;
      try {
        tx.abort();
      } catch {
        // Already finished or aborting: the abort handler reports `failure`.
      }
    };
    let read: (() => T) | undefined;
    tx.oncomplete = () => {
      try {
        if (read === undefined) throw new Error("the transaction completed before its requests");
        resolve(read());
      } catch (error) {
        reject(storeFailureOf(error, context));
      }
    };
    tx.onabort = () => {
      const error = tx.error ?? new DOMException("the transaction was aborted", "AbortError");
      reject(failure ?? storeFailureOf(error, context));
    };
    try {
      read = place(tx, fail);
    } catch (error) {
      fail(storeFailureOf(error, context));
    }
  });

/** Runs `then` on the request's result in its success handler; a throw aborts the transaction. */
export const onSuccess = <R>(
  request: IDBRequest<R>,
  fail: Fail,
  context: string,
  then: (result: R) => void,
): void => {
  request.onsuccess = () => {
    try {
      then(request.result);
    } catch (error) {
      fail(storeFailureOf(error, context));
    }
  };
};
