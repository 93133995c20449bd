import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/events/json.js";
import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import {
  emptyChanges,
  type KeyWithholdingStore,
  type StoreChanges,
  type StoredOlmState,
  type StoredReceivedWithheld,
  type StoredRequest,
  type StoredState,
} from "../../src/store/keyWithholdingStore.js";

/*
 * What every KeyWithholdingStore must do, as one suite any implementation runs. InMemoryStore is
 * the reference: the property at the end feeds the store under test and an InMemoryStore the same
 * random commits and expects the same loads. Order is part of the contract for requests only
 * (formation order); peers, notices, received records and Olm sessions are compared as sets.
 */

export interface StoreHarness<S extends KeyWithholdingStore> {
  /** A new, empty store. */
  readonly store: S;
  /** Closes the store (where that means anything) and opens it again over the same data. */
  reopen(): Promise<S>;
  /** Closes whatever is open and removes every file. */
  cleanup(): Promise<void>;
}

export const request = (txnId: string, body = "m"): StoredRequest => ({
  txnId,
  eventType: "m.room_key.withheld",
  messages: [
    {
      userId: "@bob:example.org",
      deviceId: "BOBDEVICE",
      content: { code: "m.no_olm", reason: body, sender_key: "k".repeat(43) },
      origin: { kind: "noOlm", noticeId: 1 },
    },
  ],
});

export const received = (id: string, seq: number): StoredReceivedWithheld => ({
  id,
  seq,
  senderKey: "s".repeat(43),
  roomId: "!room:example.org",
  sessionId: `session-${id}`,
  code: "m.unverified",
  reason: "not verified",
});

export const snapshot = (n: number): JsonObject => ({
  value: { olm: "established", reply: "idle" },
  context: { noticeId: n, unreachableSince: null, replyId: 0 },
});

const byFirst = <T>(items: readonly T[], keyOf: (item: T) => string): T[] =>
  [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

const recordId = (record: unknown): string =>
  typeof record === "object" && record !== null && "id" in record ? String(record.id) : "";

/** A load in a form that compares equal whatever order the unordered parts came back in. */
export const normalised = (state: StoredState): StoredState => ({
  peers: byFirst(state.peers, ([key]) => key),
  requests: state.requests,
  sessionNotices: byFirst(state.sessionNotices, (key) => key),
  received: byFirst(state.received, recordId),
  protocolTime: state.protocolTime,
});

export const normalisedOlm = (state: StoredOlmState | undefined): StoredOlmState | undefined =>
  state === undefined
    ? undefined
    : { account: state.account, sessions: byFirst(state.sessions, (s) => s.peer) };

// Small key pools, so random commits overwrite, remove and re-add the same keys.
const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("a", "b", "c", "@u:x|D", "é", "") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
);
const jsonObjectArb = fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), {
  maxKeys: 4,
}) as fc.Arbitrary<JsonObject>;
const requestArb = fc
  .record({ txnId: keyArb, body: fc.string({ maxLength: 8 }) })
  .map(({ txnId, body }) => request(txnId, body));
const receivedArb = fc
  .record({ id: keyArb, seq: fc.integer({ min: 0, max: 1000 }), withReason: fc.boolean() })
  .map(({ id, seq, withReason }) => {
    const { reason: _reason, ...rest } = received(id, seq);
    return withReason ? received(id, seq) : rest;
  });

/** One random commit; removals and additions never name the same key, as the interface says. */
export const changesArb: fc.Arbitrary<StoreChanges> = fc
  .record({
    peers: fc.array(fc.tuple(keyArb, jsonObjectArb), { maxLength: 4 }),
    requestsAdded: fc.array(requestArb, { maxLength: 3 }),
    requestsRemoved: fc.array(keyArb, { maxLength: 3 }),
    sessionNoticesAdded: fc.array(keyArb, { maxLength: 3 }),
    receivedPut: fc.array(receivedArb, { maxLength: 3 }),
    receivedRemoved: fc.array(keyArb, { maxLength: 3 }),
    olmAccount: fc.option(fc.record({ pickle: fc.string({ maxLength: 8 }) }), { nil: undefined }),
    olmSessions: fc.array(
      fc.record({ peer: keyArb, pickles: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }) }),
      { maxLength: 3 },
    ),
    protocolTime: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
  })
  .map((c) => ({
    ...c,
    requestsRemoved: c.requestsRemoved.filter((t) => !c.requestsAdded.some((r) => r.txnId === t)),
    receivedRemoved: c.receivedRemoved.filter((id) => !c.receivedPut.some((r) => r.id === id)),
  }));

export const describeStoreContract = <S extends KeyWithholdingStore>(
  name: string,
  makeStore: () => Promise<StoreHarness<S>>,
): void => {
  const withStore = async (body: (h: StoreHarness<S>) => Promise<void>): Promise<void> => {
    const h = await makeStore();
    try {
      await body(h);
    } finally {
      await h.cleanup();
    }
  };

  describe(`${name} (store contract)`, () => {
    it("a new store loads empty, with no Olm state", () =>
      withStore(async ({ store }) => {
        expect(await store.load()).toEqual({
          peers: [],
          requests: [],
          sessionNotices: [],
          received: [],
          protocolTime: undefined,
        });
        expect(await store.loadOlm()).toBeUndefined();
        await store.commit(emptyChanges());
        expect((await store.load()).protocolTime).toBeUndefined();
      }));

    it("round-trips every record type, and a reopened store sees all of it", () =>
      withStore(async (h) => {
        await h.store.commit({
          peers: [
            ["@a:x|A", snapshot(1)],
            ["@b:x|B", snapshot(2)],
          ],
          requestsAdded: [request("t1"), request("t2")],
          requestsRemoved: [],
          sessionNoticesAdded: ["n1", "n2"],
          receivedPut: [received("r1", 1), { ...received("r2", 2), reason: "other" }],
          receivedRemoved: [],
          olmAccount: { pickle: "account-pickle" },
          olmSessions: [{ peer: "curve-a", pickles: ["s1", "s2"] }],
          protocolTime: 1_700_000_000_000,
        });
        const expected = {
          peers: [
            ["@a:x|A", snapshot(1)],
            ["@b:x|B", snapshot(2)],
          ],
          requests: [request("t1"), request("t2")],
          sessionNotices: ["n1", "n2"],
          received: [received("r1", 1), { ...received("r2", 2), reason: "other" }],
          protocolTime: 1_700_000_000_000,
        };
        const expectedOlm = {
          account: { pickle: "account-pickle" },
          sessions: [{ peer: "curve-a", pickles: ["s1", "s2"] }],
        };
        expect(normalised(await h.store.load())).toEqual(expected);
        expect(await h.store.loadOlm()).toEqual(expectedOlm);
        const reopened = await h.reopen();
        expect(normalised(await reopened.load())).toEqual(expected);
        expect(await reopened.loadOlm()).toEqual(expectedOlm);
      }));

    it("keeps the last write per key", () =>
      withStore(async (h) => {
        await h.store.commit({
          ...emptyChanges(),
          peers: [["p", snapshot(1)]],
          receivedPut: [received("r", 1)],
          olmAccount: { pickle: "one" },
          olmSessions: [{ peer: "c", pickles: ["x"] }],
          protocolTime: 10,
        });
        await h.store.commit({
          ...emptyChanges(),
          peers: [
            ["p", snapshot(2)],
            ["p", snapshot(3)],
          ],
          requestsAdded: [request("t", "first")],
          receivedPut: [received("r", 5)],
          olmAccount: { pickle: "two" },
          olmSessions: [{ peer: "c", pickles: ["y", "z"] }],
          protocolTime: 5,
        });
        await h.store.commit({ ...emptyChanges(), requestsAdded: [request("t", "second")] });
        const reopened = await h.reopen();
        const state = await reopened.load();
        expect(state.peers).toEqual([["p", snapshot(3)]]);
        expect(state.requests).toEqual([request("t", "second")]);
        expect(state.received).toEqual([received("r", 5)]);
        expect(state.protocolTime).toBe(5);
        expect(await reopened.loadOlm()).toEqual({
          account: { pickle: "two" },
          sessions: [{ peer: "c", pickles: ["y", "z"] }],
        });
      }));

    it("applies removals, ignores unknown ones, and keeps a notice key once", () =>
      withStore(async (h) => {
        await h.store.commit({
          ...emptyChanges(),
          requestsAdded: [request("t1"), request("t2"), request("t3")],
          receivedPut: [received("r1", 1), received("r2", 2)],
          sessionNoticesAdded: ["n", "n"],
        });
        await h.store.commit({
          ...emptyChanges(),
          requestsRemoved: ["t2", "unknown"],
          receivedRemoved: ["r1", "unknown"],
          sessionNoticesAdded: ["n"],
        });
        const state = await (await h.reopen()).load();
        expect(state.requests).toEqual([request("t1"), request("t3")]);
        expect(state.received).toEqual([received("r2", 2)]);
        expect(state.sessionNotices).toEqual(["n"]);
      }));

    it("deletes a peer's Olm sessions on an empty list, and keeps what a commit leaves undefined", () =>
      withStore(async (h) => {
        await h.store.commit({
          ...emptyChanges(),
          olmAccount: { pickle: "acct" },
          olmSessions: [
            { peer: "a", pickles: ["1"] },
            { peer: "b", pickles: ["2"] },
          ],
          protocolTime: 42,
        });
        await h.store.commit({ ...emptyChanges(), olmSessions: [{ peer: "a", pickles: [] }] });
        const reopened = await h.reopen();
        expect(await reopened.loadOlm()).toEqual({
          account: { pickle: "acct" },
          sessions: [{ peer: "b", pickles: ["2"] }],
        });
        expect((await reopened.load()).protocolTime).toBe(42);
      }));

    it("returns requests in formation order; one written again keeps its place", () =>
      withStore(async (h) => {
        const ids = ["z", "a", "m", "b", "y"];
        for (const id of ids)
          await h.store.commit({ ...emptyChanges(), requestsAdded: [request(id)] });
        await h.store.commit({
          ...emptyChanges(),
          requestsRemoved: ["a"],
          requestsAdded: [request("m", "again"), request("a2")],
        });
        const txnIds = (await (await h.reopen()).load()).requests.map(
          (r) => (r as StoredRequest).txnId,
        );
        expect(txnIds).toEqual(["z", "m", "b", "y", "a2"]);
      }));

    it("a commit with a value it cannot store rejects and leaves nothing of it", () =>
      withStore(async (h) => {
        await h.store.commit({
          ...emptyChanges(),
          peers: [["kept", snapshot(1)]],
          protocolTime: 1,
        });
        const before = await h.store.load();
        const bigint = { ...received("r", 1), reason: 1n } as unknown as StoredReceivedWithheld;
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const bad: Partial<StoreChanges>[] = [
          { receivedPut: [received("ok", 1), bigint] },
          {
            olmSessions: [{ peer: "c", pickles: ["p"] }],
            peers: [
              ["new", snapshot(3)],
              ["x", cyclic as JsonObject],
            ],
          },
        ];
        for (const changes of bad) {
          await expect(
            h.store.commit({
              ...emptyChanges(),
              peers: [
                ["kept", snapshot(2)],
                ["new", snapshot(3)],
              ],
              requestsAdded: [request("t")],
              sessionNoticesAdded: ["n"],
              olmAccount: { pickle: "p" },
              protocolTime: 2,
              ...changes,
            }),
          ).rejects.toThrow();
        }
        expect(await h.store.load()).toEqual(before);
        expect(await h.store.loadOlm()).toBeUndefined();
        expect(await (await h.reopen()).load()).toEqual(before);
      }));

    it("copies values: what the caller changes after a commit or a load is not stored", () =>
      withStore(async (h) => {
        const snap = { value: "idle", context: { n: 1 } };
        await h.store.commit({ ...emptyChanges(), peers: [["p", snap]] });
        snap.context.n = 2;
        const loaded = await h.store.load();
        const first = loaded.peers[0]?.[1] as { context: { n: number } } | undefined;
        expect(first).toBeDefined();
        if (first !== undefined) first.context.n = 3;
        expect((await h.store.load()).peers).toEqual([["p", { value: "idle", context: { n: 1 } }]]);
      }));

    it("loads what an InMemoryStore fed the same commits loads, across reopens", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(changesArb, fc.boolean()), { minLength: 1, maxLength: 6 }),
          async (commits) => {
            const h = await makeStore();
            const reference = new InMemoryStore();
            try {
              let store: S = h.store;
              for (const [changes, reopenAfter] of commits) {
                await store.commit(changes);
                await reference.commit(changes);
                if (reopenAfter) store = await h.reopen();
              }
              store = await h.reopen();
              expect(normalised(await store.load())).toEqual(normalised(await reference.load()));
              expect(normalisedOlm(await store.loadOlm())).toEqual(
                normalisedOlm(await reference.loadOlm()),
              );
            } finally {
              await h.cleanup();
            }
          },
        ),
        { numRuns: 30 },
      );
    });
  });
};
