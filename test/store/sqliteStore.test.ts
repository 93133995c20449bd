import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore, SQLITE_SCHEMA_VERSION, type SqliteStore } from "../../src/sqlite.js";
import {
  emptyChanges,
  type StoreChanges,
  type StoredReceivedWithheld,
  StoreFailure,
} from "../../src/store/keyWithholdingStore.js";
import { SQLITE_APPLICATION_ID } from "../../src/store/sqlite/sqliteSchema.js";
import { prepareStatements } from "../../src/store/sqlite/sqliteStatements.js";
import { SqliteStoreImpl } from "../../src/store/sqlite/sqliteStore.js";
import { describeStoreContract, received, request, snapshot } from "./storeContract.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "kw-sqlite-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => path.join(root, `store-${++files}.db`);

const open = (file: string): SqliteStore => {
  const opened = openSqliteStore({ path: file });
  if (!opened.ok) throw new Error(`${opened.reason}: ${opened.detail}`);
  return opened.value;
};

/** The error an open returned, or a test failure if it opened. */
const refusal = (options: Parameters<typeof openSqliteStore>[0]) => {
  const opened = openSqliteStore(options);
  if (opened.ok) {
    opened.value.close();
    throw new Error("expected the open to fail");
  }
  return opened;
};

/** A raw connection, for setting a file up or looking at it while no store holds it. */
const withRaw = <T>(file: string, body: (db: Database.Database) => T): T => {
  const db = new Database(file);
  try {
    return body(db);
  } finally {
    db.close();
  }
};

/** A real store file with some data, closed. */
const storeFile = async (): Promise<string> => {
  const file = freshPath();
  const store = open(file);
  await store.commit({
    ...emptyChanges(),
    peers: Array.from({ length: 2000 }, (_, i) => [`peer-${i}`, snapshot(i)] as const),
    requestsAdded: [request("t1")],
    olmAccount: { pickle: "acct" },
  });
  store.close();
  return file;
};

/** The folder's files and the database's bytes: what "left untouched" compares. */
const contents = (file: string) => ({
  files: fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith(path.basename(file))),
  sha256: createHash("sha256").update(fs.readFileSync(file)).digest("hex"),
});

describeStoreContract("SqliteStore", async () => {
  const file = freshPath();
  let current = open(file);
  return {
    store: current,
    reopen: async () => {
      current.close();
      current = open(file);
      return current;
    },
    cleanup: async () => {
      current.close();
      for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(`${file}${suffix}`, { force: true });
    },
  };
});

describe("SqliteStore: the file", () => {
  it("is ours: WAL journal, schema version and application id set", () => {
    const file = freshPath();
    const store = open(file);
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    store.close();
    withRaw(file, (db) => {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      expect(db.pragma("application_id", { simple: true })).toBe(SQLITE_APPLICATION_ID);
      expect(db.pragma("page_size", { simple: true })).toBe(8192);
    });
    expect(SQLITE_SCHEMA_VERSION).toBe(1);
  });

  it("checkpoints a big commit just after it resolves, not inside it", async () => {
    const file = freshPath();
    const store = open(file);
    const big = "x".repeat(1000);
    await store.commit({
      ...emptyChanges(),
      peers: Array.from({ length: 6000 }, (_, i) => [`peer-${i}`, { big, i }] as const),
    });
    // Durable in the WAL; the database file has only the schema so far.
    expect(fs.statSync(file).size).toBeLessThan(1024 * 1024);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fs.statSync(file).size).toBeGreaterThan(6 * 1024 * 1024);
    expect((await store.load()).peers).toHaveLength(6000);
    store.close();
  });

  it("opens an empty existing file as a new store", async () => {
    const file = freshPath();
    fs.writeFileSync(file, "");
    const store = open(file);
    await store.commit({ ...emptyChanges(), protocolTime: 7 });
    expect((await store.load()).protocolTime).toBe(7);
    store.close();
  });

  it("is held by one store at a time: a second open is busy until the first closes", () => {
    const file = freshPath();
    const first = open(file);
    const second = refusal({ path: file, busyTimeoutMs: 50 });
    expect(second.reason).toBe("busy");
    first.close();
    open(file).close();
  });

  it("refuses a newer schema version and leaves the file exactly as it was", async () => {
    const file = await storeFile();
    withRaw(file, (db) => {
      // Back to a rollback journal, so that switching it to WAL would show in the header.
      db.pragma("journal_mode = DELETE");
      db.pragma("user_version = 2");
    });
    const before = contents(file);
    const opened = refusal({ path: file });
    expect(opened.reason).toBe("newerSchema");
    expect(opened.detail).toMatch(/version 2/);
    expect(contents(file)).toEqual(before);
  });

  it("refuses random bytes as corrupt and leaves them", () => {
    const file = freshPath();
    fs.writeFileSync(file, randomBytes(64 * 1024));
    const before = contents(file);
    expect(refusal({ path: file }).reason).toBe("corrupt");
    expect(contents(file)).toEqual(before);
  });

  it("refuses a truncated or garbled database as corrupt", async () => {
    const truncated = await storeFile();
    fs.truncateSync(truncated, Math.floor(fs.statSync(truncated).size / 2));
    expect(refusal({ path: truncated }).reason).toBe("corrupt");

    const garbled = await storeFile();
    const fd = fs.openSync(garbled, "r+");
    fs.writeSync(fd, randomBytes(4096), 0, 4096, 4096 * 3);
    fs.closeSync(fd);
    const opened = refusal({ path: garbled });
    expect(opened.reason).toBe("corrupt");

    const header = await storeFile();
    const hfd = fs.openSync(header, "r+");
    fs.writeSync(hfd, Buffer.from("not sqlite at all"), 0, 16, 0);
    fs.closeSync(hfd);
    expect(refusal({ path: header }).reason).toBe("corrupt");
  });

  it("refuses someone else's SQLite database instead of adopting it", () => {
    const file = freshPath();
    withRaw(file, (db) => db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"));
    const before = contents(file);
    const opened = refusal({ path: file });
    expect(opened.reason).toBe("corrupt");
    expect(opened.detail).toMatch(/not a database of this library/);
    expect(contents(file)).toEqual(before);
  });

  it("refuses our database once its schema was changed", async () => {
    const changes: readonly string[] = [
      "DROP TABLE received",
      "CREATE INDEX extra ON received (seq)",
      "CREATE TRIGGER t AFTER INSERT ON peers BEGIN SELECT 1; END",
      "PRAGMA user_version = 0",
    ];
    for (const sql of changes) {
      const file = await storeFile();
      withRaw(file, (db) => db.exec(sql));
      expect(refusal({ path: file }).reason, sql).toBe("corrupt");
    }
  });

  it("fails with ioError where the file cannot be opened or created", () => {
    const folder = fs.mkdtempSync(path.join(root, "dir-"));
    expect(refusal({ path: folder }).reason).toBe("ioError");
    expect(refusal({ path: path.join(root, "missing", "x.db") }).reason).toBe("ioError");
    const plain = path.join(folder, "plain-file");
    fs.writeFileSync(plain, "x");
    expect(refusal({ path: path.join(plain, "x.db") }).reason).toBe("ioError");
  });

  it("fails with ioError on a file system it may not write (/proc refuses even root)", () => {
    expect(refusal({ path: "/proc/key-withholding-test.db" }).reason).toBe("ioError");
  });

  it("refuses bad options as invalidArgument", () => {
    const bad: unknown[] = [
      null,
      {},
      { path: "" },
      { path: ":memory:" },
      { path: "file:x.db" },
      { path: "a\0b" },
      { path: 3 },
      { path: freshPath(), busyTimeoutMs: -1 },
      { path: freshPath(), busyTimeoutMs: 1.5 },
    ];
    for (const options of bad) {
      const opened = openSqliteStore(options as Parameters<typeof openSqliteStore>[0]);
      expect(opened.ok ? "opened" : opened.reason, JSON.stringify(options)).toBe("invalidArgument");
    }
  });
});

describe("SqliteStore: failures are typed", () => {
  const rejection = async (promise: Promise<unknown>): Promise<StoreFailure> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreFailure);
    return error as StoreFailure;
  };

  it("after close every method rejects, and close is idempotent", async () => {
    const store = open(freshPath());
    store.close();
    store.close();
    for (const call of [store.load(), store.loadOlm(), store.commit(emptyChanges())]) {
      const failure = await rejection(call);
      expect(failure.reason).toBe("ioError");
      expect(failure.message).toMatch(/closed/);
    }
  });

  it("a commit SQLite cannot store unchanged rejects with invalidArgument and writes nothing", async () => {
    const store = open(freshPath());
    const bad: Partial<StoreChanges>[] = [
      { receivedPut: [{ ...received("r", 1), reason: 1n } as unknown as StoredReceivedWithheld] },
      { peers: [["\uD800lone", snapshot(1)]] },
      { sessionNoticesAdded: [7 as unknown as string] },
      { protocolTime: Number.NaN },
      { olmSessions: [{ peer: "c", pickles: [1 as unknown as string] }] },
      { olmAccount: {} as { pickle: string } },
    ];
    for (const changes of bad) {
      const failure = await rejection(
        store.commit({ ...emptyChanges(), peers: [["p", snapshot(1)]], ...changes }),
      );
      expect(failure.reason).toBe("invalidArgument");
    }
    expect((await store.load()).peers).toEqual([]);
    store.close();
  });

  it("an error inside the transaction rolls all of it back", async () => {
    const file = freshPath();
    open(file).close();
    // A temporary trigger is not part of the file's schema: it fails one statement mid-commit.
    const db = new Database(file);
    db.exec(
      "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.received BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const store = new SqliteStoreImpl(file, db, prepareStatements(db));
    const failure = await rejection(
      store.commit({
        ...emptyChanges(),
        peers: [["p", snapshot(1)]],
        requestsAdded: [request("t")],
        receivedPut: [received("r", 1)],
        olmAccount: { pickle: "a" },
        protocolTime: 3,
      }),
    );
    expect(failure.message).toMatch(/boom/);
    expect(await store.load()).toEqual({
      peers: [],
      requests: [],
      sessionNotices: [],
      received: [],
      protocolTime: undefined,
    });
    expect(await store.loadOlm()).toBeUndefined();
    store.close();
  });

  it("a row whose JSON does not parse makes load reject as corrupt, naming table and key", async () => {
    const file = await storeFile();
    withRaw(file, (db) => {
      db.prepare("UPDATE peers SET snapshot = '{not json' WHERE key = 'peer-7'").run();
      db.prepare("UPDATE olm_account SET body = '[]'").run();
    });
    const store = open(file);
    const failure = await rejection(store.load());
    expect(failure.reason).toBe("corrupt");
    expect(failure.message).toMatch(/peers row "peer-7"/);
    expect((await rejection(store.loadOlm())).reason).toBe("corrupt");
    store.close();
  });
});

describe("SqliteStore: durability", () => {
  it("keeps every resolved commit when the process is killed", async () => {
    const file = freshPath();
    const fixture = fileURLToPath(new URL("./fixtures/commitThenKill.ts", import.meta.url));
    const n = 40;
    const child = spawnSync(process.execPath, ["--import", "tsx", fixture, file, String(n)], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.stderr).toBe("");
    expect(child.stdout).toBe(`committed ${n}\n`);
    expect(child.signal).toBe("SIGKILL");
    // Never checkpointed: the commits are only in the WAL, which the reopen must replay.
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    const store = open(file);
    const state = await store.load();
    expect(state.peers).toHaveLength(n);
    expect(state.requests.map((r) => (r as { txnId: string }).txnId)).toEqual(
      Array.from({ length: n }, (_, i) => `txn-${i}`),
    );
    expect(state.protocolTime).toBe(n - 1);
    store.close();
  });
});
