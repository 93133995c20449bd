/// <reference lib="dom" preserve="true" />
import {
  type StoreChanges,
  type StoredOlmState,
  type StoredState,
  StoreFailure,
} from "../keyWithholdingStore.js";
import {
  keyAt,
  olmAccountOf,
  olmSessionsOf,
  pairs,
  parseText,
  protocolTimeOf,
  receivedOf,
  requestOf,
} from "./indexedDbRecords.js";
import { ACCOUNT_KEY, PROTOCOL_TIME_KEY, STORE_NAMES, type StoreName } from "./indexedDbSchema.js";
import type { IndexedDbStore } from "./indexedDbStoreInterface.js";
import { type Fail, onSuccess, runTransaction } from "./runTransaction.js";
import { type SerializedChanges, serializeChanges } from "./serializeChanges.js";

const STATE_STORES: readonly StoreName[] = [
  "peers",
  "requests",
  "sessionNotices",
  "received",
  "meta",
];
const OLM_STORES: readonly StoreName[] = ["olmAccount", "olmSessions"];
// The value of a session-notice record: only its key matters.
const PRESENT = 1;

/** Places every write of one commit, in the order InMemoryStore applies them. */
const apply = (tx: IDBTransaction, c: SerializedChanges, fail: Fail): void => {
  const peers = tx.objectStore("peers");
  for (const [key, json] of c.peers) peers.put(json, key);
  const requests = tx.objectStore("requests");
  const byTxnId = requests.index("txnId");
  // Removals and additions never name the same txnId, so each lookup decides alone.
  for (const txnId of c.requestsRemoved) {
    onSuccess(byTxnId.getKey(txnId), fail, "commit", (seq) => {
      if (seq !== undefined) requests.delete(seq);
    });
  }
  for (const [txnId, body] of c.requestsAdded) {
    // A request written again keeps its seq, so its place in formation order.
    onSuccess(byTxnId.getKey(txnId), fail, "commit", (seq) => {
      if (seq === undefined) requests.add({ txnId, body });
      else requests.put({ txnId, body }, seq);
    });
  }
  const notices = tx.objectStore("sessionNotices");
  for (const key of c.sessionNoticesAdded) notices.put(PRESENT, key);
  const received = tx.objectStore("received");
  for (const id of c.receivedRemoved) received.delete(id);
  for (const [id, seq, body] of c.receivedPut) received.put({ seq, body }, id);
  if (c.olmAccount !== undefined) tx.objectStore("olmAccount").put(c.olmAccount, ACCOUNT_KEY);
  const sessions = tx.objectStore("olmSessions");
  for (const [peer, json] of c.olmSessions) {
    if (json === undefined) sessions.delete(peer);
    else sessions.put(json, peer);
  }
  if (c.protocolTime !== undefined) {
    tx.objectStore("meta").put(c.protocolTime, PROTOCOL_TIME_KEY);
  }
};

const placeLoad = (tx: IDBTransaction): (() => StoredState) => {
  const peers = tx.objectStore("peers");
  const peerKeys = peers.getAllKeys();
  const peerValues = peers.getAll();
  const requests = tx.objectStore("requests");
  const requestSeqs = requests.getAllKeys();
  const requestValues = requests.getAll(); // in key order: formation order
  const notices = tx.objectStore("sessionNotices").getAllKeys();
  const received = tx.objectStore("received");
  const receivedKeys = received.getAllKeys();
  const receivedValues = received.getAll();
  const protocolTime = tx.objectStore("meta").get(PROTOCOL_TIME_KEY);
  return () => ({
    peers: pairs(peerKeys.result, peerValues.result, "peers").map(
      ([key, value]) => [key, parseText(value, "peers", key)] as const,
    ),
    requests: requestValues.result.map((record, i) => requestOf(record, requestSeqs.result[i])),
    sessionNotices: notices.result.map((_, i) => keyAt(notices.result, i, "sessionNotices")),
    // Recording order, as the SQLite store returns them (ties by id).
    received: pairs(receivedKeys.result, receivedValues.result, "received")
      .map(([id, value]) => ({ id, ...receivedOf(id, value) }))
      .sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r) => r.body),
    protocolTime: protocolTimeOf(protocolTime.result),
  });
};

const placeLoadOlm = (tx: IDBTransaction): (() => StoredOlmState | undefined) => {
  const account = tx.objectStore("olmAccount").get(ACCOUNT_KEY);
  const sessions = tx.objectStore("olmSessions");
  const peers = sessions.getAllKeys();
  const pickles = sessions.getAll();
  return () => {
    if (account.result === undefined) return undefined;
    return {
      account: olmAccountOf(account.result),
      sessions: pairs(peers.result, pickles.result, "olmSessions").map(olmSessionsOf),
    };
  };
};

/** Why a store that is no longer usable refuses calls. */
const CLOSED = new StoreFailure("ioError", "the store is closed");

export class IndexedDbStoreImpl implements IndexedDbStore {
  #db: IDBDatabase | undefined;
  #ended: StoreFailure | undefined;
  readonly #releaseLock: () => void;

  /** Takes over `db` (open, checked) and the lock's release; both end with the store. */
  constructor(
    readonly name: string,
    db: IDBDatabase,
    releaseLock: () => void,
  ) {
    this.#db = db;
    this.#releaseLock = releaseLock;
    // Another tab upgrades or deletes the database: give way at once (the upgrade waits for
    // this connection to close), and refuse every later call as the reason says.
    db.onversionchange = (event) => {
      this.end(
        event.newVersion === null
          ? new StoreFailure("ioError", "the database was deleted by another connection")
          : new StoreFailure(
              "newerSchema",
              `another connection is upgrading the database to version ${event.newVersion}`,
            ),
      );
    };
    // The browser closed the connection itself (site data cleared, disk failure).
    db.onclose = () => {
      this.end(new StoreFailure("ioError", "the browser closed the database connection"));
    };
  }

  /** Makes the store unusable for `failure`'s reason: closes the connection, releases the lock. */
  end(failure: StoreFailure): void {
    if (this.#ended !== undefined) return;
    this.#ended = failure;
    const db = this.#db;
    this.#db = undefined;
    try {
      db?.close();
    } catch {
      // Nothing to report to: every commit that resolved is already durable.
    }
    this.#releaseLock();
  }

  #open(operation: string): IDBDatabase {
    const db = this.#db;
    if (db === undefined) {
      const why = this.#ended ?? CLOSED;
      throw new StoreFailure(why.reason, `${operation}: ${why.message}`);
    }
    return db;
  }

  async loadOlm(): Promise<StoredOlmState | undefined> {
    return runTransaction(this.#open("loadOlm"), OLM_STORES, "readonly", "loadOlm", placeLoadOlm);
  }

  async load(): Promise<StoredState> {
    return runTransaction(this.#open("load"), STATE_STORES, "readonly", "load", placeLoad);
  }

  async commit(changes: StoreChanges): Promise<void> {
    const db = this.#open("commit");
    // Serialised first, so a value that cannot be stored never starts a transaction.
    const serialized = serializeChanges(changes);
    return runTransaction(db, STORE_NAMES, "readwrite", "commit", (tx, fail) => {
      apply(tx, serialized, fail);
      return () => undefined;
    });
  }

  close(): void {
    this.end(CLOSED);
  }
}
