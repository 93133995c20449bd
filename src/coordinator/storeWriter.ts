import { describeThrown } from "../edges/describeThrown.js";
import { settleWithin } from "../edges/settleWithin.js";
import type { JsonObject } from "../events/json.js";
import type { OlmStateChanges } from "../olm/olmBackend.js";
import type {
  KeyWithholdingStore,
  StoreChanges,
  StoredOlmAccount,
  StoredReceivedWithheld,
  StoredRequest,
} from "../store/keyWithholdingStore.js";

/** How a commit ended. A failed one is kept and written again with the next commit. */
export type CommitOutcome =
  | { readonly kind: "committed" }
  | { readonly kind: "nothingToCommit" }
  | { readonly kind: "failed"; readonly detail: string };

export interface StoreWriterParts {
  /** Undefined: nothing is durable (the default); changes are dropped, not kept. */
  readonly store: KeyWithholdingStore | undefined;
  /** The Olm backend's changes, taken at each commit so they land in the same transaction. */
  readonly takeOlmChanges: () => OlmStateChanges | undefined;
  readonly callTimeoutMs: number;
  readonly onFailure: (detail: string) => void;
}

/**
 * Collects what an operation changed and writes it to the store as one transaction. Commits run
 * one at a time in order, so a later commit never lands before an earlier one. Last write wins
 * per key within what is pending; a request formed and acknowledged before a commit never
 * reaches the store at all.
 *
 * A commit the store rejects (or that hangs past callTimeoutMs) is reported and its changes go
 * back under whatever changed since, so the next commit writes them: the library keeps working
 * in memory while the store is down, and durability resumes with the first commit that lands.
 */
export class StoreWriter {
  #peers = new Map<string, JsonObject>();
  #added = new Map<string, StoredRequest>();
  #removed = new Set<string>();
  #sessionNotices = new Set<string>();
  #receivedPut = new Map<string, StoredReceivedWithheld>();
  #receivedRemoved = new Set<string>();
  #olmAccount: StoredOlmAccount | undefined;
  #olmSessions = new Map<string, readonly string[]>();
  #protocolTime: number | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #commits = 0;

  constructor(private readonly parts: StoreWriterParts) {}

  get durable(): boolean {
    return this.parts.store !== undefined;
  }

  peer(key: string, record: JsonObject): void {
    if (this.durable) this.#peers.set(key, record);
  }

  requestAdded(request: StoredRequest): void {
    if (this.durable) this.#added.set(request.txnId, request);
  }

  requestRemoved(txnId: string): void {
    if (!this.durable) return;
    if (this.#added.delete(txnId)) return;
    this.#removed.add(txnId);
  }

  sessionNotice(key: string): void {
    if (this.durable) this.#sessionNotices.add(key);
  }

  receivedPut(record: StoredReceivedWithheld): void {
    if (!this.durable) return;
    this.#receivedRemoved.delete(record.id);
    this.#receivedPut.set(record.id, record);
  }

  receivedRemoved(id: string): void {
    if (!this.durable) return;
    this.#receivedPut.delete(id);
    this.#receivedRemoved.add(id);
  }

  protocolTime(at: number): void {
    if (this.durable && (this.#protocolTime === undefined || at > this.#protocolTime)) {
      this.#protocolTime = at;
    }
  }

  /** Commits issued so far that the store accepted. */
  get commits(): number {
    return this.#commits;
  }

  /**
   * Writes everything pending as one transaction, after every commit issued before it. Resolves
   * once durable (or failed, reported); never rejects.
   */
  commit(): Promise<CommitOutcome> {
    const run = this.#queue.then(() => this.#commitPending());
    this.#queue = run;
    return run;
  }

  async #commitPending(): Promise<CommitOutcome> {
    const { store } = this.parts;
    if (store === undefined) return { kind: "nothingToCommit" };
    this.#takeOlm();
    const changes = this.#drain();
    if (changes === undefined) return { kind: "nothingToCommit" };
    const result = await settleWithin("store.commit", this.parts.callTimeoutMs, () =>
      store.commit(changes),
    );
    if (result.settled) {
      this.#commits += 1;
      return { kind: "committed" };
    }
    this.#restore(changes);
    this.parts.onFailure(result.detail);
    return { kind: "failed", detail: result.detail };
  }

  #takeOlm(): void {
    let olm: OlmStateChanges | undefined;
    try {
      olm = this.parts.takeOlmChanges();
    } catch (thrown) {
      this.parts.onFailure(`olm.takeChanges threw ${describeThrown(thrown, 120)}`);
      return;
    }
    if (olm === undefined) return;
    if (olm.account !== undefined) this.#olmAccount = olm.account;
    for (const sessions of olm.sessions) this.#olmSessions.set(sessions.peer, sessions.pickles);
  }

  #drain(): StoreChanges | undefined {
    const empty =
      this.#peers.size === 0 &&
      this.#added.size === 0 &&
      this.#removed.size === 0 &&
      this.#sessionNotices.size === 0 &&
      this.#receivedPut.size === 0 &&
      this.#receivedRemoved.size === 0 &&
      this.#olmAccount === undefined &&
      this.#olmSessions.size === 0 &&
      this.#protocolTime === undefined;
    if (empty) return undefined;
    const changes: StoreChanges = {
      peers: [...this.#peers],
      requestsAdded: [...this.#added.values()],
      requestsRemoved: [...this.#removed],
      sessionNoticesAdded: [...this.#sessionNotices],
      receivedPut: [...this.#receivedPut.values()],
      receivedRemoved: [...this.#receivedRemoved],
      olmAccount: this.#olmAccount,
      olmSessions: [...this.#olmSessions].map(([peer, pickles]) => ({ peer, pickles })),
      protocolTime: this.#protocolTime,
    };
    this.#peers = new Map();
    this.#added = new Map();
    this.#removed = new Set();
    this.#sessionNotices = new Set();
    this.#receivedPut = new Map();
    this.#receivedRemoved = new Set();
    this.#olmAccount = undefined;
    this.#olmSessions = new Map();
    this.#protocolTime = undefined;
    return changes;
  }

  /** Puts a failed commit's changes back under what changed since (newer changes win). */
  #restore(failed: StoreChanges): void {
    for (const [key, record] of failed.peers) {
      if (!this.#peers.has(key)) this.#peers.set(key, record);
    }
    for (const request of failed.requestsAdded) {
      if (this.#removed.delete(request.txnId)) continue; // acknowledged since: never store it
      this.#added.set(request.txnId, request);
    }
    for (const txnId of failed.requestsRemoved) this.#removed.add(txnId);
    for (const key of failed.sessionNoticesAdded) this.#sessionNotices.add(key);
    for (const record of failed.receivedPut) {
      if (!this.#receivedPut.has(record.id) && !this.#receivedRemoved.has(record.id)) {
        this.#receivedPut.set(record.id, record);
      }
    }
    for (const id of failed.receivedRemoved) {
      if (!this.#receivedPut.has(id)) this.#receivedRemoved.add(id);
    }
    if (this.#olmAccount === undefined) this.#olmAccount = failed.olmAccount;
    for (const { peer, pickles } of failed.olmSessions) {
      if (!this.#olmSessions.has(peer)) this.#olmSessions.set(peer, pickles);
    }
    if (failed.protocolTime !== undefined) this.protocolTime(failed.protocolTime);
  }
}
