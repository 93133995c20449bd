/// <reference lib="dom" preserve="true" />

/**
 * The schema version this library writes and reads, which is also the IndexedDB database version.
 * A database of a higher version was written by a newer version of the library and is refused
 * (`newerSchema`), never downgraded.
 */
export const INDEXEDDB_SCHEMA_VERSION = 1;

/** The marker record's `application`: tells a database of this library from any other. */
export const APPLICATION = "matrix-key-withholding";

/** The meta store's key of the marker record; every future schema keeps it where it is. */
export const MARKER_KEY = "library";
/** The meta store's key of the protocol time's high-water mark. */
export const PROTOCOL_TIME_KEY = "protocolTime";
/** The olmAccount store's one key. */
export const ACCOUNT_KEY = "account";

/** The marker record: `{ application, schemaVersion }`. */
export interface MarkerRecord {
  readonly application: string;
  readonly schemaVersion: number;
}

/*
 * Object stores, exactly as created. Keys are out of line and are the library's own keys
 * (peer key, txnId, notice key, record id, peer identity key). Values are JSON text, as the
 * library handed them over, so a load parses what a commit serialised and nothing else. Requests
 * are keyed by an autoincrement seq, their formation order, never reused; a unique index finds
 * them by txnId.
 */
export interface StoreShape {
  readonly autoIncrement: boolean;
  /** Index name → [keyPath, unique]. */
  readonly indexes: Readonly<Record<string, readonly [string, boolean]>>;
}

export const STORES = {
  peers: { autoIncrement: false, indexes: {} },
  requests: { autoIncrement: true, indexes: { txnId: ["txnId", true] } },
  sessionNotices: { autoIncrement: false, indexes: {} },
  received: { autoIncrement: false, indexes: {} },
  olmAccount: { autoIncrement: false, indexes: {} },
  olmSessions: { autoIncrement: false, indexes: {} },
  meta: { autoIncrement: false, indexes: {} },
} as const satisfies Record<string, StoreShape>;

export type StoreName = keyof typeof STORES;

export const STORE_NAMES = Object.keys(STORES).sort() as StoreName[];

/** Inside the upgrade transaction of a new database: every store, then the marker record. */
export const createSchema = (db: IDBDatabase, upgrade: IDBTransaction): void => {
  for (const name of STORE_NAMES) {
    const shape: StoreShape = STORES[name];
    const store = db.createObjectStore(name, { autoIncrement: shape.autoIncrement });
    for (const [index, [keyPath, unique]] of Object.entries(shape.indexes)) {
      store.createIndex(index, keyPath, { unique });
    }
  }
  const marker: MarkerRecord = {
    application: APPLICATION,
    schemaVersion: INDEXEDDB_SCHEMA_VERSION,
  };
  upgrade.objectStore("meta").put(marker, MARKER_KEY);
};

/** What is wrong with the stores' layout, or undefined when it is exactly ours. */
export const layoutProblem = (db: IDBDatabase, tx: IDBTransaction): string | undefined => {
  const names = Array.from(db.objectStoreNames).sort();
  if (names.length !== STORE_NAMES.length || names.some((n, i) => n !== STORE_NAMES[i])) {
    return `its object stores are [${names.join(", ")}], not this library's`;
  }
  for (const name of STORE_NAMES) {
    const shape: StoreShape = STORES[name];
    const store = tx.objectStore(name);
    if (store.keyPath !== null || store.autoIncrement !== shape.autoIncrement) {
      return `object store ${name} is not keyed as this library keys it`;
    }
    const expected = Object.keys(shape.indexes).sort();
    const found = Array.from(store.indexNames).sort();
    if (found.length !== expected.length || found.some((n, i) => n !== expected[i])) {
      return `object store ${name} has indexes [${found.join(", ")}]`;
    }
    for (const [indexName, [keyPath, unique]] of Object.entries(shape.indexes)) {
      const index = store.index(indexName);
      if (index.keyPath !== keyPath || index.unique !== unique || index.multiEntry) {
        return `index ${name}.${indexName} is not this library's`;
      }
    }
  }
  return undefined;
};

export const isMarker = (value: unknown): value is MarkerRecord =>
  typeof value === "object" &&
  value !== null &&
  Reflect.get(value, "application") === APPLICATION &&
  typeof Reflect.get(value, "schemaVersion") === "number";
