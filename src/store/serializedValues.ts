import { type StoreChanges, StoreFailure } from "./keyWithholdingStore.js";

/*
 * What the durable stores (SQLite, IndexedDB) check alike before a transaction starts: every
 * value is JSON text, every time or order a number. Each store keeps its own key rule, since what
 * a key may hold is the database's business (SQLite stores UTF-8, IndexedDB any string).
 */

export const invalidValue = (detail: string): StoreFailure =>
  new StoreFailure("invalidArgument", detail);

/** Where a refused value is, built only on failure (a commit may hold 100,000 records). */
export const where = (field: string, rowKey?: string): string =>
  rowKey === undefined ? field : `${field} ${JSON.stringify(rowKey)}`;

export const jsonText = (value: unknown, field: string, rowKey?: string): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw invalidValue(`${where(field, rowKey)}: not serialisable as JSON (${message})`);
  }
  if (text === undefined) throw invalidValue(`${where(field, rowKey)}: not serialisable as JSON`);
  return text;
};

/** A NaN time or order would sort nowhere (and SQLite would store it as NULL): refused. */
export const orderNumber = (value: unknown, what: string): number => {
  if (typeof value !== "number" || Number.isNaN(value)) throw invalidValue(`${what}: not a number`);
  return value;
};

export const olmAccountText = (changes: StoreChanges): string | undefined => {
  const account = changes.olmAccount;
  if (account === undefined) return undefined;
  if (typeof account?.pickle !== "string") {
    throw invalidValue("olmAccount: pickle must be a string");
  }
  return jsonText(account, "olmAccount");
};

/**
 * Runs a store's serialiser: its own refusals pass through; anything else it throws (a
 * StoreChanges whose field is not a list, a record that is not an object) is refused as a whole.
 */
export function refusingMalformed<T>(serialize: () => T): T {
  try {
    return serialize();
  } catch (error) {
    if (error instanceof StoreFailure) throw error;
    throw invalidValue(`changes: ${error instanceof Error ? error.message : String(error)}`);
  }
}
