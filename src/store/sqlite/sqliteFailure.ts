import { type StoreError, type StoreErrorReason, StoreFailure } from "../keyWithholdingStore.js";

// SQLite's primary result codes (better-sqlite3 reports extended ones, e.g. SQLITE_IOERR_WRITE).
const REASON_BY_CODE: ReadonlyMap<string, StoreErrorReason> = new Map([
  ["SQLITE_NOTADB", "corrupt"],
  ["SQLITE_CORRUPT", "corrupt"],
  ["SQLITE_FORMAT", "corrupt"],
  // Our statements are fixed and valid: a generic error ("no such table", …) means the file is
  // not as this library left it.
  ["SQLITE_ERROR", "corrupt"],
  ["SQLITE_SCHEMA", "corrupt"],
  ["SQLITE_BUSY", "busy"],
  ["SQLITE_LOCKED", "busy"],
  ["SQLITE_CANTOPEN", "ioError"],
  ["SQLITE_IOERR", "ioError"],
  ["SQLITE_FULL", "ioError"],
  ["SQLITE_READONLY", "ioError"],
  ["SQLITE_PERM", "ioError"],
  ["SQLITE_AUTH", "ioError"],
  ["SQLITE_NOLFS", "ioError"],
  ["SQLITE_PROTOCOL", "ioError"],
  ["SQLITE_NOMEM", "ioError"],
  ["SQLITE_TOOBIG", "invalidArgument"],
  ["SQLITE_CONSTRAINT", "invalidArgument"],
  ["SQLITE_MISMATCH", "invalidArgument"],
  ["SQLITE_RANGE", "invalidArgument"],
]);

const sqliteCode = (error: unknown): string | undefined => {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  const code = error.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
};

const primaryCode = (code: string): string => code.split("_", 2).join("_");

/**
 * Maps anything better-sqlite3 (or Node, below it) threw to a typed error. Whatever is not a
 * known SQLite code (a missing directory, an addon that failed to load) could not be opened,
 * read or written: `ioError`, with the original message kept in `detail`.
 */
export const storeErrorOf = (error: unknown, context: string): StoreError => {
  const message = error instanceof Error ? error.message : String(error);
  const code = sqliteCode(error);
  if (code === undefined) return { reason: "ioError", detail: `${context}: ${message}` };
  return {
    reason: REASON_BY_CODE.get(primaryCode(code)) ?? "ioError",
    detail: `${context}: ${code}: ${message}`,
  };
};

/** The same, as the `StoreFailure` a store method rejects with (kept as is when it already is one). */
export const storeFailureOf = (error: unknown, context: string): StoreFailure => {
  if (error instanceof StoreFailure) return error;
  const { reason, detail } = storeErrorOf(error, context);
  return new StoreFailure(reason, detail);
};
