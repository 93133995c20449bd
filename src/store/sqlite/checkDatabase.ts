import type Database from "better-sqlite3";
import type { StoreError } from "../keyWithholdingStore.js";
import { SCHEMA_STATEMENTS, SQLITE_APPLICATION_ID, SQLITE_SCHEMA_VERSION } from "./sqliteSchema.js";

/** What an opened file turned out to be: new (to be created), ours, or refused. */
export type DatabaseKind = "fresh" | "ours" | StoreError;

const corrupt = (detail: string): StoreError => ({ reason: "corrupt", detail });

// Objects SQLite makes itself (sqlite_sequence, autoindexes) are not part of what we compare.
const SCHEMA_QUERY =
  "SELECT type, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

const sameSchema = (objects: readonly unknown[]): boolean => {
  const expected = [...SCHEMA_STATEMENTS].sort();
  const found = objects
    .map((row) => (Array.isArray(row) && row[0] === "table" ? row[1] : undefined))
    .sort();
  return found.length === expected.length && found.every((sql, i) => sql === expected[i]);
};

/**
 * Reads the header and schema only: nothing is written, so a file refused here is left exactly
 * as it was. A file with no objects and no ids is fresh; one with our application id must have
 * our version and exactly our tables; anything else is someone else's database.
 */
export const classifyDatabase = (db: Database.Database): DatabaseKind => {
  const applicationId = db.pragma("application_id", { simple: true });
  const version = db.pragma("user_version", { simple: true });
  const objects = db.prepare(SCHEMA_QUERY).raw(true).all();
  if (applicationId === 0 && version === 0 && objects.length === 0) return "fresh";
  if (applicationId !== SQLITE_APPLICATION_ID) {
    return corrupt(`not a database of this library (application_id ${String(applicationId)})`);
  }
  if (typeof version === "number" && version > SQLITE_SCHEMA_VERSION) {
    return {
      reason: "newerSchema",
      detail: `schema version ${version}; this library reads version ${SQLITE_SCHEMA_VERSION}`,
    };
  }
  if (version !== SQLITE_SCHEMA_VERSION)
    return corrupt(`unknown schema version ${String(version)}`);
  if (!sameSchema(objects)) return corrupt("the tables are not this library's schema");
  return "ours";
};

/** `PRAGMA quick_check`: SQLite's own check of every page and index, without reading values. */
export const checkIntegrity = (db: Database.Database): StoreError | undefined => {
  const result = db.pragma("quick_check", { simple: true });
  return result === "ok" ? undefined : corrupt(`integrity check failed: ${String(result)}`);
};

/** Creates the schema, version and application id in one transaction: all of it or nothing. */
export const createSchema = (db: Database.Database): void => {
  db.transaction(() => {
    for (const sql of SCHEMA_STATEMENTS) db.exec(sql);
    db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
};
