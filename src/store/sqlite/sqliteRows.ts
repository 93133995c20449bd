import type { StoredOlmAccount, StoredOlmSessions } from "../keyWithholdingStore.js";
import { StoreFailure } from "../keyWithholdingStore.js";

/*
 * Reading rows back. A row that does not decode (JSON that does not parse, a value of the wrong
 * type) makes the whole load reject with `corrupt`, naming the table and the row's key: nothing
 * is dropped silently. Everything that decodes is returned as parsed, unchecked, as
 * InMemoryStore does; the library validates each record itself.
 */

const corrupt = (table: string, rowKey: unknown, problem: string): StoreFailure =>
  new StoreFailure("corrupt", `${table} row ${JSON.stringify(rowKey) ?? "?"}: ${problem}`);

/** A raw row's column as text. */
export const textAt = (row: unknown, index: number, table: string, rowKey: unknown): string => {
  const value = Array.isArray(row) ? (row[index] as unknown) : undefined;
  if (typeof value !== "string") throw corrupt(table, rowKey, "a column is not text");
  return value;
};

/** A raw row's first column, the row's key. */
export const keyOf = (row: unknown, table: string): string => textAt(row, 0, table, "?");

export const parseAt = (row: unknown, index: number, table: string, rowKey: string): unknown => {
  const text = textAt(row, index, table, rowKey);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw corrupt(table, rowKey, "its JSON does not parse");
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const olmAccountOf = (row: unknown): StoredOlmAccount => {
  const account = parseAt(row, 0, "olm_account", "0");
  if (!isRecord(account) || typeof account.pickle !== "string") {
    throw corrupt("olm_account", "0", "not an account with a pickle");
  }
  return account as unknown as StoredOlmAccount;
};

export const olmSessionsOf = (row: unknown): StoredOlmSessions => {
  const peer = keyOf(row, "olm_sessions");
  const pickles = parseAt(row, 1, "olm_sessions", peer);
  if (!Array.isArray(pickles) || !pickles.every((p) => typeof p === "string")) {
    throw corrupt("olm_sessions", peer, "pickles are not a list of strings");
  }
  return { peer, pickles };
};

export const protocolTimeOf = (row: unknown): number | undefined => {
  if (row === undefined) return undefined;
  const value = Array.isArray(row) ? (row[0] as unknown) : undefined;
  if (typeof value !== "number") throw corrupt("meta", "0", "protocol_time is not a number");
  return value;
};
