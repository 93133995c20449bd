import Database from "better-sqlite3";
import { ok, type Result } from "../../result.js";
import type { StoreError } from "../keyWithholdingStore.js";
import { checkIntegrity, classifyDatabase, createSchema } from "./checkDatabase.js";
import { storeErrorOf } from "./sqliteFailure.js";
import {
  type CheckedOptions,
  checkOptions,
  type SqliteStoreOptions,
  storeError,
} from "./sqliteOptions.js";
import { prepareStatements } from "./sqliteStatements.js";
import { SqliteStoreImpl } from "./sqliteStore.js";
import type { SqliteStore } from "./sqliteStoreInterface.js";

/** Settings not offered to callers: the commit-time script compares `synchronous` modes. */
export interface SqliteTuning {
  readonly synchronous: "FULL" | "NORMAL";
}

const DURABLE: SqliteTuning = { synchronous: "FULL" };

const setUp = (
  db: Database.Database,
  options: CheckedOptions,
  tuning: SqliteTuning,
): Result<SqliteStore, StoreError> => {
  // Before the first read: this connection then holds the file until it closes, so a second
  // process (or a second store in this one) cannot write beside it, and WAL needs no -shm file.
  db.pragma("locking_mode = EXCLUSIVE");
  const kind = classifyDatabase(db);
  if (typeof kind === "object") return storeError(kind);
  const damaged = checkIntegrity(db);
  if (damaged !== undefined) return storeError(damaged);
  // Only now does anything write to the file. Page size first: fixed once the file is in WAL mode.
  // 8 KiB pages make a 100,000-peer commit ~15% faster than the default 4 KiB.
  if (kind === "fresh") db.pragma("page_size = 8192");
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (mode !== "wal") {
    return storeError({
      reason: "ioError",
      detail: `open: journal_mode is ${String(mode)}, not wal`,
    });
  }
  // FULL: the WAL is synced at every commit, so a commit that resolved survives power loss.
  db.pragma(`synchronous = ${tuning.synchronous}`);
  // Room for a 100,000-peer table in cache (the default is 2 MiB), so upserting all of it does
  // not read pages back from disk.
  db.pragma("cache_size = -32768");
  // SqliteStoreImpl checkpoints after commits; SQLite's own checkpoint is only a backstop.
  db.pragma("wal_autocheckpoint = 16384");
  // A big commit grows the WAL; after the next checkpoint it is cut back to this size.
  db.pragma("journal_size_limit = 67108864");
  if (kind === "fresh") createSchema(db);
  return ok(new SqliteStoreImpl(options.path, db, prepareStatements(db)));
};

const closeQuietly = (db: Database.Database): void => {
  try {
    db.close();
  } catch {
    // Already failing with the error that matters.
  }
};

/** `openSqliteStore`, with settings the public entry point does not offer. */
export const openSqliteStoreWith = (
  options: SqliteStoreOptions,
  tuning: SqliteTuning,
): Result<SqliteStore, StoreError> => {
  const checked = checkOptions(options);
  if (!checked.ok) return checked;
  let db: Database.Database;
  try {
    db = new Database(checked.value.path, { timeout: checked.value.busyTimeoutMs });
  } catch (error) {
    return storeError(storeErrorOf(error, "open"));
  }
  try {
    const opened = setUp(db, checked.value, tuning);
    if (!opened.ok) closeQuietly(db);
    return opened;
  } catch (error) {
    closeQuietly(db);
    return storeError(storeErrorOf(error, "open"));
  }
};

/**
 * Opens (or creates) the store in the SQLite file at `options.path`. Never throws: a file of
 * another program or a damaged one is `corrupt`, one written by a newer version of this library
 * is `newerSchema` (left untouched), one held by another connection is `busy`, one that cannot
 * be opened or written is `ioError`, bad options are `invalidArgument`. Nothing is ever reset or
 * dropped to make a file fit.
 */
export const openSqliteStore = (options: SqliteStoreOptions): Result<SqliteStore, StoreError> =>
  openSqliteStoreWith(options, DURABLE);
