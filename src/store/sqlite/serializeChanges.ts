import type { StoreChanges } from "../keyWithholdingStore.js";
import {
  invalidValue,
  jsonText,
  olmAccountText,
  orderNumber,
  refusingMalformed,
  where,
} from "../serializedValues.js";

/** One commit's rows, as text: everything that can fail is done before the transaction starts. */
export interface SerializedChanges {
  readonly peers: readonly (readonly [string, string])[];
  readonly requestsRemoved: readonly string[];
  readonly requestsAdded: readonly (readonly [string, string])[];
  readonly sessionNoticesAdded: readonly string[];
  readonly receivedRemoved: readonly string[];
  readonly receivedPut: readonly (readonly [string, number, string])[];
  readonly olmAccount: string | undefined;
  readonly olmSessions: readonly (readonly [string, string])[];
  readonly protocolTime: number | undefined;
  /** Roughly how much this commit writes (UTF-16 units of its JSON), to pace checkpoints. */
  readonly size: number;
}

// SQLite stores UTF-8: a lone surrogate would come back as U+FFFD, a different key. A cheap test
// for any surrogate first, since keys (user and device ids) almost never have one.
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const key = (value: unknown, field: string): string => {
  if (typeof value !== "string") throw invalidValue(`${field}: a key must be a string`);
  if (SURROGATE.test(value) && LONE_SURROGATE.test(value)) {
    throw invalidValue(`${where(field, value)}: a key must be well-formed UTF-16`);
  }
  return value;
};

const olmSessions = (changes: StoreChanges): (readonly [string, string])[] =>
  changes.olmSessions.map((s) => {
    const peer = key(s.peer, "olmSessions");
    if (!Array.isArray(s.pickles) || !s.pickles.every((p) => typeof p === "string")) {
      throw invalidValue(`${where("olmSessions", peer)}: pickles must be strings`);
    }
    return [peer, jsonText(s.pickles, "olmSessions", peer)] as const;
  });

const lengthOf = (rows: readonly (readonly unknown[])[]): number => {
  let length = 0;
  for (const row of rows)
    for (const cell of row) if (typeof cell === "string") length += cell.length;
  return length;
};

const serialize = (changes: StoreChanges): Omit<SerializedChanges, "size"> => ({
  peers: changes.peers.map(([k, snapshot]) => {
    const peer = key(k, "peers");
    return [peer, jsonText(snapshot, "peers", peer)] as const;
  }),
  requestsRemoved: changes.requestsRemoved.map((t) => key(t, "requestsRemoved")),
  requestsAdded: changes.requestsAdded.map((r) => {
    const txnId = key(r?.txnId, "requestsAdded");
    return [txnId, jsonText(r, "requestsAdded", txnId)] as const;
  }),
  sessionNoticesAdded: changes.sessionNoticesAdded.map((k) => key(k, "sessionNoticesAdded")),
  receivedRemoved: changes.receivedRemoved.map((id) => key(id, "receivedRemoved")),
  receivedPut: changes.receivedPut.map((r) => {
    const id = key(r?.id, "receivedPut");
    if (typeof r.seq !== "number" || Number.isNaN(r.seq)) {
      throw invalidValue(`${where("receivedPut", id)}: seq is not a number`);
    }
    return [id, r.seq, jsonText(r, "receivedPut", id)] as const;
  }),
  olmAccount: olmAccountText(changes),
  olmSessions: olmSessions(changes),
  protocolTime:
    changes.protocolTime === undefined
      ? undefined
      : orderNumber(changes.protocolTime, "protocolTime"),
});

/**
 * Checks and serialises `changes` as InMemoryStore does (JSON text, the same values), and also
 * refuses what SQLite could not store unchanged. Throws a `StoreFailure("invalidArgument")`.
 */
export const serializeChanges = (changes: StoreChanges): SerializedChanges =>
  refusingMalformed(() => {
    const rows = serialize(changes);
    const size =
      lengthOf(rows.peers) +
      lengthOf(rows.requestsAdded) +
      lengthOf(rows.receivedPut) +
      lengthOf(rows.olmSessions) +
      (rows.olmAccount?.length ?? 0);
    return { ...rows, size };
  });
