import { describe, expect, it } from "vitest";
import { SessionStore } from "../../src/olm/sessionStore.js";

class FakeSession {
  freed = 0;
  constructor(readonly name: string) {}
  free(): void {
    this.freed += 1;
  }
}

const threeSessions = (): [FakeSession, FakeSession, FakeSession] => [
  new FakeSession("a"),
  new FakeSession("b"),
  new FakeSession("c"),
];

describe("SessionStore", () => {
  it("ranks by last receive, else by creation", () => {
    const store = new SessionStore<FakeSession>(5);
    const [a, b, c] = threeSessions();
    store.add("peer", a);
    store.add("peer", b);
    expect(store.best("peer")).toBe(b);
    store.markReceived("peer", a);
    expect(store.best("peer")).toBe(a);
    store.add("peer", c);
    expect(store.ranked("peer")).toEqual([c, a, b]);
    expect(store.best("other")).toBeUndefined();
  });

  it("evicts and frees the lowest-ranked session beyond the cap, per peer", () => {
    const store = new SessionStore<FakeSession>(2);
    const [a, b, c, d] = ["a", "b", "c", "d"].map(
      (name) => new FakeSession(name),
    ) as FakeSession[] as [FakeSession, FakeSession, FakeSession, FakeSession];
    store.add("peer", a);
    store.add("peer", b);
    store.add("other", d);
    store.markReceived("peer", a);
    expect(store.add("peer", c)).toEqual([b]);
    expect([a.freed, b.freed, c.freed, d.freed]).toEqual([0, 1, 0, 0]);
    expect(store.ranked("peer")).toEqual([c, a]);
    expect(store.ranked("other")).toEqual([d]);
  });

  it("freeAll frees each session exactly once and empties the store", () => {
    const store = new SessionStore<FakeSession>(3);
    const sessions = ["a", "b", "c"].map((name) => new FakeSession(name));
    for (const session of sessions) store.add(session.name, session);
    store.freeAll();
    expect(sessions.map((session) => session.freed)).toEqual([1, 1, 1]);
    expect(store.has("a")).toBe(false);
  });

  it("forget frees every session with one peer and leaves the others", () => {
    const store = new SessionStore<FakeSession>(5);
    const [a, b, c] = threeSessions();
    store.add("peer", a);
    store.add("peer", b);
    store.add("other", c);
    expect(store.forget("peer")).toBe(2);
    expect([a.freed, b.freed, c.freed]).toEqual([1, 1, 0]);
    expect(store.has("peer")).toBe(false);
    expect(store.best("other")).toBe(c);
    expect(store.forget("peer")).toBe(0);
  });
});
