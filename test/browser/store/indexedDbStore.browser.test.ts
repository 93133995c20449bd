import { describe, expect, it, vi } from "vitest";
import {
  INDEXEDDB_SCHEMA_VERSION,
  type IndexedDbStoreOptions,
  openIndexedDbStore,
} from "../../../src/indexeddb.js";
import {
  APPLICATION,
  createSchema,
  STORE_NAMES,
} from "../../../src/store/indexeddb/indexedDbSchema.js";
import { IndexedDbStoreImpl } from "../../../src/store/indexeddb/indexedDbStore.js";
import { openAtVersion } from "../../../src/store/indexeddb/openDatabase.js";
import { lockNameOf } from "../../../src/store/indexeddb/ownershipLock.js";
import {
  emptyChanges,
  type StoreChanges,
  type StoredReceivedWithheld,
} from "../../../src/store/keyWithholdingStore.js";
import { describeStoreContract, received, request, snapshot } from "../../store/storeContract.js";
import { AliceWorld } from "./aliceHarness.js";
import { addFrame, BOB } from "./frameHarness.js";
import {
  contents,
  deleteDatabase,
  exists,
  freshName,
  openStore,
  rawOpen,
  rawWrite,
  refusal,
  rejection,
  sleep,
} from "./idbTestSupport.js";
import { TabWorld } from "./tabHarness.js";

/*
 * The IndexedDB store in real Chromium: the shared store contract (InMemoryStore as reference),
 * the database's schema checks, one owner per database (Web Locks), transactions and connection
 * events, and, in same-origin frames (new JS contexts, as reloaded or second tabs are), a page
 * killed mid-send and reloaded, and two tabs of one client. Raw IndexedDB sets databases up.
 */

/** What alice's page reports once booted, and at the end of its second life. */
interface Boot {
  readonly identity: string;
  readonly pendingAtBoot: readonly string[];
}
interface Done {
  readonly flushed: { readonly requests: readonly { txnId: string; outcome: string }[] };
  readonly state: unknown;
  readonly left: number;
}

describeStoreContract("IndexedDbStore", async () => {
  const name = freshName();
  let current = await openStore(name);
  return {
    store: current,
    reopen: async () => {
      current.close();
      current = await openStore(name);
      return current;
    },
    cleanup: async () => {
      current.close();
      await deleteDatabase(name);
    },
  };
});

/** A real store's database with some data, closed. */
const storeDatabase = async (): Promise<string> => {
  const name = freshName();
  const store = await openStore(name);
  await store.commit({
    ...emptyChanges(),
    peers: Array.from({ length: 20 }, (_, i) => [`peer-${i}`, snapshot(i)] as const),
    requestsAdded: [request("t1")],
    sessionNoticesAdded: ["n1"],
    olmAccount: { pickle: "acct" },
    protocolTime: 9,
  });
  store.close();
  return name;
};

/** A database of version `version` made by hand, with `stores` and the `meta` records given. */
const handMade = async (
  version: number,
  stores: readonly string[],
  meta?: Record<string, unknown>,
): Promise<string> => {
  const name = freshName();
  const db = await rawOpen(name, version, (db) => {
    for (const store of stores) db.createObjectStore(store);
  });
  db.close();
  if (meta !== undefined) {
    await rawWrite(name, ["meta"], (tx) => {
      for (const [key, value] of Object.entries(meta)) tx.objectStore("meta").put(value, key);
    });
  }
  return name;
};

const ourMarker = (schemaVersion: number) => ({ application: APPLICATION, schemaVersion });

describe("IndexedDbStore: the database", () => {
  it("is ours: IndexedDB version 1, exactly our object stores, the marker record", async () => {
    const name = await storeDatabase();
    const seen = (await contents(name)) as {
      version: number;
      stores: string[];
      records: Record<string, [unknown, unknown][]>;
    };
    expect(INDEXEDDB_SCHEMA_VERSION).toBe(1);
    expect(seen.version).toBe(INDEXEDDB_SCHEMA_VERSION);
    expect(seen.stores).toEqual([...STORE_NAMES].sort());
    expect(seen.records.meta).toEqual([
      ["library", ourMarker(1)],
      ["protocolTime", 9],
    ]);
    // Values are the JSON text the library handed over; requests carry their txnId beside it.
    expect(seen.records.requests).toEqual([
      [1, { txnId: "t1", body: JSON.stringify(request("t1")) }],
    ]);
    await deleteDatabase(name);
  });

  it("refuses a newer schema as newerSchema and leaves the database exactly as it was", async () => {
    // A newer library: a higher IndexedDB version (so open(name, 1) raises VersionError).
    const newer = await handMade(2, [...STORE_NAMES, "future"], { library: ourMarker(2) });
    const before = await contents(newer);
    const opened = await refusal({ name: newer });
    expect(opened.reason).toBe("newerSchema");
    expect(opened.detail).toMatch(/schema version 2 \(database version 2\)/);
    expect(await contents(newer)).toEqual(before);
    // Our IndexedDB version, but a marker of a newer schema.
    const marked = await storeDatabase();
    await rawWrite(marked, ["meta"], (tx) => tx.objectStore("meta").put(ourMarker(3), "library"));
    expect((await refusal({ name: marked })).reason).toBe("newerSchema");
    for (const name of [newer, marked]) await deleteDatabase(name);
  });

  it("refuses someone else's database of the same name as corrupt, whatever its version", async () => {
    const sameVersion = await handMade(1, ["users"]);
    await rawWrite(sameVersion, ["users"], (tx) => tx.objectStore("users").put({ n: 1 }, "u1"));
    const higherVersion = await handMade(7, ["meta"], { library: { application: "other", v: 1 } });
    for (const name of [sameVersion, higherVersion]) {
      const before = await contents(name);
      const opened = await refusal({ name });
      expect(opened.reason, name).toBe("corrupt");
      expect(opened.detail).toMatch(/not a database of this library/);
      expect(await contents(name)).toEqual(before);
      await deleteDatabase(name);
    }
  });

  it("refuses a damaged database as corrupt: a store missing, an extra index, no marker", async () => {
    const withoutReceived = await handMade(
      1,
      STORE_NAMES.filter((s) => s !== "received"),
      { library: ourMarker(1) },
    );
    const extraIndex = freshName();
    (
      await rawOpen(extraIndex, 1, (db, tx) => {
        createSchema(db, tx);
        tx.objectStore("peers").createIndex("extra", "x");
      })
    ).close();
    const noMarker = await storeDatabase();
    await rawWrite(noMarker, ["meta"], (tx) => tx.objectStore("meta").delete("library"));
    const details: string[] = [];
    for (const name of [withoutReceived, extraIndex, noMarker]) {
      const opened = await refusal({ name });
      expect(opened.reason, name).toBe("corrupt");
      details.push(opened.detail);
      await deleteDatabase(name);
    }
    expect(details[0]).toMatch(/object stores are \[meta, olmAccount/);
    expect(details[1]).toMatch(/object store peers has indexes \[extra\]/);
    expect(details[2]).toMatch(/no marker record/);
  });

  it("a record that does not decode makes the load reject as corrupt, naming store and key", async () => {
    const name = await storeDatabase();
    await rawWrite(name, ["peers", "olmAccount"], (tx) => {
      tx.objectStore("peers").put("{not json", "peer-7");
      tx.objectStore("olmAccount").put(42, "account");
    });
    const store = await openStore(name);
    const load = await rejection(store.load());
    expect(load.reason).toBe("corrupt");
    expect(load.message).toMatch(/peers record "peer-7": its JSON does not parse/);
    const olm = await rejection(store.loadOlm());
    expect(olm.reason).toBe("corrupt");
    expect(olm.message).toMatch(/olmAccount record "account"/);
    store.close();
    // A key this library never writes (a number) and a request record of the wrong shape.
    await rawWrite(name, ["peers", "sessionNotices"], (tx) => {
      tx.objectStore("peers").put("{}", "peer-7");
      tx.objectStore("sessionNotices").put(1, 5);
    });
    const again = await openStore(name);
    expect((await rejection(again.load())).message).toMatch(/sessionNotices record 5/);
    again.close();
    await rawWrite(name, ["sessionNotices", "requests"], (tx) => {
      tx.objectStore("sessionNotices").delete(5);
      tx.objectStore("requests").put("not a record", 1);
    });
    const third = await openStore(name);
    expect((await rejection(third.load())).message).toMatch(/requests record 1: not a request/);
    third.close();
    await deleteDatabase(name);
  });

  it("refuses bad options as invalidArgument, and creates no database for them", async () => {
    const name = freshName();
    const bad: unknown[] = [
      null,
      "name",
      {},
      { name: "" },
      { name: 3 },
      { name, lock: "shared" },
      { name, lockTimeoutMs: -1 },
      { name, lockTimeoutMs: 1.5 },
      { name, lockTimeoutMs: Number.NaN },
      { name, lockTimeoutMs: 2 ** 31 },
      { name, signal: {} },
      { name, indexedDB: {} },
      { name, locks: { request: 1 } },
      { name, lock: "none", locks: navigator.locks },
    ];
    for (const options of bad) {
      const opened = await openIndexedDbStore(options as IndexedDbStoreOptions);
      expect(opened.ok ? "opened" : opened.reason, JSON.stringify(options)).toBe("invalidArgument");
    }
    expect(await exists(name)).toBe(false);
  });

  it("without the Web Locks API refuses (ioError) unless the caller opts out with lock: none", async () => {
    const name = freshName();
    vi.stubGlobal("navigator", {});
    try {
      const opened = await refusal({ name });
      expect(opened.reason).toBe("ioError");
      expect(opened.detail).toMatch(/navigator\.locks.*lock: "none"/);
      expect(await exists(name)).toBe(false);
      // Opted out: the caller's responsibility, so two opens both succeed.
      const first = await openStore({ name, lock: "none" });
      const second = await openStore({ name, lock: "none" });
      await first.commit({ ...emptyChanges(), protocolTime: 1 });
      expect((await second.load()).protocolTime).toBe(1);
      first.close();
      second.close();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(navigator.locks).toBeDefined();
    await deleteDatabase(name);
  });
});

describe("IndexedDbStore: one owner at a time (Web Locks)", () => {
  it("a second open is busy while the first is open, and succeeds after close", async () => {
    const name = freshName();
    const first = await openStore(name);
    const started = performance.now();
    const waited = await refusal({ name, lockTimeoutMs: 100 });
    expect(waited.reason).toBe("busy");
    expect(waited.detail).toMatch(/held by another tab or worker: waited 100 ms/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect((await refusal({ name, lockTimeoutMs: 0 })).reason).toBe("busy");
    // The first store is unaffected by the refused opens.
    await first.commit({ ...emptyChanges(), protocolTime: 5 });
    // close() lets the lock go within a task (Web Locks are asynchronous), not synchronously.
    first.close();
    const second = await openStore({ name, lockTimeoutMs: 1000 });
    expect((await second.load()).protocolTime).toBe(5);
    second.close();
    await deleteDatabase(name);
  });

  it("a standby open (lockTimeoutMs: Infinity) takes over when the owner closes, state intact", async () => {
    const name = freshName();
    const owner = await openStore(name);
    let settled = false;
    const standby = openIndexedDbStore({ name, lockTimeoutMs: Number.POSITIVE_INFINITY }).then(
      (opened) => {
        settled = true;
        return opened;
      },
    );
    await owner.commit({ ...emptyChanges(), requestsAdded: [request("t1")], protocolTime: 3 });
    await sleep(200);
    expect(settled).toBe(false);
    owner.close();
    const opened = await standby;
    if (!opened.ok) throw new Error(opened.detail);
    expect((await opened.value.load()).requests).toEqual([request("t1")]);
    expect((await opened.value.load()).protocolTime).toBe(3);
    opened.value.close();
    await deleteDatabase(name);
  });

  it("a standby's wait ends with busy when its signal aborts", async () => {
    const name = freshName();
    const owner = await openStore(name);
    const controller = new AbortController();
    const standby = openIndexedDbStore({
      name,
      lockTimeoutMs: Number.POSITIVE_INFINITY,
      signal: controller.signal,
    });
    await sleep(50);
    controller.abort();
    const opened = await standby;
    expect(opened.ok ? "opened" : opened.reason).toBe("busy");
    expect(opened.ok ? "" : opened.detail).toMatch(/aborted/);
    expect((await refusal({ name, signal: AbortSignal.abort() })).reason).toBe("busy");
    owner.close();
    await deleteDatabase(name);
  });

  it("a store whose lock is stolen stops: later calls reject with busy", async () => {
    const name = freshName();
    const store = await openStore(name);
    await navigator.locks.request(lockNameOf(name), { steal: true }, () => undefined);
    await sleep(0);
    expect((await rejection(store.load())).reason).toBe("busy");
    store.close();
    await deleteDatabase(name);
  });
});

describe("IndexedDbStore: transactions and connection events", () => {
  /** A raw connection to a real store's database whose readwrite transactions we can watch. */
  const watched = async (name: string, onTransaction: (tx: IDBTransaction) => void) => {
    const db = await rawOpen(name, INDEXEDDB_SCHEMA_VERSION);
    const transaction = db.transaction.bind(db);
    db.transaction = (stores, mode, options) => {
      const tx = transaction(stores, mode, options);
      if (mode === "readwrite") onTransaction(tx);
      return tx;
    };
    return new IndexedDbStoreImpl(name, db, () => {});
  };

  it("commits in one strict-durability readwrite transaction over every object store", async () => {
    const name = await storeDatabase();
    const seen: IDBTransaction[] = [];
    const store = await watched(name, (tx) => seen.push(tx));
    await store.commit({ ...emptyChanges(), peers: [["p", snapshot(1)]], protocolTime: 10 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.durability).toBe("strict");
    expect(Array.from(seen[0]?.objectStoreNames ?? []).sort()).toEqual([...STORE_NAMES].sort());
    store.close();
    await deleteDatabase(name);
  });

  it("a commit aborted midway rejects with a StoreFailure and leaves nothing of it", async () => {
    const name = await storeDatabase();
    let writesDone = 0;
    const store = await watched(name, (tx) => {
      // Abort once three of the commit's writes have succeeded inside the transaction.
      const objectStore = tx.objectStore.bind(tx);
      tx.objectStore = (storeName) => {
        const target = objectStore(storeName);
        const put = target.put.bind(target);
        target.put = (value, key) => {
          const placed = put(value, key);
          placed.addEventListener("success", () => {
            writesDone += 1;
            if (writesDone === 3) tx.abort();
          });
          return placed;
        };
        return target;
      };
    });
    const before = await store.load();
    const olmBefore = await store.loadOlm();
    const failure = await rejection(
      store.commit({
        ...emptyChanges(),
        peers: [
          ["peer-1", snapshot(100)],
          ["new", snapshot(101)],
        ],
        requestsAdded: [request("t2")],
        sessionNoticesAdded: ["n2"],
        receivedPut: [received("r", 1)],
        olmAccount: { pickle: "changed" },
        olmSessions: [{ peer: "c", pickles: ["s"] }],
        protocolTime: 99,
      }),
    );
    expect(writesDone).toBeGreaterThanOrEqual(3);
    expect(failure.reason).toBe("ioError");
    expect(failure.message).toMatch(/commit: AbortError/);
    expect(await store.load()).toEqual(before);
    expect(await store.loadOlm()).toEqual(olmBefore);
    store.close();
    const reopened = await openStore(name);
    expect(await reopened.load()).toEqual(before);
    reopened.close();
    await deleteDatabase(name);
  });

  it("refuses what cannot be stored as invalidArgument before any transaction; odd keys round-trip", async () => {
    const name = freshName();
    const store = await openStore(name);
    const bad: Partial<StoreChanges>[] = [
      { receivedPut: [{ ...received("r", 1), reason: 1n } as unknown as StoredReceivedWithheld] },
      { receivedPut: [{ ...received("r", 1), seq: Number.NaN }] },
      { sessionNoticesAdded: [7 as unknown as string] },
      { protocolTime: Number.NaN },
      { olmSessions: [{ peer: "c", pickles: [1 as unknown as string] }] },
      { olmAccount: {} as { pickle: string } },
      { peers: "not a list" as unknown as StoreChanges["peers"] },
    ];
    for (const changes of bad) {
      const failure = await rejection(
        store.commit({ ...emptyChanges(), peers: [["p", snapshot(1)]], ...changes }),
      );
      expect(failure.reason, JSON.stringify(Object.keys(changes))).toBe("invalidArgument");
    }
    expect((await store.load()).peers).toEqual([]);
    // IndexedDB keys are UTF-16 strings: a lone surrogate is a key like any other.
    await store.commit({ ...emptyChanges(), peers: [["\uD800lone", snapshot(2)]] });
    store.close();
    const reopened = await openStore(name);
    expect((await reopened.load()).peers).toEqual([["\uD800lone", snapshot(2)]]);
    reopened.close();
    await deleteDatabase(name);
  });

  it("after close every method rejects, and close is idempotent and never throws", async () => {
    const name = freshName();
    const store = await openStore(name);
    store.close();
    store.close();
    for (const call of [store.load(), store.loadOlm(), store.commit(emptyChanges())]) {
      const failure = await rejection(call);
      expect(failure.reason).toBe("ioError");
      expect(failure.message).toMatch(/closed/);
    }
    await deleteDatabase(name);
  });

  it("gives way to another connection's upgrade and then refuses calls as newerSchema", async () => {
    const name = await storeDatabase();
    const store = await openStore(name);
    // Another tab's newer library (or one without our lock) upgrades: not blocked by us.
    const upgraded = await rawOpen(name, 2);
    expect(upgraded.version).toBe(2);
    upgraded.close();
    const failure = await rejection(store.load());
    expect(failure.reason).toBe("newerSchema");
    expect(failure.message).toMatch(/upgrading the database to version 2/);
    // It let its lock go too: the next open gets it and is refused by the schema check.
    expect((await refusal({ name, lockTimeoutMs: 1000 })).reason).toBe("newerSchema");
    await deleteDatabase(name);
  });

  it("gives way when the database is deleted (logout), then refuses calls as ioError", async () => {
    const name = await storeDatabase();
    const store = await openStore(name);
    await deleteDatabase(name);
    const failure = await rejection(store.commit(emptyChanges()));
    expect(failure.reason).toBe("ioError");
    expect(failure.message).toMatch(/deleted/);
    // A new store under the same name starts empty: the deletion was the caller's.
    const fresh = await openStore({ name, lockTimeoutMs: 1000 });
    expect((await fresh.load()).peers).toEqual([]);
    fresh.close();
    await deleteDatabase(name);
  });

  it("an upgrade blocked by a connection that never closes is busy, and is never applied", async () => {
    const name = await storeDatabase();
    const stubborn = await rawOpen(name);
    stubborn.onversionchange = null; // an old tab that ignores versionchange
    const before = await contents(name);
    const started = performance.now();
    const opened = await openAtVersion(indexedDB, name, 2, { timeoutMs: 100, signal: undefined });
    expect(opened.ok ? "opened" : opened.reason).toBe("busy");
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    stubborn.close();
    // Opens queue per database: this one runs after the abandoned upgrade, which aborted.
    expect(await contents(name)).toEqual(before);
    await deleteDatabase(name);
  });
});

describe("IndexedDbStore: a page restart and two tabs (same-origin frames, new JS contexts)", () => {
  it("a page killed after its m.no_olm reached the homeserver resends it on reload: delivered exactly once", async () => {
    const name = freshName();
    const world = new AliceWorld(name);
    try {
      // First life: alice shares with bob, who has no one-time keys, so an m.no_olm goes out.
      const reached = world.holdNextWithheldAnswer();
      const first = addFrame("alice.html");
      const boot1 = await world.reports.next<Boot>("boot");
      expect(boot1.pendingAtBoot).toEqual([]);
      await reached;
      first.remove(); // the kill: the homeserver has the m.no_olm, alice never saw the answer
      expect(world.withheldToBob()).toHaveLength(1);
      const [killedSend] = world.sends.filter((s) => s.eventType === "m.room_key.withheld");
      expect(killedSend).toBeDefined();

      // Second life: a new JS context opens the same database (the dead page's lock is gone).
      world.plan = "resume";
      const second = addFrame("alice.html");
      const boot2 = await world.reports.next<Boot>("boot");
      const done = await world.reports.next<Done>("done");
      second.remove();
      expect(boot2.identity).toBe(boot1.identity); // the Olm account came back from IndexedDB
      expect(boot2.pendingAtBoot).toEqual([killedSend?.txnId]); // the outbox survived the kill
      const withheldSends = world.sends.filter((s) => s.eventType === "m.room_key.withheld");
      expect(withheldSends).toEqual([killedSend, killedSend]); // resent with the same txnId
      expect(done.flushed.requests).toEqual([
        expect.objectContaining({ txnId: killedSend?.txnId, outcome: "sent" }),
      ]);
      expect(done.state).toEqual(
        expect.objectContaining({
          value: { olm: { unreachable: "noticeDelivered" }, reply: "idle" },
        }),
      );
      expect(done.left).toBe(0);
      // The homeserver de-duplicated by txnId: bob's inbox has it once.
      const delivered = world.withheldToBob();
      expect(delivered).toHaveLength(1);
      expect(delivered[0]?.txnId).toBe(killedSend?.txnId);
      expect(delivered[0]?.content).toEqual(expect.objectContaining({ code: "m.no_olm" }));
      expect(world.hs.sync(BOB.userId, BOB.deviceId)).toHaveLength(1);
      expect(world.hs.violations).toEqual([]);
      // Nothing lost: what the second life committed is what a third one would find.
      const store = await openStore(name);
      const state = await store.load();
      expect(state.requests).toEqual([]);
      expect(state.peers).toEqual([
        [
          expect.stringContaining(BOB.deviceId),
          expect.objectContaining({
            value: expect.objectContaining({ olm: { unreachable: "noticeDelivered" } }),
          }),
        ],
      ]);
      expect((await store.loadOlm())?.account.pickle).toEqual(expect.any(String));
      store.close();
    } finally {
      world.dispose();
      await deleteDatabase(name);
    }
  });

  it("two tabs open the store at once: exactly one owns it, the other is busy; a dead owner's lock is released", async () => {
    const name = freshName();
    const tabs = new TabWorld(name, 300);
    try {
      const frames = new Map(["A", "B"].map((tab) => [tab, addFrame(`tab.html?tab=${tab}`)]));
      const reports = [await tabs.next(), await tabs.next()];
      const owners = reports.filter((r) => r.ok);
      expect(owners).toHaveLength(1);
      expect(reports.filter((r) => !r.ok).map((r) => r.reason)).toEqual(["busy"]);
      const owner = owners[0]?.tab ?? "";
      // The owner tab dies (closed, crashed): the browser frees its lock; a new tab gets it.
      frames.get(owner)?.remove();
      const c = addFrame("tab.html?tab=C");
      const third = await tabs.next();
      expect(third).toEqual({ tab: "C", ok: true, peersAtOpen: [`owner-${owner}`] });
      c.remove();
      for (const frame of frames.values()) frame.remove();
    } finally {
      tabs.dispose();
      await deleteDatabase(name);
    }
  });

  it("a standby tab (lockTimeoutMs: Infinity) takes over when the owner tab closes, with its state", async () => {
    const name = freshName();
    const tabs = new TabWorld(name, Number.POSITIVE_INFINITY);
    try {
      const a = addFrame("tab.html?tab=A");
      expect(await tabs.next()).toEqual({ tab: "A", ok: true, peersAtOpen: [] });
      const b = addFrame("tab.html?tab=B");
      await sleep(300);
      expect(tabs.pending).toBe(0); // B waits for the lock
      a.remove();
      expect(await tabs.next()).toEqual({ tab: "B", ok: true, peersAtOpen: ["owner-A"] });
      b.remove();
    } finally {
      tabs.dispose();
      await deleteDatabase(name);
    }
  });
});
