/**
 * The schema version this library writes and reads. A database with a higher `user_version` was
 * written by a newer version of the library and is refused (`newerSchema`), never downgraded.
 */
export const SQLITE_SCHEMA_VERSION = 1;

/** `PRAGMA application_id`: "MKWH". Tells a database of this library from any other SQLite file. */
export const SQLITE_APPLICATION_ID = 0x4d4b5748;

/*
 * The tables, exactly as created. An existing database must hold exactly these statements in
 * sqlite_schema (SQLite keeps the text as written), so a schema someone altered is `corrupt`.
 * STRICT: a value of the wrong type is an error, never silently converted. Text keys are the
 * primary keys themselves (WITHOUT ROWID), except requests: their AUTOINCREMENT seq is the order
 * they were formed in, never reused.
 */
export const SCHEMA_STATEMENTS: readonly string[] = [
  "CREATE TABLE peers (key TEXT PRIMARY KEY NOT NULL, snapshot TEXT NOT NULL) STRICT, WITHOUT ROWID",
  "CREATE TABLE requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, txn_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL) STRICT",
  "CREATE TABLE session_notices (key TEXT PRIMARY KEY NOT NULL) STRICT, WITHOUT ROWID",
  "CREATE TABLE received (id TEXT PRIMARY KEY NOT NULL, seq REAL NOT NULL, body TEXT NOT NULL) STRICT, WITHOUT ROWID",
  "CREATE TABLE olm_account (id INTEGER PRIMARY KEY CHECK (id = 0), body TEXT NOT NULL) STRICT",
  "CREATE TABLE olm_sessions (peer TEXT PRIMARY KEY NOT NULL, pickles TEXT NOT NULL) STRICT, WITHOUT ROWID",
  "CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 0), protocol_time REAL NOT NULL) STRICT",
];
