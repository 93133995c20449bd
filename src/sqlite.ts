/**
 * `matrix-key-withholding/sqlite`: the library's store on SQLite (better-sqlite3), for Node.
 * A separate entry point so that the main one, and any browser bundle, never loads a native
 * addon.
 *
 * ```ts
 * const opened = openSqliteStore({ path: "key-withholding.db" });
 * if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`);
 * const store = opened.value; // a KeyWithholdingStore; store.close() when done
 * ```
 *
 * @packageDocumentation
 */

export { openSqliteStore } from "./store/sqlite/openSqliteStore.js";
export type { SqliteStoreOptions } from "./store/sqlite/sqliteOptions.js";
export { SQLITE_SCHEMA_VERSION } from "./store/sqlite/sqliteSchema.js";
export type { SqliteStore } from "./store/sqlite/sqliteStoreInterface.js";
