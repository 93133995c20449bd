import type { StoredOlmAccount, StoredOlmSessions } from "../keyWithholdingStore.js";
import { StoreFailure } from "../keyWithholdingStore.js";

/*
 * Reading records back. A record that does not decode (a key or value of the wrong type, JSON
 * that does not parse) makes the whole load reject with `corrupt`, naming the object store and
 * the key: nothing is dropped silently. What decodes is returned as parsed, unchecked, as
 * InMemoryStore does; the library validates each record itself.
 */

const corrupt = (store: string, key: unknown, problem: string): StoreFailure =>
  new StoreFailure("corrupt", `${store} record ${describeKey(key)}: ${problem}`);

const describeKey = (key: unknown): string => {
  if (typeof key === "string" || typeof key === "number") return JSON.stringify(key);
  return `of type ${typeof key}`;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A record's key, which this library only ever writes as a string. */
export const keyAt = (keys: readonly unknown[], i: number, store: string): string => {
  const key = keys[i];
  if (typeof key !== "string") throw corrupt(store, key, "its key is not a string");
  return key;
};

/** JSON text written by a commit, parsed. */
export const parseText = (value: unknown, store: string, key: unknown): unknown => {
  if (typeof value !== "string") throw corrupt(store, key, "its value is not JSON text");
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw corrupt(store, key, "its JSON does not parse");
  }
};

/** Keys and values of one store, read in the same transaction: they pair up by position. */
export const pairs = (
  keys: readonly unknown[],
  values: readonly unknown[],
  store: string,
): (readonly [string, unknown])[] => {
  if (keys.length !== values.length) {
    throw corrupt(store, "?", "keys and values do not pair up");
  }
  return keys.map((_, i) => [keyAt(keys, i, store), values[i]] as const);
};

/** A requests record, `{ txnId, body }`, keyed by its seq. */
export const requestOf = (record: unknown, seq: unknown): unknown => {
  if (!isRecord(record) || typeof record.txnId !== "string") {
    throw corrupt("requests", seq, "not a request record");
  }
  return parseText(record.body, "requests", record.txnId);
};

/** A received record, `{ seq, body }`: its seq and its parsed body. */
export const receivedOf = (id: string, record: unknown): { seq: number; body: unknown } => {
  if (!isRecord(record) || typeof record.seq !== "number") {
    throw corrupt("received", id, "not a received record");
  }
  return { seq: record.seq, body: parseText(record.body, "received", id) };
};

export const olmAccountOf = (value: unknown): StoredOlmAccount => {
  const account = parseText(value, "olmAccount", "account");
  if (!isRecord(account) || typeof account.pickle !== "string") {
    throw corrupt("olmAccount", "account", "not an account with a pickle");
  }
  return account as unknown as StoredOlmAccount;
};

export const olmSessionsOf = ([peer, value]: readonly [string, unknown]): StoredOlmSessions => {
  const pickles = parseText(value, "olmSessions", peer);
  if (!Array.isArray(pickles) || !pickles.every((p) => typeof p === "string")) {
    throw corrupt("olmSessions", peer, "pickles are not a list of strings");
  }
  return { peer, pickles };
};

export const protocolTimeOf = (value: unknown): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw corrupt("meta", "protocolTime", "not a number");
  return value;
};
