import type Database from "better-sqlite3";
import {
  type StoreChanges,
  type StoredOlmState,
  type StoredState,
  StoreFailure,
} from "../keyWithholdingStore.js";
import { type SerializedChanges, serializeChanges } from "./serializeChanges.js";
import { storeFailureOf } from "./sqliteFailure.js";
import { keyOf, olmAccountOf, olmSessionsOf, parseAt, protocolTimeOf } from "./sqliteRows.js";
import type { SqliteStatements } from "./sqliteStatements.js";
import type { SqliteStore } from "./sqliteStoreInterface.js";

const apply = (s: SqliteStatements, c: SerializedChanges): void => {
  // The order InMemoryStore applies them in: removals before additions.
  for (const [key, json] of c.peers) s.putPeer.run(key, json);
  for (const txnId of c.requestsRemoved) s.deleteRequest.run(txnId);
  for (const [txnId, json] of c.requestsAdded) s.putRequest.run(txnId, json);
  for (const key of c.sessionNoticesAdded) s.addSessionNotice.run(key);
  for (const id of c.receivedRemoved) s.deleteReceived.run(id);
  for (const [id, seq, json] of c.receivedPut) s.putReceived.run(id, seq, json);
  if (c.olmAccount !== undefined) s.putOlmAccount.run(c.olmAccount);
  for (const [peer, json] of c.olmSessions) {
    if (json === "[]") s.deleteOlmSessions.run(peer);
    else s.putOlmSessions.run(peer, json);
  }
  if (c.protocolTime !== undefined) s.putProtocolTime.run(c.protocolTime);
};

const loadState = (s: SqliteStatements): StoredState => ({
  peers: s.selectPeers.all().map((row) => {
    const key = keyOf(row, "peers");
    return [key, parseAt(row, 1, "peers", key)] as const;
  }),
  requests: s.selectRequests
    .all()
    .map((row) => parseAt(row, 1, "requests", keyOf(row, "requests"))),
  sessionNotices: s.selectSessionNotices.all().map((row) => keyOf(row, "session_notices")),
  received: s.selectReceived
    .all()
    .map((row) => parseAt(row, 1, "received", keyOf(row, "received"))),
  protocolTime: protocolTimeOf(s.selectProtocolTime.get()),
});

const loadOlmState = (s: SqliteStatements): StoredOlmState | undefined => {
  const account = s.selectOlmAccount.get();
  if (account === undefined) return undefined;
  return { account: olmAccountOf(account), sessions: s.selectOlmSessions.all().map(olmSessionsOf) };
};

interface Open {
  readonly db: Database.Database;
  readonly commit: Database.Transaction<(changes: SerializedChanges) => void>;
  readonly load: Database.Transaction<() => StoredState>;
  readonly loadOlm: Database.Transaction<() => StoredOlmState | undefined>;
}

/*
 * SQLite's own checkpoint runs inside the commit that crosses its threshold, which would add a
 * copy of the whole WAL (and a sync of the database file) to a big commit. So the threshold is
 * raised as a backstop only, and the store checkpoints just after a commit resolves, once about
 * this much was written since the last checkpoint: the caller's next step (sending what it just
 * stored) goes first. The commit is durable before the checkpoint; a checkpoint that fails or never
 * runs loses nothing, the WAL keeps it.
 */
const CHECKPOINT_AFTER = 4 * 1024 * 1024;

export class SqliteStoreImpl implements SqliteStore {
  #open: Open | undefined;
  #sinceCheckpoint = 0;
  #checkpointScheduled = false;

  constructor(
    readonly path: string,
    db: Database.Database,
    statements: SqliteStatements,
  ) {
    // Reads run in one transaction too, so they see one consistent state.
    this.#open = {
      db,
      commit: db.transaction((changes: SerializedChanges) => apply(statements, changes)),
      load: db.transaction(() => loadState(statements)),
      loadOlm: db.transaction(() => loadOlmState(statements)),
    };
  }

  #run<T>(operation: string, run: (open: Open) => T): T {
    const open = this.#open;
    if (open === undefined) throw new StoreFailure("ioError", `${operation}: the store is closed`);
    try {
      return run(open);
    } catch (error) {
      throw storeFailureOf(error, operation);
    }
  }

  async loadOlm(): Promise<StoredOlmState | undefined> {
    return this.#run("loadOlm", (open) => open.loadOlm());
  }

  async load(): Promise<StoredState> {
    return this.#run("load", (open) => open.load());
  }

  async commit(changes: StoreChanges): Promise<void> {
    // Serialised before the transaction, so a value that cannot be stored never starts one.
    // IMMEDIATE takes the write lock up front; on any error the transaction is rolled back.
    const size = this.#run("commit", (open) => {
      const serialized = serializeChanges(changes);
      open.commit.immediate(serialized);
      return serialized.size;
    });
    this.#sinceCheckpoint += size;
    if (this.#sinceCheckpoint >= CHECKPOINT_AFTER) this.#checkpointSoon();
  }

  #checkpointSoon(): void {
    if (this.#checkpointScheduled) return;
    this.#checkpointScheduled = true;
    setImmediate(() => {
      this.#checkpointScheduled = false;
      try {
        this.#open?.db.pragma("wal_checkpoint(PASSIVE)");
        this.#sinceCheckpoint = 0;
      } catch {
        // Retried after the next commit; until then the WAL holds everything.
      }
    }).unref();
  }

  close(): void {
    const open = this.#open;
    this.#open = undefined;
    try {
      open?.db.close();
    } catch {
      // Nothing to report to: everything committed is already durable in the WAL.
    }
  }
}
