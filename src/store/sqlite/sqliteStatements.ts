import type Database from "better-sqlite3";

type Statement<P extends unknown[]> = Database.Statement<P, unknown>;

/** Every statement the store runs, prepared once when it opens. */
export interface SqliteStatements {
  readonly putPeer: Statement<[string, string]>;
  readonly deleteRequest: Statement<[string]>;
  readonly putRequest: Statement<[string, string]>;
  readonly addSessionNotice: Statement<[string]>;
  readonly deleteReceived: Statement<[string]>;
  readonly putReceived: Statement<[string, number, string]>;
  readonly putOlmAccount: Statement<[string]>;
  readonly putOlmSessions: Statement<[string, string]>;
  readonly deleteOlmSessions: Statement<[string]>;
  readonly putProtocolTime: Statement<[number]>;
  readonly selectPeers: Statement<[]>;
  readonly selectRequests: Statement<[]>;
  readonly selectSessionNotices: Statement<[]>;
  readonly selectReceived: Statement<[]>;
  readonly selectOlmAccount: Statement<[]>;
  readonly selectOlmSessions: Statement<[]>;
  readonly selectProtocolTime: Statement<[]>;
}

export const prepareStatements = (db: Database.Database): SqliteStatements => {
  // Rows come back as arrays (raw), so decoding does not depend on column names.
  const select = (sql: string): Statement<[]> => db.prepare<[]>(sql).raw(true);
  return {
    putPeer: db.prepare(
      "INSERT INTO peers (key, snapshot) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET snapshot = excluded.snapshot",
    ),
    deleteRequest: db.prepare("DELETE FROM requests WHERE txn_id = ?"),
    // An upsert, not a replace: a request written again keeps its place in formation order.
    putRequest: db.prepare(
      "INSERT INTO requests (txn_id, body) VALUES (?, ?) ON CONFLICT (txn_id) DO UPDATE SET body = excluded.body",
    ),
    addSessionNotice: db.prepare(
      "INSERT INTO session_notices (key) VALUES (?) ON CONFLICT (key) DO NOTHING",
    ),
    deleteReceived: db.prepare("DELETE FROM received WHERE id = ?"),
    putReceived: db.prepare(
      "INSERT INTO received (id, seq, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
    ),
    putOlmAccount: db.prepare(
      "INSERT INTO olm_account (id, body) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    ),
    putOlmSessions: db.prepare(
      "INSERT INTO olm_sessions (peer, pickles) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET pickles = excluded.pickles",
    ),
    deleteOlmSessions: db.prepare("DELETE FROM olm_sessions WHERE peer = ?"),
    putProtocolTime: db.prepare(
      "INSERT INTO meta (id, protocol_time) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET protocol_time = excluded.protocol_time",
    ),
    selectPeers: select("SELECT key, snapshot FROM peers"),
    selectRequests: select("SELECT txn_id, body FROM requests ORDER BY seq"),
    selectSessionNotices: select("SELECT key FROM session_notices"),
    selectReceived: select("SELECT id, body FROM received ORDER BY seq, id"),
    selectOlmAccount: select("SELECT body FROM olm_account WHERE id = 0"),
    selectOlmSessions: select("SELECT peer, pickles FROM olm_sessions"),
    selectProtocolTime: select("SELECT protocol_time FROM meta WHERE id = 0"),
  };
};
