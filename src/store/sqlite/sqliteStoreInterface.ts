import type { KeyWithholdingStore } from "../keyWithholdingStore.js";

// Apart from the implementation, so the public types never name better-sqlite3's.

/**
 * A {@link KeyWithholdingStore} in one SQLite file, opened by `openSqliteStore`. It behaves as
 * InMemoryStore does, and what it commits survives the process being killed and the machine
 * losing power. One process owns the file while the store is open: a second open waits for it
 * (`busy_timeout`), then fails with `busy`.
 */
export interface SqliteStore extends KeyWithholdingStore {
  /** The database file, as given to `openSqliteStore`. */
  readonly path: string;
  /**
   * Closes the database and releases the file. Idempotent and never throws; every call after it
   * rejects with a `StoreFailure`.
   */
  close(): void;
}
