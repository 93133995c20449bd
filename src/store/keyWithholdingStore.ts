import type { JsonObject } from "../events/json.js";

/*
 * The one store interface the library writes through. Small on purpose, so a client can put it
 * on the store its crypto layer already has (docs/persistence.md): three methods, plain JSON-able
 * values, and one rule — `commit` applies a whole `StoreChanges` atomically or not at all.
 *
 * Async, so IndexedDB fits as well as SQLite. The library keeps its working state in memory and
 * writes through: it reads the store once (`loadOlm` when the Olm backend opens, `load` when the
 * coordinator opens) and then only commits, one transaction per operation (a share outcome for
 * 10,000 devices is one commit). Commits are issued one at a time, in order.
 *
 * Everything a store returns is untrusted: the library checks every record it loads, reports what
 * it cannot read, and never acts on it.
 */

/** One message of a stored to-device request. */
export interface StoredMessage {
  readonly userId: string;
  readonly deviceId: string;
  readonly content: JsonObject;
  /** Why the message was sent (which notice, reply or per-session notice); opaque to the store. */
  readonly origin: JsonObject;
}

/**
 * A to-device request formed and not yet acknowledged: everything needed to send it again with
 * the same txnId, which the homeserver de-duplicates by.
 */
export interface StoredRequest {
  readonly txnId: string;
  readonly eventType: string;
  readonly messages: readonly StoredMessage[];
}

/** A per-session withheld notice we received (for explanations). */
export interface StoredReceivedWithheld {
  /** The record's key: unique per sending device, kind and room + session. */
  readonly id: string;
  /** Order of recording; restoring replays records in this order. */
  readonly seq: number;
  readonly senderKey: string;
  readonly roomId: string;
  readonly sessionId: string;
  readonly code: string;
  readonly reason?: string;
}

/** The Olm backend's saved state: pickles, encrypted with a key only the client holds. */
export interface StoredOlmAccount {
  readonly pickle: string;
}

/** All saved Olm sessions with one peer identity key (curve25519), best first. */
export interface StoredOlmSessions {
  readonly peer: string;
  readonly pickles: readonly string[];
}

/** What `loadOlm` returns: the account's pickle and each peer's session pickles, best first. */
export interface StoredOlmState {
  readonly account: StoredOlmAccount;
  readonly sessions: readonly StoredOlmSessions[];
}

/** Everything the coordinator reads back at start-up (untrusted, checked record by record). */
export interface StoredState {
  /** Peer key → peer machine snapshot (`{ value, context }`). */
  readonly peers: readonly (readonly [string, unknown])[];
  /** Requests not yet acknowledged, in the order they were formed. */
  readonly requests: readonly unknown[];
  /** Keys of the per-session notices already queued or sent (one per device and session). */
  readonly sessionNotices: readonly string[];
  readonly received: readonly unknown[];
  /** The highest protocol time committed, or undefined for a new store. */
  readonly protocolTime: number | undefined;
}

/**
 * What one operation changed. A store applies it as one transaction: all of it or none of it.
 * Within one `StoreChanges`, removals and additions never name the same key.
 */
export interface StoreChanges {
  /** Peer machine snapshots to write (insert or replace), by peer key. */
  readonly peers: readonly (readonly [string, JsonObject])[];
  readonly requestsAdded: readonly StoredRequest[];
  /** Acknowledged (or abandoned) requests, by txnId. */
  readonly requestsRemoved: readonly string[];
  readonly sessionNoticesAdded: readonly string[];
  readonly receivedPut: readonly StoredReceivedWithheld[];
  /** Records evicted (bounded memory), by id. */
  readonly receivedRemoved: readonly string[];
  /** The account's new pickle, when it changed. */
  readonly olmAccount: StoredOlmAccount | undefined;
  /** Peers whose sessions changed: the full new list each (empty: delete them all). */
  readonly olmSessions: readonly StoredOlmSessions[];
  /** Protocol time's new high-water mark, when it moved. */
  readonly protocolTime: number | undefined;
}

/**
 * Where the library keeps what must survive a restart: three async methods over plain JSON, so
 * SQLite, IndexedDB or the client's own database fit (docs/persistence.md).
 */
export interface KeyWithholdingStore {
  /** The saved Olm account and sessions, or undefined if none were ever committed. */
  loadOlm(): Promise<StoredOlmState | undefined>;
  /** Everything else, once, when the coordinator opens. */
  load(): Promise<StoredState>;
  /** Applies `changes` atomically; resolves once they are durable. */
  commit(changes: StoreChanges): Promise<void>;
}

/** Why a store could not be opened or used. Never a silent reset, never silent loss. */
export type StoreErrorReason =
  /** Written by a newer version of this library (a schema version this one does not know). */
  | "newerSchema"
  /** Not a database of this library, or damaged. */
  | "corrupt"
  /** The database is locked or in use elsewhere. */
  | "busy"
  /** Could not be opened, read or written (permissions, disk full, …). */
  | "ioError"
  | "invalidArgument";

/** A store's refusal as data, as `openSqliteStore` returns it. */
export interface StoreError {
  readonly reason: StoreErrorReason;
  readonly detail: string;
}

/** Thrown by a store method (and caught, typed, by the library). */
export class StoreFailure extends Error {
  /** `reason` is what callers branch on; `detail` (the message) is for logs. */
  constructor(
    readonly reason: StoreErrorReason,
    detail: string,
  ) {
    super(detail);
    this.name = "StoreFailure";
  }
}

/** A `StoreChanges` that changes nothing, to fill in (stores and tests start from it). */
export const emptyChanges = (): StoreChanges => ({
  peers: [],
  requestsAdded: [],
  requestsRemoved: [],
  sessionNoticesAdded: [],
  receivedPut: [],
  receivedRemoved: [],
  olmAccount: undefined,
  olmSessions: [],
  protocolTime: undefined,
});
