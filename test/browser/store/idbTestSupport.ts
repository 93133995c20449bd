import {
  type IndexedDbStore,
  type IndexedDbStoreOptions,
  openIndexedDbStore,
} from "../../../src/indexeddb.js";
import type { StoreError } from "../../../src/store/keyWithholdingStore.js";
import { StoreFailure } from "../../../src/store/keyWithholdingStore.js";

/*
 * Helpers for the IndexedDB store's browser tests: unique database names, opens that must succeed
 * or must fail, and raw IndexedDB (no store) to set a database up or look at it.
 */

/** A database name no other test uses. */
export const freshName = (): string => `kw-test-${crypto.randomUUID()}`;

export const openStore = async (
  options: IndexedDbStoreOptions | string,
): Promise<IndexedDbStore> => {
  const opened = await openIndexedDbStore(
    typeof options === "string" ? { name: options } : options,
  );
  if (!opened.ok)
    throw new Error(`expected the open to succeed: ${opened.reason}: ${opened.detail}`);
  return opened.value;
};

/** The error an open returned, or a test failure if it opened. */
export const refusal = async (options: IndexedDbStoreOptions): Promise<StoreError> => {
  const opened = await openIndexedDbStore(options);
  if (opened.ok) {
    opened.value.close();
    throw new Error("expected the open to fail");
  }
  return { reason: opened.reason, detail: opened.detail };
};

/** The StoreFailure a call rejected with, or a test failure if it resolved. */
export const rejection = async (promise: Promise<unknown>): Promise<StoreFailure> => {
  const error = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (!(error instanceof StoreFailure)) throw error;
  return error;
};

const done = <T>(request: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/**
 * A raw connection, at `version` (default: the current one), with `upgrade` run in the upgrade
 * transaction. Closes itself when another connection wants to upgrade or delete.
 */
export const rawOpen = (
  name: string,
  version?: number,
  upgrade?: (db: IDBDatabase, tx: IDBTransaction) => void,
): Promise<IDBDatabase> => {
  const request = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
  request.onupgradeneeded = () => {
    const tx = request.transaction;
    if (tx !== null) upgrade?.(request.result, tx);
  };
  return done(request).then((db) => {
    db.onversionchange = () => db.close();
    return db;
  });
};

/** Runs `body` in a readwrite transaction over `stores` of a raw connection, then closes it. */
export const rawWrite = async (
  name: string,
  stores: string[],
  body: (tx: IDBTransaction) => void,
): Promise<void> => {
  const db = await rawOpen(name);
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(stores, "readwrite");
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
      body(tx);
    });
  } finally {
    db.close();
  }
};

/** What "left untouched" compares: version, stores and every record, read raw. */
export const contents = async (name: string): Promise<unknown> => {
  const db = await rawOpen(name);
  try {
    const stores = Array.from(db.objectStoreNames).sort();
    const records: Record<string, unknown> = {};
    if (stores.length > 0) {
      const tx = db.transaction(stores, "readonly");
      for (const store of stores) {
        const keys = await done(tx.objectStore(store).getAllKeys());
        const values = await done(tx.objectStore(store).getAll());
        records[store] = keys.map((k, i) => [k, values[i]]);
      }
    }
    return { version: db.version, stores, records };
  } finally {
    db.close();
  }
};

export const deleteDatabase = (name: string): Promise<void> =>
  done(indexedDB.deleteDatabase(name)).then(() => undefined);

/** Whether a database of this name exists in this origin. */
export const exists = async (name: string): Promise<boolean> =>
  (await indexedDB.databases()).some((info) => info.name === name);

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
