import type { StoreChanges } from "../keyWithholdingStore.js";
import {
  invalidValue,
  jsonText,
  olmAccountText,
  orderNumber,
  refusingMalformed,
  where,
} from "../serializedValues.js";

/** One commit's records, as JSON text: everything that can fail is done before the transaction. */
export interface SerializedChanges {
  readonly peers: readonly (readonly [string, string])[];
  readonly requestsRemoved: readonly string[];
  /** txnId → JSON, in order of first appearance, the last write winning (as a Map does). */
  readonly requestsAdded: ReadonlyMap<string, string>;
  readonly sessionNoticesAdded: readonly string[];
  readonly receivedRemoved: readonly string[];
  readonly receivedPut: readonly (readonly [string, number, string])[];
  readonly olmAccount: string | undefined;
  /** Peer → JSON list of pickles, or undefined to delete the peer's sessions. */
  readonly olmSessions: readonly (readonly [string, string | undefined])[];
  readonly protocolTime: number | undefined;
}

// Any string is a valid IndexedDB key, lone surrogates included: strings compare by code unit.
const key = (value: unknown, field: string): string => {
  if (typeof value !== "string") throw invalidValue(`${field}: a key must be a string`);
  return value;
};

const olmSessions = (changes: StoreChanges): (readonly [string, string | undefined])[] =>
  changes.olmSessions.map((s) => {
    const peer = key(s.peer, "olmSessions");
    if (!Array.isArray(s.pickles) || !s.pickles.every((p) => typeof p === "string")) {
      throw invalidValue(`${where("olmSessions", peer)}: pickles must be strings`);
    }
    return [peer, s.pickles.length === 0 ? undefined : jsonText(s.pickles, "olmSessions", peer)];
  });

const requestsAdded = (changes: StoreChanges): Map<string, string> => {
  const byTxnId = new Map<string, string>();
  for (const r of changes.requestsAdded) {
    const txnId = key(r?.txnId, "requestsAdded");
    byTxnId.set(txnId, jsonText(r, "requestsAdded", txnId));
  }
  return byTxnId;
};

const serialize = (changes: StoreChanges): SerializedChanges => ({
  peers: changes.peers.map(([k, snapshot]) => {
    const peer = key(k, "peers");
    return [peer, jsonText(snapshot, "peers", peer)] as const;
  }),
  requestsRemoved: changes.requestsRemoved.map((t) => key(t, "requestsRemoved")),
  requestsAdded: requestsAdded(changes),
  sessionNoticesAdded: changes.sessionNoticesAdded.map((k) => key(k, "sessionNoticesAdded")),
  receivedRemoved: changes.receivedRemoved.map((id) => key(id, "receivedRemoved")),
  receivedPut: changes.receivedPut.map((r) => {
    const id = key(r?.id, "receivedPut");
    return [
      id,
      orderNumber(r.seq, `${where("receivedPut", id)}: seq`),
      jsonText(r, "receivedPut", id),
    ];
  }),
  olmAccount: olmAccountText(changes),
  olmSessions: olmSessions(changes),
  protocolTime:
    changes.protocolTime === undefined
      ? undefined
      : orderNumber(changes.protocolTime, "protocolTime"),
});

/**
 * Checks and serialises `changes` as InMemoryStore does (JSON text, the same values). Throws a
 * `StoreFailure("invalidArgument")`, before any transaction exists.
 */
export const serializeChanges = (changes: StoreChanges): SerializedChanges =>
  refusingMalformed(() => serialize(changes));
