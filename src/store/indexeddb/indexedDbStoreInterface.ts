import type { KeyWithholdingStore } from "../keyWithholdingStore.js";

/**
 * A {@link KeyWithholdingStore} in one IndexedDB database, opened by `openIndexedDbStore`. It
 * behaves as InMemoryStore does; each commit is one `readwrite` transaction over every object
 * store with `durability: "strict"`, resolved once the browser reports it complete. One tab (or
 * worker) owns the database while the store is open: see `IndexedDbStoreOptions.lock`.
 */
export interface IndexedDbStore extends KeyWithholdingStore {
  /** The database name, as given to `openIndexedDbStore`. */
  readonly name: string;
  /**
   * Closes the connection and releases the lock. Idempotent and never throws; every call after
   * it rejects with a `StoreFailure`. A commit already issued still completes (IndexedDB closes
   * a connection only after its transactions finish).
   */
  close(): void;
}
